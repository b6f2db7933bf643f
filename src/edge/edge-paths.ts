import { InvalidRequestError } from '../common/errors.js';
import { decodedSegment } from '../common/path-segment.js';
import { OCPI_VERSION } from '../ocpi/version.js';

/**
 * The paths of the edge: the relay, and an operation's modules other than credentials. Their
 * bodies stream through as they are (any type, any size up to the edge's own limit), so the app's
 * JSON body parser leaves them alone (app.setup.ts). Case-insensitive, as Express routes are.
 */
const EDGE_PATH = new RegExp(
  `^/(?:relay/|ocpi/[^/]+/[^/]+/${OCPI_VERSION.replace(/\./g, '\\.')}/(?!credentials/?$)[^/]+)`,
  'i',
);

export function isEdgePath(path: string): boolean {
  return EDGE_PATH.test(path);
}

/**
 * The path after the first `depth` segments of the raw request URL, with its query: what is
 * appended to the base of where the call goes. `/ocpi/FR/AB1/2.1.1/locations/FR/X?limit=5` at
 * depth 5 gives `/FR/X?limit=5`; a trailing slash stays (`/locations/` gives `/`). `.` and `..`
 * segments are refused (in any encoding): appended to a base, they would climb out of it.
 */
export function checkedTail(rawUrl: string, depth: number): string {
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = queryAt < 0 ? '' : rawUrl.slice(queryAt);
  // segments[0] is the empty string before the leading slash.
  const rest = path.split('/').slice(depth + 1);
  if (rest.some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment))) {
    throw new InvalidRequestError([
      { field: 'path', message: 'must not contain . or .. segments' },
    ]);
  }
  return `${rest.length > 0 ? `/${rest.join('/')}` : ''}${query}`;
}

/** The `index`th segment of the raw request path, decoded (`/relay/FR*AB1/locations`: 3). */
export function segmentOf(rawUrl: string, index: number): string {
  return decodedSegment(rawUrl.split('?')[0].split('/')[index] ?? '');
}

import type { ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * helmet's default Content-Security-Policy, loosened only as far as Swagger UI needs: its page
 * styles itself inline and shows the validator badge and images as data: URLs.
 */
const SWAGGER_UI_CSP = {
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
};

/**
 * The headers helmet sets, taken from it once: with these options none depends on the request,
 * and running its dozen middlewares on every request cost more than setting the result.
 */
function recordedHelmetHeaders(): ReadonlyArray<readonly [string, string]> {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void headers.push([name, value]),
    removeHeader: () => undefined,
  };
  helmet({ contentSecurityPolicy: { directives: SWAGGER_UI_CSP } })(
    {} as never,
    recorder as never,
    () => undefined,
  );
  return headers;
}

const SECURITY_HEADERS = recordedHelmetHeaders();

/**
 * The usual security headers (helmet's, DESIGN 11) on an answer; with `noStore`, also
 * `Cache-Control: no-store`: several answers carry a token (our credentials, a token A, the peer
 * token), and no answer of the API is for a cache.
 */
export function setSecurityHeaders(response: ServerResponse, { noStore = true } = {}): void {
  for (const [name, value] of SECURITY_HEADERS) response.setHeader(name, value);
  if (noStore) response.setHeader('Cache-Control', 'no-store');
}

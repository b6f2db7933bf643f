import { PeerError } from '../common/errors.js';
import type { HealthStatus } from '../operations/connection.entity.js';

/** What one probe found: a status other than UNKNOWN, and what failed when it is not UP. */
export interface ProbeOutcome {
  status: Exclude<HealthStatus, 'UNKNOWN'>;
  error: string | null;
}

/** What a probe found when its call succeeded: 2xx with status_code 1000 (PeerClient checks). */
export const UP: ProbeOutcome = { status: 'UP', error: null };

/**
 * What a probe found when its call to the peer's versions URL failed: REJECTED when the peer
 * answered 401 or 403, which means it no longer accepts our token; DOWN for any other failure.
 * `httpStatus` is the status of the peer's last answer, null when it gave none. The error is the
 * peer failure's message (masked of our token by PeerClient, naming the URL as handshake errors
 * do), then what to do.
 */
export function failedProbe(error: unknown, httpStatus: number | null): ProbeOutcome {
  const what = error instanceof PeerError ? error.message : 'The probe failed: internal error';
  if (httpStatus === 401 || httpStatus === 403) {
    return {
      status: 'REJECTED',
      error: `${what}: the peer no longer accepts our token; register again (with a new token A from the peer) to restore the connection`,
    };
  }
  return { status: 'DOWN', error: what };
}

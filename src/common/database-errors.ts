const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
// SQLSTATE: class 08 (connection exception) and the server going away or not accepting yet.
// 57014: a statement cancelled by statement_timeout.
const UNAVAILABLE_SQLSTATES = /^(08|57P0[123]|57014)/;
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i;

/**
 * Whether an error means the database cannot be reached right now (rather than a bug): those
 * answer 503 and the pool reconnects by itself when the database is back.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let e = error as
        { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown } | undefined,
      depth = 0;
    e && depth < 4;
    depth++
  ) {
    if (
      typeof e.code === 'string' &&
      (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.test(e.code))
    )
      return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return false;
}

// foreign_key_violation, or from PostgreSQL 18 on restrict_violation for an ON DELETE RESTRICT key
// (the embedded PostgreSQL is 18).
const STILL_REFERENCED_SQLSTATES = new Set(['23503', '23001']);

/** Whether a DELETE failed because rows of another table still reference the row. */
export function isStillReferenced(error: unknown): boolean {
  const code = (error as { driverError?: { code?: unknown } } | undefined)?.driverError?.code;
  return typeof code === 'string' && STILL_REFERENCED_SQLSTATES.has(code);
}

// Deadlock, serialization failure, and a row referenced or duplicated by a concurrent change.
const CONCURRENT_CHANGE_SQLSTATES = new Set(['40P01', '40001', '23503', '23505']);

/**
 * Whether an error means that two callers changed the same thing at once (e.g. an operation
 * deleted while a token was issued for it): a 409 for the one that lost, never a 500.
 */
export function isConcurrentChange(error: unknown): boolean {
  const code = (error as { driverError?: { code?: unknown } } | undefined)?.driverError?.code;
  return typeof code === 'string' && CONCURRENT_CHANGE_SQLSTATES.has(code);
}

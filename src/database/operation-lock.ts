/**
 * The PostgreSQL advisory lock key of an operation, as SQL over its id ($1). Handshakes hold it
 * for their whole run (session level); deleting an operation takes it briefly (transaction level),
 * so neither can happen while the other is under way, on any replica.
 */
export const OPERATION_LOCK_KEY = 'hashtextextended($1::text, 0)';

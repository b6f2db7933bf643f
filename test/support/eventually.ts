/** The bound a change committed anywhere has to reach every replica's caches (PostgreSQL NOTIFY). */
export const CHANGE_BOUND_MS = 1_000;

/**
 * Reads until `done` holds of what was read, or `withinMs` has passed; returns the last value, for
 * the test to assert on. For what a replica serves from a cache that hears changes through
 * PostgreSQL's notifications, milliseconds after the commit (test/auth-cache.e2e-spec.ts).
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  withinMs = CHANGE_BOUND_MS,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  return value;
}

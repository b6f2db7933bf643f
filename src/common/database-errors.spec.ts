import { isStillReferenced } from './database-errors.js';

const failed = (code: string) => ({ driverError: { code } });

describe('isStillReferenced', () => {
  it.each(['23503', '23001'])('is true for SQLSTATE %s (PostgreSQL 15 and 18)', (code) =>
    expect(isStillReferenced(failed(code))).toBe(true),
  );

  it.each([failed('23505'), failed('08006'), new Error('boom'), undefined])(
    'is false for anything else (%p)',
    (error) => expect(isStillReferenced(error)).toBe(false),
  );
});

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed authentications per client address and target, shared by every replica so that N
 * replicas do not give a guesser N times the budget. UNLOGGED: counts lost in a crash cost
 * nothing, and writing them skips the WAL.
 */
export class AuthFailures1764400000000 implements MigrationInterface {
  name = 'AuthFailures1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE UNLOGGED TABLE auth_failures (
        key text PRIMARY KEY,
        failures integer NOT NULL,
        window_started timestamptz NOT NULL
      )
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE auth_failures');
  }
}

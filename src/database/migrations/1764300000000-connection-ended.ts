import type { MigrationInterface, QueryRunner } from 'typeorm';

/** When and by whom a connection last ended, so that a past peer is never read as connected. */
export class ConnectionEnded1764300000000 implements MigrationInterface {
  name = 'ConnectionEnded1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE connections
        ADD COLUMN unregistered_at timestamptz,
        ADD COLUMN unregistered_by varchar(8),
        ADD CONSTRAINT connections_unregistered_by_check CHECK (unregistered_by IN ('PEER', 'US'))
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE connections
        DROP CONSTRAINT connections_unregistered_by_check,
        DROP COLUMN unregistered_by,
        DROP COLUMN unregistered_at
    `);
  }
}

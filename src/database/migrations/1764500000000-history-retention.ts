import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The retention purge deletes handshakes by age across operations. */
export class HistoryRetention1764500000000 implements MigrationInterface {
  name = 'HistoryRetention1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('CREATE INDEX handshakes_started_at_idx ON handshakes (started_at)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX handshakes_started_at_idx');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TokensAndHandshakes1764100000000 implements MigrationInterface {
  name = 'TokensAndHandshakes1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE issued_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        operation_id uuid NOT NULL,
        hash bytea NOT NULL,
        kind varchar(16) NOT NULL,
        state varchar(16) NOT NULL,
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT issued_tokens_operation_id_fkey FOREIGN KEY (operation_id)
          REFERENCES operations (id) ON DELETE CASCADE,
        CONSTRAINT issued_tokens_kind_check CHECK (kind IN ('REGISTRATION', 'CONNECTION')),
        CONSTRAINT issued_tokens_state_check
          CHECK (state IN ('ACTIVE', 'PENDING', 'REREGISTER_ONLY', 'REVOKED'))
      )`);
    await db.query('CREATE UNIQUE INDEX issued_tokens_hash_key ON issued_tokens (hash)');
    await db.query('CREATE INDEX issued_tokens_operation_id_idx ON issued_tokens (operation_id)');
    await db.query(`
      CREATE TABLE handshakes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        operation_id uuid NOT NULL,
        action varchar(16) NOT NULL,
        initiated_by varchar(8) NOT NULL,
        outcome varchar(16) NOT NULL,
        error text,
        steps jsonb NOT NULL DEFAULT '[]',
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        CONSTRAINT handshakes_operation_id_fkey FOREIGN KEY (operation_id)
          REFERENCES operations (id) ON DELETE CASCADE,
        CONSTRAINT handshakes_action_check CHECK (action IN ('REGISTER', 'UPDATE', 'UNREGISTER')),
        CONSTRAINT handshakes_initiated_by_check CHECK (initiated_by IN ('PEER', 'US')),
        CONSTRAINT handshakes_outcome_check CHECK (outcome IN ('SUCCEEDED', 'FAILED'))
      )`);
    await db.query(
      'CREATE INDEX handshakes_operation_id_started_at_idx ON handshakes (operation_id, started_at)',
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE handshakes');
    await db.query('DROP TABLE issued_tokens');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OperationsAndConnections1764000000000 implements MigrationInterface {
  name = 'OperationsAndConnections1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE operations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        country_code char(2) NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
        party_id char(3) NOT NULL CHECK (party_id ~ '^[A-Z0-9]{3}$'),
        business_details jsonb NOT NULL,
        endpoints jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT operations_operator_id_key UNIQUE (country_code, party_id)
      )`);
    await db.query(`
      CREATE TABLE connections (
        operation_id uuid PRIMARY KEY REFERENCES operations (id) ON DELETE CASCADE,
        status varchar(16) NOT NULL DEFAULT 'UNREGISTERED'
          CHECK (status IN ('UNREGISTERED', 'REGISTERED')),
        initiated_by varchar(8) CHECK (initiated_by IN ('PEER', 'US')),
        version varchar(8),
        peer_versions_url varchar(255),
        peer_country_code varchar(2),
        peer_party_id varchar(3),
        peer_business_details jsonb,
        peer_endpoints jsonb NOT NULL DEFAULT '[]',
        peer_token_encrypted bytea,
        registered_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_error text
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE connections');
    await db.query('DROP TABLE operations');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organisations (the CPOs a provider hosts), the operations they own, and API keys with scopes
 * (DESIGN 12). Keys are kept as SHA-256 hashes behind a unique index, like the tokens we check.
 *
 * Each replica caches the keys it found (ApiKeyAuthenticator); as for tokens (migration
 * 1764200000000), a trigger rather than the code announces on `ocpi_auth_changes` every delete of
 * a key (revocation, or its organisation's deletion: the cascade fires it too) and every change
 * of what a key opens, with the key's id, so that no write path can leave a revoked key working
 * on another replica. The throttled `last_used_at` write changes nothing a cache holds and is
 * not announced. An operation changing organisation is announced by the operations trigger.
 */
export class AccessKeysAndOrganisations1764900000000 implements MigrationInterface {
  name = 'AccessKeysAndOrganisations1764900000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE organisations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      ALTER TABLE operations ADD COLUMN organisation_id uuid,
        ADD CONSTRAINT operations_organisation_id_fkey FOREIGN KEY (organisation_id)
          REFERENCES organisations (id) ON DELETE RESTRICT`);
    await db.query('CREATE INDEX operations_organisation_id_idx ON operations (organisation_id)');
    await db.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        key_hash bytea NOT NULL,
        prefix varchar(16) NOT NULL,
        scopes text[] NOT NULL,
        organisation_id uuid,
        expires_at timestamptz,
        last_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by varchar(300) NOT NULL,
        CONSTRAINT api_keys_organisation_id_fkey FOREIGN KEY (organisation_id)
          REFERENCES organisations (id) ON DELETE CASCADE
      )`);
    await db.query('CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash)');
    await db.query('CREATE INDEX api_keys_organisation_id_idx ON api_keys (organisation_id)');
    await db.query(`
      CREATE FUNCTION notify_api_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('ocpi_auth_changes', OLD.id::text);
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER api_keys_notify_auth_change AFTER DELETE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION notify_api_key_change()`);
    await db.query(`
      CREATE TRIGGER api_keys_notify_auth_update AFTER UPDATE ON api_keys
      FOR EACH ROW WHEN (
        (OLD.id, OLD.name, OLD.key_hash, OLD.scopes, OLD.organisation_id, OLD.expires_at)
        IS DISTINCT FROM
        (NEW.id, NEW.name, NEW.key_hash, NEW.scopes, NEW.organisation_id, NEW.expires_at)
      ) EXECUTE FUNCTION notify_api_key_change()`);
    // TRUNCATE fires no row trigger: '*' empties every cache (function of 1764200000000).
    await db.query(`
      CREATE TRIGGER api_keys_notify_auth_truncate AFTER TRUNCATE ON api_keys
      FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_truncate()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE api_keys');
    await db.query('DROP FUNCTION notify_api_key_change()');
    await db.query('DROP INDEX operations_organisation_id_idx');
    await db.query('ALTER TABLE operations DROP COLUMN organisation_id');
    await db.query('DROP TABLE organisations');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Announces on channel `ocpi_auth_changes` every update or delete of an operation or a token, with
 * the operation's id, and a TRUNCATE with '*'. Replicas cache the operations and tokens the OCPI
 * guard reads; a trigger rather than the code that writes announces the changes, so that no write
 * path, nor an UPDATE typed by hand, can leave a revoked token working on another replica. (What
 * bypasses triggers, such as `session_replication_role = replica` during a restore, is still
 * bounded by AUTH_CACHE_MAX_AGE_S.) NOTIFY is delivered at commit and merged within a
 * transaction. Inserts are not announced: the cache holds only what it found, and a new row
 * changes none of that.
 */
export class AuthChangeNotifications1764200000000 implements MigrationInterface {
  name = 'AuthChangeNotifications1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_TABLE_NAME = 'operations' THEN
          PERFORM pg_notify('ocpi_auth_changes', OLD.id::text);
        ELSE
          PERFORM pg_notify('ocpi_auth_changes', OLD.operation_id::text);
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER operations_notify_auth_change AFTER UPDATE OR DELETE ON operations
      FOR EACH ROW EXECUTE FUNCTION notify_auth_change()`);
    await db.query(`
      CREATE TRIGGER issued_tokens_notify_auth_change AFTER UPDATE OR DELETE ON issued_tokens
      FOR EACH ROW EXECUTE FUNCTION notify_auth_change()`);
    // TRUNCATE fires no row trigger: it announces '*', everything.
    await db.query(`
      CREATE FUNCTION notify_auth_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('ocpi_auth_changes', '*');
        RETURN NULL;
      END $$`);
    for (const table of ['operations', 'issued_tokens']) {
      await db.query(`
        CREATE TRIGGER ${table}_notify_auth_truncate AFTER TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_truncate()`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER issued_tokens_notify_auth_truncate ON issued_tokens');
    await db.query('DROP TRIGGER operations_notify_auth_truncate ON operations');
    await db.query('DROP FUNCTION notify_auth_truncate()');
    await db.query('DROP TRIGGER issued_tokens_notify_auth_change ON issued_tokens');
    await db.query('DROP TRIGGER operations_notify_auth_change ON operations');
    await db.query('DROP FUNCTION notify_auth_change()');
  }
}

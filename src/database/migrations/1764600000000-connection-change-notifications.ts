import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Announces changes of connections on `ocpi_auth_changes` too (same function as migration
 * 1764200000000): the token cache keeps who the peer is (the gateway names it upstream), and
 * that must follow a new registration on every replica at once, however the row was written.
 */
export class ConnectionChangeNotifications1764600000000 implements MigrationInterface {
  name = 'ConnectionChangeNotifications1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TRIGGER connections_notify_auth_change AFTER UPDATE OR DELETE ON connections
      FOR EACH ROW EXECUTE FUNCTION notify_auth_change()`);
    await db.query(`
      CREATE TRIGGER connections_notify_auth_truncate AFTER TRUNCATE ON connections
      FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_truncate()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER connections_notify_auth_truncate ON connections');
    await db.query('DROP TRIGGER connections_notify_auth_change ON connections');
  }
}

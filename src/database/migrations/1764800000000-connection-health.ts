import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The columns of a connection's health and of its probing: none of them matters to the caches. */
const HEALTH_COLUMNS = [
  'health_status',
  'health_checked_at',
  'health_last_up_at',
  'health_consecutive_failures',
  'health_error',
  'probe_due_at',
  'probing_until',
];
const WITHOUT_HEALTH = `ARRAY[${HEALTH_COLUMNS.map((c) => `'${c}'`).join(', ')}]`;

/**
 * The health of each connection (issue 17, DESIGN 10) and what the prober needs to probe each
 * registered connection once per interval across replicas:
 * - `probe_due_at`: when the next probe is due ('-infinity': registered since the last look, to
 *   be given a time spread over the interval); indexed for registered rows only, so that finding
 *   what is due reads those rows and no others, at 10 or 100,000 connections.
 * - `probing_until`: the lease of the probe under way; a replica that dies mid-probe leaves a
 *   lease that runs out, never a row claimed for ever.
 * - an index on (status, health_status) for the admin list's filters ("which of mine are down?").
 *
 * The trigger of migration 1764600000000 announced every update of a connection to every
 * replica, which empties their token and relay caches of that operation: a probe writes twice
 * per connection per interval, which would empty them for every connection every interval. It
 * now fires on an update that changes something besides these columns (the row compared without
 * them, so that a column added later is announced by default), and on every delete as before.
 */
export class ConnectionHealth1764800000000 implements MigrationInterface {
  name = 'ConnectionHealth1764800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE connections
        ADD COLUMN health_status varchar(8) NOT NULL DEFAULT 'UNKNOWN',
        ADD COLUMN health_checked_at timestamptz,
        ADD COLUMN health_last_up_at timestamptz,
        ADD COLUMN health_consecutive_failures integer NOT NULL DEFAULT 0,
        ADD COLUMN health_error text,
        ADD COLUMN probe_due_at timestamptz,
        ADD COLUMN probing_until timestamptz,
        ADD CONSTRAINT connections_health_status_check
          CHECK (health_status IN ('UNKNOWN', 'UP', 'DOWN', 'REJECTED'))
    `);
    // Connections registered before this migration are probed within one interval of the start.
    await db.query(`UPDATE connections SET probe_due_at = '-infinity' WHERE status = 'REGISTERED'`);
    await db.query(`
      CREATE INDEX connections_probe_due_at_idx ON connections (probe_due_at)
      WHERE status = 'REGISTERED'`);
    await db.query(
      'CREATE INDEX connections_status_health_idx ON connections (status, health_status)',
    );
    await db.query('DROP TRIGGER connections_notify_auth_change ON connections');
    await db.query(`
      CREATE TRIGGER connections_notify_auth_change AFTER UPDATE ON connections
      FOR EACH ROW
      WHEN ((to_jsonb(OLD) - ${WITHOUT_HEALTH}) IS DISTINCT FROM (to_jsonb(NEW) - ${WITHOUT_HEALTH}))
      EXECUTE FUNCTION notify_auth_change()`);
    await db.query(`
      CREATE TRIGGER connections_notify_auth_delete AFTER DELETE ON connections
      FOR EACH ROW EXECUTE FUNCTION notify_auth_change()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER connections_notify_auth_delete ON connections');
    await db.query('DROP TRIGGER connections_notify_auth_change ON connections');
    await db.query(`
      CREATE TRIGGER connections_notify_auth_change AFTER UPDATE OR DELETE ON connections
      FOR EACH ROW EXECUTE FUNCTION notify_auth_change()`);
    await db.query('DROP INDEX connections_status_health_idx');
    await db.query('DROP INDEX connections_probe_due_at_idx');
    await db.query(`
      ALTER TABLE connections
        DROP CONSTRAINT connections_health_status_check,
        ${HEALTH_COLUMNS.map((c) => `DROP COLUMN ${c}`).join(',\n        ')}
    `);
  }
}

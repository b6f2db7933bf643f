import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An insert into the outbox wakes the workers (`ocpi_outbox`) only when one of the rows it adds
 * may go now as far as this statement can tell: unless the head of its queue, older than it, is
 * stuck: waiting for a retry, or held (a relay queue of an operation not registered). Such a queue
 * goes again on a wake-up of its own (the retry's time, which the workers keep; the registration,
 * on `ocpi_auth_changes`), and every wake-up scans every queue: while a hub was away, each push
 * had both replicas scan (accepting pushes with the queues held: 1,594 a second with those
 * scans, 2,042 without, `npm run bench -- --outbox`). Only
 * the head is read (one probe of `deliveries_pending_idx`), whatever the backlog behind it.
 */
export class OutboxWakeOnNewHeads1765100000000 implements MigrationInterface {
  name = 'OutboxWakeOnNewHeads1765100000000';

  async up(db: QueryRunner): Promise<void> {
    // clock_timestamp(), not now(): the inserting transaction may have begun long before (an event
    // written in a longer transaction), and a head whose retry time has come since may go now.
    // EXECUTE: planned at each run. A query of PL/pgSQL keeps the plan made at its first run in a
    // session, when the table may have been empty: a sort of every pending row of the queue,
    // which took 5-12 ms an insert once the table had grown (auto_explain).
    await db.query(`
      CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        wake boolean;
      BEGIN
        EXECUTE $q$
          SELECT EXISTS (
            SELECT 1 FROM (SELECT queue, min(seq) AS seq FROM inserted GROUP BY queue) n
            WHERE NOT EXISTS (
              SELECT 1 FROM (
                SELECT d.kind, d.operation_id, d.next_attempt_at FROM deliveries d
                WHERE d.status = 'PENDING' AND d.queue = n.queue AND d.seq < n.seq
                ORDER BY d.seq LIMIT 1
              ) h
              WHERE h.next_attempt_at > clock_timestamp()
                 OR (h.kind = 'relay' AND NOT EXISTS (
                       SELECT 1 FROM connections c
                       WHERE c.operation_id = h.operation_id AND c.status = 'REGISTERED'))
            )
          )$q$ INTO wake;
        IF wake THEN
          PERFORM pg_notify('ocpi_outbox', '');
        END IF;
        RETURN NULL;
      END $$`);
    await db.query('DROP TRIGGER deliveries_notify_outbox ON deliveries');
    await db.query(`
      CREATE TRIGGER deliveries_notify_outbox AFTER INSERT ON deliveries
      REFERENCING NEW TABLE AS inserted
      FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER deliveries_notify_outbox ON deliveries');
    await db.query(`
      CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('ocpi_outbox', '');
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER deliveries_notify_outbox AFTER INSERT ON deliveries
      FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox()`);
  }
}

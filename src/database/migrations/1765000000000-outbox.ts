import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The durable outbox (DESIGN 9.3, 9.4): one row per delivery, FIFO per `queue` by `seq`. The head
 * of a queue is its PENDING row of lowest `seq`; a worker leases it (`locked_until`, renewed while
 * sending) so that one delivery per queue is in flight across replicas and a crashed replica's is
 * taken again once its short lease ends. An insert announces itself on `ocpi_outbox` (one
 * notification per statement, merged per transaction) so that idle workers wake at once.
 * `webhooks`: the CPO's receivers of connection events (DESIGN 9.4), their signing secret sealed.
 */
export class Outbox1765000000000 implements MigrationInterface {
  name = 'Outbox1765000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL,
        kind varchar(16) NOT NULL,
        queue text NOT NULL,
        operation_id uuid,
        status varchar(16) NOT NULL DEFAULT 'PENDING',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        locked_until timestamptz,
        locked_by varchar(64),
        last_error text,
        request_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        method varchar(8) NOT NULL,
        identifier varchar(255) NOT NULL,
        path text NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        body bytea,
        CONSTRAINT deliveries_kind_check CHECK (kind IN ('relay', 'webhook')),
        CONSTRAINT deliveries_status_check CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
        CONSTRAINT deliveries_operation_id_fkey FOREIGN KEY (operation_id)
          REFERENCES operations (id) ON DELETE CASCADE
      )`);
    // The head of each queue, and the distinct queues with work (a loose index scan).
    await db.query(
      `CREATE UNIQUE INDEX deliveries_pending_idx ON deliveries (queue, seq) WHERE status = 'PENDING'`,
    );
    // What is in flight, per queue: a handful of rows at any time.
    await db.query(
      `CREATE INDEX deliveries_leased_idx ON deliveries (queue) WHERE status = 'PENDING' AND locked_until IS NOT NULL`,
    );
    // The admin list (newest first, by status).
    await db.query(
      'CREATE INDEX deliveries_operation_id_status_seq_idx ON deliveries (operation_id, status, seq)',
    );
    // The retention purge.
    await db.query(
      `CREATE INDEX deliveries_delivered_at_idx ON deliveries (delivered_at) WHERE status = 'DELIVERED'`,
    );
    await db.query(`
      CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('ocpi_outbox', '');
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER deliveries_notify_outbox AFTER INSERT ON deliveries
      FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox()`);
    await db.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY,
        url varchar(2048) NOT NULL,
        events text[] NOT NULL,
        secret_encrypted bytea NOT NULL,
        organisation_id uuid CONSTRAINT webhooks_organisation_id_fkey
          REFERENCES organisations (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query('CREATE INDEX webhooks_organisation ON webhooks (organisation_id)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE webhooks');
    await db.query('DROP TRIGGER deliveries_notify_outbox ON deliveries');
    await db.query('DROP FUNCTION notify_outbox()');
    await db.query('DROP TABLE deliveries');
  }
}

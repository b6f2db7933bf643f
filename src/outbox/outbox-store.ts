import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository, type EntityManager } from 'typeorm';
import { isDatabaseUnavailable } from '../common/database-errors.js';
import { Delivery, type DeliveryKind } from './delivery.entity.js';

/** A delivery to write: its queue, what it carries, and the operation it belongs to (if any). */
export interface NewDelivery {
  kind: DeliveryKind;
  queue: string;
  operationId: string | null;
  method: string;
  identifier: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

/** A delivery a worker holds the lease of: everything its sender needs. */
export interface ClaimedDelivery {
  id: string;
  kind: DeliveryKind;
  queue: string;
  operationId: string | null;
  /** Counting this one (the claim wrote the head's; the others' are written with their outcome). */
  attempts: number;
  createdAt: Date;
  requestId: string;
  method: string;
  identifier: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

/** The queues with work, from the claim's first look. */
export interface QueueLook {
  /** Queues whose head may be taken now. */
  ready: string[];
  /** The earliest time a head waiting (backoff, a lease) becomes ready, if any. */
  nextWakeAt?: Date;
}

/** At most this many deliveries in one INSERT (9 parameters each, of 65,535). */
const ENQUEUE_BATCH_MAX = 200;

interface WaitingDelivery {
  delivery: NewDelivery;
  resolve: (id: string) => void;
  reject: (error: unknown) => void;
}

/**
 * A namespace of their own for the advisory locks of queues (the two-key form), apart from the
 * operation lock's one-key form.
 */
const QUEUE_LOCK_CLASS = 16_0001;

/**
 * The queues with PENDING work, one row per queue, by a loose index scan of
 * `deliveries_pending_idx` (a few index probes per queue, however long the queues), with the
 * head of each. A relay queue of an operation that is not registered is held: not listed.
 */
const LOOK = `
  WITH RECURSIVE queues(queue) AS (
    (SELECT queue FROM deliveries WHERE status = 'PENDING' ORDER BY queue LIMIT 1)
    UNION ALL
    SELECT (SELECT d.queue FROM deliveries d
            WHERE d.status = 'PENDING' AND d.queue > q.queue ORDER BY d.queue LIMIT 1)
    FROM queues q WHERE q.queue IS NOT NULL
  )
  SELECT h.queue, h.ready, h.wake_at
  FROM queues q CROSS JOIN LATERAL (
    SELECT d.queue, d.kind, d.operation_id,
           d.next_attempt_at <= now() AND NOT EXISTS (${IN_FLIGHT('q.queue')}) AS ready,
           greatest(d.next_attempt_at,
                    (SELECT max(l.locked_until) FROM deliveries l
                     WHERE l.status = 'PENDING' AND l.locked_until IS NOT NULL AND l.queue = q.queue)
           ) AS wake_at
    FROM deliveries d
    WHERE d.status = 'PENDING' AND d.queue = q.queue
    ORDER BY d.seq LIMIT 1
  ) h
  WHERE q.queue IS NOT NULL AND ${NOT_HELD('h')}`;

function IN_FLIGHT(queue: string): string {
  return `SELECT 1 FROM deliveries l WHERE l.status = 'PENDING' AND l.locked_until IS NOT NULL
          AND l.queue = ${queue} AND l.locked_until > now()`;
}

/**
 * Whether the head `d` of a queue may go: a relay queue holds while its operation is not
 * registered. Asked of the head alone (every row of a relay queue is of one operation): asked of
 * each row before taking the first, a held queue's whole backlog was read at every look.
 */
function NOT_HELD(d: string): string {
  return `(${d}.kind <> 'relay' OR EXISTS (SELECT 1 FROM connections c
           WHERE c.operation_id = ${d}.operation_id AND c.status = 'REGISTERED'))`;
}

/**
 * The one writer of the deliveries table for the workers: enqueue, claim, renew, settle. Every
 * claim of a queue is made under that queue's advisory lock and reads in a snapshot taken after
 * it, so that two replicas never take two deliveries of one queue, even when a lower `seq`
 * commits after a higher one was taken (two pushes of one queue at once: their order is the
 * order they committed in, as close as the database can tell). TypeORM answers an UPDATE or DELETE
 * with `[rows, count]`, an INSERT or a SELECT with its rows.
 */
@Injectable()
export class OutboxStore {
  /** Deliveries of {@link enqueueCommitted} waiting for the insert on its way to end. */
  private readonly waiting: WaitingDelivery[] = [];
  private inserting = false;

  constructor(
    @InjectRepository(Delivery) private readonly deliveries: Repository<Delivery>,
    private readonly dataSource: DataSource,
  ) {}

  /** Writes a delivery in the caller's transaction (`manager`); returns its id. */
  async enqueue(manager: EntityManager, delivery: NewDelivery): Promise<string> {
    const [id] = await this.insert(manager, [delivery]);
    return id;
  }

  /**
   * Writes a delivery in a transaction of its own and returns its id once committed. The
   * deliveries added while an insert is on its way go together in the next one (one statement,
   * one commit, one notification for up to ENQUEUE_BATCH_MAX rows): a round trip per push was
   * the cost of accepting pushes. Alone, a delivery waits for nothing; in a batch, in the order
   * they were added (their `seq`). A batch the database refuses is tried row by row, so that one
   * refused row (its operation deleted meanwhile) fails alone; one it could not take (away, or
   * too slow) fails whole, at once.
   */
  enqueueCommitted(delivery: NewDelivery): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      if (!this.inserting) void this.insertWaiting();
    });
  }

  private async insertWaiting(): Promise<void> {
    this.inserting = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, ENQUEUE_BATCH_MAX);
        const manager = this.dataSource.manager;
        try {
          const ids = await this.insert(
            manager,
            batch.map((w) => w.delivery),
          );
          batch.forEach((w, i) => w.resolve(ids[i]));
        } catch (error) {
          // The database away: every row would wait as long again, alone.
          if (batch.length === 1 || isDatabaseUnavailable(error)) {
            for (const w of batch) w.reject(error);
          }
          // One by one, in their order (their seq).
          else
            for (const w of batch)
              await this.enqueue(manager, w.delivery).then(w.resolve, w.reject);
        }
      }
    } finally {
      this.inserting = false;
    }
  }

  /** One INSERT of `deliveries`, in their order; their ids, made here (no RETURNING to map). */
  private async insert(manager: EntityManager, deliveries: NewDelivery[]): Promise<string[]> {
    const ids = deliveries.map(() => randomUUID());
    const params: unknown[] = [];
    const rows = deliveries.map((delivery, i) => {
      const at = params.length;
      params.push(
        ids[i],
        delivery.kind,
        delivery.queue,
        delivery.operationId,
        delivery.method,
        delivery.identifier,
        delivery.path,
        delivery.headers,
        delivery.body,
      );
      const values = Array.from({ length: 9 }, (_, k) => `$${at + k + 1}`).join(', ');
      return `(${values}, gen_random_uuid())`;
    });
    await manager.query(
      `INSERT INTO deliveries
         (id, kind, queue, operation_id, method, identifier, path, headers, body, request_id)
       VALUES ${rows.join(', ')}`,
      params,
    );
    return ids;
  }

  /** Which queues have a head to take now, and when the next waiting one will. */
  async look(): Promise<QueueLook> {
    const rows =
      await this.dataSource.query<{ queue: string; ready: boolean; wake_at: Date | null }[]>(LOOK);
    let nextWakeAt: Date | undefined;
    for (const row of rows) {
      if (!row.ready && row.wake_at && (!nextWakeAt || row.wake_at < nextWakeAt)) {
        nextWakeAt = row.wake_at;
      }
    }
    return { ready: rows.filter((r) => r.ready).map((r) => r.queue), nextWakeAt };
  }

  /**
   * Takes the head of each of `queues` that is still free (none of the queue in flight, its time
   * come, not held) with up to `batch - 1` rows after it, leased to `worker` for `leaseS` seconds;
   * the worker sends them in order and gives back those it did not send ({@link release}). The
   * head's attempt is written now, so that a replica that dies sending it has it counted; the
   * others' with their outcomes (each {@link ClaimedDelivery.attempts} counts its own): a replica
   * that dies or loses its lease leaves those it had not written as they were, not counted as
   * tried. Queues another replica is claiming at this moment are skipped. Each queue's rows come
   * in their order.
   */
  async claim(
    queues: string[],
    worker: string,
    leaseS: number,
    batch: number,
  ): Promise<ClaimedDelivery[]> {
    if (queues.length === 0) return [];
    const rows = await this.dataSource.transaction(async (manager) => {
      const locked = await manager.query<{ queue: string }[]>(
        `SELECT k AS queue FROM unnest($1::text[]) k
         WHERE pg_try_advisory_xact_lock(${QUEUE_LOCK_CLASS}, hashtext(k))`,
        [queues],
      );
      if (locked.length === 0) return [];
      // A statement of its own: its snapshot sees every claim made before the locks were taken.
      // A row is taken only with every row before it in its queue (their time come: `ready`).
      const [claimed] = await manager.query<[ClaimRow[], number]>(
        `UPDATE deliveries d
         SET locked_until = now() + make_interval(secs => $3), locked_by = $2,
             attempts = d.attempts + (c.n = 1)::int
         FROM (
           SELECT b.id, b.n FROM unnest($1::text[]) AS k(queue)
           CROSS JOIN LATERAL (
             SELECT h.id, h.kind, h.operation_id,
                    bool_and(h.next_attempt_at <= now()) OVER (ORDER BY h.seq) AS ready,
                    row_number() OVER (ORDER BY h.seq) AS n
             FROM (
               SELECT x.id, x.kind, x.operation_id, x.next_attempt_at, x.seq FROM deliveries x
               WHERE x.status = 'PENDING' AND x.queue = k.queue
               ORDER BY x.seq LIMIT $4
             ) h
           ) b
           WHERE b.ready AND NOT EXISTS (${IN_FLIGHT('k.queue')}) AND ${NOT_HELD('b')}
         ) c
         WHERE d.id = c.id AND d.status = 'PENDING'
         RETURNING d.id, d.seq, d.kind, d.queue, d.operation_id,
                   d.attempts + (c.n <> 1)::int AS attempts, d.created_at,
                   d.request_id, d.method, d.identifier, d.path, d.headers, d.body`,
        [locked.map((l) => l.queue), worker, leaseS, batch],
      );
      return claimed;
    });
    // RETURNING keeps no order; `seq` is a bigint, which pg gives as a string.
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toClaimed);
  }

  /** Extends the leases `worker` still holds; returns the ids it still holds. */
  async renew(ids: string[], worker: string, leaseS: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const [rows] = await this.dataSource.query<[{ id: string }[], number]>(
      `UPDATE deliveries SET locked_until = now() + make_interval(secs => $3)
       WHERE id = ANY($1::uuid[]) AND locked_by = $2 AND status = 'PENDING'
       RETURNING id`,
      [ids, worker, leaseS],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Delivered, each at its time: out of its queue; their bodies are no longer needed. */
  async delivered(sent: (Settled & { at: Date })[], worker: string): Promise<void> {
    if (sent.length === 0) return;
    await this.dataSource.query(
      `UPDATE deliveries d
       SET status = 'DELIVERED', delivered_at = s.at, attempts = s.attempts, last_error = NULL,
           body = NULL, locked_until = NULL, locked_by = NULL
       FROM unnest($1::uuid[], $3::int[], $4::timestamptz[]) AS s(id, attempts, at)
       WHERE d.id = s.id AND d.locked_by = $2 AND d.status = 'PENDING'`,
      [sent.map((s) => s.id), worker, sent.map((s) => s.attempts), sent.map((s) => s.at)],
    );
  }

  /** To be tried again after `delayMs`; the queue waits behind it. */
  async retryLater(
    delivery: Settled,
    worker: string,
    delayMs: number,
    error: string,
  ): Promise<void> {
    await this.settle(
      [delivery],
      worker,
      `next_attempt_at = now() + make_interval(secs => $4), last_error = $5`,
      [delayMs / 1000, error],
    );
  }

  /** Dead: out of its queue, kept for the admin to retry or drop. Whether it was still ours. */
  dead(
    delivery: Settled,
    worker: string,
    error: string,
    manager?: EntityManager,
  ): Promise<boolean> {
    return this.settle([delivery], worker, `status = 'DEAD', last_error = $4`, [error], manager);
  }

  /** Given back untried (held, not reached, or this replica stopping): no attempt counted. */
  async release(untried: Settled[], worker: string): Promise<void> {
    if (untried.length === 0) return;
    await this.settle(
      untried.map(({ id, attempts }) => ({ id, attempts: attempts - 1 })),
      worker,
      '',
      [],
    );
  }

  /**
   * Writes what became of `rows`, each with its attempts, and ends their lease; `set` and its
   * `params` ($4 on) are the same for all.
   */
  private async settle(
    rows: Settled[],
    worker: string,
    set: string,
    params: unknown[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<boolean> {
    // Only while the lease is ours: a replica that lost it (its lease ran out while the database
    // was away) leaves the rows to the worker that has them now.
    const [, changed] = await manager.query<[unknown[], number]>(
      `UPDATE deliveries d
       SET attempts = s.attempts, locked_until = NULL, locked_by = NULL${set ? `, ${set}` : ''}
       FROM unnest($1::uuid[], $3::int[]) AS s(id, attempts)
       WHERE d.id = s.id AND d.locked_by = $2 AND d.status = 'PENDING'`,
      [rows.map((r) => r.id), worker, rows.map((r) => r.attempts), ...params],
    );
    return changed > 0;
  }

  /** Deletes delivered deliveries older than `seconds`; returns how many. */
  async purgeDelivered(seconds: number): Promise<number> {
    const result = await this.deliveries
      .createQueryBuilder()
      .delete()
      .where(`status = 'DELIVERED' AND delivered_at < now() - make_interval(secs => :seconds)`, {
        seconds,
      })
      .execute();
    return result.affected ?? 0;
  }
}

/** A delivery as its outcome is written: its id, and its attempts, counting those made. */
type Settled = Pick<ClaimedDelivery, 'id' | 'attempts'>;

interface ClaimRow {
  id: string;
  seq: string;
  kind: DeliveryKind;
  queue: string;
  operation_id: string | null;
  attempts: number;
  created_at: Date;
  request_id: string;
  method: string;
  identifier: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

function toClaimed(row: ClaimRow): ClaimedDelivery {
  return {
    id: row.id,
    kind: row.kind,
    queue: row.queue,
    operationId: row.operation_id,
    attempts: row.attempts,
    createdAt: row.created_at,
    requestId: row.request_id,
    method: row.method,
    identifier: row.identifier,
    path: row.path,
    headers: row.headers,
    body: row.body,
  };
}

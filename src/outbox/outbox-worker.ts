import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { messageOf } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { backoffMs, type SendResult } from './delivery-rules.js';
import { OutboxMetrics } from './outbox-metrics.js';
import { OutboxSenders } from './outbox-senders.js';
import { OutboxStore, type ClaimedDelivery } from './outbox-store.js';

/**
 * A worker's lease on the deliveries it took: short, so that a replica killed mid-delivery has its
 * deliveries taken again by another within seconds; renewed every {@link RENEW_EVERY_MS} while it
 * sends.
 */
export const LEASE_S = 10;
const RENEW_EVERY_MS = 2_000;
/**
 * A send is aborted this long before its lease could have run out unrenewed (the database away),
 * so that it has ended before another replica may take the delivery: never two in flight.
 */
const LEASE_MARGIN_MS = 3_000;
/** The fallback when no notification comes (listening lost, a retry's time come). */
const POLL_MS = 5_000;
const RECONNECT_DELAY_MS = 1_000;
/** The least time between two scans of every queue. */
const LOOK_GAP_MS = 10;
/** What a stopping replica lets its sends finish in before it aborts them and gives them back. */
const DRAIN_MS = 5_000;
/**
 * The most deliveries of one queue a worker takes at once: it sends them one after the other (one
 * in flight per queue, in its order) and writes the delivered ones together. Taken one at a time,
 * each delivery cost two commits, and PostgreSQL took over half of the machine's CPU while a
 * backlog drained (its share growing as the drain went on).
 */
const CLAIM_BATCH = 20;
/** Inserts into the outbox (its trigger), and connection changes (held queues may go again). */
const CHANNELS = ['ocpi_outbox', 'ocpi_auth_changes'];

type Dead = Extract<SendResult, { outcome: 'dead' }>;
type Retry = Extract<SendResult, { outcome: 'retry' }>;

/** What a worker took of one queue, sent in order. */
interface Flight {
  queue: string;
  deliveries: ClaimedDelivery[];
  /** The ids of those still leased to this worker: not yet written as settled (or on their way). */
  leased: Set<string>;
  abort: AbortController;
  /** performance.now() past which the sends must have ended (lease end less the margin). */
  mustEndBy: number;
  /** Another worker may have them now: this one settles nothing. */
  lost: boolean;
  done: Promise<void>;
}

/**
 * The outbox's worker, one per replica: takes the heads of ready queues with the few deliveries
 * behind them (at most OUTBOX_CONCURRENCY queues at once, one worker per queue across the
 * deployment: see {@link OutboxStore.claim}), sends each in turn through the sender of its kind,
 * and settles it by DESIGN 9.3: delivered (the next goes at once), retried
 * after a capped exponential backoff with jitter (the queue waits), or dead (refused, too many
 * attempts, too old; the queue moves on). Woken by PostgreSQL notifications (an insert, a
 * connection change), by a delivery ending, and by the time of the next waiting head; polls slowly
 * as a fallback.
 */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Outbox');
  /** Who holds a lease, in `locked_by`. */
  readonly id = `${hostname().slice(0, 30)}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly maxAgeMs: number;
  private readonly maxBackoffS: number;
  /** By queue. */
  private readonly inFlight = new Map<string, Flight>();
  private pumping = false;
  private again = false;
  /** A scan of every queue is asked for (a notification, a timer, a failure). */
  private lookDue = true;
  private lastLook = -Infinity;
  /** Queues whose delivery ended here: their next head is taken without a scan. */
  private readonly followUps = new Set<string>();
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private ticking?: NodeJS.Timeout;
  private lastRenewal = 0;
  private client?: pg.Client;
  private reconnect?: NodeJS.Timeout;
  /** Set once the database was lost, so that an outage is logged once, not every round. */
  private failing = false;

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly store: OutboxStore,
    private readonly senders: OutboxSenders,
    private readonly metrics: OutboxMetrics,
    private readonly dataSource: DataSource,
  ) {
    this.concurrency = config.get('outboxConcurrency', { infer: true });
    this.maxAttempts = config.get('outboxMaxAttempts', { infer: true });
    this.maxAgeMs = config.get('outboxMaxAgeS', { infer: true }) * 1000;
    this.maxBackoffS = config.get('outboxMaxBackoffS', { infer: true });
  }

  onApplicationBootstrap(): void {
    void this.listen();
    this.ticking = setInterval(() => this.tick(), 1_000);
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    clearInterval(this.ticking);
    clearTimeout(this.reconnect);
    await this.client?.end().catch(() => undefined);
    const flights = [...this.inFlight.values()];
    const drained = Promise.all(flights.map((f) => f.done));
    const timer = sleep(DRAIN_MS, 'late', { ref: false });
    if ((await Promise.race([drained, timer])) === 'late') {
      for (const flight of flights) flight.abort.abort();
      await drained;
    }
  }

  /**
   * Looks for work soon (once if asked several times meanwhile): over every queue (`look`, after
   * a notification or a timer), or only at the next head of the queues whose delivery just ended
   * here (their follow-ups), which costs no scan.
   */
  wake(look = true): void {
    if (this.stopping) return;
    if (look) this.lookDue = true;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        const free = this.concurrency - this.inFlight.size;
        if (free <= 0) break; // a delivery ending wakes the worker again
        const candidates = new Set(this.followUps);
        this.followUps.clear();
        // A scan of every queue at most every LOOK_GAP_MS: a burst of inserts (one notification
        // each) costs a few scans, not one per insert.
        const sinceLook = performance.now() - this.lastLook;
        if (this.lookDue && sinceLook < LOOK_GAP_MS) {
          this.schedule(Date.now() + LOOK_GAP_MS - sinceLook);
        } else if (this.lookDue) {
          this.lookDue = false;
          this.lastLook = performance.now();
          const look = await this.store.look();
          this.schedule(look.nextWakeAt?.getTime());
          for (const queue of shuffled(look.ready)) candidates.add(queue);
        }
        const taken = [...candidates].filter((q) => !this.inFlight.has(q)).slice(0, free);
        const claimed = await this.store.claim(taken, this.id, LEASE_S, CLAIM_BATCH);
        if (this.stopping) {
          await this.store.release(claimed, this.id);
          return;
        }
        for (const [queue, deliveries] of byQueue(claimed)) this.start(queue, deliveries);
        // More ready queues than slots: a next round (scan) takes them once slots free up.
        if (candidates.size > taken.length && claimed.length > 0) {
          this.lookDue = true;
          this.again = true;
        }
        if (this.failing) this.logger.log('The outbox reaches the database again');
        this.failing = false;
      } while (this.again && !this.stopping);
    } catch (error) {
      if (!this.failing) this.logger.warn(`Outbox round failed, trying again: ${messageOf(error)}`);
      this.failing = true;
      this.lookDue = true;
      this.schedule(Date.now() + RECONNECT_DELAY_MS);
    } finally {
      this.pumping = false;
    }
  }

  /** A round at `at` (epoch ms) or at the fallback poll, whichever is sooner. */
  private schedule(at: number | undefined): void {
    if (this.stopping) return;
    const when = Math.min(at ?? Infinity, Date.now() + POLL_MS);
    if (this.timer && this.timerAt <= when) return;
    clearTimeout(this.timer);
    this.timerAt = when;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.wake();
      },
      Math.max(0, when - Date.now()),
    );
  }

  private start(queue: string, deliveries: ClaimedDelivery[]): void {
    const flight: Flight = {
      queue,
      deliveries,
      leased: new Set(deliveries.map((d) => d.id)),
      abort: new AbortController(),
      mustEndBy: performance.now() + LEASE_S * 1000 - LEASE_MARGIN_MS,
      lost: false,
      done: Promise.resolve(),
    };
    this.inFlight.set(queue, flight);
    flight.done = this.deliverAll(flight)
      .catch((error: unknown) =>
        this.logger.error(`Deliveries of queue ${queue} failed unexpectedly: ${messageOf(error)}`),
      )
      .finally(() => {
        this.inFlight.delete(queue);
        // The next of its queue, at once, by this worker.
        this.followUps.add(queue);
        this.wake(false);
      });
  }

  /**
   * Sends the flight's deliveries in their order while they are delivered or dead (the queue
   * moves on); one to retry or to hold stops the queue, and those behind it are given back
   * untried, as they are when this replica stops. The delivered ones are written together at the
   * end: a crash before that sends them again (at least once, under the same X-Request-ID).
   */
  private async deliverAll(flight: Flight): Promise<void> {
    const sent: (ClaimedDelivery & { at: Date })[] = [];
    let retried: { delivery: ClaimedDelivery; result: Retry } | undefined;
    let next = 0;
    try {
      while (next < flight.deliveries.length && !flight.lost && !this.stopping) {
        const delivery = flight.deliveries[next++];
        const result = await this.deliver(flight, delivery);
        if (flight.lost) return;
        if (result.outcome === 'delivered') {
          sent.push({ ...delivery, at: new Date() });
        } else if (result.outcome === 'dead') {
          await this.settle(flight, delivery, result);
        } else if (result.outcome === 'held') {
          // Given back with those behind it.
          next -= 1;
          this.metrics.settled(delivery.kind, 'held');
          break;
        } else {
          retried = { delivery, result };
          break;
        }
      }
    } finally {
      if (!flight.lost) {
        // The one to retry keeps the queue leased until those behind it are given back (no other
        // worker takes them meanwhile), and is written last: once its error shows, those behind
        // it show untried.
        this.forget(
          flight,
          sent.map((d) => d.id),
        );
        await this.persist(flight, () => this.store.delivered(sent, this.id));
        for (const { kind } of sent) this.metrics.settled(kind, 'delivered');
        const untried = flight.deliveries.slice(next);
        this.forget(
          flight,
          untried.map((d) => d.id),
        );
        await this.persist(flight, () => this.store.release(untried, this.id));
        if (retried) await this.settle(flight, retried.delivery, retried.result);
      }
    }
  }

  /** One attempt of `delivery`, or why none is made (no sender here, too old, stopping). */
  private async deliver(flight: Flight, delivery: ClaimedDelivery): Promise<SendResult> {
    const sender = this.senders.get(delivery.kind);
    let result: SendResult;
    if (!sender) {
      result = { outcome: 'held', reason: `no sender for kind ${delivery.kind} here` };
    } else if (Date.now() - delivery.createdAt.getTime() > this.maxAgeMs) {
      result = {
        outcome: 'dead',
        error: `Not delivered within OUTBOX_MAX_AGE_S (${this.maxAgeMs / 1000} s)`,
      };
    } else {
      try {
        result = await sender.send(delivery, flight.abort.signal);
      } catch (error) {
        this.logger.error(`Sending delivery ${delivery.id} failed: ${messageOf(error)}`);
        result = { outcome: 'retry', error: "Internal error; this service's log has its detail" };
      }
    }
    if (this.stopping && flight.abort.signal.aborted) result = { outcome: 'held', reason: 'stop' };
    if (result.outcome !== 'held') this.metrics.attempted(delivery.kind);
    return result;
  }

  /** Writes what became of a delivery refused, or to retry (dead if tried too often or too old). */
  private async settle(
    flight: Flight,
    delivery: ClaimedDelivery,
    result: Dead | Retry,
  ): Promise<void> {
    const { kind } = delivery;
    this.forget(flight, [delivery.id]);
    switch (result.outcome) {
      case 'dead':
        await this.persist(flight, () => this.kill(delivery, result.error));
        this.metrics.settled(kind, 'dead');
        return;
      case 'retry': {
        const tooOld = Date.now() - delivery.createdAt.getTime() > this.maxAgeMs;
        if (delivery.attempts >= this.maxAttempts || tooOld) {
          const why = tooOld
            ? `not delivered within OUTBOX_MAX_AGE_S (${this.maxAgeMs / 1000} s)`
            : `gave up after ${delivery.attempts} attempts (OUTBOX_MAX_ATTEMPTS)`;
          const error = `${result.error}; ${why}`;
          await this.persist(flight, () => this.kill(delivery, error));
          this.metrics.settled(kind, 'dead');
          return;
        }
        const delay = backoffMs(delivery.attempts, this.maxBackoffS);
        await this.persist(flight, () =>
          this.store.retryLater(delivery, this.id, delay, result.error),
        );
        this.metrics.settled(kind, 'retried');
        this.schedule(Date.now() + delay);
        return;
      }
    }
  }

  /**
   * No longer counts `ids` among the flight's leases, before their settling is written: a renewal
   * answered meanwhile would not find them, and must not take the flight for lost.
   */
  private forget(flight: Flight, ids: string[]): void {
    for (const id of ids) flight.leased.delete(id);
  }

  /** Dead, and whoever wants to know told in the same transaction (a `delivery.dead` event). */
  private async kill(delivery: ClaimedDelivery, error: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (await this.store.dead(delivery, this.id, error, manager)) {
        await this.senders.died(manager, delivery);
      }
    });
  }

  /**
   * Writes what became of deliveries, again and again while the database is away and the lease
   * may still be ours; past that, they are sent again by whoever takes them (at least once, under
   * the same X-Request-ID).
   */
  private async persist(flight: Flight, write: () => Promise<unknown>): Promise<void> {
    for (;;) {
      try {
        await write();
        return;
      } catch (error) {
        if (flight.lost || performance.now() > flight.mustEndBy + LEASE_MARGIN_MS) {
          this.logger.warn(
            `What became of deliveries of queue ${flight.queue} could not be written (${messageOf(error)}); they will be sent again`,
          );
          return;
        }
        await sleep(500);
      }
    }
  }

  /** Every second: renew the leases held, and end the sends whose lease could run out. */
  private tick(): void {
    const now = performance.now();
    for (const flight of this.inFlight.values()) {
      if (now > flight.mustEndBy && !flight.lost) {
        flight.lost = true;
        flight.abort.abort();
        this.logger.warn(
          `Deliveries of queue ${flight.queue} aborted: their lease could not be renewed (database away?)`,
        );
      }
    }
    if (now - this.lastRenewal >= RENEW_EVERY_MS && this.inFlight.size > 0) {
      this.lastRenewal = now;
      void this.renew(now);
    }
  }

  private async renew(startedAt: number): Promise<void> {
    // A flight with nothing leased is writing its last rows: nothing of it is renewed, so its
    // deadline stays, and its writes give up once their lease may have ended.
    const flights = [...this.inFlight.values()].filter((f) => !f.lost && f.leased.size > 0);
    if (flights.length === 0) return;
    try {
      const held = await this.store.renew(
        flights.flatMap((f) => [...f.leased]),
        this.id,
        LEASE_S,
      );
      for (const flight of flights) {
        // Those settled meanwhile left `leased` before their settling was written.
        if ([...flight.leased].every((id) => held.has(id))) {
          flight.mustEndBy = startedAt + LEASE_S * 1000 - LEASE_MARGIN_MS;
        } else {
          // Taken by another worker.
          flight.lost = true;
          flight.abort.abort();
        }
      }
    } catch {
      // The database is away: the sends end by their deadline (tick).
    }
  }

  // --- notifications ----------------------------------------------------------------------------

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: (this.dataSource.options as { url: string }).url,
      application_name: 'ocpi-outbox-listener',
      keepAlive: true,
    });
    this.client = client;
    client.on('notification', () => this.wake());
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      for (const channel of CHANNELS) await client.query(`LISTEN ${channel}`);
      if (this.stopping) return;
      // What was written while not listening.
      this.wake();
    } catch {
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.stopping) return;
    this.reconnect = setTimeout(() => void this.listen(), RECONNECT_DELAY_MS);
  }
}

/** Deliveries by queue, each queue's in the order given. */
function byQueue(deliveries: ClaimedDelivery[]): Map<string, ClaimedDelivery[]> {
  const queues = new Map<string, ClaimedDelivery[]>();
  for (const delivery of deliveries) {
    const queue = queues.get(delivery.queue);
    if (queue) queue.push(delivery);
    else queues.set(delivery.queue, [delivery]);
  }
  return queues;
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

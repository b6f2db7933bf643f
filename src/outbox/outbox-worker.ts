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
 * A worker's lease on a delivery: short, so that a replica killed mid-delivery has its delivery
 * taken again by another within seconds; renewed every {@link RENEW_EVERY_MS} while it sends.
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
/** Inserts into the outbox (its trigger), and connection changes (held queues may go again). */
const CHANNELS = ['ocpi_outbox', 'ocpi_auth_changes'];

interface Flight {
  delivery: ClaimedDelivery;
  abort: AbortController;
  /** performance.now() past which the send must have ended (lease end less the margin). */
  mustEndBy: number;
  /** Another worker may have it now: this one settles nothing. */
  lost: boolean;
  done: Promise<void>;
}

/**
 * The outbox's worker, one per replica: takes the heads of ready queues (at most
 * OUTBOX_CONCURRENCY at once, one per queue across the deployment: see {@link OutboxStore.claim}),
 * sends each through the sender of its kind, and settles it by DESIGN 9.3: delivered, retried
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
        const mine = new Set([...this.inFlight.values()].map((f) => f.delivery.queue));
        const taken = [...candidates].filter((q) => !mine.has(q)).slice(0, free);
        const claimed = await this.store.claim(taken, this.id, LEASE_S);
        if (this.stopping) {
          await Promise.all(claimed.map((d) => this.store.release(d.id, this.id)));
          return;
        }
        for (const delivery of claimed) this.start(delivery);
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

  private start(delivery: ClaimedDelivery): void {
    const flight: Flight = {
      delivery,
      abort: new AbortController(),
      mustEndBy: performance.now() + LEASE_S * 1000 - LEASE_MARGIN_MS,
      lost: false,
      done: Promise.resolve(),
    };
    this.inFlight.set(delivery.id, flight);
    flight.done = this.deliver(flight)
      .catch((error: unknown) =>
        this.logger.error(`Delivery ${delivery.id} failed unexpectedly: ${messageOf(error)}`),
      )
      .finally(() => {
        this.inFlight.delete(delivery.id);
        // The next of its queue, at once, by this worker.
        this.followUps.add(delivery.queue);
        this.wake(false);
      });
  }

  private async deliver(flight: Flight): Promise<void> {
    const { delivery } = flight;
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
    if (flight.lost) return;
    if (this.stopping && flight.abort.signal.aborted) result = { outcome: 'held', reason: 'stop' };
    await this.settle(flight, result);
  }

  private async settle(flight: Flight, result: SendResult): Promise<void> {
    const { delivery } = flight;
    const { kind } = delivery;
    if (result.outcome !== 'held') this.metrics.attempted(kind);
    switch (result.outcome) {
      case 'delivered':
        await this.persist(flight, () => this.store.delivered(delivery.id, this.id));
        this.metrics.settled(kind, 'delivered');
        return;
      case 'held':
        await this.persist(flight, () => this.store.release(delivery.id, this.id));
        this.metrics.settled(kind, 'held');
        return;
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
          this.store.retryLater(delivery.id, this.id, delay, result.error),
        );
        this.metrics.settled(kind, 'retried');
        this.schedule(Date.now() + delay);
        return;
      }
    }
  }

  /** Dead, and whoever wants to know told in the same transaction (a `delivery.dead` event). */
  private async kill(delivery: ClaimedDelivery, error: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (await this.store.dead(delivery.id, this.id, error, manager)) {
        await this.senders.died(manager, delivery);
      }
    });
  }

  /**
   * Writes what became of a delivery, again and again while the database is away and the lease
   * may still be ours; past that, the delivery is sent again by whoever takes it (at least once,
   * under the same X-Request-ID).
   */
  private async persist(flight: Flight, write: () => Promise<unknown>): Promise<void> {
    for (;;) {
      try {
        await write();
        return;
      } catch (error) {
        if (flight.lost || performance.now() > flight.mustEndBy + LEASE_MARGIN_MS) {
          this.logger.warn(
            `What became of delivery ${flight.delivery.id} could not be written (${messageOf(error)}); it will be sent again`,
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
          `Delivery ${flight.delivery.id} aborted: its lease could not be renewed (database away?)`,
        );
      }
    }
    if (now - this.lastRenewal >= RENEW_EVERY_MS && this.inFlight.size > 0) {
      this.lastRenewal = now;
      void this.renew(now);
    }
  }

  private async renew(startedAt: number): Promise<void> {
    const flights = [...this.inFlight.values()].filter((f) => !f.lost);
    try {
      const held = await this.store.renew(
        flights.map((f) => f.delivery.id),
        this.id,
        LEASE_S,
      );
      for (const flight of flights) {
        if (held.has(flight.delivery.id)) {
          flight.mustEndBy = startedAt + LEASE_S * 1000 - LEASE_MARGIN_MS;
        } else if (this.inFlight.has(flight.delivery.id)) {
          // Settled meanwhile (then nothing changes), or taken by another worker.
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

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

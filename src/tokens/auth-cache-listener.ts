import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service.js';
import { AuthCache, type FollowsChanges } from './auth-cache.js';

/** Where the trigger of migration 1764200000000 announces changes of operations and tokens. */
const AUTH_CHANGES_CHANNEL = 'ocpi_auth_changes';
const RECONNECT_DELAY_MS = 1_000;
const PROBE_PREFIX = 'probe:';
const PROBE_INTERVAL_MS = 5_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Keeps this replica's {@link AuthCache} true to the database: one connection of its own LISTENs
 * to the changes of operations and tokens (however they were written: a trigger notifies them)
 * and drops what the cache holds about the changed operation. The cache is on only while that
 * connection is heard to work (a notification of its own comes back every few seconds); when it
 * breaks or falls silent the cache is off and emptied until listening again. Not started when
 * AUTH_CACHE_ENTRIES is 0.
 */
@Injectable()
export class AuthCacheListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuthCache');
  private client?: pg.Client;
  private retry?: NodeJS.Timeout;
  private probing?: NodeJS.Timeout;
  /** Probes sent and not yet heard back, by payload. */
  private readonly probes = new Map<string, () => void>();
  /** Set once listening was lost, so that a long outage is logged once, not every retry. */
  private deaf = false;
  private stopping = false;
  /** The caches kept true to the database: the token cache, and those {@link follow}ing it. */
  private readonly caches: FollowsChanges[];

  constructor(
    private readonly cache: AuthCache,
    private readonly dataSource: DataSource,
    metrics: MetricsService,
  ) {
    this.caches = [cache];
    new Gauge({
      name: 'ocpi_auth_cache_listening',
      help: '1 while this replica hears database changes and uses its token cache, else 0',
      registers: [metrics.registry],
      collect() {
        this.set(cache.listening ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ocpi_auth_cache_entries',
      help: 'Operations and tokens this replica holds in its token cache',
      registers: [metrics.registry],
      collect() {
        this.set(cache.size);
      },
    });
    new Counter({
      name: 'ocpi_auth_cache_lookups_total',
      help: 'Token checks answered from the cache (hit) or the database (miss)',
      labelNames: ['result'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, cache.hits);
        this.inc({ result: 'miss' }, cache.misses);
      },
    });
  }

  /**
   * Keeps another cache of what is read about operations true the same way: on while the token
   * cache is, emptied of an operation's entries when it changes.
   */
  follow(cache: FollowsChanges): void {
    cache.setEnabled(this.cache.listening);
    this.caches.push(cache);
  }

  private setEnabled(enabled: boolean): void {
    for (const cache of this.caches) cache.setEnabled(enabled);
  }

  onApplicationBootstrap(): void {
    if (this.cache.capacity > 0) void this.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retry);
    clearInterval(this.probing);
    this.setEnabled(false);
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: (this.dataSource.options as { url: string }).url,
      application_name: 'ocpi-auth-cache-listener',
      keepAlive: true,
    });
    this.client = client;
    client.on('notification', ({ payload }) => {
      if (payload?.startsWith(PROBE_PREFIX)) this.probes.get(payload)?.();
      else if (payload) for (const cache of this.caches) cache.invalidate(payload);
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_CHANGES_CHANNEL}`);
      // LISTEN can succeed where notifications never come (a pooler in transaction mode): the
      // cache goes on only once a notification of our own has made the round trip, and off as
      // soon as one does not.
      await this.probe(client);
      if (this.client !== client || this.stopping) return;
      this.setEnabled(true);
      if (this.deaf) this.logger.log('Hearing database changes again: token cache on');
      this.deaf = false;
      this.probing = setInterval(
        () => void this.probe(client).catch(() => this.lost(client)),
        PROBE_INTERVAL_MS,
      );
    } catch {
      this.lost(client);
    }
  }

  /** Sends a notification through the pool and waits for it on the listening connection. */
  private async probe(client: pg.Client): Promise<void> {
    if (this.client !== client) return;
    const payload = `${PROBE_PREFIX}${randomUUID()}`;
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('probe not heard')), PROBE_TIMEOUT_MS);
      this.probes.set(payload, resolve);
    });
    try {
      await Promise.all([
        this.dataSource.query('SELECT pg_notify($1, $2)', [AUTH_CHANGES_CHANNEL, payload]),
        heard,
      ]);
    } finally {
      clearTimeout(timer);
      this.probes.delete(payload);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.probing);
    this.setEnabled(false);
    client.end().catch(() => undefined);
    if (this.stopping) return;
    if (!this.deaf) {
      this.logger.warn('Not hearing database changes: token cache off until listening again');
    }
    this.deaf = true;
    this.retry = setTimeout(() => void this.listen(), RECONNECT_DELAY_MS);
  }
}

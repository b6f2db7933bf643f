import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import pg from 'pg';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service.js';
import { AuthCache } from './auth-cache.js';

/** Where the trigger of migration 1764200000000 announces changes of operations and tokens. */
const AUTH_CHANGES_CHANNEL = 'ocpi_auth_changes';
const RECONNECT_DELAY_MS = 1_000;

/**
 * Keeps this replica's {@link AuthCache} true to the database: one connection of its own LISTENs
 * to the changes of operations and tokens (however they were written: a trigger notifies them)
 * and drops what the cache holds about the changed operation. The cache is on only while that
 * connection listens; when it breaks the cache is off and emptied until listening again.
 */
@Injectable()
export class AuthCacheListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuthCache');
  private client?: pg.Client;
  private retry?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly cache: AuthCache,
    private readonly dataSource: DataSource,
    metrics: MetricsService,
  ) {
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

  onApplicationBootstrap(): void {
    void this.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retry);
    this.cache.setEnabled(false);
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: (this.dataSource.options as { url: string }).url,
      application_name: 'ocpi-auth-cache-listener',
    });
    this.client = client;
    client.on('notification', ({ payload }) => payload && this.cache.invalidate(payload));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_CHANGES_CHANNEL}`);
      if (this.client === client && !this.stopping) this.cache.setEnabled(true);
    } catch {
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.cache.setEnabled(false);
    client.end().catch(() => undefined);
    if (this.stopping) return;
    this.logger.warn('Not hearing database changes: token cache off until listening again');
    this.retry = setTimeout(() => void this.listen(), RECONNECT_DELAY_MS);
  }
}

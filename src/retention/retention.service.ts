import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuthFailureLimiter } from '../auth/auth-failure-limiter.js';
import { messageOf } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { HandshakeHistoryService } from '../handshake/handshake-history.service.js';
import { OutboxStore } from '../outbox/outbox-store.js';
import { TokensService } from '../tokens/tokens.service.js';

/** How often each replica purges; the deletes are idempotent, so replicas need no coordination. */
const PURGE_EVERY_MS = 60 * 60 * 1000;

/**
 * Keeps the tables that grow bounded: handshake history and dead tokens older than
 * HISTORY_RETENTION_DAYS, failed-authentication windows that have ended, and delivered outbox
 * deliveries older than OUTBOX_RETENTION_S (dead ones stay until the admin drops them). Runs at
 * start, then every hour.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private readonly days: number;
  private readonly outboxRetentionS: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly history: HandshakeHistoryService,
    private readonly tokens: TokensService,
    private readonly limiter: AuthFailureLimiter,
    private readonly outbox: OutboxStore,
    config: ConfigService<AppConfig, true>,
  ) {
    this.days = config.get('historyRetentionDays', { infer: true });
    this.outboxRetentionS = config.get('outboxRetentionS', { infer: true });
  }

  onApplicationBootstrap(): void {
    const purge = () =>
      void this.purge().catch((error: unknown) =>
        this.logger.warn(`Purge failed: ${messageOf(error)}`),
      );
    purge();
    this.timer = setInterval(purge, PURGE_EVERY_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One purge; what it deleted. */
  async purge(): Promise<{
    handshakes: number;
    tokens: number;
    authFailures: number;
    deliveries: number;
  }> {
    const deleted = {
      handshakes: await this.history.purgeOlderThan(this.days),
      tokens: await this.tokens.purgeDead(this.days),
      authFailures: await this.limiter.purge(),
      deliveries: await this.outbox.purgeDelivered(this.outboxRetentionS),
    };
    if (deleted.handshakes + deleted.tokens > 0) {
      this.logger.log(
        `Purged ${deleted.handshakes} handshakes and ${deleted.tokens} dead tokens older than ${this.days} days`,
      );
    }
    return deleted;
  }
}

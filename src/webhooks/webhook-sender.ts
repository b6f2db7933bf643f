import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Webhook as Signer } from 'standardwebhooks';
import { Repository } from 'typeorm';
import { Agent, errors } from 'undici';
import { SecretBox } from '../common/crypto/secret-box.js';
import { messageOf } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { judgeAnswer, readJudged, type SendResult } from '../outbox/delivery-rules.js';
import { OutboxSenders, type OutboxSender } from '../outbox/outbox-senders.js';
import type { ClaimedDelivery } from '../outbox/outbox-store.js';
import { Webhook } from './webhook.entity.js';

/** Keep-alive connections to one receiver at most: each webhook has one delivery in flight. */
const CONNECTIONS_PER_RECEIVER = 16;

/**
 * Sends connection events to their webhook (DESIGN 9.4), signed at send time the Standard
 * Webhooks way with the reference package (`standardwebhooks`): `webhook-id` (the delivery's
 * request id, the same for every attempt, so that the receiver can drop duplicates),
 * `webhook-timestamp`, `webhook-signature: v1,{base64 HMAC-SHA256}`. The receiver's URL is the
 * admin's (it may be internal), so the peer URL rules do not apply; its answer is judged by the
 * outbox's rules (2xx delivered, 5xx/429/no answer retried, any other 4xx dead).
 */
@Injectable()
export class WebhookSender implements OutboxSender, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly timeoutMs: number;
  private readonly pool: Agent;

  constructor(
    config: ConfigService<AppConfig, true>,
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    private readonly secrets: SecretBox,
    senders: OutboxSenders,
  ) {
    this.timeoutMs = config.get('peerTimeoutMs', { infer: true });
    this.pool = new Agent({
      connections: CONNECTIONS_PER_RECEIVER,
      connect: { timeout: this.timeoutMs },
    });
    senders.register('webhook', this);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }

  async send(delivery: ClaimedDelivery, signal: AbortSignal): Promise<SendResult> {
    const webhook = await this.webhooks.findOne({
      where: { id: delivery.identifier },
      select: { id: true, url: true, secretEncrypted: true },
    });
    if (!webhook) return { outcome: 'dead', error: 'The webhook was deleted' };
    const payload = (delivery.body ?? Buffer.alloc(0)).toString('utf8');
    const now = new Date();
    const signature = new Signer(this.secrets.open(webhook.secretEncrypted, webhook.id)).sign(
      delivery.requestId,
      now,
      payload,
    );
    const url = new URL(webhook.url);
    try {
      const answer = await this.pool.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: {
          ...delivery.headers,
          'webhook-id': delivery.requestId,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body: payload,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
      });
      return judgeAnswer(answer.statusCode, await readJudged(answer.body));
    } catch (error) {
      if (signal.aborted) return { outcome: 'retry', error: 'Interrupted (lease or shutdown)' };
      if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
        return {
          outcome: 'retry',
          error: `The receiver gave no answer within ${this.timeoutMs} ms (PEER_TIMEOUT_MS)`,
        };
      }
      this.logger.warn(`Webhook ${webhook.id} could not be reached: ${messageOf(error)}`);
      return { outcome: 'retry', error: `The receiver could not be reached at ${webhook.url}` };
    }
  }
}

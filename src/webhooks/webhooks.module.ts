import { Module, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { AppConfig } from '../config/app-config.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { OutboxSenders } from '../outbox/outbox-senders.js';
import { WebhookEvents } from './webhook-events.js';
import { WebhookSender } from './webhook-sender.js';
import { Webhook } from './webhook.entity.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Connection events for the CPO's systems (DESIGN 9.4): the webhooks (admin), the events written
 * in the transaction of each change (WebhookEvents, used by the handshake's transitions and by
 * the outbox when a push dies), and their sender on the outbox.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Webhook]), OutboxModule, AuthModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    WebhookEvents,
    WebhookSender,
    {
      provide: SecretBox,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        new SecretBox(config.get('encryptionKey', { infer: true })),
    },
  ],
  exports: [WebhookEvents],
})
export class WebhooksModule implements OnModuleInit {
  constructor(
    private readonly senders: OutboxSenders,
    private readonly events: WebhookEvents,
  ) {}

  /** A push that dies tells the webhooks that want `delivery.dead`, in the same transaction. */
  onModuleInit(): void {
    this.senders.onDead((manager, delivery) =>
      delivery.kind === 'relay' ? this.events.deliveryDead(manager, delivery.id) : undefined,
    );
  }
}

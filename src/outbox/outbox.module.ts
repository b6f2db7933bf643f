import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { DeliveriesController } from './deliveries.controller.js';
import { DeliveriesService } from './deliveries.service.js';
import { Delivery } from './delivery.entity.js';
import { OutboxMetrics } from './outbox-metrics.js';
import { OutboxSenders } from './outbox-senders.js';
import { OutboxStore } from './outbox-store.js';
import { OutboxWorker } from './outbox-worker.js';

/**
 * The durable outbox (DESIGN 9.3, 9.4): deliveries written in the transaction of what they
 * carry, sent in order per queue by the workers of every replica, through the sender each owner
 * registers for its kind (OutboxSenders). The admin routes of an operation's deliveries.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Delivery]), OperationsModule, AuthModule],
  controllers: [DeliveriesController],
  providers: [OutboxStore, OutboxSenders, OutboxWorker, OutboxMetrics, DeliveriesService],
  exports: [OutboxStore, OutboxSenders],
})
export class OutboxModule {}

import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { DeliveryKind } from './delivery.entity.js';
import type { SendResult } from './delivery-rules.js';
import type { ClaimedDelivery } from './outbox-store.js';

/**
 * Sends one kind of delivery (the relay's pushes, webhook events): where it goes and with which
 * credentials is decided here, at send time, from the state of things now. Its answer is judged
 * with {@link judgeAnswer}; it must end when `signal` aborts (the lease is about to be lost, or
 * the replica stops).
 */
export interface OutboxSender {
  send(delivery: ClaimedDelivery, signal: AbortSignal): Promise<SendResult>;
}

/** Told when a delivery dies, in the transaction that kills it (to write an event of it). */
export type DeadHook = (
  manager: EntityManager,
  delivery: ClaimedDelivery,
) => Promise<void> | undefined;

/**
 * The senders by kind, and who is told of a dead delivery. Each owner registers its own (the edge
 * the relay's sender, the webhooks module its sender and the `delivery.dead` event), so that the
 * outbox depends on none of them.
 */
@Injectable()
export class OutboxSenders {
  private readonly senders = new Map<DeliveryKind, OutboxSender>();
  private readonly deadHooks: DeadHook[] = [];

  register(kind: DeliveryKind, sender: OutboxSender): void {
    this.senders.set(kind, sender);
  }

  get(kind: DeliveryKind): OutboxSender | undefined {
    return this.senders.get(kind);
  }

  onDead(hook: DeadHook): void {
    this.deadHooks.push(hook);
  }

  async died(manager: EntityManager, delivery: ClaimedDelivery): Promise<void> {
    for (const hook of this.deadHooks) await hook(manager, delivery);
  }
}

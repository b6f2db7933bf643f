import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { toConnectionDto } from '../operations/dto/connection.dto.js';
import { Operation } from '../operations/operation.entity.js';
import { formatOperatorId } from '../operations/operator-id.js';
import { toDeliveryDto } from '../outbox/deliveries.service.js';
import { Delivery } from '../outbox/delivery.entity.js';
import { OutboxStore } from '../outbox/outbox-store.js';
import type { ConnectionEvent } from './webhook.entity.js';

/** The events of a connection's own changes. */
export type ConnectionChange = Exclude<ConnectionEvent, 'delivery.dead'>;

/**
 * Writes connection events (DESIGN 9.4) as outbox deliveries, one per webhook that wants the
 * event, each in the queue of its webhook, in the transaction of the change it reports
 * (`manager`): no event without its change, no change without its event. The payload never
 * carries a token: the connection as the admin API shows it, or the dead delivery as the
 * deliveries list shows it.
 */
@Injectable()
export class WebhookEvents {
  constructor(private readonly outbox: OutboxStore) {}

  /** The connection of `operationId` changed, as `manager` sees it now. */
  async connectionChanged(
    manager: EntityManager,
    operationId: string,
    type: ConnectionChange,
  ): Promise<void> {
    const receivers = await receiversOf(manager, type, operationId);
    if (receivers.length === 0) return;
    const operation = await manager.findOne(Operation, {
      where: { id: operationId },
      relations: { connection: true },
    });
    if (!operation) return;
    await this.write(manager, receivers, {
      type,
      occurred_at: new Date().toISOString(),
      operation: { id: operation.id, operator_id: formatOperatorId(operation) },
      connection: toConnectionDto(operation.connection),
    });
  }

  /** A push of the operation was found dead (in `manager`'s transaction, which kills it). */
  async deliveryDead(manager: EntityManager, deliveryId: string): Promise<void> {
    const delivery = await manager.findOne(Delivery, {
      where: { id: deliveryId },
      relations: { operation: true },
    });
    if (!delivery?.operation) return;
    const receivers = await receiversOf(manager, 'delivery.dead', delivery.operation.id);
    if (receivers.length === 0) return;
    await this.write(manager, receivers, {
      type: 'delivery.dead',
      occurred_at: new Date().toISOString(),
      operation: { id: delivery.operation.id, operator_id: formatOperatorId(delivery.operation) },
      delivery: toDeliveryDto(delivery),
    });
  }

  private async write(
    manager: EntityManager,
    receivers: string[],
    payload: Record<string, unknown>,
  ): Promise<void> {
    const body = Buffer.from(JSON.stringify(payload));
    for (const webhook of receivers) {
      await this.outbox.enqueue(manager, {
        kind: 'webhook',
        queue: `webhook:${webhook}`,
        // Not the operation's: its events outlive it (an operation deleted after its last one).
        operationId: null,
        method: 'POST',
        identifier: webhook,
        path: '',
        headers: { 'content-type': 'application/json' },
        body,
      });
    }
  }
}

/** The webhooks that want `type` of this operation: its organisation's, and those of none. */
async function receiversOf(
  manager: EntityManager,
  type: ConnectionEvent,
  operationId: string,
): Promise<string[]> {
  const rows = await manager.query<{ id: string }[]>(
    `SELECT id FROM webhooks
     WHERE $1 = ANY(events)
       AND (organisation_id IS NULL
            OR organisation_id = (SELECT organisation_id FROM operations WHERE id = $2))
     ORDER BY created_at`,
    [type, operationId],
  );
  return rows.map((r) => r.id);
}

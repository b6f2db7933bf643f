import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ConflictError, NotFoundError } from '../common/errors.js';
import type { Operation } from '../operations/operation.entity.js';
import { formatOperatorId } from '../operations/operator-id.js';
import { Delivery } from './delivery.entity.js';
import type { DeliveryDto, DeliveryPageDto, DeliveryQueryDto } from './dto/delivery.dto.js';

/** What the admin does with an operation's deliveries: list them, retry a dead one, drop one. */
@Injectable()
export class DeliveriesService {
  constructor(
    @InjectRepository(Delivery) private readonly deliveries: Repository<Delivery>,
    private readonly dataSource: DataSource,
  ) {}

  /** Newest first (the order they were accepted in, reversed), without their bodies. */
  async list(
    operation: Operation,
    { status, offset, limit }: DeliveryQueryDto,
  ): Promise<DeliveryPageDto> {
    const [rows, total] = await this.deliveries.findAndCount({
      select: LISTED,
      where: { operationId: operation.id, kind: 'relay', ...(status && { status }) },
      order: { seq: 'DESC' },
      skip: offset,
      take: limit,
    });
    return { items: rows.map(toDeliveryDto), total, offset, limit };
  }

  /** A dead delivery back to the end of its queue, as new: no attempts, tried at once. */
  async retry(operation: Operation, id: string): Promise<DeliveryDto> {
    const found = await this.find(operation, id);
    // An UPDATE answers `[rows, count]`.
    const [rows] = await this.dataSource.query<[{ id: string }[], number]>(
      `UPDATE deliveries
       SET status = 'PENDING', seq = nextval(pg_get_serial_sequence('deliveries', 'seq')),
           attempts = 0, next_attempt_at = now(), locked_until = NULL, locked_by = NULL
       WHERE id = $1 AND status = 'DEAD' RETURNING id`,
      [found.id],
    );
    if (rows.length === 0) {
      throw new ConflictError(
        `Delivery ${id} is not dead (it is ${found.status}): only a dead delivery can be retried`,
      );
    }
    // Idle workers wake at once, as on an insert.
    await this.dataSource.query(`SELECT pg_notify('ocpi_outbox', '')`);
    return toDeliveryDto(await this.find(operation, id));
  }

  /**
   * Drops a pending or dead delivery for good. Not one a worker has taken with its queue (being
   * sent, or next in line): it would be sent all the same, or let the next of its queue go while
   * it is still in flight.
   */
  async drop(operation: Operation, id: string): Promise<void> {
    const found = await this.find(operation, id);
    const [rows] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM deliveries
       WHERE id = $1 AND status IN ('PENDING', 'DEAD')
         AND (locked_until IS NULL OR locked_until < now())
       RETURNING id`,
      [found.id],
    );
    if (rows.length > 0) return;
    const now = await this.deliveries.findOne({ where: { id }, select: LISTED });
    if (!now) return; // gone meanwhile: what was asked
    throw new ConflictError(
      now.status === 'DELIVERED'
        ? `Delivery ${id} was delivered: there is nothing to drop`
        : `Delivery ${id} is being sent, or is next in line in its queue, at this moment: try again in a few seconds`,
    );
  }

  private async find(operation: Operation, id: string): Promise<Delivery> {
    const found = await this.deliveries.findOne({
      select: LISTED,
      where: { id, operationId: operation.id, kind: 'relay' },
    });
    if (!found) {
      throw new NotFoundError(
        `Operation ${formatOperatorId(operation)} has no delivery ${id} (delivered ones are purged after OUTBOX_RETENTION_S)`,
      );
    }
    return found;
  }
}

/** Every column but the request's headers and body. */
const LISTED = {
  id: true,
  seq: true,
  status: true,
  identifier: true,
  method: true,
  path: true,
  attempts: true,
  lastError: true,
  createdAt: true,
  nextAttemptAt: true,
  deliveredAt: true,
} as const;

/** A delivery as the admin sees it (and a `delivery.dead` event carries it): never its body. */
export function toDeliveryDto(d: Delivery): DeliveryDto {
  return {
    id: d.id,
    identifier: d.identifier,
    method: d.method,
    path: d.path,
    status: d.status,
    attempts: d.attempts,
    last_error: d.lastError,
    created_at: d.createdAt,
    next_attempt_at: d.nextAttemptAt,
    delivered_at: d.deliveredAt,
  };
}

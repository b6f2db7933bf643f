import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Generated,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { Operation } from '../operations/operation.entity.js';

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'DEAD'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What a delivery carries, and so which sender sends it: a relay push, a webhook event. */
export const DELIVERY_KINDS = ['relay', 'webhook'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

/**
 * One request to send, durably, in its queue's order (DESIGN 9.3): written in the transaction of
 * what it reports or accepts, sent by a worker of any replica, retried until delivered or dead.
 * The request is stored as it will be sent, less what is decided at send time (the target's base
 * URL and credentials).
 */
@Entity('deliveries')
@Check('deliveries_kind_check', `kind IN ('relay', 'webhook')`)
@Check('deliveries_status_check', `status IN ('PENDING', 'DELIVERED', 'DEAD')`)
@Index('deliveries_pending_idx', ['queue', 'seq'], { unique: true, where: `status = 'PENDING'` })
@Index('deliveries_leased_idx', ['queue'], {
  where: `status = 'PENDING' AND locked_until IS NOT NULL`,
})
@Index('deliveries_operation_id_status_seq_idx', ['operationId', 'status', 'seq'])
@Index('deliveries_delivered_at_idx', ['deliveredAt'], { where: `status = 'DELIVERED'` })
export class Delivery {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The order of the queue: FIFO by it. */
  @Column({ type: 'bigint' })
  @Generated('increment')
  seq!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: DeliveryKind;

  /** One FIFO: `relay:{operation id}:{module}`, `webhook:{webhook id}`. */
  @Column({ type: 'text' })
  queue!: string;

  @Column({ name: 'operation_id', type: 'uuid', nullable: true })
  operationId!: string | null;

  @ManyToOne(() => Operation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'operation_id', foreignKeyConstraintName: 'deliveries_operation_id_fkey' })
  operation!: Relation<Operation>;

  @Column({ type: 'varchar', length: 16, default: 'PENDING' })
  status!: DeliveryStatus;

  /** Attempts started, counted when a worker takes the delivery (a crash counts too). */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  /** The lease of the worker sending it; renewed while sending, so a dead worker's ends soon. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @Column({ name: 'locked_by', type: 'varchar', length: 64, nullable: true })
  lockedBy!: string | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** The `X-Request-ID` of every attempt, so that the receiver can drop duplicates. */
  @Column({ name: 'request_id', type: 'uuid' })
  requestId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ type: 'varchar', length: 8 })
  method!: string;

  /** Where it goes, for its sender: the peer's module (`locations`), the webhook's id. */
  @Column({ type: 'varchar', length: 255 })
  identifier!: string;

  /** Path and query under the target's base URL, as the caller gave them. */
  @Column({ type: 'text' })
  path!: string;

  /** The headers that are sent as given (lower-case names). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers!: Record<string, string>;

  @Column({ type: 'bytea', nullable: true })
  body!: Buffer | null;
}

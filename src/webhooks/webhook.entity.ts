import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
} from 'typeorm';
import { Organisation } from '../operations/organisation.entity.js';

export const CONNECTION_EVENTS = [
  'connection.registered',
  'connection.updated',
  'connection.unregistered',
  'connection.health_changed',
  'delivery.dead',
] as const;
export type ConnectionEvent = (typeof CONNECTION_EVENTS)[number];

/**
 * A receiver of connection events (DESIGN 9.4): it gets the events it asked for, of every
 * operation (of its organisation's only when it has one: a key bound to an organisation made it), signed the Standard Webhooks way with its secret (sealed at rest: it is needed to
 * sign, so it cannot be a hash).
 */
@Entity('webhooks')
export class Webhook {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ type: 'text', array: true })
  events!: ConnectionEvent[];

  /** `whsec_…`, sealed with the webhook's id as context. */
  @Column({ name: 'secret_encrypted', type: 'bytea', select: false })
  secretEncrypted!: Buffer;

  /** Set: it receives the events of this organisation's operations only. */
  @Index('webhooks_organisation')
  @Column({ name: 'organisation_id', type: 'uuid', nullable: true })
  organisationId!: string | null;

  @ManyToOne(() => Organisation, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'organisation_id',
    foreignKeyConstraintName: 'webhooks_organisation_id_fkey',
  })
  organisation?: Relation<Organisation>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}

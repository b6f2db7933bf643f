import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  OneToOne,
  PrimaryColumn,
  UpdateDateColumn,
  type Relation,
} from 'typeorm';
import type { BusinessDetailsDto } from '../ocpi/dto/business-details.dto.js';
import type { EndpointDto } from '../ocpi/dto/endpoint.dto.js';
import type { Operation } from './operation.entity.js';

export const CONNECTION_STATUSES = ['UNREGISTERED', 'REGISTERED'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/**
 * What the last probe of a registered connection found (DESIGN 10): UNKNOWN until the first probe
 * of a new registration (and while unregistered), UP (2xx with status_code 1000), REJECTED (401
 * or 403: the peer no longer accepts our token), DOWN (anything else).
 */
export const HEALTH_STATUSES = ['UNKNOWN', 'UP', 'DOWN', 'REJECTED'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export const INITIATORS = ['PEER', 'US'] as const;
/** Who started a handshake: the peer (FromIOP) or this service (ToIOP). */
export type Initiator = (typeof INITIATORS)[number];

/**
 * The OCPI connection of an operation with its peer; exactly one per operation, created with it,
 * so that every handshake has a row to lock.
 */
@Entity('connections')
// The list's filters (status, health), and the prober's look for due probes: registered rows only.
@Index('connections_status_health_idx', ['status', 'healthStatus'])
@Index('connections_probe_due_at_idx', ['probeDueAt'], { where: `status = 'REGISTERED'` })
@Check('connections_status_check', `status IN ('UNREGISTERED', 'REGISTERED')`)
@Check('connections_initiated_by_check', `initiated_by IN ('PEER', 'US')`)
@Check('connections_unregistered_by_check', `unregistered_by IN ('PEER', 'US')`)
@Check('connections_health_status_check', `health_status IN ('UNKNOWN', 'UP', 'DOWN', 'REJECTED')`)
export class Connection {
  @PrimaryColumn({ name: 'operation_id', type: 'uuid' })
  operationId!: string;

  @OneToOne('Operation', (operation: Operation) => operation.connection, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'operation_id', foreignKeyConstraintName: 'connections_operation_id_fkey' })
  operation!: Relation<Operation>;

  @Column({ type: 'varchar', length: 16, default: 'UNREGISTERED' })
  status!: ConnectionStatus;

  @Column({ name: 'initiated_by', type: 'varchar', length: 8, nullable: true })
  initiatedBy!: Initiator | null;

  @Column({ type: 'varchar', length: 8, nullable: true })
  version!: string | null;

  @Column({ name: 'peer_versions_url', type: 'varchar', length: 255, nullable: true })
  peerVersionsUrl!: string | null;

  @Column({ name: 'peer_country_code', type: 'varchar', length: 2, nullable: true })
  peerCountryCode!: string | null;

  @Column({ name: 'peer_party_id', type: 'varchar', length: 3, nullable: true })
  peerPartyId!: string | null;

  @Column({ name: 'peer_business_details', type: 'jsonb', nullable: true })
  peerBusinessDetails!: BusinessDetailsDto | null;

  @Column({ name: 'peer_endpoints', type: 'jsonb', default: () => "'[]'" })
  peerEndpoints!: EndpointDto[];

  /** The token we present to the peer, AES-256-GCM encrypted; never leaves the service in clear. */
  @Column({ name: 'peer_token_encrypted', type: 'bytea', nullable: true, select: false })
  peerTokenEncrypted!: Buffer | null;

  @Column({ name: 'registered_at', type: 'timestamptz', nullable: true })
  registeredAt!: Date | null;

  /** When the last connection ended; null while registered and before any registration. */
  @Column({ name: 'unregistered_at', type: 'timestamptz', nullable: true })
  unregisteredAt!: Date | null;

  /** Who ended it: the peer (its DELETE) or we (unregister). */
  @Column({ name: 'unregistered_by', type: 'varchar', length: 8, nullable: true })
  unregisteredBy!: Initiator | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  // Health (written by ConnectionHealthService, reset by ConnectionsService on each new
  // registration and at its end); none of it changes `updated_at`, which is the connection's.

  @Column({ name: 'health_status', type: 'varchar', length: 8, default: 'UNKNOWN' })
  healthStatus!: HealthStatus;

  @Column({ name: 'health_checked_at', type: 'timestamptz', nullable: true })
  healthCheckedAt!: Date | null;

  @Column({ name: 'health_last_up_at', type: 'timestamptz', nullable: true })
  healthLastUpAt!: Date | null;

  @Column({ name: 'health_consecutive_failures', type: 'integer', default: 0 })
  healthConsecutiveFailures!: number;

  @Column({ name: 'health_error', type: 'text', nullable: true })
  healthError!: string | null;

  /**
   * When the next probe is due; '-infinity' for a registration the prober has not yet given a
   * time within the interval. The prober's own: never read into the entity.
   */
  @Column({ name: 'probe_due_at', type: 'timestamptz', nullable: true, select: false })
  probeDueAt!: Date | null;

  /** The lease of a probe under way (the prober's own: never read into the entity). */
  @Column({ name: 'probing_until', type: 'timestamptz', nullable: true, select: false })
  probingUntil!: Date | null;
}

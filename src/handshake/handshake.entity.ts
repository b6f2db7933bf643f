import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { Operation } from '../operations/operation.entity.js';
import type { Initiator } from '../operations/connection.entity.js';

export type HandshakeAction = 'REGISTER' | 'UPDATE' | 'UNREGISTER';
export type HandshakeOutcome = 'SUCCEEDED' | 'FAILED';

/** One call to the peer during a handshake. URLs and status codes only: never a token. */
export interface HandshakeStepRecord {
  /** Method and URL, e.g. `GET https://iop.example/ocpi/emsp/versions`. */
  request: string;
  http_status: number | null;
  ocpi_status_code: number | null;
  duration_ms: number;
  /** Why the call failed, when it did. */
  error?: string;
}

/** The history of every handshake, successful or not. */
@Entity('handshakes')
@Check('handshakes_action_check', `action IN ('REGISTER', 'UPDATE', 'UNREGISTER')`)
@Check('handshakes_initiated_by_check', `initiated_by IN ('PEER', 'US')`)
@Check('handshakes_outcome_check', `outcome IN ('SUCCEEDED', 'FAILED')`)
@Index('handshakes_operation_id_started_at_idx', ['operationId', 'startedAt'])
@Index('handshakes_started_at_idx', ['startedAt'])
export class Handshake {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'operation_id', type: 'uuid' })
  operationId!: string;

  @ManyToOne(() => Operation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'operation_id', foreignKeyConstraintName: 'handshakes_operation_id_fkey' })
  operation!: Relation<Operation>;

  @Column({ type: 'varchar', length: 16 })
  action!: HandshakeAction;

  @Column({ name: 'initiated_by', type: 'varchar', length: 8 })
  initiatedBy!: Initiator;

  @Column({ type: 'varchar', length: 16 })
  outcome!: HandshakeOutcome;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  steps!: HandshakeStepRecord[];

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz' })
  finishedAt!: Date;
}

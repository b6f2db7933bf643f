import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { Operation } from '../operations/operation.entity.js';

/**
 * REGISTRATION: a token A the admin hands to the peer to register with.
 * CONNECTION: the token the peer presents once registered (C in FromIOP, B in ToIOP).
 */
export type TokenKind = 'REGISTRATION' | 'CONNECTION';

/**
 * ACTIVE: opens what its kind opens.
 * PENDING: a connection token sent to the peer in a ToIOP POST not yet answered: it opens only
 * versions and version details, for the peer's call-back.
 * REREGISTER_ONLY: the connection token of a peer that unregistered, within the grace period:
 * versions, version details and POST credentials (GIREVE's DELETE-then-POST).
 * REVOKED: opens nothing.
 */
export type TokenState = 'ACTIVE' | 'PENDING' | 'REREGISTER_ONLY' | 'REVOKED';

/** A token the peer presents to us. Only its SHA-256 is kept. */
@Entity('issued_tokens')
@Check('issued_tokens_kind_check', `kind IN ('REGISTRATION', 'CONNECTION')`)
@Check('issued_tokens_state_check', `state IN ('ACTIVE', 'PENDING', 'REREGISTER_ONLY', 'REVOKED')`)
@Index('issued_tokens_operation_id_idx', ['operationId'])
export class IssuedToken {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'operation_id', type: 'uuid' })
  operationId!: string;

  @ManyToOne(() => Operation, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'operation_id', foreignKeyConstraintName: 'issued_tokens_operation_id_fkey' })
  operation!: Relation<Operation>;

  /** SHA-256 of the token; the unique index makes the lookup O(1) whatever the number of tokens. */
  @Index('issued_tokens_hash_key', { unique: true })
  @Column({ type: 'bytea' })
  hash!: Buffer;

  @Column({ type: 'varchar', length: 16 })
  kind!: TokenKind;

  @Column({ type: 'varchar', length: 16 })
  state!: TokenState;

  /** End of validity of an ACTIVE registration token or of a REREGISTER_ONLY grace; null: none. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

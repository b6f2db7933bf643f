import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { Organisation } from '../operations/organisation.entity.js';
import type { Scope } from '../auth/scopes.js';

/**
 * An API key: only its SHA-256 is kept (the key is shown once, when created). Revoking deletes
 * the row; a trigger announces it to every replica's cache (migration 1764900000000).
 */
@Entity('api_keys')
@Index('api_keys_organisation_id_idx', ['organisationId'])
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** SHA-256 of the key, looked up through its unique index. */
  @Index('api_keys_key_hash_key', { unique: true })
  @Column({ name: 'key_hash', type: 'bytea' })
  keyHash!: Buffer;

  /** The key's first characters (`ocpik_AbCdEf`), to tell keys apart in lists; not a secret. */
  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  @Column({ type: 'text', array: true })
  scopes!: Scope[];

  @Column({ name: 'organisation_id', type: 'uuid', nullable: true })
  organisationId!: string | null;

  @ManyToOne(() => Organisation, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'organisation_id',
    foreignKeyConstraintName: 'api_keys_organisation_id_fkey',
  })
  organisation?: Relation<Organisation>;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  /** Written at most once a minute per key (ApiKeyAuthenticator), not on every request. */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Who created it: `ADMIN_TOKEN`, or `key {id} ({name})`. */
  @Column({ name: 'created_by', type: 'varchar', length: 300 })
  createdBy!: string;
}

import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToOne,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
  type Relation,
} from 'typeorm';
import { Organisation } from './organisation.entity.js';
import type { Connection } from './connection.entity.js';
import type { BusinessDetailsDto } from '../ocpi/dto/business-details.dto.js';
import type { AdvertisedEndpointDto } from './dto/advertised-endpoint.dto.js';

/** A tenant: one eMI3 operation with its own OCPI connection to the peer. */
@Entity('operations')
@Unique('operations_operator_id_key', ['countryCode', 'partyId'])
@Check('operations_country_code_check', `country_code ~ '^[A-Z]{2}$'`)
@Check('operations_party_id_check', `party_id ~ '^[A-Z0-9]{3}$'`)
@Index('operations_organisation_id_idx', ['organisationId'])
export class Operation {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'country_code', type: 'char', length: 2 })
  countryCode!: string;

  @Column({ name: 'party_id', type: 'char', length: 3 })
  partyId!: string;

  @Column({ name: 'business_details', type: 'jsonb' })
  businessDetails!: BusinessDetailsDto;

  /** Modules our version details advertise besides credentials: served elsewhere or proxied. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  endpoints!: AdvertisedEndpointDto[];

  /** The organisation (hosted CPO) that owns it; its bound API keys see only its operations. */
  @Column({ name: 'organisation_id', type: 'uuid', nullable: true })
  organisationId!: string | null;

  @ManyToOne(() => Organisation, { onDelete: 'RESTRICT' })
  @JoinColumn({
    name: 'organisation_id',
    foreignKeyConstraintName: 'operations_organisation_id_fkey',
  })
  organisation?: Relation<Organisation>;

  @OneToOne('Connection', (connection: Connection) => connection.operation, {
    cascade: ['insert'],
  })
  connection!: Relation<Connection>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

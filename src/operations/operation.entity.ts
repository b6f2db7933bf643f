import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  OneToOne,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
  type Relation,
} from 'typeorm';
import type { Connection } from './connection.entity.js';
import type { BusinessDetailsDto } from '../ocpi/dto/business-details.dto.js';
import type { AdvertisedEndpointDto } from './dto/advertised-endpoint.dto.js';

/** A tenant: one eMI3 operation with its own OCPI connection to the peer. */
@Entity('operations')
@Unique('operations_operator_id_key', ['countryCode', 'partyId'])
@Check('operations_country_code_check', `country_code ~ '^[A-Z]{2}$'`)
@Check('operations_party_id_check', `party_id ~ '^[A-Z0-9]{3}$'`)
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

  @OneToOne('Connection', (connection: Connection) => connection.operation, {
    cascade: ['insert'],
  })
  connection!: Relation<Connection>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

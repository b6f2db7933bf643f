import { ConnectionDto } from './connection.dto.js';
import { BusinessDetailsDto } from '../../ocpi/dto/business-details.dto.js';
import { AdvertisedEndpointDto } from './advertised-endpoint.dto.js';

/** An operation (tenant) as the admin API shows it. */
export class OperationDto {
  /** @example 5f0c6c8e-3f5e-4a8e-9a3c-2f1f3f7d9b10 */
  id!: string;
  /** @example FR*AB1 */
  operator_id!: string;
  /** @example FR */
  country_code!: string;
  /** @example AB1 */
  party_id!: string;
  /** Our business details for this operation, sent to the peer in our credentials. */
  business_details!: BusinessDetailsDto;
  /** Modules advertised in our version details besides credentials, as the admin gave them. */
  endpoints!: AdvertisedEndpointDto[];
  /** The organisation (hosted CPO) that owns it; null: none. */
  organisation_id!: string | null;
  /**
   * Our OCPI versions URL for this operation: what the CPO hands to the peer.
   * @example https://ocpi.cpo.example/ocpi/FR/AB1/versions
   */
  versions_url!: string;
  connection!: ConnectionDto;
  created_at!: Date;
  updated_at!: Date;
}

/** One page of operations, ordered by operator id. */
export class OperationPageDto {
  items!: OperationDto[];
  /** How many operations there are in all. */
  total!: number;
  offset!: number;
  limit!: number;
}

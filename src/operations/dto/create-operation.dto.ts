import { Type } from 'class-transformer';
import { IsArray, IsObject, IsOptional, IsUUID, ValidateNested } from 'class-validator';
import { BusinessDetailsDto } from '../../ocpi/dto/business-details.dto.js';
import { AdvertisedEndpointDto } from './advertised-endpoint.dto.js';
import { IsOperatorId } from '../operator-id.js';

export class CreateOperationDto {
  @IsOperatorId()
  operator_id!: string;

  /** Our business details for this operation (OCPI BusinessDetails). */
  @IsObject({ message: 'must be an object: OCPI BusinessDetails with at least a name' })
  @ValidateNested()
  @Type(() => BusinessDetailsDto)
  business_details!: BusinessDetailsDto;

  /**
   * Modules to advertise in our version details besides credentials: a 2.1.1 module id other than
   * `credentials` (`cdrs`, `commands`, `locations`, `sessions`, `tariffs`, `tokens`) or a custom id
   * prefixed with the operation's country and party (`frab1-chargingprofiles`); one entry per id,
   * each with exactly one of `url` (served elsewhere) and `upstream_url` (behind the gateway).
   */
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AdvertisedEndpointDto)
  endpoints?: AdvertisedEndpointDto[];

  /**
   * The organisation (hosted CPO) that owns the operation; null: none. Set by the provider only
   * (ADMIN_TOKEN); a key bound to an organisation creates operations of its organisation.
   */
  @IsOptional()
  @IsUUID('all', { message: 'must be the id of an organisation' })
  organisation_id?: string | null;
}

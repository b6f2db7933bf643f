import { Type } from 'class-transformer';
import { IsObject, Matches, ValidateNested } from 'class-validator';
import { OcpiInput } from '../../common/validation.pipe.js';
import { IsOcpiToken, IsOcpiUrl } from '../ocpi-validators.js';
import { PeerBusinessDetailsDto, type BusinessDetailsDto } from './business-details.dto.js';

/** OCPI 2.1.1 Credentials object: what each side tells the other about itself. */
export class CredentialsDto extends OcpiInput {
  /** The token the receiver of this object must present to its sender: string(64), as is. */
  @IsOcpiToken()
  token!: string;

  /** The sender's versions endpoint. */
  @IsOcpiUrl()
  url!: string;

  @IsObject({ message: 'must be an object: OCPI BusinessDetails with at least a name' })
  @ValidateNested()
  @Type(() => PeerBusinessDetailsDto)
  business_details!: PeerBusinessDetailsDto | BusinessDetailsDto;

  /** The sender's party id, 3 letters or digits. @example AB1 */
  @Matches(/^[A-Za-z0-9]{3}$/, { message: 'must be 3 letters or digits' })
  party_id!: string;

  /** The sender's country code, ISO 3166-1 alpha-2. @example FR */
  @Matches(/^[A-Za-z]{2}$/, { message: 'must be 2 letters' })
  country_code!: string;
}

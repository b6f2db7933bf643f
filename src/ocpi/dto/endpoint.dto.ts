import { IsBoundedString } from '../../common/validators.js';
import { IsOcpiUrl } from '../ocpi-validators.js';

/** OCPI 2.1.1 Endpoint of a version details answer: a module id and where it is served. */
export class EndpointDto {
  /** Module id: `cdrs`, `commands`, `locations`, `sessions`, `tariffs`, `tokens`, or a custom id. */
  @IsBoundedString(64)
  identifier!: string;

  /** Absolute URL of the module. */
  @IsOcpiUrl()
  url!: string;
}

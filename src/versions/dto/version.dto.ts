import { EndpointDto } from '../../ocpi/dto/endpoint.dto.js';

/** One entry of GET versions. */
export class VersionDto {
  /** @example 2.1.1 */
  version!: string;
  /** @example https://ocpi.cpo.example/ocpi/FR/AB1/2.1.1 */
  url!: string;
}

/** GET version details. */
export class VersionDetailsDto {
  /** @example 2.1.1 */
  version!: string;
  /** credentials, then the modules the operation advertises. */
  endpoints!: EndpointDto[];
}

import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, isURL, ValidateBy } from 'class-validator';
import { IsBoundedString } from '../../common/validators.js';
import { IsOcpiUrl } from '../../ocpi/ocpi-validators.js';

const MAX_UPSTREAM_URL = 2048;

/** An absolute http(s) URL without user, password, query or fragment: a base the gateway extends. */
function IsUpstreamUrl(): PropertyDecorator {
  return applyDecorators(
    ValidateBy({
      name: 'isUpstreamUrl',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          value.length <= MAX_UPSTREAM_URL &&
          isURL(value, {
            protocols: ['http', 'https'],
            require_protocol: true,
            require_tld: false,
            disallow_auth: true,
          }) &&
          !/[?#]/.test(value),
        defaultMessage: () =>
          `must be an absolute http(s) URL of at most ${MAX_UPSTREAM_URL} characters, without user, password, query or fragment`,
      },
    }),
    ApiProperty({ type: String, format: 'uri', maxLength: MAX_UPSTREAM_URL, required: false }),
  );
}

/**
 * A module an operation advertises in its version details besides credentials, in one of two
 * forms (exactly one of `url` and `upstream_url`): served elsewhere at `url` (advertised as is;
 * this service sees none of its traffic), or served by a CPO system at `upstream_url` behind this
 * service's module gateway (advertised under the operation's OCPI prefix; the gateway checks the
 * peer's token and forwards).
 */
export class AdvertisedEndpointDto {
  /** Module id: `cdrs`, `commands`, `locations`, `sessions`, `tariffs`, `tokens`, or a custom id. */
  @IsBoundedString(64)
  identifier!: string;

  /**
   * Where another system serves the module, advertised to the peer as is.
   * @example https://locations.cpo.example/ocpi/2.1.1/locations
   */
  @IsOptional()
  @IsOcpiUrl()
  url?: string;

  /**
   * Where a CPO system serves the module behind the gateway; may be internal. The peer is given
   * `{PUBLIC_URL}/ocpi/{cc}/{pid}/2.1.1/{identifier}` instead.
   * @example http://locations.internal:8080/ocpi/locations
   */
  @IsOptional()
  @IsUpstreamUrl()
  upstream_url?: string;
}

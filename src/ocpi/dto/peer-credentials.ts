import { plainToInstance } from 'class-transformer';
import { validate, validateSync } from 'class-validator';
import { toFieldErrors } from '../../common/validation.pipe.js';
import { fieldErrorsText, type FieldError } from '../../common/errors.js';
import {
  ImageDto,
  type BusinessDetailsDto,
  type PeerBusinessDetailsDto,
} from './business-details.dto.js';
import { CredentialsDto } from './credentials.dto.js';

/** Optional fields of an OCPI Image that peers send as `""` or `null` when they have none. */
const OPTIONAL_IMAGE_FIELDS = ['thumbnail', 'width', 'height'] as const;

/** Whether a peer's optional value says "none": OCPI platforms send `""` and `null` for that. */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * The business details a peer sent, as we keep them: its logo when it is a valid OCPI Image
 * (empty optional fields left out), none otherwise. A production platform without a logo sends
 * `{"url": "", "thumbnail": "", "category": "", "type": ""}`: not a reason to refuse it, but
 * `dropped` says what was left out, for the history.
 */
export function acceptPeerBusinessDetails(details: PeerBusinessDetailsDto): {
  details: BusinessDetailsDto;
  dropped?: string;
} {
  const { logo, ...rest } = details;
  if (isAbsent(logo)) return { details: rest };
  const cleaned =
    typeof logo === 'object' && logo !== null && !Array.isArray(logo)
      ? Object.fromEntries(
          Object.entries(logo).filter(
            ([key, value]) =>
              !(OPTIONAL_IMAGE_FIELDS as readonly string[]).includes(key) || !isAbsent(value),
          ),
        )
      : logo;
  const image = plainToInstance(ImageDto, cleaned);
  const errors =
    typeof cleaned === 'object' && cleaned !== null
      ? toFieldErrors(validateSync(image, { whitelist: true }), 'business_details.logo')
      : [{ field: 'business_details.logo', message: 'must be an OCPI Image object' }];
  if (errors.length === 0) return { details: { ...rest, logo: image } };
  return {
    details: rest,
    dropped: `The peer's logo was left out: it is not a valid OCPI Image (${fieldErrorsText(errors)})`,
  };
}

/**
 * Credentials a peer answered with (our ToIOP POST or PUT), read as leniently as OCPI allows:
 * the required fields (`token`, `url`, `party_id`, `country_code`, `business_details.name`) are
 * checked strictly, fields of other versions are ignored, empty optional fields are absent.
 */
export async function readPeerCredentials(
  data: unknown,
): Promise<{ credentials: CredentialsDto; errors: FieldError[] }> {
  const credentials = plainToInstance(CredentialsDto, isObject(data) ? data : {});
  const errors = isObject(data)
    ? toFieldErrors(await validate(credentials, { whitelist: true }))
    : [{ field: 'data', message: 'must be an OCPI Credentials object' }];
  return { credentials, errors };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

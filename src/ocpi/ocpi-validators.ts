import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { isURL, Matches, ValidateBy } from 'class-validator';

const URL_OPTIONS = {
  protocols: ['http', 'https'],
  require_protocol: true,
  require_tld: false,
  disallow_auth: true,
};

/** OCPI `URL`: an absolute http(s) URL of at most 255 characters. */
export function IsOcpiUrl(): PropertyDecorator {
  return applyDecorators(
    ValidateBy({
      name: 'isOcpiUrl',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length <= 255 && isURL(value, URL_OPTIONS),
        defaultMessage: () =>
          'must be an absolute http(s) URL of at most 255 characters, without user or password',
      },
    }),
    ApiProperty({ type: String, format: 'uri', maxLength: 255 }),
  );
}

/** An OCPI 2.1.1 token as sent in `Token {token}`: string(64), printable ASCII, no spaces. */
export function IsOcpiToken(): PropertyDecorator {
  return applyDecorators(
    Matches(/^[\x21-\x7e]{1,64}$/, {
      message: 'must be 1 to 64 printable ASCII characters without spaces',
    }),
    ApiProperty({ type: String, minLength: 1, maxLength: 64 }),
  );
}

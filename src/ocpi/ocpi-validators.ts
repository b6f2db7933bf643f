import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { isURL, ValidateBy } from 'class-validator';

const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** OCPI `URL`: an absolute http(s) URL of at most 255 characters. */
export function IsOcpiUrl(): PropertyDecorator {
  return applyDecorators(
    ValidateBy({
      name: 'isOcpiUrl',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length <= 255 && isURL(value, URL_OPTIONS),
        defaultMessage: () => 'must be an absolute http(s) URL of at most 255 characters',
      },
    }),
    ApiProperty({ type: String, format: 'uri', maxLength: 255 }),
  );
}

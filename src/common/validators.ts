import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import { IntInRange } from './int-range.js';

// Each rule is one validator with one message, so that a bad field gets one clear sentence
// rather than a list of every constraint it breaks.

/** A non-empty string of at most `max` characters (OCPI `string(n)`). */
export function IsBoundedString(max: number): PropertyDecorator {
  return applyDecorators(
    ValidateBy({
      name: 'isBoundedString',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length > 0 && value.length <= max,
        defaultMessage: () => `must be a non-empty string of at most ${max} characters`,
      },
    }),
    ApiProperty({ type: String, minLength: 1, maxLength: max }),
  );
}

/** A whole number from `min` to `max` (no upper bound when `max` is omitted), documented. */
export function IsIntInRange(min: number, max = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  return applyDecorators(
    IntInRange(min, max),
    ApiProperty({ type: 'integer', minimum: min, maximum: max }),
  );
}

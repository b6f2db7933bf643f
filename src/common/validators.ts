import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

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

/** A whole number from `min` to `max` (no upper bound when `max` is omitted). */
export function IsIntInRange(min: number, max = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return applyDecorators(
    ValidateBy({
      name: 'isIntInRange',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
        defaultMessage: () => `must be a whole number ${range}`,
      },
    }),
    ApiProperty({ type: 'integer', minimum: min, maximum: max }),
  );
}

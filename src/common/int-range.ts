import { ValidateBy } from 'class-validator';

/**
 * The rule of a whole number from `min` to `max` (no upper bound when `max` is omitted), alone:
 * the configuration checks its variables with it before anything else is loaded, without
 * @nestjs/swagger (half a second of module loading that `npm start` would spend before starting
 * the embedded PostgreSQL). DTOs use {@link IsIntInRange} (validators.ts), which documents it too.
 */
export function IntInRange(min: number, max = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return ValidateBy({
    name: 'isIntInRange',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
      defaultMessage: () => `must be a whole number ${range}`,
    },
  });
}

import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { InvalidRequestError, type FieldError } from './errors.js';

/** Flattens class-validator's nested errors into one entry per bad field, named by its path. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    // class-validator's default messages start with the property name, which `field` already says.
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.startsWith(`${error.property} `)
        ? message.slice(error.property.length + 1)
        : message,
    }));
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

/** The one validation pipe of the app: unknown fields are refused, input is converted to DTOs. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new InvalidRequestError(toFieldErrors(errors)),
  });
}

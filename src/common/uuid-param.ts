import { Param, ParseUUIDPipe } from '@nestjs/common';
import { InvalidRequestError } from './errors.js';

/**
 * A path parameter that must be a UUID (the ids the admin API hands out): anything else is a 400
 * naming the parameter, as a bad field of a body is, not Nest's bare "Validation failed".
 */
export function UuidParam(name = 'id'): ParameterDecorator {
  return Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () =>
        new InvalidRequestError([{ field: name, message: 'must be a UUID, as the API gave it' }]),
    }),
  );
}

/**
 * Domain errors thrown by services. They say what went wrong in the service's own terms; the
 * exception filter maps each kind to an HTTP status and to the body shape of the route family.
 */
export type ErrorKind = 'INVALID' | 'UNAUTHORIZED' | 'NOT_FOUND' | 'CONFLICT';

export interface FieldError {
  /** Path of the bad field in the request, e.g. `business_details.logo.url` or `endpoints[1].url`. */
  field: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly kind: ErrorKind;
}

export class InvalidRequestError extends DomainError {
  readonly kind = 'INVALID';
  constructor(readonly fields: FieldError[]) {
    super(fields.map((f) => `${f.field}: ${f.message}`).join('; '));
  }
}

export class UnauthorizedError extends DomainError {
  readonly kind = 'UNAUTHORIZED';
}

export class NotFoundError extends DomainError {
  readonly kind = 'NOT_FOUND';
}

export class ConflictError extends DomainError {
  readonly kind = 'CONFLICT';
}

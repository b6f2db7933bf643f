/**
 * Domain errors thrown by services. They say what went wrong in the service's own terms; the
 * exception filter maps each kind to an HTTP status and to the body shape of the route family
 * (the admin error body, or the OCPI envelope on /ocpi routes).
 */
export type ErrorKind =
  | 'INVALID'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'NOT_ALLOWED'
  | 'CONFLICT'
  | 'TOO_MANY_REQUESTS'
  | 'PEER_FAILED';

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

/** A request the state of the connection does not allow (OCPI answers 405). */
export class NotAllowedError extends DomainError {
  readonly kind = 'NOT_ALLOWED';
}

export class ConflictError extends DomainError {
  readonly kind = 'CONFLICT';
}

/** Which call of a handshake a peer failure happened in. */
export type HandshakeStep = 'versions' | 'version_details' | 'credentials';

/**
 * The peer failed during a handshake: unreachable, slow, a wrong answer (OCPI 3001), no mutual
 * version (3002) or no credentials endpoint (3003). Its message never carries a token.
 */
export class PeerError extends DomainError {
  readonly kind = 'PEER_FAILED';
  constructor(
    readonly step: HandshakeStep,
    readonly ocpiStatusCode: 3001 | 3002 | 3003,
    message: string,
    /** The status_code the peer sent, when it sent an envelope. */
    readonly peerStatusCode?: number,
  ) {
    super(message);
  }
}

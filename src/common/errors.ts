/**
 * Domain errors thrown by services. Each type says what went wrong in the service's own terms and
 * carries its HTTP status; the exception filter shapes the body for the route family (the admin
 * error body, or the OCPI envelope on /ocpi routes).
 */
export interface FieldError {
  /** Path of the bad field in the request, e.g. `business_details.logo.url` or `endpoints[1].url`. */
  field: string;
  message: string;
}

/** Field errors in one line: `url: is missing; party_id: must be 3 letters or digits`. */
export function fieldErrorsText(errors: FieldError[]): string {
  return errors.map((f) => `${f.field}: ${f.message}`).join('; ');
}

/** What to say of something thrown, in a log line or an answer: its message, whatever it is. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export abstract class DomainError extends Error {
  abstract readonly status: number;

  /**
   * A refusal: the request was turned down on its input, its token or the state of things, and
   * nothing was attempted (a handshake that refuses is not recorded in the history). Every 4xx is
   * one; a failure (the peer's, 5xx) is not.
   */
  get refusal(): boolean {
    return this.status < 500;
  }
}

export class InvalidRequestError extends DomainError {
  readonly status = 400;
  constructor(readonly fields: FieldError[]) {
    super(fieldErrorsText(fields));
  }
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
}

export class NotFoundError extends DomainError {
  readonly status = 404;
}

/** A request the state of the connection does not allow (OCPI answers 405). */
export class NotAllowedError extends DomainError {
  readonly status = 405;
}

export class ConflictError extends DomainError {
  readonly status = 409;
}

/** A request body over the limit of where it goes. */
export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
}

/**
 * A system the edge forwards to failed: unreachable or broken (502), or gave no answer in time
 * (504). `step` names the direction (the relay's 502 body says `step: "relay"`). The message
 * names no internal address.
 */
export class ForwardingError extends DomainError {
  constructor(
    readonly status: 502 | 504,
    readonly step: 'gateway' | 'relay',
    message: string,
  ) {
    super(message);
  }
}

export class TooManyFailuresError extends DomainError {
  readonly status = 429;
  constructor(readonly retryAfterS: number) {
    super(`Too many failed authentications from this address; retry in ${retryAfterS} s`);
  }
}

/** Which call of a handshake a peer failure happened in. */
export type HandshakeStep = 'versions' | 'version_details' | 'credentials';

/**
 * The peer failed during a handshake: unreachable, slow, a wrong answer (OCPI 3001), no mutual
 * version (3002) or no credentials endpoint (3003). Its message never carries a token.
 */
export class PeerError extends DomainError {
  readonly status = 502;
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

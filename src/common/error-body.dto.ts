import type { FieldError, HandshakeStep } from './errors.js';

export class FieldErrorDto implements FieldError {
  /** Path of the bad field, e.g. `business_details.logo.url` or `endpoints[1].identifier`. */
  field!: string;
  /** What is wrong with it. */
  message!: string;
}

/** The body of every admin API error (and of /metrics and /health). */
export class ErrorBodyDto {
  /** The HTTP status, repeated for clients that only keep the body. */
  status!: number;
  /** What went wrong, for a human. */
  error!: string;
  /** On 400: one entry per bad field. */
  fields?: FieldErrorDto[];
  /**
   * On 502: the handshake step the peer failed in (`versions`, `version_details`, `credentials`),
   * or `relay` when the peer failed a relayed call.
   */
  step?: string;
  /** On 502: the OCPI status_code the peer answered with, when it sent one. */
  status_code?: number;
}

/** The body of a 502: the peer failed during a handshake we started. */
export class PeerErrorBodyDto {
  /** 502. */
  status!: number;
  /** The handshake step the peer failed in. */
  step!: HandshakeStep;
  /** What the peer did wrong (unreachable, timeout, its HTTP status, not OCPI…); never a token. */
  error!: string;
  /** The OCPI status_code the peer answered with, when it sent an envelope. */
  status_code?: number;
}

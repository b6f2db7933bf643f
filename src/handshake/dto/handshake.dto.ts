import type { Initiator } from '../../operations/connection.entity.js';
import type { HandshakeAction, HandshakeOutcome } from '../handshake.entity.js';

/** One call to the peer. */
export class HandshakeStepDto {
  /** @example GET https://iop.example/ocpi/emsp/versions */
  request!: string;
  http_status!: number | null;
  ocpi_status_code!: number | null;
  duration_ms!: number;
  /** Why this call failed, when it did. */
  error?: string;
}

/** One handshake, successful or not. Never carries a token. */
export class HandshakeDto {
  id!: string;
  action!: HandshakeAction;
  initiated_by!: Initiator;
  outcome!: HandshakeOutcome;
  error!: string | null;
  steps!: HandshakeStepDto[];
  started_at!: Date;
  finished_at!: Date;
}

export class HandshakePageDto {
  /** Newest first. */
  items!: HandshakeDto[];
  total!: number;
  offset!: number;
  limit!: number;
}

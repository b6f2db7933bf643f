import type { Initiator } from './connection.entity.js';
import type { HandshakeAction, HandshakeStepRecord } from './handshake.entity.js';

/** Collects the calls of one handshake as they happen, for its history entry. */
export class HandshakeRecorder {
  readonly startedAt = new Date();
  readonly steps: HandshakeStepRecord[] = [];

  constructor(
    readonly action: HandshakeAction,
    readonly initiatedBy: Initiator,
  ) {}

  add(step: HandshakeStepRecord): void {
    this.steps.push(step);
  }
}

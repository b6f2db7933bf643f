import type { Initiator } from '../operations/connection.entity.js';
import type { HandshakeAction, HandshakeStepRecord } from './handshake.entity.js';

/** Collects the calls of one handshake as they happen, for its history entry. */
export class HandshakeRecorder {
  readonly startedAt = new Date();
  readonly steps: HandshakeStepRecord[] = [];
  /** Said in the history even when the handshake succeeded, e.g. that the peer was not told. */
  note: string | null = null;

  constructor(
    readonly action: HandshakeAction,
    readonly initiatedBy: Initiator,
  ) {}

  add(step: HandshakeStepRecord): void {
    this.steps.push(step);
  }

  /** Adds a sentence to the note. */
  notice(sentence: string): void {
    this.note = this.note ? `${this.note} ${sentence}` : sentence;
  }
}

import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { TooManyFailuresError } from '../common/errors.js';

/** Addresses tracked at most; past this the oldest windows are dropped. */
const MAX_TRACKED = 100_000;

/**
 * Slows down token guessing: a client address that fails authentication AUTH_FAILURE_LIMIT times
 * within AUTH_FAILURE_WINDOW_S on one target (the admin API, or one operation's OCPI routes) gets
 * 429 there without its token being looked at, until the window ends. Per target, so that a hub
 * holding a stale token for one operation still reaches the others from the same address. Valid
 * calls never count. Per process: with N replicas an address gets N times the limit, which still
 * makes guessing a 256-bit token hopeless.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(config: ConfigService<AppConfig, true>) {
    this.limit = config.get('authFailureLimit', { infer: true });
    this.windowMs = config.get('authFailureWindowS', { infer: true }) * 1000;
  }

  /** Throws while the address is over its limit on the target. */
  assertAllowed(address: string | undefined, target: string): void {
    const entry = this.current(`${address ?? 'unknown'} ${target}`);
    if (entry && entry.count >= this.limit) {
      throw new TooManyFailuresError(Math.ceil((entry.since + this.windowMs - Date.now()) / 1000));
    }
  }

  recordFailure(address: string | undefined, target: string): void {
    const key = `${address ?? 'unknown'} ${target}`;
    const entry = this.current(key);
    if (entry) {
      entry.count += 1;
      return;
    }
    if (this.failures.size >= MAX_TRACKED) {
      // Maps iterate in insertion order: the first key is the oldest window.
      this.failures.delete(this.failures.keys().next().value!);
    }
    this.failures.set(key, { count: 1, since: Date.now() });
  }

  private current(key: string) {
    const entry = this.failures.get(key);
    if (entry && Date.now() - entry.since >= this.windowMs) {
      this.failures.delete(key);
      return undefined;
    }
    return entry;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { TooManyFailuresError, UnauthorizedError, messageOf } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';

/**
 * Slows down token guessing without ever refusing a valid token: the caller's token is checked
 * first, and only a failure counts. A client address that fails AUTH_FAILURE_LIMIT times within
 * AUTH_FAILURE_WINDOW_S on one target (the admin API, one operation's OCPI routes, or the OCPI
 * routes of operations that do not exist) gets 429 instead of 401 for its next failures there,
 * until the window ends. Per target, so that a hub holding a stale token for one operation
 * reaches the others. The counts live in PostgreSQL, so that every replica shares one budget.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly logger = new Logger('AuthFailures');
  private readonly limit: number;
  private readonly windowS: number;

  constructor(
    private readonly dataSource: DataSource,
    config: ConfigService<AppConfig, true>,
  ) {
    this.limit = config.get('authFailureLimit', { infer: true });
    this.windowS = config.get('authFailureWindowS', { infer: true });
  }

  /**
   * Counts a failed authentication of `address` on `target` and throws what to answer: the
   * `refusal` (401, 404…) while within the limit, 429 with the seconds left once over it.
   */
  async fail(address: string | undefined, target: string, refusal: Error): Promise<never> {
    const counted = await this.count(`${address ?? 'unknown'} ${target}`).catch(
      (error: unknown) => {
        // Without its database the service answers 503 to most requests anyway; a guard must
        // still say 401 rather than fail on the bookkeeping.
        this.logger.warn(`Failed authentication not counted: ${messageOf(error)}`);
        return undefined;
      },
    );
    if (counted && counted.failures > this.limit)
      throw new TooManyFailuresError(counted.retryAfterS);
    throw refusal;
  }

  /**
   * For failures that cost something to make (a FromIOP handshake calls the peer and writes its
   * history): throws 429 while `key` is over the limit, so the attempt is not even made.
   */
  async assertBelowLimit(key: string): Promise<void> {
    const [row] = await this.dataSource.query<{ failures: number; retry_after_s: number }[]>(
      `SELECT failures,
         ceil(extract(epoch FROM window_started + make_interval(secs => $2) - now()))::int
           AS retry_after_s
       FROM auth_failures WHERE key = $1 AND window_started > now() - make_interval(secs => $2)`,
      [key, this.windowS],
    );
    if (row && row.failures >= this.limit) {
      throw new TooManyFailuresError(Math.max(1, row.retry_after_s));
    }
  }

  /** Counts a failure of `key` that was not a refused token (see assertBelowLimit). */
  async countFailure(key: string): Promise<void> {
    await this.count(key);
  }

  /** Shorthand for the usual refusal. */
  unauthorized(address: string | undefined, target: string, message: string): Promise<never> {
    return this.fail(address, target, new UnauthorizedError(message));
  }

  private async count(key: string): Promise<{ failures: number; retryAfterS: number }> {
    const [row] = await this.dataSource.query<{ failures: number; retry_after_s: number }[]>(
      `INSERT INTO auth_failures AS f (key, failures, window_started) VALUES ($1, 1, now())
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN f.window_started <= now() - make_interval(secs => $2)
                         THEN 1 ELSE f.failures + 1 END,
         window_started = CASE WHEN f.window_started <= now() - make_interval(secs => $2)
                               THEN now() ELSE f.window_started END
       RETURNING failures,
         ceil(extract(epoch FROM f.window_started + make_interval(secs => $2) - now()))::int
           AS retry_after_s`,
      [key, this.windowS],
    );
    return { failures: row.failures, retryAfterS: Math.max(1, row.retry_after_s) };
  }

  /** Forgets windows that have ended; the retention job calls it. */
  async purge(): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM auth_failures WHERE window_started <= now() - make_interval(secs => $1)`,
      [this.windowS],
    );
    return affected;
  }
}

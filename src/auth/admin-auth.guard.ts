import {
  applyDecorators,
  Injectable,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { Request } from 'express';
import type { AppConfig } from '../config/app-config.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { secretsEqual } from '../common/crypto/tokens.js';
import {
  ApiErrors,
  REQUEST_ERRORS,
  SERVER_ERRORS,
  TOO_MANY_FAILURES,
} from '../common/api-errors.js';

export const ADMIN_AUTH_SCHEME = 'admin';

/**
 * Lets a request through when it carries `Authorization: Bearer {token}` with one of the tokens
 * the subclass accepts; failures count against the caller's address on the subclass's target.
 */
export abstract class BearerTokenGuard implements CanActivate {
  constructor(
    private readonly limiter: AuthFailureLimiter,
    private readonly target: string,
    private readonly accepted: readonly string[],
    /** Which token the 401 asks for. */
    private readonly expected: string,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    await this.check(request.headers.authorization, () => request.ip);
    return true;
  }

  /**
   * Refuses (401, counted against `clientAddress`, asked for on failures only) an `Authorization`
   * header that is not `Bearer {token}` with an accepted token. Also for the edge's front, which
   * serves the relay ahead of Nest.
   */
  async check(
    authorization: string | undefined,
    clientAddress: () => string | undefined,
  ): Promise<void> {
    // The scheme is case-insensitive (RFC 7235).
    const presented = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    // Every accepted token is compared, so that the time taken does not tell which one was close.
    const matches = this.accepted.filter(
      (token) => presented !== undefined && secretsEqual(presented, token),
    );
    if (matches.length === 0) {
      await this.limiter.unauthorized(
        clientAddress(),
        this.target,
        `${this.expected} is required: Authorization: Bearer {token}`,
      );
    }
  }
}

/** The admin API's guard: `Authorization: Bearer {ADMIN_TOKEN}`. */
@Injectable()
export class AdminAuthGuard extends BearerTokenGuard {
  constructor(config: ConfigService<AppConfig, true>, limiter: AuthFailureLimiter) {
    super(limiter, 'admin', [config.get('adminToken', { infer: true })], 'A valid admin token');
  }
}

/**
 * Marks a controller as part of the admin API: guarded and documented as such, with the errors
 * every admin route may answer (the admin error body); a route adds its own (404, 409, 502).
 */
export function AdminApi(): ClassDecorator {
  return applyDecorators(
    UseGuards(AdminAuthGuard),
    ApiBearerAuth(ADMIN_AUTH_SCHEME),
    ApiErrors({
      ...REQUEST_ERRORS,
      401: 'Missing or wrong admin token',
      429: TOO_MANY_FAILURES,
      ...SERVER_ERRORS,
    }),
  );
}

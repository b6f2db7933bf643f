import {
  applyDecorators,
  Injectable,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ApiBearerAuth,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { AppConfig } from '../config/app-config.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { secretsEqual } from './crypto/tokens.js';
import { ErrorBodyDto } from './error-body.dto.js';
import { UnauthorizedError } from './errors.js';

export const ADMIN_AUTH_SCHEME = 'admin';

/** Lets a request through when it carries `Authorization: Bearer {ADMIN_TOKEN}`. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly adminToken: string;

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly limiter: AuthFailureLimiter,
  ) {
    this.adminToken = config.get('adminToken', { infer: true });
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    this.limiter.assertAllowed(request.ip, 'admin');
    const presented = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (presented === undefined || !secretsEqual(presented, this.adminToken)) {
      this.limiter.recordFailure(request.ip, 'admin');
      throw new UnauthorizedError('A valid admin token is required: Authorization: Bearer {token}');
    }
    return true;
  }
}

/** Marks a controller as part of the admin API: guarded and documented as such. */
export function AdminApi(): ClassDecorator {
  return applyDecorators(
    UseGuards(AdminAuthGuard),
    ApiBearerAuth(ADMIN_AUTH_SCHEME),
    ApiUnauthorizedResponse({ description: 'Missing or wrong admin token', type: ErrorBodyDto }),
    ApiTooManyRequestsResponse({
      description: 'Too many failed authentications from this address',
      type: ErrorBodyDto,
    }),
  );
}

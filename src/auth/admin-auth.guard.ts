import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import {
  ApiErrors,
  REQUEST_ERRORS,
  SERVER_ERRORS,
  TOO_MANY_FAILURES,
} from '../common/api-errors.js';
import { AccessGuard } from './access.guard.js';

/** The bearer scheme of the admin API and /metrics: ADMIN_TOKEN, METRICS_TOKEN or an API key. */
export const ADMIN_AUTH_SCHEME = 'admin';

/**
 * Marks a controller as part of the admin API: guarded and documented as such, with the errors
 * every admin route may answer (the admin error body); a route adds its own (403 with its access
 * decorator, 404, 409, 502). Each handler carries one access decorator (access.decorators.ts).
 */
export function AdminApi(): ClassDecorator {
  return applyDecorators(
    UseGuards(AccessGuard),
    ApiBearerAuth(ADMIN_AUTH_SCHEME),
    ApiErrors({
      ...REQUEST_ERRORS,
      401: 'Missing or wrong token: the admin token or an API key',
      429: TOO_MANY_FAILURES,
      ...SERVER_ERRORS,
    }),
  );
}

import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { BearerTokenGuard } from './admin-auth.guard.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import type { AppConfig } from '../config/app-config.js';

/**
 * GET /metrics opens with METRICS_TOKEN (when set) or the admin token. Its failures count against
 * the admin API's budget: it accepts the admin token, so it must not double the guesses at it.
 */
@Injectable()
export class MetricsAuthGuard extends BearerTokenGuard {
  constructor(config: ConfigService<AppConfig, true>, limiter: AuthFailureLimiter) {
    const metricsToken = config.get('metricsToken', { infer: true });
    super(
      limiter,
      'admin',
      [config.get('adminToken', { infer: true }), ...(metricsToken ? [metricsToken] : [])],
      'The metrics token or the admin token',
    );
  }
}

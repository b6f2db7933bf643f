import { Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { MetricsAuthGuard } from './metrics-auth.guard.js';

/**
 * The bearer tokens of the admin API and of /metrics, and the one failed-authentication limiter
 * that they and the OCPI token guard share (a module is a singleton: every importer gets the same
 * limiter).
 */
@Module({
  providers: [AuthFailureLimiter, AdminAuthGuard, MetricsAuthGuard],
  exports: [AuthFailureLimiter, AdminAuthGuard, MetricsAuthGuard],
})
export class AuthModule {}

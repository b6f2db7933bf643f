import { Module } from '@nestjs/common';
import { AuthFailureLimiter } from './auth-failure-limiter.js';

/**
 * The one failed-authentication limiter that the access guard (admin API, relay, metrics) and the
 * OCPI token guard share (a module is a singleton: every importer gets the same limiter).
 */
@Module({
  providers: [AuthFailureLimiter],
  exports: [AuthFailureLimiter],
})
export class AuthModule {}

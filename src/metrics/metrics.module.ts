import { Global, Module } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware.js';
import { MetricsAuthGuard } from './metrics-auth.guard.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/**
 * GET /metrics, and the instruments other modules report to. The request timing middleware is
 * mounted by configureApp, ahead of the body parser.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, MetricsAuthGuard, HttpMetricsMiddleware],
  exports: [MetricsService, HttpMetricsMiddleware],
})
export class MetricsModule {}

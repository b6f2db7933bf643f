import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service.js';

/**
 * Times every request and counts it under its route template (`/ocpi/:countryCode/...`), never
 * its concrete path: one series per route, however many operations or probing URLs there are.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    // 'close' comes after an answer is sent, and also when the caller hangs up before it is.
    response.once('close', () => {
      const route = (request.route as { path?: unknown } | undefined)?.path;
      this.metrics.observeRequest(
        request.method,
        // No route of ours has a wildcard: one is Nest's catch-all that answers 404.
        typeof route === 'string' && !route.includes('*') ? route : 'unmatched',
        response.statusCode,
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  }
}

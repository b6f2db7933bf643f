import type { ServerResponse } from 'node:http';
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
    this.time(request.method, response, () => {
      const route = (request.route as { path?: unknown } | undefined)?.path;
      // No Nest route of ours has a wildcard (the edge's are served ahead of Nest): one is Nest's
      // catch-all that answers 404.
      return typeof route === 'string' && !route.includes('*') ? route : 'unmatched';
    });
    next();
  }

  /**
   * Counts the answer under the route `routeOf` names once it is over (also the edge's front,
   * which serves its routes ahead of Express).
   */
  time(method: string, response: ServerResponse, routeOf: () => string): void {
    const started = process.hrtime.bigint();
    // 'close' comes after an answer is sent, and also when the caller hangs up before it is.
    response.once('close', () => {
      this.metrics.observeRequest(
        method,
        routeOf(),
        response.statusCode,
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
  }
}

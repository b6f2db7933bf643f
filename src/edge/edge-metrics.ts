import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import { ADVERTISABLE_MODULES } from '../operations/advertised-endpoints.js';

export type EdgeDirection = 'gateway' | 'relay';

/**
 * What became of a forwarded request: `ok` the far side answered (whatever its status),
 * `broken` its answer broke off midway, `upstream_error` it could not be reached, `timeout` no
 * answer in time, `too_large` the body was over the limit.
 */
export type EdgeOutcome = 'ok' | 'broken' | 'upstream_error' | 'timeout' | 'too_large';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * `ocpi_edge_requests_total` and `ocpi_edge_request_duration_seconds`, by direction (gateway or
 * relay), module, method, status class and outcome. Never the operation: one series per module,
 * however many operations there are; custom modules (whose ids carry an operation's or a peer's
 * prefix) count as `custom`.
 */
@Injectable()
export class EdgeMetrics {
  private readonly requests: Counter<
    'direction' | 'module' | 'method' | 'status_class' | 'outcome'
  >;
  private readonly duration: Histogram<'direction' | 'module' | 'outcome'>;

  constructor(metrics: MetricsService) {
    this.requests = new Counter({
      name: 'ocpi_edge_requests_total',
      help: 'Requests forwarded by the module gateway (peer to upstream) and the relay (CPO system to peer)',
      labelNames: ['direction', 'module', 'method', 'status_class', 'outcome'] as const,
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'ocpi_edge_request_duration_seconds',
      help: 'Time from the request to the end of the forwarded answer',
      labelNames: ['direction', 'module', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [metrics.registry],
    });
  }

  /** Starts timing one request; the function returned counts it once it is over. */
  start(
    direction: EdgeDirection,
    module: string,
    method: string,
  ): (status: number, outcome: EdgeOutcome) => void {
    const started = process.hrtime.bigint();
    return (status, outcome) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.requests.inc({
        direction,
        module: moduleLabel(module),
        method: METHODS.has(method) ? method : 'OTHER',
        status_class: `${Math.floor(status / 100)}xx`,
        outcome,
      });
      this.duration.observe({ direction, module: moduleLabel(module), outcome }, seconds);
    };
  }
}

/** `url` is the relay's form for URLs the peer handed out. */
function moduleLabel(identifier: string): string {
  return ADVERTISABLE_MODULES.includes(identifier) || identifier === 'url' ? identifier : 'custom';
}

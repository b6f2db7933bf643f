import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Counter, Gauge, Histogram } from 'prom-client';
import { Repository } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service.js';
import { withinScrapeWait } from '../metrics/scrape-wait.js';
import { Connection, HEALTH_STATUSES, type HealthStatus } from '../operations/connection.entity.js';

/**
 * The prober's figures: `ocpi_connection_health{health}` (registered connections by health,
 * counted in the database at scrape time, the same on every replica, no label per operation),
 * `ocpi_health_probe_duration_seconds` and `ocpi_health_probes_total{outcome}` (this replica's
 * probes, scheduled or asked for).
 */
@Injectable()
export class ProbeMetrics {
  private readonly duration: Histogram<'outcome'>;
  private readonly probes: Counter<'outcome'>;

  constructor(
    @InjectRepository(Connection) private readonly connections: Repository<Connection>,
    metrics: MetricsService,
  ) {
    this.duration = new Histogram({
      name: 'ocpi_health_probe_duration_seconds',
      help: "Time a probe of a connection took (the call to the peer's versions), by outcome",
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [metrics.registry],
    });
    this.probes = new Counter({
      name: 'ocpi_health_probes_total',
      help: 'Probes of connections this replica ran, by outcome (UP, DOWN, REJECTED)',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
    const count = () => this.countByHealth();
    new Gauge({
      name: 'ocpi_connection_health',
      help: 'Registered connections by the health their last probe found',
      labelNames: ['health'] as const,
      registers: [metrics.registry],
      async collect() {
        this.reset();
        const counts = await withinScrapeWait(count());
        for (const health of counts ? HEALTH_STATUSES : []) {
          this.set({ health }, counts?.[health] ?? 0);
        }
      },
    });
  }

  observe(outcome: HealthStatus, seconds: number): void {
    this.probes.inc({ outcome });
    this.duration.observe({ outcome }, seconds);
  }

  /** One GROUP BY over the (status, health_status) index. */
  private async countByHealth(): Promise<Partial<Record<HealthStatus, number>>> {
    const rows = await this.connections
      .createQueryBuilder('c')
      .select('c.health_status', 'health')
      .addSelect('count(*)::int', 'count')
      .where(`c.status = 'REGISTERED'`)
      .groupBy('c.health_status')
      .getRawMany<{ health: HealthStatus; count: number }>();
    return Object.fromEntries(rows.map((row) => [row.health, row.count]));
  }
}

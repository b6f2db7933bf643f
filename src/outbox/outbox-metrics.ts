import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service.js';
import { withinScrapeWait } from '../metrics/scrape-wait.js';
import { DELIVERY_STATUSES, type DeliveryKind, type DeliveryStatus } from './delivery.entity.js';

/** What became of an attempt, as counted. */
export type AttemptOutcome = 'delivered' | 'retried' | 'dead' | 'held';

/**
 * The outbox in figures, with no operation label (a deployment may have 100,000): deliveries and
 * the age of the oldest by status, counted in the database when scraped (every replica alike);
 * this replica's attempts and their outcomes by kind, and what it has in flight.
 */
@Injectable()
export class OutboxMetrics {
  private readonly attempts: Counter<'kind'>;
  private readonly outcomes: Counter<'kind' | 'outcome'>;

  constructor(dataSource: DataSource, metrics: MetricsService) {
    const registers = [metrics.registry];
    let counting: Promise<Map<DeliveryStatus, { count: number; oldest: number }> | undefined>;
    let countedAt = 0;
    // One query per scrape for both gauges.
    const counts = () => {
      if (Date.now() - countedAt > 500) {
        countedAt = Date.now();
        counting = withinScrapeWait(countByStatus(dataSource));
      }
      return counting;
    };
    new Gauge({
      name: 'ocpi_outbox_deliveries',
      help: 'Outbox deliveries by status (PENDING includes those held while unregistered)',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        this.reset();
        const found = await counts();
        for (const status of found ? DELIVERY_STATUSES : []) {
          this.set({ status }, found?.get(status)?.count ?? 0);
        }
      },
    });
    new Gauge({
      name: 'ocpi_outbox_oldest_age_seconds',
      help: 'Age of the oldest outbox delivery by status (0 when there is none)',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        this.reset();
        const found = await counts();
        for (const status of found ? DELIVERY_STATUSES : []) {
          this.set({ status }, found?.get(status)?.oldest ?? 0);
        }
      },
    });
    this.attempts = new Counter({
      name: 'ocpi_outbox_attempts_total',
      help: 'Delivery attempts this replica started, by kind (relay, webhook)',
      labelNames: ['kind'] as const,
      registers,
    });
    this.outcomes = new Counter({
      name: 'ocpi_outbox_outcomes_total',
      help: 'What became of the attempts of this replica: delivered, retried, dead, held (not sent: unregistered)',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    });
  }

  attempted(kind: DeliveryKind): void {
    this.attempts.inc({ kind });
  }

  settled(kind: DeliveryKind, outcome: AttemptOutcome): void {
    this.outcomes.inc({ kind, outcome });
  }
}

async function countByStatus(
  dataSource: DataSource,
): Promise<Map<DeliveryStatus, { count: number; oldest: number }>> {
  const rows = await dataSource.query<{ status: DeliveryStatus; count: number; oldest: number }[]>(
    `SELECT status, count(*)::int AS count,
            extract(epoch FROM now() - min(created_at))::float8 AS oldest
     FROM deliveries GROUP BY status`,
  );
  return new Map(rows.map((r) => [r.status, { count: r.count, oldest: r.oldest }]));
}

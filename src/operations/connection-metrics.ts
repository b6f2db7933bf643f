import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { Repository } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service.js';
import { CONNECTION_STATUSES, Connection, type ConnectionStatus } from './connection.entity.js';

/** How long a scrape waits for the count; Prometheus gives a scrape 10 s by default. */
const SCRAPE_WAIT_MS = 2_000;

const timeout = (ms: number) =>
  new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref());

/** `ocpi_operations{connection_status}`: counted in the database when scraped, every replica alike. */
@Injectable()
export class ConnectionMetrics {
  constructor(
    @InjectRepository(Connection) private readonly connections: Repository<Connection>,
    metrics: MetricsService,
  ) {
    const count = () => this.countByStatus();
    new Gauge({
      name: 'ocpi_operations',
      help: 'Operations by the status of their connection with the peer',
      labelNames: ['connection_status'] as const,
      registers: [metrics.registry],
      async collect() {
        this.reset();
        // With the database away or slow the scrape still answers, in time, with the pool
        // figures that explain it.
        const counts = await Promise.race([count(), timeout(SCRAPE_WAIT_MS)]).catch(
          () => undefined,
        );
        for (const status of counts ? CONNECTION_STATUSES : []) {
          this.set({ connection_status: status }, counts?.[status] ?? 0);
        }
      },
    });
  }

  private async countByStatus(): Promise<Partial<Record<ConnectionStatus, number>>> {
    const rows = await this.connections
      .createQueryBuilder('c')
      .select('c.status', 'status')
      .addSelect('count(*)::int', 'count')
      .groupBy('c.status')
      .getRawMany<{ status: ConnectionStatus; count: number }>();
    return Object.fromEntries(rows.map((row) => [row.status, row.count]));
  }
}

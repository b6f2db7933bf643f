import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { Repository } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service.js';
import { withinScrapeWait } from '../metrics/scrape-wait.js';
import { CONNECTION_STATUSES, Connection, type ConnectionStatus } from './connection.entity.js';

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
        // With the database away or slow, the scrape still has the pool figures that explain it.
        const counts = await withinScrapeWait(count());
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

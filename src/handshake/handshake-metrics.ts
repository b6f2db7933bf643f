import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import type { Initiator } from '../operations/connection.entity.js';
import type { HandshakeAction, HandshakeOutcome } from './handshake.entity.js';

/** `ocpi_handshakes_total{action,initiated_by,outcome}`: one count per history entry. */
@Injectable()
export class HandshakeMetrics {
  private readonly handshakes: Counter<'action' | 'initiated_by' | 'outcome'>;

  constructor(metrics: MetricsService) {
    this.handshakes = new Counter({
      name: 'ocpi_handshakes_total',
      help: 'Handshakes recorded in the history, by action, initiator and outcome',
      labelNames: ['action', 'initiated_by', 'outcome'] as const,
      registers: [metrics.registry],
    });
  }

  count(action: HandshakeAction, initiatedBy: Initiator, outcome: HandshakeOutcome): void {
    this.handshakes.inc({ action, initiated_by: initiatedBy, outcome });
  }
}

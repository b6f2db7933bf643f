import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { HandshakeModule } from '../handshake/handshake.module.js';
import { Connection } from '../operations/connection.entity.js';
import { OperationsModule } from '../operations/operations.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { ConnectionHealthService } from './connection-health.service.js';
import { ConnectionProbeController } from './connection-probe.controller.js';
import { HealthProber } from './health-prober.js';
import { ProbeMetrics } from './probe-metrics.js';

/**
 * Connection health (DESIGN 10): whether each registered connection's peer still talks with us,
 * probed in every replica, and probed at once on request. Not the service's own liveness
 * (health/, /health).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Connection]),
    OperationsModule,
    HandshakeModule,
    AuthModule,
    WebhooksModule,
  ],
  controllers: [ConnectionProbeController],
  providers: [ConnectionHealthService, HealthProber, ProbeMetrics],
})
export class HealthProbeModule {}

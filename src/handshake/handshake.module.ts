import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { ConnectionLifecycle } from './connection-lifecycle.js';
import { HandshakeHistoryService } from './handshake-history.service.js';
import { HandshakeMetrics } from './handshake-metrics.js';
import { HandshakeRunner } from './handshake-runner.js';
import { Handshake } from './handshake.entity.js';
import { HandshakesController } from './handshakes.controller.js';
import { PeerClient } from './peer-client.js';
import { PeerDiscovery } from './peer-discovery.js';
import { PeerRegistrationController } from './peer-registration.controller.js';
import { PeerRegistrationService } from './peer-registration.service.js';

/**
 * The credentials handshake in both directions: the outbound client and version discovery, the
 * runner (one handshake per operation across replicas, a history entry per attempt), the
 * connection's transitions, and the ToIOP flows. FromIOP's endpoint (credentials/) runs on it.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Handshake]),
    OperationsModule,
    TokensModule,
    AuthModule,
    WebhooksModule,
  ],
  controllers: [HandshakesController, PeerRegistrationController],
  providers: [
    PeerClient,
    PeerDiscovery,
    HandshakeMetrics,
    HandshakeHistoryService,
    HandshakeRunner,
    ConnectionLifecycle,
    PeerRegistrationService,
  ],
  exports: [
    PeerClient,
    PeerDiscovery,
    HandshakeRunner,
    ConnectionLifecycle,
    HandshakeHistoryService,
  ],
})
export class HandshakeModule {}

import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretBox } from '../common/crypto/secret-box.js';
import { TokensModule } from '../credentials/tokens.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { ConnectionController } from './connection.controller.js';
import { ConnectionMetrics } from './connection-metrics.js';
import { Connection } from './connection.entity.js';
import { ConnectionsService } from './connections.service.js';
import { HandshakeHistoryService } from './handshake-history.service.js';
import { HandshakeRunner } from './handshake-runner.js';
import { Handshake } from './handshake.entity.js';
import { PeerClient } from './peer-client.js';
import { PeerDiscovery } from './peer-discovery.js';
import { PeerRegistrationController } from './peer-registration.controller.js';
import { PeerRegistrationService } from './peer-registration.service.js';

/** Handshakes: the outbound client, the ToIOP flows, the connection record and the history. */
@Module({
  imports: [TypeOrmModule.forFeature([Connection, Handshake]), OperationsModule, TokensModule],
  controllers: [ConnectionController, PeerRegistrationController],
  providers: [
    SecretBox,
    ConnectionMetrics,
    PeerClient,
    PeerDiscovery,
    ConnectionsService,
    HandshakeHistoryService,
    HandshakeRunner,
    PeerRegistrationService,
  ],
  exports: [PeerClient, PeerDiscovery, ConnectionsService, HandshakeRunner],
})
export class HandshakeModule {}

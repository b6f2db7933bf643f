import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretBox } from '../common/crypto/secret-box.js';
import { OperationsModule } from '../operations/operations.module.js';
import { ConnectionController } from './connection.controller.js';
import { Connection } from './connection.entity.js';
import { ConnectionsService } from './connections.service.js';
import { HandshakeHistoryService } from './handshake-history.service.js';
import { HandshakeRunner } from './handshake-runner.js';
import { Handshake } from './handshake.entity.js';
import { PeerClient } from './peer-client.js';
import { PeerDiscovery } from './peer-discovery.js';

/** The outbound side of handshakes, the connection record and the history. */
@Module({
  imports: [TypeOrmModule.forFeature([Connection, Handshake]), OperationsModule],
  controllers: [ConnectionController],
  providers: [
    SecretBox,
    PeerClient,
    PeerDiscovery,
    ConnectionsService,
    HandshakeHistoryService,
    HandshakeRunner,
  ],
  exports: [
    PeerClient,
    PeerDiscovery,
    ConnectionsService,
    HandshakeHistoryService,
    HandshakeRunner,
  ],
})
export class HandshakeModule {}

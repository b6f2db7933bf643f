import { Module } from '@nestjs/common';
import { HandshakeModule } from '../handshake/handshake.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { CredentialsController } from './credentials.controller.js';
import { CredentialsService } from './credentials.service.js';

/** The OCPI credentials endpoint of every operation: the handshakes the peer starts (FromIOP). */
@Module({
  imports: [TokensModule, HandshakeModule, OperationsModule],
  controllers: [CredentialsController],
  providers: [CredentialsService],
})
export class CredentialsModule {}

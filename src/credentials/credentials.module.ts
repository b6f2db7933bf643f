import { Module } from '@nestjs/common';
import { HandshakeModule } from '../handshake/handshake.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { CredentialsController } from './credentials.controller.js';
import { CredentialsService } from './credentials.service.js';
import { RegistrationTokensController } from './registration-tokens.controller.js';
import { TokensModule } from './tokens.module.js';

/** The OCPI credentials endpoint (FromIOP handshakes) and the admin's token A. */
@Module({
  imports: [TokensModule, HandshakeModule, OperationsModule],
  controllers: [CredentialsController, RegistrationTokensController],
  providers: [CredentialsService],
})
export class CredentialsModule {}

import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HandshakeModule } from '../handshake/handshake.module.js';
import { Operation } from '../operations/operation.entity.js';
import { OperationsModule } from '../operations/operations.module.js';
import { CredentialsController } from './credentials.controller.js';
import { CredentialsService } from './credentials.service.js';
import { IssuedToken } from './issued-token.entity.js';
import { OcpiTokenGuard } from './ocpi-token.guard.js';
import { RegistrationTokensController } from './registration-tokens.controller.js';
import { TokensService } from './tokens.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([IssuedToken, Operation]), HandshakeModule, OperationsModule],
  controllers: [CredentialsController, RegistrationTokensController],
  providers: [TokensService, CredentialsService, OcpiTokenGuard],
  exports: [TokensService, OcpiTokenGuard],
})
export class CredentialsModule {}

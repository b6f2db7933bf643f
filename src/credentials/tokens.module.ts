import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Operation } from '../operations/operation.entity.js';
import { IssuedToken } from './issued-token.entity.js';
import { OcpiTokenGuard } from './ocpi-token.guard.js';
import { TokensService } from './tokens.service.js';

/** The tokens peers present to us, and the guard of every OCPI route that checks them. */
@Module({
  imports: [TypeOrmModule.forFeature([IssuedToken, Operation])],
  providers: [TokensService, OcpiTokenGuard],
  exports: [TokensService, OcpiTokenGuard],
})
export class TokensModule {}

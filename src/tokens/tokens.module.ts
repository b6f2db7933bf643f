import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app-config.js';
import { AuthModule } from '../auth/auth.module.js';
import { Operation } from '../operations/operation.entity.js';
import { OperationsModule } from '../operations/operations.module.js';
import { AuthCache } from './auth-cache.js';
import { AuthCacheListener } from './auth-cache-listener.js';
import { IssuedToken } from './issued-token.entity.js';
import { OcpiTokenCheck } from './ocpi-token-check.js';
import { OcpiTokenGuard } from './ocpi-token.guard.js';
import { RegistrationTokensController } from './registration-tokens.controller.js';
import { TokensService } from './tokens.service.js';

/**
 * The tokens peers present to us: issued (token A through the admin API), checked by the guard of
 * every OCPI route (through a per-replica cache kept true by PostgreSQL notifications), rotated
 * and revoked by the handshakes.
 */
@Module({
  imports: [TypeOrmModule.forFeature([IssuedToken, Operation]), OperationsModule, AuthModule],
  controllers: [RegistrationTokensController],
  providers: [
    {
      provide: AuthCache,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        new AuthCache(
          config.get('authCacheEntries', { infer: true }),
          config.get('authCacheMaxAgeS', { infer: true }) * 1000,
        ),
    },
    AuthCacheListener,
    TokensService,
    OcpiTokenCheck,
    OcpiTokenGuard,
  ],
  // The guard is instantiated in each module whose controllers use it: it needs the check.
  exports: [TokensService, OcpiTokenCheck, OcpiTokenGuard, AuthCacheListener, AuthModule],
})
export class TokensModule {}

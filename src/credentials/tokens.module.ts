import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app-config.js';
import { Operation } from '../operations/operation.entity.js';
import { AuthCache } from './auth-cache.js';
import { AuthCacheListener } from './auth-cache-listener.js';
import { IssuedToken } from './issued-token.entity.js';
import { OcpiTokenGuard } from './ocpi-token.guard.js';
import { TokensService } from './tokens.service.js';

/** The tokens peers present to us, and the guard of every OCPI route that checks them. */
@Module({
  imports: [TypeOrmModule.forFeature([IssuedToken, Operation])],
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
    OcpiTokenGuard,
  ],
  exports: [TokensService, OcpiTokenGuard],
})
export class TokensModule {}

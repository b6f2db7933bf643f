import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { KeyAuthenticator } from '../auth/key-authenticator.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { ApiKey } from './api-key.entity.js';
import { ApiKeyAuthenticator } from './api-key-authenticator.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';
import { Organisation } from '../operations/organisation.entity.js';
import { OrganisationsController } from './organisations.controller.js';
import { OrganisationsService } from './organisations.service.js';

/**
 * Organisations and API keys (DESIGN 12). Global: the access guard of every admin, relay and
 * metrics controller (auth/access.guard.ts) is made in that controller's module and needs the
 * key authenticator there (KeyAuthenticator).
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([ApiKey, Organisation]), TokensModule, AuthModule],
  controllers: [OrganisationsController, ApiKeysController],
  providers: [
    ApiKeyAuthenticator,
    { provide: KeyAuthenticator, useExisting: ApiKeyAuthenticator },
    ApiKeysService,
    OrganisationsService,
  ],
  exports: [KeyAuthenticator],
})
export class AccessModule {}

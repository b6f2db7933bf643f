import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthFailureLimiter } from './common/auth-failure-limiter.js';
import { AllExceptionsFilter } from './common/exception.filter.js';
import { AppValidationPipe } from './common/validation.pipe.js';
import type { AppConfig } from './config/app-config.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OperationsModule } from './operations/operations.module.js';
import { VersionsModule } from './versions/versions.module.js';
import { CredentialsModule } from './credentials/credentials.module.js';
import { HandshakeModule } from './handshake/handshake.module.js';

@Module({})
export class AppModule {
  /** The whole service for one validated configuration (tests build several side by side). */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      exports: [AuthFailureLimiter],
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          skipProcessEnv: true,
          load: [() => ({ ...config })],
        }),
        LoggingModule,
        DatabaseModule,
        HealthModule,
        MetricsModule,
        OperationsModule,
        HandshakeModule,
        CredentialsModule,
        VersionsModule,
      ],
      providers: [
        AuthFailureLimiter,
        { provide: APP_PIPE, useClass: AppValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}

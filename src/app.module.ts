import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AccessModule } from './access/access.module.js';
import { AppValidationPipe } from './common/validation.pipe.js';
import type { AppConfig } from './config/app-config.js';
import { CredentialsModule } from './credentials/credentials.module.js';
import { DatabaseModule } from './database/database.module.js';
import { EdgeModule } from './edge/edge.module.js';
import { entities } from './entities.js';
import { HandshakeModule } from './handshake/handshake.module.js';
import { HealthModule } from './health/health.module.js';
import { HealthProbeModule } from './health-probe/health-probe.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { AllExceptionsFilter } from './ocpi/exception.filter.js';
import { OperationsModule } from './operations/operations.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { TokensModule } from './tokens/tokens.module.js';
import { VersionsModule } from './versions/versions.module.js';

@Module({})
export class AppModule {
  /** The whole service for one validated configuration (tests build several side by side). */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          skipProcessEnv: true,
          load: [() => ({ ...config })],
        }),
        LoggingModule,
        DatabaseModule.forRoot(entities),
        HealthModule,
        MetricsModule,
        OperationsModule,
        TokensModule,
        AccessModule,
        HandshakeModule,
        CredentialsModule,
        VersionsModule,
        // After credentials and versions: its routes take any module id but theirs.
        EdgeModule,
        RetentionModule,
        HealthProbeModule,
      ],
      providers: [
        { provide: APP_PIPE, useClass: AppValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}

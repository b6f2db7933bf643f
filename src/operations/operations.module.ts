import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { AppConfig } from '../config/app-config.js';
import { ConnectionController } from './connection.controller.js';
import { ConnectionMetrics } from './connection-metrics.js';
import { Connection } from './connection.entity.js';
import { ConnectionsService } from './connections.service.js';
import { Operation } from './operation.entity.js';
import { OperationPipe } from './operation.pipe.js';
import { OperationsController } from './operations.controller.js';
import { OperationsService } from './operations.service.js';

/** The tenants and their one connection each: the only writer of both tables. */
@Module({
  imports: [TypeOrmModule.forFeature([Operation, Connection]), AuthModule],
  controllers: [OperationsController, ConnectionController],
  providers: [
    OperationsService,
    OperationPipe,
    ConnectionsService,
    ConnectionMetrics,
    {
      provide: SecretBox,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        new SecretBox(config.get('encryptionKey', { infer: true })),
    },
  ],
  exports: [OperationsService, OperationPipe, ConnectionsService, SecretBox],
})
export class OperationsModule {}

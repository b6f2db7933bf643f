import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { VersionsController } from './versions.controller.js';

@Module({
  imports: [CredentialsModule, OperationsModule],
  controllers: [VersionsController],
})
export class VersionsModule {}

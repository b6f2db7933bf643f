import { Module } from '@nestjs/common';
import { TokensModule } from '../credentials/tokens.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { VersionsController } from './versions.controller.js';

@Module({
  imports: [TokensModule, OperationsModule],
  controllers: [VersionsController],
})
export class VersionsModule {}

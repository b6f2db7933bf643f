import { Module } from '@nestjs/common';
import { OperationsModule } from '../operations/operations.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { VersionsController } from './versions.controller.js';

@Module({
  imports: [TokensModule, OperationsModule],
  controllers: [VersionsController],
})
export class VersionsModule {}

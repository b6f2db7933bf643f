import { Module } from '@nestjs/common';
import { FrontModule } from '../front/front.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { VersionsController } from './versions.controller.js';
import { VersionsRoutes } from './versions-routes.js';
import { VersionsService } from './versions.service.js';

@Module({
  imports: [TokensModule, OperationsModule, FrontModule],
  controllers: [VersionsController],
  providers: [VersionsService, VersionsRoutes],
})
export class VersionsModule {}

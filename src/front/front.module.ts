import { Module } from '@nestjs/common';
import { LoggingModule } from '../logging/logging.module.js';
import { Front } from './front.js';

/** The routes served ahead of Express (Front); the modules that own them add them. */
@Module({
  imports: [LoggingModule],
  providers: [Front],
  exports: [Front],
})
export class FrontModule {}

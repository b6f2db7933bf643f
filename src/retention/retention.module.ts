import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { HandshakeModule } from '../handshake/handshake.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { RetentionService } from './retention.service.js';

/** The purge of what grows: history, dead tokens, ended failure windows. */
@Module({
  imports: [HandshakeModule, TokensModule, AuthModule],
  providers: [RetentionService],
})
export class RetentionModule {}

import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { HandshakeModule } from '../handshake/handshake.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { RetentionService } from './retention.service.js';

/** The purge of what grows: history, dead tokens, ended failure windows, delivered pushes. */
@Module({
  imports: [HandshakeModule, TokensModule, AuthModule, OutboxModule],
  providers: [RetentionService],
})
export class RetentionModule {}

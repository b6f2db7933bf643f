import { Module } from '@nestjs/common';
import { HandshakeModule } from '../handshake/handshake.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { EdgeMetrics } from './edge-metrics.js';
import { GatewayController } from './gateway.controller.js';
import { ModuleGateway } from './module-gateway.js';
import { Relay } from './relay.js';
import { RelayOutbox } from './relay-outbox.js';
import { RelayAuthGuard, RelayController } from './relay.controller.js';
import { RelayTargetPipe, RelayTargets } from './relay-targets.js';

/**
 * Each operation's OCPI edge for the CPO's other systems (DESIGN 9): the module gateway checks
 * the peer's calls and forwards them upstream; the relay presents the peer's token on their calls.
 * Its routes' bodies stream (app.setup.ts keeps the JSON parser off {@link isEdgePath}).
 */
@Module({
  imports: [OperationsModule, TokensModule, HandshakeModule, OutboxModule],
  controllers: [GatewayController, RelayController],
  providers: [
    ModuleGateway,
    Relay,
    RelayOutbox,
    RelayAuthGuard,
    RelayTargets,
    RelayTargetPipe,
    EdgeMetrics,
  ],
})
export class EdgeModule {}

import { Module } from '@nestjs/common';
import { AccessGuard } from '../auth/access.guard.js';
import { HandshakeModule } from '../handshake/handshake.module.js';
import { FrontModule } from '../front/front.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { EdgeMetrics } from './edge-metrics.js';
import { EdgeRoutes } from './edge-routes.js';
import { GatewayController } from './gateway.controller.js';
import { ModuleGateway } from './module-gateway.js';
import { Relay } from './relay.js';
import { RelayOutbox } from './relay-outbox.js';
import { RelayController } from './relay.controller.js';
import { RelayTargetPipe, RelayTargets } from './relay-targets.js';

/**
 * Each operation's OCPI edge for the CPO's other systems (DESIGN 9): the module gateway checks
 * the peer's calls and forwards them upstream; the relay presents the peer's token on their calls.
 * Its calls are served ahead of Express and Nest (EdgeRoutes, through the front), their bodies
 * streamed.
 */
@Module({
  imports: [OperationsModule, TokensModule, HandshakeModule, FrontModule, OutboxModule],
  controllers: [GatewayController, RelayController],
  providers: [
    // The relay's guard, also asked by EdgeRoutes for the calls the front serves.
    AccessGuard,
    EdgeRoutes,
    ModuleGateway,
    Relay,
    RelayOutbox,
    RelayTargets,
    RelayTargetPipe,
    EdgeMetrics,
  ],
})
export class EdgeModule {}

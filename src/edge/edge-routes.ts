import { Injectable, type OnModuleInit } from '@nestjs/common';
import { authorize } from '../auth/access.decorators.js';
import { AccessGuard } from '../auth/access.guard.js';
import { Front, type FrontCall } from '../front/front.js';
import { OCPI_VERSION } from '../ocpi/version.js';
import { OcpiTokenCheck } from '../tokens/ocpi-token-check.js';
import { ModuleGateway } from './module-gateway.js';
import { Relay } from './relay.js';
import { RelayTargets } from './relay-targets.js';

/** The methods OCPI 2.1.1 modules use; the edge's controllers serve any other (HEAD). */
const MODULE_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const VERSION = OCPI_VERSION.replace(/\./g, '\\.');

/**
 * The edge's calls (DESIGN 9.1, 9.2), served by the front ahead of Express: each is a token check
 * and a forward, and Express's and Nest's pipeline around them cost more than both. The same
 * checks as the controllers' guards and pipes (OcpiTokenCheck; AccessGuard, RelayTargets) and
 * the same forwarding; the controllers declare the routes.
 */
@Injectable()
export class EdgeRoutes implements OnModuleInit {
  constructor(
    private readonly front: Front,
    private readonly ocpiTokens: OcpiTokenCheck,
    private readonly gateway: ModuleGateway,
    private readonly access: AccessGuard,
    private readonly targets: RelayTargets,
    private readonly relay: Relay,
  ) {}

  onModuleInit(): void {
    this.front.add({
      methods: MODULE_METHODS,
      // An operation's module other than credentials, and any path under it (isEdgePath's rule).
      path: new RegExp(
        `^/ocpi/(?<countryCode>[^/?]+)/(?<partyId>[^/?]+)/${VERSION}/(?!credentials/?(?:\\?|$))[^/?]`,
        'i',
      ),
      template: `/ocpi/:countryCode/:partyId/${OCPI_VERSION}/*path`,
      serve: (call) => this.toGateway(call),
    });
    this.front.add({
      methods: new Set(['POST']),
      path: /^\/relay\/(?<operation>[^/?]+)\/url\/?(?:\?|$)/i,
      template: '/relay/:operation/url',
      serve: (call) => this.toRelay(call, 'url'),
    });
    this.front.add({
      methods: MODULE_METHODS,
      path: /^\/relay\/(?<operation>[^/?]+)\/[^/?]/i,
      template: '/relay/:operation/*path',
      serve: (call) => this.toRelay(call, 'module'),
    });
  }

  private async toGateway({ request, response, params, clientAddress }: FrontCall): Promise<void> {
    const auth = await this.ocpiTokens.check('module', {
      countryCode: params.countryCode,
      partyId: params.partyId,
      authorization: request.headers.authorization,
      clientAddress,
    });
    await this.gateway.forward(request, response, auth);
  }

  private async toRelay(
    { request, response, params, clientAddress }: FrontCall,
    form: 'url' | 'module',
  ): Promise<void> {
    const principal = await this.access.principalOf(
      'relay',
      request.headers.authorization,
      clientAddress,
    );
    authorize(principal, { scope: 'relay' });
    const call = { ref: params.operation, principal };
    const target = await this.targets.resolveFor(call);
    await (form === 'url'
      ? this.relay.toUrl(request, response, call, target)
      : this.relay.toModule(request, response, call, target));
  }
}

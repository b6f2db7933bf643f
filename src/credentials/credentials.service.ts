import { Injectable } from '@nestjs/common';
import { AuthFailureLimiter } from '../auth/auth-failure-limiter.js';
import { InvalidRequestError, NotAllowedError, UnauthorizedError } from '../common/errors.js';
import { ConnectionLifecycle } from '../handshake/connection-lifecycle.js';
import { HandshakeRunner, type HandshakeContext } from '../handshake/handshake-runner.js';
import { PeerClient } from '../handshake/peer-client.js';
import { describePeer, PeerDiscovery } from '../handshake/peer-discovery.js';
import type { CredentialsDto } from '../ocpi/dto/credentials.dto.js';
import { ConnectionsService } from '../operations/connections.service.js';
import type { Operation } from '../operations/operation.entity.js';
import { OperationsService } from '../operations/operations.service.js';
import { TokensService, type PresentedToken } from '../tokens/tokens.service.js';

/**
 * The server side of the credentials module (FromIOP): the peer registers (POST), updates (PUT)
 * and unregisters (DELETE). POST and PUT call the peer back before anything is stored.
 */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly runner: HandshakeRunner,
    private readonly discovery: PeerDiscovery,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly connections: ConnectionsService,
    private readonly tokens: TokensService,
    private readonly operations: OperationsService,
    private readonly peerClient: PeerClient,
    private readonly limiter: AuthFailureLimiter,
  ) {}

  /** Our credentials as the caller uses them; its token is echoed, as we keep only its hash. */
  ours(operation: Operation, token: string): CredentialsDto {
    return this.operations.ourCredentials(operation, token);
  }

  /** Register FromIOP, with a token A or, in the grace period, the token of the last connection. */
  register(
    operation: Operation,
    presented: PresentedToken,
    peer: CredentialsDto,
  ): Promise<CredentialsDto> {
    return this.handshake(operation, presented, peer, 'REGISTER', async ({ manager }) => {
      const connection = await this.connections.get(operation.id, manager);
      if (connection.status === 'REGISTERED')
        throw new NotAllowedError('The peer is registered already');
      return { initiatedBy: 'PEER' } as const;
    });
  }

  /** Update FromIOP (OCPI PUT): the peer's new credentials, fetched again, and a new token. */
  update(
    operation: Operation,
    presented: PresentedToken,
    peer: CredentialsDto,
  ): Promise<CredentialsDto> {
    return this.handshake(operation, presented, peer, 'UPDATE', () => Promise.resolve(null));
  }

  /**
   * Unregister FromIOP. The token used here may still re-register for the grace period, as GIREVE
   * updates its credentials by a DELETE followed by a POST.
   */
  async unregister(
    operation: Operation,
    presented: PresentedToken,
  ): Promise<Record<string, never>> {
    await this.runner.run(operation.id, 'UNREGISTER', 'PEER', async (context) => {
      await this.assertStill(context, presented);
      await this.lifecycle.end(context.manager, operation.id, {
        initiatedBy: 'PEER',
        presentedTokenId: presented.id,
      });
    });
    return {};
  }

  /**
   * POST or PUT: under the operation's lock, the state check of `registration`, then the
   * call-back to the peer's versions and details, then the connection stored with a new token.
   */
  private async handshake(
    operation: Operation,
    presented: PresentedToken,
    peer: CredentialsDto,
    action: 'REGISTER' | 'UPDATE',
    registration: (context: HandshakeContext) => Promise<{ initiatedBy: 'PEER' } | null>,
  ): Promise<CredentialsDto> {
    // A versions URL our rules would refuse to call is a bad request, not a failed call-back.
    const problem = this.peerClient.urlProblem(peer.url);
    if (problem) throw new InvalidRequestError([{ field: 'url', message: problem }]);
    // Each failed attempt calls the peer back and writes a history entry: a token may fail
    // AUTH_FAILURE_LIMIT times per window, then gets 429 without either.
    const budget = `fromiop-handshake ${presented.id}`;
    await this.limiter.assertBelowLimit(budget);
    return this.runner.run(operation.id, action, 'PEER', async (context) => {
      await this.assertStill(context, presented);
      const registered = await registration(context);
      const discovered = await this.discovery
        .discover(peer.url, peer.token, context.recorder)
        .catch(async (error: unknown) => {
          await this.limiter.countFailure(budget);
          throw error;
        });
      const ours = await this.lifecycle.connect(
        context.manager,
        operation.id,
        describePeer(peer, discovered, context.recorder),
        registered,
      );
      return this.ours(operation, ours.token);
    });
  }

  /** The token was checked before the lock was taken; another handshake may have changed it. */
  private async assertStill(
    { manager }: HandshakeContext,
    presented: PresentedToken,
  ): Promise<void> {
    if (!(await this.tokens.stillHasRole(manager, presented))) {
      throw new UnauthorizedError(
        'A valid token of this operation is required: Authorization: Token {token}',
      );
    }
  }
}

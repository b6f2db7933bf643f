import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InvalidRequestError, NotAllowedError, UnauthorizedError } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { ConnectionsService } from '../handshake/connections.service.js';
import { HandshakeRunner, type HandshakeContext } from '../handshake/handshake-runner.js';
import { PeerClient } from '../handshake/peer-client.js';
import { PeerDiscovery } from '../handshake/peer-discovery.js';
import type { CredentialsDto } from '../ocpi/dto/credentials.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { OperationsService } from '../operations/operations.service.js';
import { TokensService, type PresentedToken } from './tokens.service.js';

/**
 * The server side of the credentials module (FromIOP): the peer registers (POST), updates (PUT)
 * and unregisters (DELETE). POST and PUT call the peer back before anything is stored.
 */
@Injectable()
export class CredentialsService {
  private readonly graceS: number;

  constructor(
    private readonly runner: HandshakeRunner,
    private readonly discovery: PeerDiscovery,
    private readonly connections: ConnectionsService,
    private readonly tokens: TokensService,
    private readonly operations: OperationsService,
    private readonly peerClient: PeerClient,
    config: ConfigService<AppConfig, true>,
  ) {
    this.graceS = config.get('reregistrationGraceS', { infer: true });
  }

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
    this.assertUsableUrl(peer);
    return this.runner.run(operation.id, 'REGISTER', 'PEER', async (context) => {
      await this.assertStill(context, presented);
      const connection = await this.connections.get(operation.id, context.manager);
      if (connection.status === 'REGISTERED')
        throw new NotAllowedError('The peer is registered already');
      return this.callBackAndStore(context, operation, peer, { initiatedBy: 'PEER' });
    });
  }

  /** Update FromIOP (OCPI PUT): the peer's new credentials, fetched again, and a new token. */
  update(
    operation: Operation,
    presented: PresentedToken,
    peer: CredentialsDto,
  ): Promise<CredentialsDto> {
    this.assertUsableUrl(peer);
    return this.runner.run(operation.id, 'UPDATE', 'PEER', async (context) => {
      await this.assertStill(context, presented);
      return this.callBackAndStore(context, operation, peer, null);
    });
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
      await context.manager.transaction(async (manager) => {
        await this.connections.markUnregistered(manager, operation.id, false);
        await this.tokens.endConnection(manager, operation.id, presented.id, this.graceS);
      });
    });
    return {};
  }

  private async callBackAndStore(
    { recorder, manager }: HandshakeContext,
    operation: Operation,
    peer: CredentialsDto,
    registration: { initiatedBy: 'PEER' } | null,
  ): Promise<CredentialsDto> {
    const discovered = await this.discovery.discover(peer.url, peer.token, recorder);
    return manager.transaction(async (tx) => {
      await this.connections.markRegistered(
        tx,
        operation.id,
        {
          versionsUrl: peer.url,
          countryCode: peer.country_code,
          partyId: peer.party_id,
          businessDetails: peer.business_details,
          token: peer.token,
          discovered,
        },
        registration,
      );
      const issued = await this.tokens.issueConnectionToken(tx, operation.id);
      await this.tokens.keepOnly(tx, operation.id, issued.id);
      return this.ours(operation, issued.token);
    });
  }

  /** A versions URL our rules would refuse to call is a bad request, not a failed call-back. */
  private assertUsableUrl(peer: CredentialsDto): void {
    const problem = this.peerClient.urlProblem(peer.url);
    if (problem) throw new InvalidRequestError([{ field: 'url', message: problem }]);
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

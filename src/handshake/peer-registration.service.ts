import { Injectable } from '@nestjs/common';
import {
  ConflictError,
  DomainError,
  fieldErrorsText,
  InvalidRequestError,
  PeerError,
} from '../common/errors.js';
import { readPeerCredentials } from '../ocpi/dto/peer-credentials.js';
import { OcpiStatus } from '../ocpi/envelope.js';
import type { Connection } from '../operations/connection.entity.js';
import { ConnectionsService, type PeerDescription } from '../operations/connections.service.js';
import { toConnectionDto, type ConnectionDto } from '../operations/dto/connection.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { OperationsService } from '../operations/operations.service.js';
import { formatOperatorId } from '../operations/operator-id.js';
import { TokensService } from '../tokens/tokens.service.js';
import { ConnectionLifecycle, type OurToken } from './connection-lifecycle.js';
import type { RegisterDto } from './dto/register.dto.js';
import { HandshakeRunner, type HandshakeContext } from './handshake-runner.js';
import { PeerClient } from './peer-client.js';
import { describePeer, PeerDiscovery, type PeerVersion } from './peer-discovery.js';

/**
 * The client side of the credentials module (ToIOP): we register with the peer, rotate our
 * credentials with PUT, and unregister with DELETE.
 */
@Injectable()
export class PeerRegistrationService {
  constructor(
    private readonly runner: HandshakeRunner,
    private readonly discovery: PeerDiscovery,
    private readonly peer: PeerClient,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly connections: ConnectionsService,
    private readonly tokens: TokensService,
    private readonly operations: OperationsService,
  ) {}

  /**
   * Register ToIOP: discover the peer, then POST our credentials with its token A. The token we
   * send is committed before the POST (PENDING: versions and details only), because the peer
   * calls us back with it while our POST is open; it becomes the connection token on success
   * and is revoked on failure.
   */
  register(operation: Operation, target: RegisterDto): Promise<ConnectionDto> {
    const problem = target.versions_url && this.peer.urlProblem(target.versions_url);
    if (problem) throw new InvalidRequestError([{ field: 'versions_url', message: problem }]);
    if (Boolean(target.versions_url) !== Boolean(target.token)) {
      throw new InvalidRequestError(
        [target.versions_url ? 'token' : 'versions_url'].map((field) => ({
          field,
          message: 'is required (both fields may be left out only to re-register to the last peer)',
        })),
      );
    }
    return this.runner.run(operation.id, 'REGISTER', 'US', async (context) => {
      const connection = await this.connections.get(operation.id, context.manager);
      if (connection.status === 'REGISTERED') {
        const admin = `/admin/operations/${encodeURIComponent(formatOperatorId(operation))}`;
        throw new ConflictError(
          `The operation is registered already: POST ${admin}/update-credentials rotates the credentials, POST ${admin}/unregister ends the connection before a new registration`,
        );
      }
      const { versionsUrl, token } = await this.target(operation, connection, target, context);
      await this.recordingFailure(context, operation, 'Registration with the peer', async () => {
        const discovered = await this.discovery.discover(versionsUrl, token, context.recorder);
        const ours = await this.tokens.issueConnectionToken(
          context.manager,
          operation.id,
          'PENDING',
        );
        try {
          const peer = await this.sendCredentials(
            context,
            'POST',
            discovered,
            token,
            operation,
            ours,
          );
          await this.lifecycle.connect(
            context.manager,
            operation.id,
            peer,
            { initiatedBy: 'US' },
            ours,
          );
        } catch (error) {
          await this.tokens.revoke(context.manager, [ours.id]);
          throw error;
        }
      });
      return toConnectionDto(await this.connections.get(operation.id, context.manager));
    });
  }

  /**
   * Update ToIOP: PUT new credentials with the peer's current token. Until the PUT succeeds the
   * peer may hold either of our tokens, so both stay valid; a failure says so in last_error and
   * the next update or unregister settles it.
   */
  updateCredentials(operation: Operation): Promise<ConnectionDto> {
    return this.runner.run(operation.id, 'UPDATE', 'US', async (context) => {
      const connection = await this.registered(operation, context);
      const token = await this.peerToken(operation.id, context);
      const discovered = await this.recordingFailure(
        context,
        operation,
        'Update of credentials',
        () => this.discovery.discover(connection.peerVersionsUrl!, token, context.recorder),
      );
      const ours = await this.tokens.issueConnectionToken(context.manager, operation.id, 'ACTIVE');
      const peer = await this.recordingFailure(
        context,
        operation,
        'Update of credentials',
        () => this.sendCredentials(context, 'PUT', discovered, token, operation, ours),
        '; the peer may hold our old or our new token, so both stay valid until the next update or unregister',
      );
      await this.lifecycle.connect(context.manager, operation.id, peer, null, ours);
      return toConnectionDto(await this.connections.get(operation.id, context.manager));
    });
  }

  /**
   * Unregister ToIOP: DELETE with the peer's token, then end the connection. With `force`, a peer
   * that cannot be told does not keep the connection alive here; the history says it was not told.
   */
  unregister(operation: Operation, force: boolean): Promise<ConnectionDto> {
    return this.runner.run(operation.id, 'UNREGISTER', 'US', async (context) => {
      const connection = await this.registered(operation, context);
      const token = await this.peerToken(operation.id, context);
      const credentialsUrl = connection.peerEndpoints.find(
        (e) => e.identifier === 'credentials',
      )?.url;
      try {
        if (!credentialsUrl) {
          throw new PeerError(
            'credentials',
            OcpiStatus.NO_MATCHING_ENDPOINTS,
            'No credentials endpoint is known for the peer',
          );
        }
        await this.peer.call(
          { step: 'credentials', method: 'DELETE', url: credentialsUrl, token },
          context.recorder,
        );
      } catch (error) {
        if (!(error instanceof PeerError)) throw error;
        if (!force) {
          throw new PeerError(
            error.step,
            error.ocpiStatusCode,
            `${error.message}. The connection is unchanged; to end it here anyway (the peer not told), send {"force": true}`,
            error.peerStatusCode,
          );
        }
        context.recorder.notice(`Ended locally (force): the peer was not told. ${error.message}`);
      }
      await this.lifecycle.end(context.manager, operation.id, { initiatedBy: 'US' });
      return toConnectionDto(await this.connections.get(operation.id, context.manager));
    });
  }

  private async registered(operation: Operation, { manager }: HandshakeContext) {
    const connection = await this.connections.get(operation.id, manager);
    if (connection.status !== 'REGISTERED')
      throw new ConflictError('The operation is not registered');
    return connection;
  }

  private async peerToken(operationId: string, { manager }: HandshakeContext): Promise<string> {
    const token = await this.connections.peerToken(operationId, manager);
    if (!token) throw new ConflictError('No token of the peer is stored');
    return token;
  }

  /**
   * Runs a part of a ToIOP handshake; when it fails (not a refusal), `last_error` says what failed,
   * why, then `consequence`, before the error goes on to the runner and the caller.
   */
  private async recordingFailure<T>(
    { manager }: HandshakeContext,
    operation: Operation,
    what: string,
    work: () => Promise<T>,
    consequence = '',
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof DomainError && error.refusal)) {
        const reason = error instanceof DomainError ? error.message : 'an internal error';
        await this.connections.setLastError(
          manager,
          operation.id,
          `${what} failed (${reason})${consequence}`,
        );
      }
      throw error;
    }
  }

  /** Where to register: the body, or else (empty body) the last peer with its last token. */
  private async target(
    operation: Operation,
    connection: Connection,
    target: RegisterDto,
    context: HandshakeContext,
  ): Promise<{ versionsUrl: string; token: string }> {
    if (target.versions_url && target.token)
      return { versionsUrl: target.versions_url, token: target.token };
    const lastToken = await this.connections.peerToken(operation.id, context.manager);
    if (connection.peerVersionsUrl && lastToken) {
      return { versionsUrl: connection.peerVersionsUrl, token: lastToken };
    }
    const message =
      connection.unregisteredBy === 'PEER'
        ? 'is required: the peer ended the connection itself (its DELETE), and its token ended with it; ask the peer for its versions URL and a new token A'
        : 'is required: there is no last peer to register to again';
    throw new InvalidRequestError(['versions_url', 'token'].map((field) => ({ field, message })));
  }

  /** POSTs or PUTs our credentials and returns the peer's, checked as OCPI Credentials. */
  private async sendCredentials(
    { recorder }: HandshakeContext,
    method: 'POST' | 'PUT',
    discovered: PeerVersion,
    token: string,
    operation: Operation,
    ours: OurToken,
  ): Promise<PeerDescription> {
    const url = discovered.credentialsUrl;
    const data = await this.peer.call(
      {
        step: 'credentials',
        method,
        url,
        token,
        body: this.operations.ourCredentials(operation, ours.token),
      },
      recorder,
    );
    const { credentials: peer, errors } = await readPeerCredentials(data);
    if (errors.length > 0) {
      throw new PeerError(
        'credentials',
        OcpiStatus.UNABLE_TO_USE_CLIENT_API,
        `${method} ${url} answered data that is not a valid OCPI Credentials object (${fieldErrorsText(errors)})`,
      );
    }
    return describePeer(peer, discovered, recorder);
  }
}

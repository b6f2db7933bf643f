import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyDecorators, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ApiAcceptedResponse, ApiExtraModels, ApiHeader, getSchemaPath } from '@nestjs/swagger';
import { ConfigService } from '@nestjs/config';
import { errors, type Agent } from 'undici';
import { ConflictError, NotFoundError, PayloadTooLargeError } from '../common/errors.js';
import type { OperationRequest } from '../auth/principal.js';
import type { AppConfig } from '../config/app-config.js';
import { sendJson } from '../front/front.js';
import { addressRefusalIn, describeNetworkError, PeerClient } from '../handshake/peer-client.js';
import { maskSecrets } from '../handshake/secret-mask.js';
import { givenIdOrNew } from '../logging/logger.js';
import { ANY_OCPI_ENVELOPE } from '../ocpi/api-ocpi-response.js';
import { formatOperatorId } from '../operations/operator-id.js';
import {
  readJudged,
  judgeAnswer,
  prefersRespondAsync,
  type SendResult,
} from '../outbox/delivery-rules.js';
import { DeliveryAcceptedDto } from '../outbox/dto/delivery.dto.js';
import { OutboxSenders, type OutboxSender } from '../outbox/outbox-senders.js';
import { OutboxStore, type ClaimedDelivery } from '../outbox/outbox-store.js';
import { checkedTail, segmentOf } from './edge-paths.js';
import { passedRequestHeaders, trimBase, under } from './forwarding.js';
import { RelayTargets, type RelayTarget } from './relay-targets.js';

/** `/relay/{operation}/{identifier}`: what comes after these segments goes to the peer. */
const RELAY_PATH_DEPTH = 3;
/** The methods of a push; a read with `respond-async` is relayed at once (there is nothing to keep). */
const PUSH_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Documents a push route's store-and-forward: the `Prefer` header and its 202. */
export function ApiRespondAsync(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(DeliveryAcceptedDto),
    ApiHeader({
      name: 'Prefer',
      required: false,
      description:
        '`respond-async` (RFC 7240, among other preferences): the push is committed to the ' +
        "outbox, answered 202 `{delivery_id}`, and sent to the peer in its queue's order, " +
        'again until it is delivered or dead (GET /admin/operations/{operation}/deliveries)',
    }),
    ApiAcceptedResponse({
      description:
        "With `Prefer: respond-async`: committed to the outbox (`{delivery_id}`); else the peer's own 202",
      content: {
        'application/json': {
          schema: { oneOf: [{ $ref: getSchemaPath(DeliveryAcceptedDto) }, ANY_OCPI_ENVELOPE] },
        },
      },
    }),
  );
}

/**
 * Store-and-forward through the relay (DESIGN 9.3). A push with `Prefer: respond-async` is read
 * whole (up to UPSTREAM_MAX_BODY_BYTES), committed to the outbox in the queue of its operation and
 * module, and answered 202 `{delivery_id}`; the outbox worker sends it later with this sender: to
 * the peer's endpoint of that module and with the peer's token as they are at send time (a
 * re-registration's new URL and token), under the same peer URL rules and pool size as the relay,
 * with one X-Request-ID across all attempts. While the operation is unregistered its queues hold.
 */
@Injectable()
export class RelayOutbox implements OutboxSender, OnApplicationShutdown {
  private readonly logger = new Logger('RelayOutbox');
  private readonly pool: Agent;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly peers: PeerClient,
    private readonly targets: RelayTargets,
    private readonly outbox: OutboxStore,
    senders: OutboxSenders,
  ) {
    this.timeoutMs = config.get('peerTimeoutMs', { infer: true });
    this.maxBodyBytes = config.get('upstreamMaxBodyBytes', { infer: true });
    this.pool = peers.createDispatcher(config.get('upstreamConnections', { infer: true }));
    senders.register('relay', this);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }

  /** A push the caller wants stored and forwarded rather than answered by the peer now. */
  accepts(request: IncomingMessage): boolean {
    return PUSH_METHODS.has(request.method ?? '') && prefersRespondAsync(request.headers.prefer);
  }

  /**
   * Commits the push to the outbox and answers 202. 409 if the operation never had a connection
   * (there is no peer to send it to, ever, until one registers: the caller should know now); 404
   * if the module is not among the peer's endpoints (the current ones, or the last known while
   * unregistered); 413 over UPSTREAM_MAX_BODY_BYTES.
   */
  async store(
    request: IncomingMessage,
    response: ServerResponse,
    call: OperationRequest,
    cached: RelayTarget,
  ): Promise<void> {
    const url = request.url ?? '';
    const asked = segmentOf(url, RELAY_PATH_DEPTH);
    const tail = checkedTail(url, RELAY_PATH_DEPTH);
    let { operation } = cached;
    const refusal = () => refusalOf(operation, asked);
    // What this replica's memory says is checked against the database before refusing.
    if (refusal() && cached.cached) {
      ({ operation } = await this.targets.resolveFor(call, { fresh: true }));
    }
    const refused = refusal();
    if (refused) throw refused;
    const body = await readBody(request, this.maxBodyBytes);
    const correlation = givenIdOrNew(request.headers['x-correlation-id']);
    const id = await this.outbox.enqueueCommitted({
      kind: 'relay',
      queue: `relay:${operation.id}:${asked}`,
      operationId: operation.id,
      method: request.method ?? 'POST',
      identifier: asked,
      path: tail,
      headers: { ...passedRequestHeaders(request.headers), 'x-correlation-id': correlation },
      body,
    });
    response.setHeader('Preference-Applied', 'respond-async');
    response.setHeader('X-Correlation-ID', correlation);
    sendJson(response, 202, { delivery_id: id });
  }

  /**
   * One attempt of a stored push, to the peer as it is now: as this replica's memory holds it
   * (kept true by PostgreSQL notifications within milliseconds), and once more as the database
   * says when that memory's answer was to hold it or kill it and the database differs (a
   * re-registration committed a moment ago: the new token and URL), so that a stale entry never
   * kills a push nor holds it.
   */
  async send(delivery: ClaimedDelivery, signal: AbortSignal): Promise<SendResult> {
    const target = await this.target(delivery, false);
    if (!target) return { outcome: 'dead', error: 'The operation was deleted' };
    const result = await this.attempt(delivery, target, signal);
    if (!target.cached || result.outcome === 'delivered' || result.outcome === 'retry') {
      return result;
    }
    const fresh = await this.target(delivery, true);
    if (!fresh) return { outcome: 'dead', error: 'The operation was deleted' };
    return sameTarget(fresh, target, delivery.identifier)
      ? result
      : this.attempt(delivery, fresh, signal);
  }

  private async target(
    delivery: ClaimedDelivery,
    fresh: boolean,
  ): Promise<RelayTarget | undefined> {
    try {
      return await this.targets.resolve(String(delivery.operationId), { fresh });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async attempt(
    delivery: ClaimedDelivery,
    target: RelayTarget,
    signal: AbortSignal,
  ): Promise<SendResult> {
    const { operation, token } = target;
    if (operation.connection.status !== 'REGISTERED' || !token) {
      return { outcome: 'held', reason: 'not registered' };
    }
    const endpoint = operation.connection.peerEndpoints.find(
      (e) => e.identifier === delivery.identifier,
    );
    if (!endpoint) {
      return {
        outcome: 'dead',
        error: `The peer of ${formatOperatorId(operation)} no longer offers module ${delivery.identifier}`,
      };
    }
    const url = `${trimBase(endpoint.url)}${delivery.path}`;
    const problem = this.peers.urlProblem(url);
    if (problem)
      return { outcome: 'dead', error: `The peer's URL ${url} is refused: it ${problem}` };
    try {
      const answer = await this.pool.request({
        ...under(endpoint.url, delivery.path),
        method: delivery.method,
        headers: {
          ...delivery.headers,
          // OCPI 2.1.1 sends the token as is (2.2 added Base64).
          authorization: `Token ${token}`,
          'x-request-id': delivery.requestId,
        },
        body: delivery.body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
      });
      const result = judgeAnswer(answer.statusCode, await readJudged(answer.body));
      // A peer may quote the token it got in its message.
      return result.outcome === 'retry' || result.outcome === 'dead'
        ? { ...result, error: maskSecrets(result.error, [token]) }
        : result;
    } catch (error) {
      if (signal.aborted) return { outcome: 'retry', error: 'Interrupted (lease or shutdown)' };
      const refusal = addressRefusalIn(error);
      if (refusal)
        return { outcome: 'dead', error: `The peer's URL ${url} is refused: ${refusal}` };
      if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
        return {
          outcome: 'retry',
          error: `The peer gave no answer within ${this.timeoutMs} ms (PEER_TIMEOUT_MS)`,
        };
      }
      this.logger.warn(
        `Delivery ${delivery.id} to the peer of ${formatOperatorId(operation)} failed: ${describeNetworkError(error)}`,
      );
      return {
        outcome: 'retry',
        error: `The peer could not be reached at ${url}; this service's log names the cause`,
      };
    }
  }
}

/** Whether two reads of a target would send a push for `module` the same way. */
function sameTarget(a: RelayTarget, b: RelayTarget, module: string): boolean {
  const urlOf = (t: RelayTarget) =>
    t.operation.connection.peerEndpoints.find((e) => e.identifier === module)?.url;
  return (
    a.operation.connection.status === b.operation.connection.status &&
    a.token === b.token &&
    urlOf(a) === urlOf(b)
  );
}

/** Why a push for `asked` cannot be accepted for `operation`, if it cannot. */
function refusalOf(
  operation: RelayTarget['operation'],
  asked: string,
): ConflictError | NotFoundError | undefined {
  const { connection } = operation;
  if (connection.status !== 'REGISTERED' && connection.registeredAt === null) {
    return new ConflictError(
      `Operation ${formatOperatorId(operation)} has never been registered with a peer, so a push has nowhere to go: register it (POST /admin/operations/{operation}/register) or let the peer register, then push again`,
    );
  }
  const endpoints = connection.peerEndpoints;
  if (endpoints.some((e) => e.identifier === asked)) return undefined;
  return new NotFoundError(
    `The peer of ${formatOperatorId(operation)} offers no module ${asked}; it offers: ${endpoints.map((e) => e.identifier).join(', ')}`,
  );
}

/** The whole request body (null when empty); 413 past `max` bytes. */
async function readBody(request: IncomingMessage, max: number): Promise<Buffer | null> {
  const tooLarge = () =>
    new PayloadTooLargeError(
      `The request body is larger than UPSTREAM_MAX_BODY_BYTES (${max} bytes)`,
    );
  if (Number(request.headers['content-length'] ?? 0) > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw tooLarge();
    chunks.push(chunk);
  }
  return size > 0 ? Buffer.concat(chunks) : null;
}

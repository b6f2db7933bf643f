import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, Response } from 'express';
import type { Agent } from 'undici';
import {
  ConflictError,
  ForwardingError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
} from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { addressRefusalIn, describeNetworkError, PeerClient } from '../handshake/peer-client.js';
import type { EndpointDto } from '../ocpi/dto/endpoint.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { formatOperatorId } from '../operations/operator-id.js';
import { EdgeMetrics } from './edge-metrics.js';
import { checkedTail, segmentOf } from './edge-paths.js';
import {
  correlationId,
  forwardCounted,
  passedRequestHeaders,
  rebase,
  trimBase,
  under,
} from './forwarding.js';
import type { RelayTarget } from './relay-targets.js';

/** `/relay/{operation}/{identifier}`: what comes after these segments goes to the peer. */
const RELAY_PATH_DEPTH = 3;
/** The header of `POST /relay/{operation}/url`: a URL the peer handed out (a `response_url`). */
export const TARGET_URL_HEADER = 'x-ocpi-target-url';

/**
 * The outbound half of the edge (DESIGN 9.2): a CPO system's call to the peer of an operation,
 * sent to the peer's endpoint of that module with the token the peer gave us (from RelayTargets,
 * which every replica empties of an operation as soon as its connection changes, so that a
 * rotation is used at once everywhere), under the same rules as every
 * peer URL (https unless allowed, the host allow-list, no private address unless allowed). The
 * peer's answer streams back as given, its `Link` URLs moved under the relay.
 */
@Injectable()
export class Relay implements OnApplicationShutdown {
  private readonly logger = new Logger('Relay');
  private readonly peersPool: Agent;
  private readonly publicUrl: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly peers: PeerClient,
    private readonly metrics: EdgeMetrics,
  ) {
    this.publicUrl = config.get('publicUrl', { infer: true });
    this.timeoutMs = config.get('peerTimeoutMs', { infer: true });
    this.maxBodyBytes = config.get('upstreamMaxBodyBytes', { infer: true });
    this.peersPool = peers.createDispatcher(config.get('upstreamConnections', { infer: true }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.peersPool.destroy();
  }

  /** `{any method} /relay/{operation}/{identifier}[/{rest}]`: to the peer's module endpoint. */
  async toModule(request: Request, response: Response, target: RelayTarget): Promise<void> {
    const { operation } = target;
    const endpoints = this.peerEndpoints(operation);
    const asked = segmentOf(request.originalUrl, RELAY_PATH_DEPTH);
    const endpoint = endpoints.find((e) => e.identifier === asked);
    if (!endpoint) {
      throw new NotFoundError(
        `The peer of ${formatOperatorId(operation)} offers no module ${asked}; it offers: ${endpoints.map((e) => e.identifier).join(', ')}`,
      );
    }
    const tail = checkedTail(request.originalUrl, RELAY_PATH_DEPTH);
    await this.send(request, response, target, endpoint.identifier, endpoint.url, tail);
  }

  /**
   * `POST /relay/{operation}/url` with `X-OCPI-Target-URL`: to a URL the peer handed out in a
   * message, only on the origin of one of the peer's endpoints (not anywhere a caller names).
   */
  async toUrl(request: Request, response: Response, relayed: RelayTarget): Promise<void> {
    const endpoints = this.peerEndpoints(relayed.operation);
    const given = request.headers[TARGET_URL_HEADER];
    let target: URL | undefined;
    try {
      target = typeof given === 'string' ? new URL(given) : undefined;
    } catch {
      target = undefined;
    }
    const origins = new Set(endpoints.map((e) => originOf(e.url)));
    if (!target || !origins.has(target.origin)) {
      throw new InvalidRequestError([
        {
          field: 'X-OCPI-Target-URL',
          message: `must be an absolute URL on the origin of one of the peer's endpoints (${[...origins].join(', ')})`,
        },
      ]);
    }
    await this.send(
      request,
      response,
      relayed,
      'url',
      target.origin,
      `${target.pathname}${target.search}`,
    );
  }

  /** The registered peer's endpoints; 409 while the operation has no peer. */
  private peerEndpoints(operation: Operation): EndpointDto[] {
    if (operation.connection.status !== 'REGISTERED') throw notRegistered(operation);
    return operation.connection.peerEndpoints;
  }

  private async send(
    request: Request,
    response: Response,
    { operation, token }: RelayTarget,
    module: string,
    base: string,
    tail: string,
  ): Promise<void> {
    const url = `${trimBase(base)}${tail}`;
    const problem = this.peers.urlProblem(url);
    if (problem) throw this.failure(`The peer's URL ${url} is refused: it ${problem}`);
    // Registered without a token we may present (its row edited by hand): as if unregistered.
    if (!token) throw notRegistered(operation);
    const correlation = correlationId(request);
    response.setHeader('X-Correlation-ID', correlation);
    const relayBase = `${this.publicUrl}/relay/${encodeURIComponent(String(request.params.operation))}`;
    // Longest first: a peer endpoint under another is the more precise match.
    const bases = operation.connection.peerEndpoints
      .map((e) => ({ from: trimBase(e.url), to: `${relayBase}/${e.identifier}` }))
      .sort((a, b) => b.from.length - a.from.length);
    await forwardCounted(
      request,
      response,
      {
        dispatcher: this.peersPool,
        ...under(base, tail),
        headers: {
          ...passedRequestHeaders(request.headers),
          // OCPI 2.1.1 sends the token as is (2.2 added Base64).
          authorization: `Token ${token}`,
          'x-request-id': randomUUID(),
          'x-correlation-id': correlation,
        },
        timeoutMs: this.timeoutMs,
        maxBodyBytes: this.maxBodyBytes,
      },
      (link) => bases.map(({ from, to }) => rebase(link, from, to)).find((r) => r !== undefined),
      this.metrics.start('relay', module, request.method),
      (reason, cause) => {
        switch (reason) {
          case 'too_large':
            return new PayloadTooLargeError(
              `The request body is larger than UPSTREAM_MAX_BODY_BYTES (${this.maxBodyBytes} bytes)`,
            );
          case 'timeout':
            return this.failure(
              `The peer gave no answer within ${this.timeoutMs} ms (PEER_TIMEOUT_MS)`,
            );
          case 'unreachable': {
            const refusal = addressRefusalIn(cause);
            if (refusal) return this.failure(`The peer's URL ${url} is refused: ${refusal}`);
            this.logger.warn(
              `Relay to the peer of ${formatOperatorId(operation)} failed: ${describeNetworkError(cause)}`,
            );
            return this.failure(
              `The peer could not be reached at ${url}; this service's log names the cause`,
            );
          }
        }
      },
    );
  }

  private failure(message: string): ForwardingError {
    return new ForwardingError(502, 'relay', message);
  }
}

function notRegistered(operation: Operation): ConflictError {
  return new ConflictError(
    `Operation ${formatOperatorId(operation)} is not registered with its peer: register it (POST /admin/operations/{operation}/register) or let the peer register, then call again`,
  );
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Agent } from 'undici';
import {
  ConflictError,
  DomainError,
  ForwardingError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
} from '../common/errors.js';
import type { OperationRequest } from '../auth/principal.js';
import type { AppConfig } from '../config/app-config.js';
import { addressRefusalIn, describeNetworkError, PeerClient } from '../handshake/peer-client.js';
import { requestFields, requestIdOf } from '../logging/logging.module.js';
import type { EndpointDto } from '../ocpi/dto/endpoint.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { formatOperatorId } from '../operations/operator-id.js';
import { EdgeMetrics } from './edge-metrics.js';
import { checkedTail, segmentOf } from './edge-paths.js';
import { farBase, forwardCounted, rebase, trimBase, under, type FarBase } from './forwarding.js';
import { RelayOutbox } from './relay-outbox.js';
import { RelayTargets, type RelayTarget } from './relay-targets.js';

/** `/relay/{operation}/{identifier}`: what comes after these segments goes to the peer. */
const RELAY_PATH_DEPTH = 3;
/** The header of `POST /relay/{operation}/url`: a URL the peer handed out (a `response_url`). */
export const TARGET_URL_HEADER = 'x-ocpi-target-url';

/** Where a call goes on the peer's side: one of its endpoints, or the origin of one (`url`). */
interface PeerBase {
  /** The endpoint's identifier, or `url`. */
  module: string;
  /** Its URL without trailing slashes: what `Link` URLs under it start with. */
  url: string;
  /** Why the rules refuse it (section 11), if they do; else where requests under it go. */
  problem?: string;
  far?: FarBase;
}

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
  /**
   * The peer's endpoints as calls need them (checked, parsed, longest first), worked out once per
   * read of the connection (RelayTargets keeps its endpoints while cached): per call, the checks
   * and the parsing were a tenth of the relay's own CPU in the bench's profile.
   */
  private readonly bases = new WeakMap<readonly EndpointDto[], PeerBase[]>();

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly peers: PeerClient,
    private readonly metrics: EdgeMetrics,
    private readonly targets: RelayTargets,
    private readonly outbox: RelayOutbox,
  ) {
    this.publicUrl = config.get('publicUrl', { infer: true });
    this.timeoutMs = config.get('peerTimeoutMs', { infer: true });
    this.maxBodyBytes = config.get('upstreamMaxBodyBytes', { infer: true });
    this.peersPool = peers.createDispatcher(config.get('upstreamConnections', { infer: true }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.peersPool.destroy();
  }

  /**
   * `{any method} /relay/{operation}/{identifier}[/{rest}]`: to the peer's module endpoint.
   * `call` is the `{operation}` of the path and who asks, `cached` its target as resolved.
   */
  async toModule(
    request: IncomingMessage,
    response: ServerResponse,
    call: OperationRequest,
    cached: RelayTarget,
  ): Promise<void> {
    // A push with `Prefer: respond-async`: stored and forwarded (DESIGN 9.3), answered 202.
    if (this.outbox.accepts(request)) return this.outbox.store(request, response, call, cached);
    const url = request.url ?? '';
    const asked = segmentOf(url, RELAY_PATH_DEPTH);
    const tail = checkedTail(url, RELAY_PATH_DEPTH);
    const [target, base] = await this.settled(call, cached, ({ operation, token }) => {
      const bases = this.basesOf(peerEndpoints(operation, token));
      const found = bases.find((b) => b.module === asked);
      if (found) return found;
      throw new NotFoundError(
        `The peer of ${formatOperatorId(operation)} offers no module ${asked}; it offers: ${operation.connection.peerEndpoints.map((e) => e.identifier).join(', ')}`,
      );
    });
    await this.send(request, response, call.ref, target, base, tail);
  }

  /**
   * `POST /relay/{operation}/url` with `X-OCPI-Target-URL`: to a URL the peer handed out in a
   * message, only on the origin of one of the peer's endpoints (not anywhere a caller names).
   */
  async toUrl(
    request: IncomingMessage,
    response: ServerResponse,
    call: OperationRequest,
    cached: RelayTarget,
  ): Promise<void> {
    const given = request.headers[TARGET_URL_HEADER];
    let url: URL | undefined;
    try {
      url = typeof given === 'string' ? new URL(given) : undefined;
    } catch {
      url = undefined;
    }
    const [target, allowed] = await this.settled(call, cached, ({ operation, token }) => {
      const origins = new Set(peerEndpoints(operation, token).map((e) => originOf(e.url)));
      if (url && origins.has(url.origin)) return url;
      throw new InvalidRequestError([
        {
          field: 'X-OCPI-Target-URL',
          message: `must be an absolute URL on the origin of one of the peer's endpoints (${[...origins].join(', ')})`,
        },
      ]);
    });
    await this.send(
      request,
      response,
      call.ref,
      target,
      this.peerBase('url', allowed.origin),
      `${allowed.pathname}${allowed.search}`,
    );
  }

  /** `url` (trailing slashes cut) checked against the rules for peer URLs, and parsed if allowed. */
  private peerBase(module: string, url: string): PeerBase {
    const base = { module, url: trimBase(url) };
    const problem = this.peers.urlProblem(base.url);
    return problem ? { ...base, problem } : { ...base, far: farBase(base.url) };
  }

  private basesOf(endpoints: EndpointDto[]): PeerBase[] {
    let bases = this.bases.get(endpoints);
    if (!bases) {
      bases = endpoints
        .map(({ identifier, url }) => this.peerBase(identifier, url))
        // Longest first: a peer endpoint under another is the more precise match of a `Link`.
        .sort((a, b) => b.url.length - a.url.length);
      this.bases.set(endpoints, bases);
    }
    return bases;
  }

  /**
   * What `check` makes of the target. A refusal on what this replica's cache held is given only
   * on what the database says now (a registration or new endpoints committed a moment ago may
   * not be heard yet), as the OCPI token guard does.
   */
  private async settled<T>(
    call: OperationRequest,
    target: RelayTarget,
    check: (target: RelayTarget) => T,
  ): Promise<[RelayTarget, T]> {
    try {
      return [target, check(target)];
    } catch (error) {
      if (!target.cached || !(error instanceof DomainError && error.refusal)) throw error;
      const fresh = await this.targets.resolveFor(call, { fresh: true });
      return [fresh, check(fresh)];
    }
  }

  private async send(
    request: IncomingMessage,
    response: ServerResponse,
    ref: string,
    { operation, token }: RelayTarget,
    { module, url: baseUrl, problem, far }: PeerBase,
    tail: string,
  ): Promise<void> {
    const url = `${baseUrl}${tail}`;
    if (!far) throw this.failure(`The peer's URL ${url} is refused: it ${problem}`);
    const bases = this.basesOf(operation.connection.peerEndpoints);
    const relayBase = `${this.publicUrl}/relay/${encodeURIComponent(ref)}`;
    const toRelay = (link: string) => {
      for (const base of bases) {
        const rebased = rebase(link, base.url, `${relayBase}/${base.module}`);
        if (rebased !== undefined) return rebased;
      }
      return undefined;
    };
    await forwardCounted(
      request,
      response,
      {
        dispatcher: this.peersPool,
        ...under(far, tail),
        headers: {
          // OCPI 2.1.1 sends the token as is (2.2 added Base64).
          authorization: `Token ${token}`,
          // A new id for the peer: this request's own (its answer's X-Request-Id, so that both
          // sides log the one id) unless the caller gave it, then another.
          'x-request-id':
            request.headers['x-request-id'] === undefined
              ? (requestIdOf(request) ?? randomUUID())
              : randomUUID(),
        },
        timeoutMs: this.timeoutMs,
        maxBodyBytes: this.maxBodyBytes,
      },
      toRelay,
      this.metrics.start('relay', module, request.method ?? 'GET'),
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
              requestFields(request),
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

/**
 * The registered peer's endpoints; 409 while the operation has no peer, or no token we may present
 * to it (its row edited by hand).
 */
function peerEndpoints(operation: Operation, token: string | undefined): EndpointDto[] {
  if (operation.connection.status !== 'REGISTERED' || !token) throw notRegistered(operation);
  return operation.connection.peerEndpoints;
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

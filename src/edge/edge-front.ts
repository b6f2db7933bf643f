import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { setSecurityHeaders } from '../common/security-headers.js';
import { RequestLogging } from '../logging/logging.module.js';
import { HttpMetricsMiddleware } from '../metrics/http-metrics.middleware.js';
import { errorAnswer } from '../ocpi/exception.filter.js';
import { OCPI_VERSION } from '../ocpi/version.js';
import { OcpiTokenCheck } from '../tokens/ocpi-token-check.js';
import { ModuleGateway } from './module-gateway.js';
import { Relay } from './relay.js';
import { RelayAuthGuard } from './relay.controller.js';
import { RelayTargets } from './relay-targets.js';

/** The methods OCPI 2.1.1 modules use; the edge's controllers serve any other (HEAD). */
const FRONT_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** `/ocpi/{cc}/{pid}/2.1.1/{module}[/…]`, credentials excepted (isEdgePath's rule). */
const GATEWAY_PATH = new RegExp(
  `^/ocpi/([^/?]+)/([^/?]+)/${OCPI_VERSION.replace(/\./g, '\\.')}/(?!credentials/?(?:\\?|$))[^/?]`,
  'i',
);
/** `/relay/{operation}/{identifier}[/…]`; `url` (then only a trailing slash) is the URL form. */
const RELAY_PATH = /^\/relay\/([^/?]+)\/(?:(url\/?(?:\?|$))|[^/?])/i;

/** The route templates the edge's answers are counted under (http_requests_total). */
const ROUTES = {
  gateway: `/ocpi/:countryCode/:partyId/${OCPI_VERSION}/*path`,
  relay: '/relay/:operation/*path',
  relayUrl: '/relay/:operation/url',
} as const;

type EdgeRoute =
  | { kind: 'gateway'; countryCode: string; partyId: string }
  | { kind: 'relay' | 'relayUrl'; operation: string };

/**
 * The edge's calls (DESIGN 9.1, 9.2), served ahead of Express and Nest's router: each call
 * through the gateway or the relay is a token check and a forward, and Express's and Nest's
 * pipeline around them cost more than both (issue 15's profile: the gateway at 412 µs of CPU per
 * request against 100 µs for a bare proxy, Express and Nest taking 140 µs of a route with nothing
 * on it). It shares what Nest's routes have: the request log and ids (RequestLogging), the HTTP
 * metrics, the security headers, the same token checks (OcpiTokenCheck, the relay's guard) and
 * the same error answers (errorAnswer). The controllers still declare these routes, for the API
 * document and for the methods it leaves to them.
 */
@Injectable()
export class EdgeFront {
  /** Express's `trust proxy` rule, for the caller's address when the limiter needs it. */
  private clientAddressOf: (request: IncomingMessage) => string | undefined = (request) =>
    request.socket.remoteAddress;

  constructor(
    private readonly logging: RequestLogging,
    private readonly timing: HttpMetricsMiddleware,
    private readonly ocpiTokens: OcpiTokenCheck,
    private readonly gateway: ModuleGateway,
    private readonly relayAuth: RelayAuthGuard,
    private readonly targets: RelayTargets,
    private readonly relay: Relay,
  ) {}

  /** The caller's address as Express gives it (`request.ip`), behind trusted proxies. */
  useClientAddress(clientAddressOf: (request: IncomingMessage) => string | undefined): void {
    this.clientAddressOf = clientAddressOf;
  }

  /** Serves `request` if it is the edge's and answers true; false leaves it to Express. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): boolean => {
    const route = edgeRouteOf(request);
    if (!route) return false;
    this.logging.use(request, response, () => {
      this.timing.time(request.method ?? 'GET', response, () => ROUTES[route.kind]);
      setSecurityHeaders(response);
      this.serve(route, request, response).catch((error: unknown) =>
        this.answerError(error, request, response),
      );
    });
    return true;
  };

  private async serve(
    route: EdgeRoute,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const clientAddress = () => this.clientAddressOf(request);
    const authorization = request.headers.authorization;
    if (route.kind === 'gateway') {
      const auth = await this.ocpiTokens.check('module', {
        ...route,
        authorization,
        clientAddress,
      });
      return this.gateway.forward(request, response, auth);
    }
    await this.relayAuth.check(authorization, clientAddress);
    const target = await this.targets.resolve(route.operation);
    return route.kind === 'relayUrl'
      ? this.relay.toUrl(request, response, route.operation, target)
      : this.relay.toModule(request, response, route.operation, target);
  }

  /** As Nest's exception filter answers; once the answer has begun, it can only be cut short. */
  private answerError(error: unknown, request: IncomingMessage, response: ServerResponse): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const answer = errorAnswer(
      error,
      request.method ?? 'GET',
      queryAt < 0 ? url : url.slice(0, queryAt),
    );
    const body = JSON.stringify(answer.body);
    response.writeHead(answer.status, {
      ...answer.headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
  }
}

/** Which of the edge's routes `request` is for, with its path parameters, if any. */
function edgeRouteOf(request: IncomingMessage): EdgeRoute | undefined {
  const { method, url } = request;
  if (!url || !method || !FRONT_METHODS.has(method)) return undefined;
  const gateway = GATEWAY_PATH.exec(url);
  if (gateway) {
    return { kind: 'gateway', countryCode: decoded(gateway[1]), partyId: decoded(gateway[2]) };
  }
  const relay = RELAY_PATH.exec(url);
  if (!relay) return undefined;
  const operation = decoded(relay[1]);
  return { kind: relay[2] !== undefined && method === 'POST' ? 'relayUrl' : 'relay', operation };
}

/** A path parameter as Express gives it: percent-decoded (as sent when it does not decode). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { decodedSegment } from '../common/path-segment.js';
import { setSecurityHeaders } from '../common/security-headers.js';
import { RequestLogging } from '../logging/logging.module.js';
import { HttpMetricsMiddleware } from '../metrics/http-metrics.middleware.js';
import { errorAnswer } from '../ocpi/exception.filter.js';

/** A call the front serves: the request, its answer, and its path parameters. */
export interface FrontCall {
  request: IncomingMessage;
  response: ServerResponse;
  params: Readonly<Record<string, string>>;
  /** The caller's address as Express gives it (`request.ip`): for the failure limit only. */
  clientAddress: () => string | undefined;
}

/** A route served ahead of Express: its methods, its path, and what serves it. */
export interface FrontRoute {
  methods: ReadonlySet<string>;
  /**
   * Matched against the raw URL (path and query), case-insensitively as Express matches; its
   * named groups are the path parameters, percent-decoded.
   */
  path: RegExp;
  /** The template it is counted under in http_requests_total, as Nest's routes are. */
  template: string;
  serve(call: FrontCall): Promise<void>;
}

/**
 * The few routes whose traffic is the peer's and the CPO systems' (OCPI versions, the edge),
 * served on the HTTP server ahead of Express and Nest's router, whose pipeline cost more than what
 * these routes do: the gateway took 412 µs of CPU per request against 100 µs for a bare proxy,
 * and a Nest route with nothing on it 140 µs more than a bare node:http one (npm run bench; the
 * profile in issue 15's note). The front shares with Nest's routes what every answer has: the
 * request log and ids (RequestLogging), the HTTP metrics, the security headers, and the error
 * answers (errorAnswer); each route runs the same checks as its Nest twin. The modules that own
 * the routes add them ({@link add}); their controllers still declare them, for the API document
 * and for the methods the front leaves to them (HEAD).
 */
@Injectable()
export class Front {
  private readonly routes: FrontRoute[] = [];
  private clientAddressOf: (request: IncomingMessage) => string | undefined = (request) =>
    request.socket.remoteAddress;

  constructor(
    private readonly logging: RequestLogging,
    private readonly timing: HttpMetricsMiddleware,
  ) {}

  /** Serves `route` from now on; routes are tried in the order added. */
  add(route: FrontRoute): void {
    this.routes.push(route);
  }

  /** How to find the caller's address (Express's `trust proxy` rule, from app.setup.ts). */
  useClientAddress(clientAddressOf: (request: IncomingMessage) => string | undefined): void {
    this.clientAddressOf = clientAddressOf;
  }

  /** Serves `request` if one of the routes is for it and answers true; false leaves it to Express. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): boolean => {
    const { method, url } = request;
    if (!method || !url) return false;
    for (const route of this.routes) {
      if (!route.methods.has(method)) continue;
      const match = route.path.exec(url);
      if (!match) continue;
      this.logging.use(request, response, () => this.serve(route, match, request, response));
      return true;
    }
    return false;
  };

  private serve(
    route: FrontRoute,
    match: RegExpExecArray,
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    this.timing.time(request.method!, response, () => route.template);
    setSecurityHeaders(response);
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(match.groups ?? {})) {
      if (value !== undefined) params[name] = decodedSegment(value);
    }
    const clientAddress = () => this.clientAddressOf(request);
    route
      .serve({ request, response, params, clientAddress })
      .catch((error: unknown) => answerError(error, request, response));
  }
}

/** A JSON answer, as Express's `response.json` sends it. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
  });
  response.end(json);
}

/** As Nest's exception filter answers; once an answer has begun, it can only be cut short. */
function answerError(error: unknown, request: IncomingMessage, response: ServerResponse): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const url = request.url ?? '/';
  const queryAt = url.indexOf('?');
  const answer = errorAnswer(error, request, queryAt < 0 ? url : url.slice(0, queryAt));
  for (const [name, value] of Object.entries(answer.headers)) response.setHeader(name, value);
  sendJson(response, answer.status, answer.body);
}

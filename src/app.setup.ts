import { UnsupportedMediaTypeException, type INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import { json, type Application, type NextFunction, type Request, type Response } from 'express';
import proxyaddr from 'proxy-addr';
import { ConfigService } from '@nestjs/config';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from './logging/logger.js';
import { RequestLogging } from './logging/logging.module.js';
import { ADMIN_AUTH_SCHEME } from './auth/admin-auth.guard.js';
import { setSecurityHeaders } from './common/security-headers.js';
import { isEdgePath } from './edge/edge-paths.js';
import { Front } from './front/front.js';
import { RELAY_AUTH_SCHEME } from './edge/relay.controller.js';
import { OCPI_AUTH_SCHEME } from './tokens/ocpi-token.guard.js';
import type { AppConfig } from './config/app-config.js';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware.js';

export const DOCS_PATH = 'docs';

/**
 * How long a client may take, so that slow or idle clients cannot hold connections for minutes
 * (Node's defaults: 60 s for headers, 300 s for a request): the headers must arrive within
 * 10 s, the whole request within 30 s (a body trickling in is cut then, with 408), and a
 * keep-alive connection idle for 5 s is closed. Checked every second rather than Node's 30 s.
 */
export const CLIENT_LIMITS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
} as const;

/** A handler served ahead of Express: true when it took the request. */
type FrontHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * Express under an HTTP server with {@link CLIENT_LIMITS}, at most `maxConnections` open at once,
 * and a front handler that may take requests before Express sees them (see
 * src/front/front.ts); main.ts and the tests create the app with it.
 */
class FrontedExpressAdapter extends ExpressAdapter {
  private front?: FrontHandler;

  constructor(private readonly maxConnections: number) {
    super();
  }

  mountAhead(front: FrontHandler): void {
    this.front = front;
  }

  override initHttpServer(): void {
    const express = this.getInstance<RequestListener>();
    const server = createServer(CLIENT_LIMITS, (request, response) => {
      if (!this.front?.(request, response)) express(request, response);
    });
    server.maxConnections = this.maxConnections;
    this.setHttpServer(server);
  }
}

export function httpAdapter({ maxConnections }: Pick<AppConfig, 'maxConnections'>): ExpressAdapter {
  return new FrontedExpressAdapter(maxConnections);
}

/**
 * What the app needs beyond its modules; main.ts and the tests both call this. The app must be
 * created with `bodyParser: false`: JSON is the only body OCPI and the admin API take, so no
 * form or text parser is registered and any other body reads as missing.
 */
export function configureApp(app: NestExpressApplication): INestApplication {
  app.useLogger(app.get(Logger));
  app.set(
    'trust proxy',
    app.get(ConfigService<AppConfig, true>).get('trustProxy', { infer: true }),
  );
  // First: every answer has its request id and log line, those to bodies refused too.
  app.use(app.get(RequestLogging).use);
  // Timed from before the body is read, so that answers to bodies too large or not JSON count too.
  const timing = app.get(HttpMetricsMiddleware);
  app.use(timing.use.bind(timing));
  app.use(jsonBodies());
  mountFront(app);
  app.disable('x-powered-by');
  // No answer of the API is for a cache (setSecurityHeaders): an ETag would only invite keeping.
  app.set('etag', false);
  app.use(securityHeaders);
  // Built on the first visit of the docs, not on the way to listening (70-90 ms of a start).
  const document = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('OCPI connection service')
        .setDescription(
          'Hosts the OCPI 2.1.1 connection of every eMI3 operation of a CPO with its roaming hub ' +
            "(GIREVE's IOP). The admin API manages the operations; authorize with the admin token.",
        )
        .setVersion('1')
        .addBearerAuth(
          {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'opaque',
            description: 'ADMIN_TOKEN, or an API key (ocpik_…) with the scope each route names',
          },
          ADMIN_AUTH_SCHEME,
        )
        .addBearerAuth(
          {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'opaque',
            description: 'RELAY_TOKEN, or an API key with scope relay',
          },
          RELAY_AUTH_SCHEME,
        )
        .addApiKey(
          {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'OCPI 2.1.1 token, as `Token {token}` (the word Token included; no Base64)',
          },
          OCPI_AUTH_SCHEME,
        )
        .build(),
    );
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}-json` });
  return app;
}

/**
 * The front's routes are served ahead of Express (src/front/front.ts), with the caller's address
 * as Express gives it behind trusted proxies (`trust proxy`).
 */
function mountFront(app: NestExpressApplication): void {
  const adapter = app.getHttpAdapter();
  if (!(adapter instanceof FrontedExpressAdapter)) {
    throw new Error(
      'Create the app with httpAdapter(config): some routes are served ahead of Express',
    );
  }
  const front = app.get(Front);
  const trust = adapter.getInstance<Application>().get('trust proxy fn') as (
    address: string,
    hop: number,
  ) => boolean;
  front.useClientAddress((request) => proxyaddr(request, trust));
  adapter.mountAhead(front.handle);
}

/** Every answer's security headers; Swagger UI's static files alone may be kept by a cache. */
function securityHeaders(request: Request, response: Response, next: NextFunction): void {
  setSecurityHeaders(response, { noStore: !request.path.startsWith(`/${DOCS_PATH}/`) });
  next();
}

/**
 * Reads JSON bodies of up to 100 kB. A body in anything but JSON (a form, text) is refused as
 * such, rather than read as missing and answered with an error for every field. The edge's
 * routes are left alone: their bodies stream through, whatever their type.
 */
function jsonBodies(): (request: Request, response: Response, next: NextFunction) => void {
  const parse = json({ limit: '100kb' });
  return (request, response, next) => {
    if (isEdgePath(request.path)) return next();
    const hasBody =
      request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody && !request.is('application/json')) {
      return next(
        new UnsupportedMediaTypeException(
          'Send the body as JSON, with the header Content-Type: application/json',
        ),
      );
    }
    parse(request, response, next);
  };
}

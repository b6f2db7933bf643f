import { UnsupportedMediaTypeException, type INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { createServer, type RequestListener } from 'node:http';
import { json, type NextFunction, type Request, type Response } from 'express';
import { ConfigService } from '@nestjs/config';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from './logging/logger.js';
import { RequestLogging } from './logging/logging.module.js';
import { ADMIN_AUTH_SCHEME } from './auth/admin-auth.guard.js';
import { isEdgePath } from './edge/edge-paths.js';
import { RELAY_AUTH_SCHEME } from './edge/relay.controller.js';
import { OCPI_AUTH_SCHEME } from './tokens/ocpi-token.guard.js';
import type { AppConfig } from './config/app-config.js';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware.js';

export const DOCS_PATH = 'docs';

/**
 * helmet's default Content-Security-Policy, loosened only as far as Swagger UI needs: its page
 * styles itself inline and shows the validator badge and images as data: URLs.
 */
const SWAGGER_UI_CSP = {
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
};

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

/**
 * Express under an HTTP server with {@link CLIENT_LIMITS} and at most `maxConnections` open at
 * once; main.ts and the tests create the app with it.
 */
export function httpAdapter({ maxConnections }: Pick<AppConfig, 'maxConnections'>): ExpressAdapter {
  return new (class extends ExpressAdapter {
    override initHttpServer(): void {
      const server = createServer(CLIENT_LIMITS, this.getInstance<RequestListener>());
      server.maxConnections = maxConnections;
      this.setHttpServer(server);
    }
  })();
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
  app.disable('x-powered-by');
  // No answer of the API is for a cache: several carry a token (our credentials, a token A, the
  // peer token), and an ETag would only invite keeping them.
  app.set('etag', false);
  app.use(helmet({ contentSecurityPolicy: { directives: SWAGGER_UI_CSP } }), noStore);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('OCPI connection service')
      .setDescription(
        'Hosts the OCPI 2.1.1 connection of every eMI3 operation of a CPO with its roaming hub ' +
          "(GIREVE's IOP). The admin API manages the operations; authorize with the admin token.",
      )
      .setVersion('1')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'ADMIN_TOKEN' },
        ADMIN_AUTH_SCHEME,
      )
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'RELAY_TOKEN' },
        RELAY_AUTH_SCHEME,
      )
      .addApiKey(
        {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'OCPI 2.1.1 token, as `Token {token}` (the word Token included; no Base64)',
        },
        OCPI_AUTH_SCHEME,
      )
      .build(),
  );
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}-json` });
  return app;
}

/** Every answer but Swagger UI's static files: not to be stored by any cache. */
function noStore(request: Request, response: Response, next: NextFunction): void {
  if (!request.path.startsWith(`/${DOCS_PATH}/`)) response.setHeader('Cache-Control', 'no-store');
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

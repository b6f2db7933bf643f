import { UnsupportedMediaTypeException, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { ConfigService } from '@nestjs/config';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from './logging/logger.js';
import { ADMIN_AUTH_SCHEME } from './auth/admin-auth.guard.js';
import { OCPI_AUTH_SCHEME } from './tokens/ocpi-token.guard.js';
import type { AppConfig } from './config/app-config.js';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware.js';

export const DOCS_PATH = 'docs';

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
  // Timed from before the body is read, so that answers to bodies too large or not JSON count too.
  const timing = app.get(HttpMetricsMiddleware);
  app.use(timing.use.bind(timing));
  app.useBodyParser('json', { limit: '100kb' });
  app.use(jsonBodiesOnly);
  app.disable('x-powered-by');
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

/**
 * A body in anything but JSON (a form, text) is refused as such, rather than read as missing and
 * answered with an error for every field.
 */
function jsonBodiesOnly(request: Request, _response: Response, next: NextFunction): void {
  const hasBody =
    request.headers['transfer-encoding'] !== undefined ||
    Number(request.headers['content-length'] ?? 0) > 0;
  if (hasBody && !request.is('application/json')) {
    next(
      new UnsupportedMediaTypeException(
        'Send the body as JSON, with the header Content-Type: application/json',
      ),
    );
    return;
  }
  next();
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Inject,
  Module,
  RequestMethod,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { AppConfig } from '../config/app-config.js';
import { HTTP_LOGGER, Logger, requestLogger } from './logger.js';

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Keeps a caller's X-Request-Id when it is sane, so that logs can be joined across systems. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function createHttpLogger(config: ConfigService<AppConfig, true>): HttpLogger {
  // `never`: no custom levels (TypeScript would take the two levels below as custom ones).
  return pinoHttp<IncomingMessage, ServerResponse, never>(
    {
      level: config.get('logLevel', { infer: true }),
      genReqId: (request, response) => {
        const id = requestId(request);
        response.setHeader('X-Request-Id', id);
        return id;
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        remove: true,
      },
      customLogLevel: (_request, response, error) =>
        error || response.statusCode >= 500 ? 'error' : 'info',
    },
    config.get('logDestination', { infer: true }),
  );
}

/**
 * JSON logs (pino), one line per request with its id. Tokens travel in the Authorization header: it
 * is removed from every log line, whatever the level. They go to standard output, or to the
 * config's `logDestination` when the app is embedded with one. `Logger` is the Nest logger on the
 * same stream (app.setup.ts installs it).
 *
 * Our own few lines rather than nestjs-pino: every nestjs-pino release for Nest 12 requires
 * Node 22.12 or newer, and the service supports Node 20.
 */
@Module({
  providers: [
    { provide: HTTP_LOGGER, inject: [ConfigService], useFactory: createHttpLogger },
    Logger,
  ],
  exports: [Logger],
})
export class LoggingModule implements NestModule {
  constructor(@Inject(HTTP_LOGGER) private readonly http: HttpLogger) {}

  /** Every route, after the middleware app.setup.ts installs (metrics timing, JSON body). */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((request: IncomingMessage, response: ServerResponse, next: () => void) => {
        this.http(request, response);
        requestLogger.run(request.log, next);
      })
      .forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }
}

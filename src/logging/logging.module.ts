import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import type { AppConfig } from '../config/app-config.js';

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Keeps a caller's X-Request-Id when it is sane, so that logs can be joined across systems. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * JSON logs, one line per request with its id. Tokens travel in the Authorization header: it is
 * removed from every log line, whatever the level. They go to standard output, or to the
 * config's `logDestination` when the app is embedded with one.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const options: PinoHttpOptions = {
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
        };
        const destination = config.get('logDestination', { infer: true });
        return { pinoHttp: destination ? [options, destination] : options };
      },
    }),
  ],
})
export class LoggingModule {}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { pino, type Logger as Pino } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { BASE_LOGGER, givenIdOrNew, Logger } from './logger.js';

function createBaseLogger(config: ConfigService<AppConfig, true>): Pino {
  const destination = config.get('logDestination', { infer: true });
  const options = { level: config.get('logLevel', { infer: true }) };
  // Standard output written asynchronously: the lines of a busy second go out in a few writes
  // rather than one system call each; pino writes what is pending when the process exits.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}

/**
 * What a log line tells of a request: who asked what, and the ids that join it with the other
 * systems' logs; no header else (never a secret one). Every header on every line cost a quarter
 * of the CPU of a call through the gateway (537 -> 412 µs, npm run bench).
 */
function serializeRequest(request: IncomingMessage, id: string): object {
  return {
    id,
    method: request.method,
    url: request.url,
    remoteAddress: request.socket?.remoteAddress,
  };
}

interface ServedRequest {
  request: IncomingMessage;
  id: string;
  started: number;
}

/** The ids RequestLogging gave the requests it saw (the X-Request-Id of their answers). */
const requestIds = new WeakMap<IncomingMessage, string>();

/** The id of `request`: the caller's X-Request-Id when sane, else a new one; its answer's. */
export function requestIdOf(request: IncomingMessage): string | undefined {
  return requestIds.get(request);
}

/**
 * What binds a log line to `request`, as its own line (`request completed`) names it; nothing for
 * a request the request log has not seen.
 */
export function requestFields(request: IncomingMessage): { req?: object } {
  const id = requestIds.get(request);
  return id === undefined ? {} : { req: serializeRequest(request, id) };
}

/**
 * One JSON line per request, when its answer is sent or the caller hangs up: the request (id,
 * method, URL, address), its status, time and correlation id. Also the request id
 * (X-Request-Id), which {@link requestIdOf} and {@link requestFields} give the code serving it.
 *
 * No AsyncLocalStorage to hand the request to the code that serves it: on Node 20 it runs a hook
 * at every promise the process makes, once any store was entered, and cost 15% of the CPU of a
 * call through the relay and of a cached GET versions (npm run bench, issue 15's note). The code
 * that logs about a request holds it, and says so (requestFields); the other lines name what they
 * are about (the operation, the key, the delivery).
 *
 * In the place of pino-http, which on every request serialized the request (through redaction)
 * into a child logger before anything was known to be logged, and every answer header after:
 * a fifth of the CPU time of a cached GET versions (npm run bench).
 */
@Injectable()
export class RequestLogging {
  constructor(private readonly base: Pino) {}

  /** Express/Connect middleware: app.setup.ts mounts it first. */
  readonly use = (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    const id = givenIdOrNew(request.headers['x-request-id']);
    response.setHeader('X-Request-Id', id);
    requestIds.set(request, id);
    const served = { request, id, started: Date.now() };
    response.once('close', () => this.completed(served, response));
    next();
  };

  private completed(served: ServedRequest, response: ServerResponse): void {
    const error = response.statusCode >= 500;
    const level = error ? 'error' : 'info';
    if (!this.base.isLevelEnabled(level)) return;
    this.base[level](
      {
        req: serializeRequest(served.request, served.id),
        res: { statusCode: response.statusCode },
        // The edge's answers carry the id of the exchange across systems (DESIGN 9).
        ...(response.hasHeader('x-correlation-id') && {
          correlationId: response.getHeader('x-correlation-id'),
        }),
        responseTime: Date.now() - served.started,
        ...(response.writableFinished ? {} : { aborted: true }),
      },
      error ? 'request errored' : 'request completed',
    );
  }
}

/**
 * JSON logs (pino), one line per request with its id. Tokens travel in the Authorization header: it
 * is in no log line, whatever the level. They go to standard output, or to the config's
 * `logDestination` when the app is embedded with one. `Logger` is the Nest logger on the same
 * stream, `RequestLogging` the request log and ids (app.setup.ts installs both).
 *
 * Our own few lines rather than nestjs-pino: every nestjs-pino release for Nest 12 requires
 * Node 22.12 or newer, and the service supports Node 20.
 */
@Module({
  providers: [
    { provide: BASE_LOGGER, inject: [ConfigService], useFactory: createBaseLogger },
    {
      provide: RequestLogging,
      inject: [BASE_LOGGER],
      useFactory: (base: Pino) => new RequestLogging(base),
    },
    Logger,
  ],
  exports: [Logger, RequestLogging],
})
export class LoggingModule {}

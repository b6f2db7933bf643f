import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { Level, Logger as Pino } from 'pino';
import type { HttpLogger } from 'pino-http';

/** The pino-http instance of the app: its request logger, and the `logger` under it. */
export const HTTP_LOGGER = Symbol('HTTP_LOGGER');

/**
 * The logger of the request being served (pino-http's `req.log`, which carries the request and its
 * id), for the code that runs on its behalf; set by LoggingModule's middleware.
 */
export const requestLogger = new AsyncLocalStorage<Pino>();

const STACK = /\n\s*at /;

/**
 * Nest's LoggerService on the app's pino instance (`app.useLogger(app.get(Logger))`), so that
 * Nest's own messages and every `new Logger('Context')` of the code are JSON lines of the same
 * stream as the request lines, with `context` set, and carry the request when logged while
 * serving one.
 */
@Injectable()
export class Logger implements LoggerService {
  constructor(@Inject(HTTP_LOGGER) private readonly http: HttpLogger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const fields: Record<string, unknown> = {};
    // Nest's Logger passes the context (the name in `new Logger(name)`) last.
    if (params.length > 0) fields.context = params.pop();
    if (message instanceof Error) fields.err = message;
    else if (typeof message === 'object' && message !== null) Object.assign(fields, message);
    else if (level === 'error' && params.length === 1 && STACK.test(String(params[0]))) {
      // Nest's exception handlers call error(message, stack).
      fields.err = Object.assign(new Error(String(message)), { stack: params.pop() });
    } else params.unshift(String(message));
    // What is left is pino's message and its format arguments.
    const [text, ...args] = params as [string?, ...unknown[]];
    (requestLogger.getStore() ?? this.http.logger)[level](fields, text, ...args);
  }
}

/** The id of the request being served (the caller's X-Request-Id when sane, else a new one). */
export function requestIdOf(request: IncomingMessage): string {
  // LoggingModule's genReqId makes every id a string.
  return request.id as string;
}

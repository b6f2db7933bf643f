import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { Level, Logger as Pino } from 'pino';

/** The pino instance of the app: every line, the request lines and the code's, goes through it. */
export const BASE_LOGGER = Symbol('BASE_LOGGER');

const STACK = /\n\s*at /;

/**
 * Nest's LoggerService on the app's pino instance (`app.useLogger(app.get(Logger))`), so that
 * Nest's own messages and every `new Logger('Context')` of the code are JSON lines of the same
 * stream as the request lines, with `context` set. A line about a request names it when the code
 * holds the request: `logger.warn(requestFields(request), text)` (logging.module.ts).
 */
@Injectable()
export class Logger implements LoggerService {
  constructor(@Inject(BASE_LOGGER) private readonly base: Pino) {}

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
    this.base[level](fields, text, ...args);
  }
}

const SANE_ID = /^[\w.:-]{1,64}$/;

/**
 * An id a caller sent (X-Request-Id, X-Correlation-ID) when it is sane to log and pass on, else a
 * new one: so that logs can be joined across systems, and nothing odd is echoed.
 */
export function givenIdOrNew(given: string | string[] | undefined): string {
  return typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
}

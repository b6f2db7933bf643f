import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { Level, Logger as Pino } from 'pino';

/** The pino instance of the app, under every request's logger. */
export const BASE_LOGGER = Symbol('BASE_LOGGER');

/** The request being served, as the code running on its behalf sees it. */
export interface RequestLog {
  /** The request's id: the caller's X-Request-Id when sane, else a new one. */
  readonly id: string;
  /** A logger whose lines carry the request and its id. */
  readonly logger: Pino;
}

/** The request being served, for the code that runs on its behalf; set by RequestLogging. */
export const requestLogger = new AsyncLocalStorage<RequestLog>();

const STACK = /\n\s*at /;

/**
 * Nest's LoggerService on the app's pino instance (`app.useLogger(app.get(Logger))`), so that
 * Nest's own messages and every `new Logger('Context')` of the code are JSON lines of the same
 * stream as the request lines, with `context` set, and carry the request when logged while
 * serving one.
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
    (requestLogger.getStore()?.logger ?? this.base)[level](fields, text, ...args);
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

/** The id of the request being served, as its answer's X-Request-Id gives it. */
export function currentRequestId(): string | undefined {
  return requestLogger.getStore()?.id;
}

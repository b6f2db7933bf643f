import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Dispatcher } from 'undici';
import { errors } from 'undici';
import { PayloadTooLargeError, type DomainError } from '../common/errors.js';
import { givenIdOrNew } from '../logging/logger.js';
import type { EdgeOutcome } from './edge-metrics.js';

/** Headers of one connection, never forwarded (RFC 9110 section 7.6.1), plus those we own. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // The ids of the exchange are ours to answer with (the same the far side was given).
  'x-request-id',
  'x-correlation-id',
]);

/**
 * The request headers that cross the edge as sent: the body's type and OCPI routing headers, and
 * those named in `more` (a live exchange also passes Accept and Content-Length).
 */
export function passedRequestHeaders(
  headers: IncomingHttpHeaders,
  more: readonly string[] = [],
): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') continue;
    if (
      name === 'content-type' ||
      more.includes(name) ||
      name.startsWith('ocpi-to-') ||
      name.startsWith('ocpi-from-')
    ) {
      passed[name] = value;
    }
  }
  return passed;
}

/**
 * Rewrites the URLs of a `Link` header (OCPI pagination) that lie under `from` to lie under `to`,
 * so that the caller pages through the edge; other URLs are left alone.
 */
export function rewriteLinks(header: string, rewrite: (url: string) => string | undefined): string {
  return header.replace(/<([^>]*)>/g, (whole, url: string) => {
    const rewritten = rewrite(url);
    return rewritten === undefined ? whole : `<${rewritten}>`;
  });
}

/** `url` moved from under `from` (a base without trailing slash) to under `to`, if it is under it. */
export function rebase(url: string, from: string, to: string): string | undefined {
  if (!url.startsWith(from)) return undefined;
  const rest = url.slice(from.length);
  return rest === '' || rest.startsWith('/') || rest.startsWith('?') ? `${to}${rest}` : undefined;
}

/** A base URL without its trailing slashes, so that `{base}/{rest}` never doubles one. */
export function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}

/** A base URL as the requests under it need it: its origin, its path without trailing slashes. */
export interface FarBase {
  origin: string;
  prefix: string;
}

/** `base` parsed once for the many requests that go under it. */
export function farBase(base: string): FarBase {
  const url = new URL(base);
  return { origin: url.origin, prefix: trimBase(url.pathname) };
}

/**
 * Where a request goes: the origin of `base`, and its path with `tail` (path and query, as the
 * caller sent them) appended verbatim, not normalised.
 */
export function under(base: string | FarBase, tail: string): { origin: string; path: string } {
  const { origin, prefix } = typeof base === 'string' ? farBase(base) : base;
  const path = `${prefix}${tail}`;
  return { origin, path: path.startsWith('/') ? path : `/${path}` };
}

/**
 * The caller's hanging up, as undici takes an abort signal: an EventEmitter that emits `abort`.
 * An AbortController per call cost 3% of the gateway's CPU in the bench's profile (its EventTarget
 * and the DOMException of its reason).
 */
class HangUp extends EventEmitter {
  aborted = false;

  abort(): void {
    this.aborted = true;
    this.emit('abort');
  }
}

/** Counts a request body as it streams and fails it once past `max` bytes. */
class BodyLimit extends Transform {
  private size = 0;
  exceeded = false;

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.max) {
      this.exceeded = true;
      callback(new PayloadTooLargeError(`The request body is larger than ${this.max} bytes`));
      return;
    }
    callback(null, chunk);
  }
}

export interface ForwardTarget {
  dispatcher: Dispatcher;
  origin: string;
  path: string;
  /**
   * What the far side gets besides the caller's body headers, OCPI routing headers and the
   * exchange's X-Correlation-ID: its authorization, its X-Request-ID, who calls.
   */
  headers: Record<string, string>;
  /** Headers wait: past it, {@link ForwardFailure} `timeout`. The body's idle wait is the same. */
  timeoutMs: number;
  maxBodyBytes: number;
}

/**
 * Why a forward failed before any answer went back to the caller; `aborted`: the caller hung up
 * first, and there is no one left to answer.
 */
export type ForwardFailure = 'too_large' | 'timeout' | 'unreachable' | 'aborted';

/** What a caller who hung up is counted with (nginx's "client closed request"). */
const CALLER_GONE = 499;

class ForwardFailed extends Error {
  constructor(
    readonly reason: ForwardFailure,
    cause: unknown,
  ) {
    super(reason, { cause });
  }
}

/** What became of a forwarded exchange once answered: the far side's status, or a broken stream. */
interface Forwarded {
  status: number;
  /** The answer's body broke off (the far side or the caller went away) after its headers. */
  broken: boolean;
}

/**
 * Sends the caller's request on to `target` and streams the answer back as it comes: status,
 * headers less those of one connection (`Link` through `rewriteLink`), body with backpressure in
 * both directions, so that memory does not grow with the size of either body. A request body over
 * the limit (by its Content-Length at once, or as it streams) fails `too_large`; no answer
 * headers in time `timeout`; anything else before the answer `unreachable`. Once answer headers
 * are sent, a failure can only cut the answer short (`broken`).
 */
async function forward(
  request: IncomingMessage,
  response: ServerResponse,
  target: ForwardTarget,
  rewriteLink: (url: string) => string | undefined,
  correlation: string,
): Promise<Forwarded> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > target.maxBodyBytes) {
    throw new ForwardFailed('too_large', undefined);
  }
  const hasBody = request.headers['transfer-encoding'] !== undefined || declared > 0;
  const limit = hasBody ? new BodyLimit(target.maxBodyBytes) : undefined;
  const abort = new HangUp();
  // The caller hanging up before the answer is over ends the exchange with the far side too.
  const hangUp = () => {
    if (!response.writableFinished) abort.abort();
  };
  response.once('close', hangUp);
  let answer: Dispatcher.ResponseData;
  try {
    answer = await target.dispatcher.request({
      origin: target.origin,
      path: target.path,
      method: request.method as Dispatcher.HttpMethod,
      headers: {
        ...passedRequestHeaders(request.headers, ['accept', 'content-length']),
        ...target.headers,
        'x-correlation-id': correlation,
      },
      body: limit ? (request.pipe(limit) as Readable) : null,
      headersTimeout: target.timeoutMs,
      bodyTimeout: target.timeoutMs,
      signal: abort,
    });
  } catch (error) {
    response.off('close', hangUp);
    if (limit?.exceeded) throw new ForwardFailed('too_large', error);
    if (abort.aborted) throw new ForwardFailed('aborted', error);
    // No connection, or no answer headers, in time: silent either way.
    if (
      error instanceof errors.HeadersTimeoutError ||
      error instanceof errors.ConnectTimeoutError
    ) {
      throw new ForwardFailed('timeout', error);
    }
    throw new ForwardFailed('unreachable', error);
  }
  response.statusCode = answer.statusCode;
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined || NOT_FORWARDED.has(name)) continue;
    response.setHeader(
      name,
      name === 'link' ? [value].flat().map((v) => rewriteLinks(v, rewriteLink)) : value,
    );
  }
  try {
    const complete = await streamed(answer.body, response);
    return { status: answer.statusCode, broken: !complete };
  } finally {
    response.off('close', hangUp);
  }
}

/**
 * Pipes `body` into `response` with backpressure; true once all of it was handed to the caller's
 * socket, false if either side broke off first (then both are destroyed). What stream.pipeline
 * does for two streams, without the AbortController and DOMException it makes for every call
 * (3% of the gateway's CPU in the bench's profile).
 */
function streamed(body: Readable, response: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (complete: boolean) => {
      if (settled) return;
      settled = true;
      body.off('error', broken);
      response.off('finish', finished);
      response.off('close', closed);
      if (!complete) {
        body.destroy();
        response.destroy();
      }
      resolve(complete);
    };
    const broken = () => settle(false);
    const finished = () => settle(true);
    const closed = () => settle(response.writableFinished);
    body.once('error', broken);
    response.once('finish', finished);
    response.once('close', closed);
    body.pipe(response);
  });
}

/** A forward's failure before any answer, but the caller's hanging up: what to answer instead. */
export type ForwardRefusal = (
  reason: Exclude<ForwardFailure, 'aborted'>,
  cause: unknown,
) => DomainError;

const OUTCOME_OF = {
  too_large: 'too_large',
  timeout: 'timeout',
  unreachable: 'upstream_error',
} as const satisfies Record<Exclude<ForwardFailure, 'aborted'>, EdgeOutcome>;

/**
 * {@link forward}, under the exchange's X-Correlation-ID (the caller's when sane, else new; the
 * far side and the answer both carry it), counted once over (`count`, from
 * {@link EdgeMetrics.start}) and with its failures turned into the answer `refuse` gives (thrown,
 * for the exception filter to shape). A caller who hung up is counted and gets nothing.
 */
export async function forwardCounted(
  request: IncomingMessage,
  response: ServerResponse,
  target: ForwardTarget,
  rewriteLink: (url: string) => string | undefined,
  count: (status: number, outcome: EdgeOutcome) => void,
  refuse: ForwardRefusal,
): Promise<void> {
  const correlation = givenIdOrNew(request.headers['x-correlation-id']);
  response.setHeader('X-Correlation-ID', correlation);
  try {
    const { status, broken } = await forward(request, response, target, rewriteLink, correlation);
    count(status, broken ? 'broken' : 'ok');
  } catch (error) {
    if (!(error instanceof ForwardFailed)) throw error;
    if (error.reason === 'aborted') {
      count(CALLER_GONE, 'broken');
      return;
    }
    const refusal = refuse(error.reason, error.cause);
    count(refusal.status, OUTCOME_OF[error.reason]);
    throw refusal;
  }
}

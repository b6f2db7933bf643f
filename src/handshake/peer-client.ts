import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Agent, request as httpRequest } from 'undici';
import { PeerError, type HandshakeStep } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { OcpiStatus } from '../ocpi/envelope.js';
import type { HandshakeRecorder } from './handshake-recorder.js';
import { PeerAddressGuard, PeerAddressRefusedError } from './peer-address.js';
import { maskSecrets } from './secret-mask.js';

/** Sent on every call to a peer: firewalls in front of peer APIs may refuse a call without one. */
export const USER_AGENT = 'ocpi-gireve-connector (OCPI 2.1.1)';

/** Largest peer answer we read; a credentials handshake needs a few kilobytes. */
export const MAX_PEER_RESPONSE_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 3;

export interface PeerRequest {
  step: HandshakeStep;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** The token we present: sent as `Authorization: Token {token}`, as is (no Base64 in 2.1.1). */
  token: string;
  body?: unknown;
}

/** A peer URL is refused before any call when it breaks one of these rules. */
class RefusedUrl extends Error {}

/**
 * The one way out to peers. Every call: https only (unless ALLOW_INSECURE_PEER_URLS), hosts from
 * PEER_HOST_ALLOWLIST when set, no private address (unless ALLOW_PRIVATE_PEER_ADDRESSES or the
 * host is on the allow-list: see {@link PeerAddressGuard}), a timeout over the whole exchange,
 * redirects followed only on the same host, a cap on the answer's size, and the answer judged by
 * its OCPI envelope: anything but a 2xx carrying status_code 1000 is a failure (3001). Each call
 * is recorded as a handshake step.
 *
 * Every failure below HTTP (refused, reset, unreachable, DNS, TLS, no answer in time, not HTTP)
 * is told in one message, {@link NETWORK_FAILURE}, once the call's whole timeout has passed:
 * neither the words nor the time of the answer may tell a closed port from an open or a filtered
 * one, for whoever chose the URL. The cause itself goes to this service's log only.
 */
@Injectable()
export class PeerClient implements OnApplicationShutdown {
  private readonly logger = new Logger('PeerClient');
  private readonly allowInsecure: boolean;
  private readonly allowlist: string[];
  private readonly timeoutMs: number;
  private readonly guard: PeerAddressGuard;
  /** Every peer connection is made through it: its lookup checks the addresses connected to. */
  private readonly agent: Agent;

  constructor(
    config: ConfigService<AppConfig, true>,
    /** Tests only: an address check of their own (name resolution, refused ranges). */
    @Optional() guard?: PeerAddressGuard,
  ) {
    this.allowInsecure = config.get('allowInsecurePeerUrls', { infer: true });
    this.allowlist = config.get('peerHostAllowlist', { infer: true });
    this.timeoutMs = config.get('peerTimeoutMs', { infer: true });
    this.guard =
      guard ??
      new PeerAddressGuard({
        allowPrivate: config.get('allowPrivatePeerAddresses', { infer: true }),
        allowlist: this.allowlist,
      });
    this.agent = new Agent({ connect: { lookup: this.guard.lookup, timeout: this.timeoutMs } });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.destroy();
  }

  /**
   * A pool of its own for other traffic to peers (the relay), so that it never queues a handshake
   * behind it: at most `connections` per origin, each made through the same address check.
   */
  createDispatcher(connections: number): Agent {
    return new Agent({
      connections,
      connect: { lookup: this.guard.lookup, timeout: this.timeoutMs },
    });
  }

  /**
   * Calls the peer and returns the `data` of its success envelope; the call is added to
   * `recorder` (a handshake's, or a probe's, which keeps only the call).
   */
  async call(request: PeerRequest, recorder: Pick<HandshakeRecorder, 'add'>): Promise<unknown> {
    const started = performance.now();
    const record = { request: this.mask(request, `${request.method} ${shown(request.url)}`) };
    let httpStatus: number | null = null;
    let ocpiStatus: number | null = null;
    try {
      const response = await this.send(request);
      httpStatus = response.status;
      const envelope = parseEnvelope(response.text);
      ocpiStatus = envelope?.status_code ?? null;
      if (response.status < 200 || response.status > 299) {
        throw this.failure(request, `answered HTTP ${response.status}`, ocpiStatus);
      }
      if (!envelope)
        throw this.failure(request, 'answered something that is not an OCPI JSON envelope');
      if (envelope.status_code !== OcpiStatus.SUCCESS) {
        throw this.failure(
          request,
          `answered status_code ${envelope.status_code}` +
            (typeof envelope.status_message === 'string' ? ` (${envelope.status_message})` : ''),
          envelope.status_code,
        );
      }
      recorder.add({
        ...record,
        http_status: httpStatus,
        ocpi_status_code: ocpiStatus,
        duration_ms: since(started),
      });
      return envelope.data;
    } catch (error) {
      const refusal = addressRefusalIn(error);
      let failure: PeerError;
      if (error instanceof PeerError) {
        failure = error;
      } else if (error instanceof RefusedUrl) {
        failure = this.failure(request, error.message);
      } else if (refusal) {
        failure = this.failure(request, refusal);
      } else {
        this.logger.warn(
          this.mask(request, `${record.request} failed: ${describeNetworkError(error)}`),
        );
        failure = this.failure(request, NETWORK_FAILURE(this.timeoutMs));
        // The answer waits for the deadline a silent peer would have taken.
        await sleep(Math.max(0, started + this.timeoutMs - performance.now()));
      }
      recorder.add({
        ...record,
        http_status: httpStatus,
        ocpi_status_code: ocpiStatus,
        duration_ms: since(started),
        error: failure.message,
      });
      throw failure;
    }
  }

  /**
   * undici's `request`, not its `fetch`: a call cost half the CPU (140 against 283 µs, a local
   * peer answering a versions list), and nothing of fetch's is wanted here (redirects are judged
   * below, no compression is asked for, the body is read capped).
   */
  private async send(request: PeerRequest): Promise<{ status: number; text: string }> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let url = this.checkUrl(request.url);
    for (let redirects = 0; ; redirects++) {
      const response = await httpRequest(url, {
        dispatcher: this.agent,
        method: request.method,
        signal,
        headers: {
          Authorization: `Token ${request.token}`,
          Accept: 'application/json',
          'User-Agent': USER_AGENT,
          ...(request.body !== undefined && { 'Content-Type': 'application/json' }),
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
      const location = [response.headers.location].flat()[0];
      if (response.statusCode >= 300 && response.statusCode < 400 && location) {
        await response.body.dump();
        const next = new URL(location, url);
        if (next.host !== url.host) {
          throw new RefusedUrl(`redirected to another host (${next.host}), which is not followed`);
        }
        if (redirects >= MAX_REDIRECTS) throw new RefusedUrl('redirected too many times');
        url = this.checkUrl(next.toString());
        continue;
      }
      return { status: response.statusCode, text: await readCapped(response.body) };
    }
  }

  /**
   * Why the rules refuse a peer URL (https, allow-list, no credentials in it, no private IP
   * address), or undefined when they allow it; services check URLs given in requests with it
   * before any handshake starts. A host name that resolves to a private address is found only
   * when connecting.
   */
  urlProblem(raw: string): string | undefined {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'is not an absolute URL';
    }
    if (url.protocol !== 'https:' && !(this.allowInsecure && url.protocol === 'http:')) {
      return 'is not https (ALLOW_INSECURE_PEER_URLS is off)';
    }
    if (this.allowlist.length > 0 && !this.allowlist.includes(url.hostname.toLowerCase())) {
      return `host ${url.hostname} is not in PEER_HOST_ALLOWLIST`;
    }
    if (url.username || url.password) return 'carries credentials';
    return this.guard.literalProblem(url.hostname);
  }

  private checkUrl(raw: string): URL {
    const problem = this.urlProblem(raw);
    if (problem) throw new RefusedUrl(problem);
    return new URL(raw);
  }

  /**
   * A failed step of a handshake with the peer, its message written by the caller. This is the
   * one way a peer's words (its status_message, a redirect's host, the versions it offers, URLs it
   * gave) get into a message, which goes to the admin, the history, the log and the peer (3001
   * status_message): a peer that echoes the token we presented or sent, as is or encoded
   * ("Unknown token …"), must not get it written there.
   */
  peerError(
    request: Pick<PeerRequest, 'step' | 'token' | 'body'>,
    ocpiStatusCode: 3001 | 3002 | 3003,
    message: string,
    peerStatusCode?: number,
  ): PeerError {
    const masked = this.mask(request, message);
    // Shortened only once the tokens are out: a cut through one would leave a piece no longer
    // recognised.
    return new PeerError(
      request.step,
      ocpiStatusCode,
      masked.length > MAX_MESSAGE ? `${masked.slice(0, MAX_MESSAGE)}…` : masked,
      peerStatusCode,
    );
  }

  /** The error of a failed call (3001): the request, then what went wrong. */
  failure(request: PeerRequest, what: string, peerStatusCode?: number | null): PeerError {
    return this.peerError(
      request,
      OcpiStatus.UNABLE_TO_USE_CLIENT_API,
      `${request.method} ${shown(request.url)} ${what}`,
      peerStatusCode ?? undefined,
    );
  }

  private mask(request: Pick<PeerRequest, 'token' | 'body'>, text: string): string {
    return maskSecrets(text, tokensOf(request));
  }
}

/**
 * What every failure below HTTP is reported as. One message, whatever the cause, so that a URL
 * chosen by whoever holds a token A cannot be used to scan ports.
 */
const NETWORK_FAILURE = (timeoutMs: number) =>
  `could not be reached or gave no complete answer within ${timeoutMs} ms ` +
  '(refused, reset, unreachable, TLS or timeout are not told apart here; ' +
  "this service's log names the cause)";

interface Envelope {
  data?: unknown;
  status_code: number;
  status_message?: unknown;
}

/** Lenient: any JSON object with a numeric status_code, whatever the Content-Type said. */
function parseEnvelope(text: string): Envelope | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && 'status_code' in value) {
      const code = value.status_code;
      if (typeof code === 'number') return { ...value, status_code: code };
    }
  } catch {
    // not JSON: reported by the caller
  }
  return undefined;
}

/** The answer's body as text, refused past {@link MAX_PEER_RESPONSE_BYTES} (the body destroyed). */
async function readCapped(body: Readable): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_PEER_RESPONSE_BYTES) {
      throw new RefusedUrl(`answered more than ${MAX_PEER_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An error and its causes, outermost first (a few at most). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

/**
 * Why the address check refused the connection (it was not made), wherever wrapped; undefined when
 * the failure was something else.
 */
export function addressRefusalIn(error: unknown): string | undefined {
  return (causes(error).find((e) => e instanceof PeerAddressRefusedError) as Error | undefined)
    ?.message;
}

/** The cause of a network failure, for the log: its codes and messages, innermost first. */
export function describeNetworkError(error: unknown): string {
  return causes(error)
    .reverse()
    .map((e) => {
      const { name, code, message } = e as { name?: string; code?: string; message?: string };
      return [code ?? name, message].filter(Boolean).join(' ');
    })
    .join(' <- ');
}

/** The tokens a request carries: the one we present, and ours in the credentials we send. */
function tokensOf(request: Pick<PeerRequest, 'token' | 'body'>): string[] {
  const { body } = request;
  const sent =
    typeof body === 'object' && body !== null && 'token' in body ? body.token : undefined;
  return [request.token, sent].filter(
    (token): token is string => typeof token === 'string' && token.length > 0,
  );
}

/** What an error message keeps, the peer's own words included. */
const MAX_MESSAGE = 500;

/** A URL as it may be shown in errors and the history: without any user or password in it. */
function shown(raw: string): string {
  try {
    const url = new URL(raw);
    if (!url.username && !url.password) return raw;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return raw;
  }
}

function since(started: number): number {
  return Math.round(performance.now() - started);
}

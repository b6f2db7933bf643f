import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PeerError, type HandshakeStep } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { OcpiStatus } from '../ocpi/envelope.js';
import type { HandshakeRecorder } from './handshake-recorder.js';

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
 * PEER_HOST_ALLOWLIST when set, a timeout over the whole exchange, redirects followed only on the
 * same host, a cap on the answer's size, and the answer judged by its OCPI envelope: anything but
 * a 2xx carrying status_code 1000 is a failure (3001). Each call is recorded as a handshake step.
 */
@Injectable()
export class PeerClient {
  private readonly allowInsecure: boolean;
  private readonly allowlist: string[];
  private readonly timeoutMs: number;

  constructor(config: ConfigService<AppConfig, true>) {
    this.allowInsecure = config.get('allowInsecurePeerUrls', { infer: true });
    this.allowlist = config.get('peerHostAllowlist', { infer: true });
    this.timeoutMs = config.get('peerTimeoutMs', { infer: true });
  }

  /** Calls the peer and returns the `data` of its success envelope. */
  async call(request: PeerRequest, recorder: HandshakeRecorder): Promise<unknown> {
    const started = performance.now();
    const record = { request: `${request.method} ${shown(request.url)}` };
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
      const failure =
        error instanceof PeerError ? error : this.failure(request, describeTransportError(error));
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

  private async send(request: PeerRequest): Promise<{ status: number; text: string }> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let url = this.checkUrl(request.url);
    for (let redirects = 0; ; redirects++) {
      const response = await fetch(url, {
        method: request.method,
        redirect: 'manual',
        signal,
        headers: {
          Authorization: `Token ${request.token}`,
          Accept: 'application/json',
          ...(request.body !== undefined && { 'Content-Type': 'application/json' }),
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, url);
        if (next.host !== url.host) {
          throw new RefusedUrl(`redirected to another host (${next.host}), which is not followed`);
        }
        if (redirects >= MAX_REDIRECTS) throw new RefusedUrl('redirected too many times');
        url = this.checkUrl(next.toString());
        continue;
      }
      return { status: response.status, text: await readCapped(response) };
    }
  }

  /**
   * Why the rules refuse a peer URL (https, allow-list, no credentials in it), or undefined when
   * they allow it; services check URLs given in requests with it before any handshake starts.
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
    return undefined;
  }

  private checkUrl(raw: string): URL {
    const problem = this.urlProblem(raw);
    if (problem) throw new RefusedUrl(problem);
    return new URL(raw);
  }

  /**
   * The error of a failed call. Its message goes to the admin, the history and the peer (3001
   * status_message), and quotes what the peer said (its status_message, a redirect's host): a peer
   * that echoes the token we presented or sent ("Unknown token …") must not get it written there.
   */
  private failure(request: PeerRequest, what: string, peerStatusCode?: number | null): PeerError {
    let message = `${request.method} ${shown(request.url)} ${what}`;
    for (const secret of tokensOf(request)) message = message.replaceAll(secret, '[token]');
    // Shortened only once the tokens are out: a cut through one would leave a piece no longer
    // recognised.
    return new PeerError(
      request.step,
      OcpiStatus.UNABLE_TO_USE_CLIENT_API,
      message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message,
      peerStatusCode ?? undefined,
    );
  }
}

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

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_PEER_RESPONSE_BYTES) {
      throw new RefusedUrl(`answered more than ${MAX_PEER_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeTransportError(error: unknown): string {
  if (error instanceof RefusedUrl) return error.message;
  // Duck-typed: the abort reason is a DOMException, which may come from another realm.
  const { name, cause } = (error ?? {}) as {
    name?: string;
    cause?: { name?: string; code?: string };
  };
  if (name === 'TimeoutError' || name === 'AbortError' || cause?.name === 'TimeoutError') {
    return 'did not answer in time';
  }
  // The peer was reached but dropped the connection: saying "could not be reached" would send
  // whoever reads the history to look for a network or DNS problem that is not there.
  if (cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET') {
    return `closed the connection without a complete answer (${cause.code})`;
  }
  return `could not be reached${cause?.code ? ` (${cause.code})` : ''}`;
}

/** The tokens a request carries: the one we present, and ours in the credentials we send. */
function tokensOf(request: PeerRequest): string[] {
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

// What the hub simulator says and hears on the wire: envelopes, JSON answers, calls to a party.
import type { ServerResponse } from 'node:http';

export type Envelope = {
  data?: unknown;
  status_code: number;
  status_message?: string;
  timestamp: string;
};

/** An OCPI DateTime as 2.1.1 wants it emitted: no fraction, `Z`. */
export function ocpiNow(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}

export function envelope(data?: unknown, status_code = 1000, status_message = 'Success'): Envelope {
  return { data, status_code, status_message, timestamp: ocpiNow() };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { ...headers, 'Content-Type': 'application/json' })
    .end(JSON.stringify(body));
}

export function parseObject(raw: string): Record<string, unknown> {
  if (!raw) return {};
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** What a party answered to one call; status 0 when it did not answer (then `error`). */
export interface Exchange {
  status: number;
  headers: Record<string, string>;
  /** The body parsed, or as text when it is not JSON (cut at 2,000 characters). */
  body: unknown;
  error?: string;
}

/** One OCPI call of the hub to a party; failures come back as data, never as an exception. */
export async function exchange(
  method: string,
  url: string,
  token: string,
  body?: unknown,
): Promise<Exchange> {
  try {
    const response = await fetch(url, {
      method,
      headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const headers = Object.fromEntries(response.headers);
    const text = await response.text();
    try {
      return { status: response.status, headers, body: JSON.parse(text) as unknown };
    } catch {
      return { status: response.status, headers, body: text.slice(0, 2_000) };
    }
  } catch (error) {
    return {
      status: 0,
      headers: {},
      body: undefined,
      error: describe(error),
    };
  }
}

/** The same call during a handshake: the answer as an envelope, `{}` when it is none. */
export async function call(
  method: string,
  url: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Partial<Envelope> }> {
  const answer = await exchange(method, url, token, body);
  if (answer.error !== undefined) return { status: 0, body: { status_message: answer.error } };
  const isObject = typeof answer.body === 'object' && answer.body !== null;
  return { status: answer.status, body: isObject ? (answer.body as Partial<Envelope>) : {} };
}

/**
 * fetch's own message says little ("fetch failed"): its cause says why (ECONNREFUSED…). Read
 * without instanceof: under the tests' VM modules the error comes from another realm.
 */
function describe(error: unknown): string {
  const { message, cause } = (error ?? {}) as { message?: unknown; cause?: { message?: unknown } };
  if (typeof message !== 'string') return String(error);
  return typeof cause?.message === 'string' ? `${message}: ${cause.message}` : message;
}

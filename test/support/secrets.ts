import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { subscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import type { NextFunction, Request as ExpressRequest, Response as ExpressResponse } from 'express';

// What the secrets scan (test/secrets-scan.e2e-spec.ts) reads: every token the run used, every
// log line the services wrote and a dump of every test database, in the run's scratch folder
// (made by test/global-setup.mjs, named in SCRATCH_ENV). Outside a jest run with that folder
// (it is always there under `npm test`), nothing is recorded.

export const SCRATCH_ENV = 'OCPI_TEST_SCRATCH_DIR';

/** Shorter values (empty, "x", "null") would match everywhere and prove nothing. */
const MIN_TOKEN_LENGTH = 8;

export function scratchDir(): string | undefined {
  return process.env[SCRATCH_ENV] || undefined;
}

/** A folder of the scratch folder (logs, tokens, dumps), created on first use. */
export function scratchSubdir(name: 'logs' | 'tokens' | 'dumps'): string | undefined {
  const root = scratchDir();
  if (!root) return undefined;
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const unique = () =>
  `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export interface ScratchLog {
  write(chunk: Buffer): void;
  end(): void;
}

/**
 * A new log file in the scratch folder, e.g. for a child process's output; written synchronously,
 * so that the file is complete as soon as the test file is.
 */
export function scratchLog(prefix: string): ScratchLog | undefined {
  const dir = scratchSubdir('logs');
  if (!dir) return undefined;
  let fd: number | undefined = openSync(join(dir, `${prefix}-${unique()}.log`), 'a');
  return {
    write: (chunk) => {
      if (fd !== undefined) writeSync(fd, chunk);
    },
    end: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

// Jest gives each test file its own module registry, so this set (and the file) is per test file.
const seen = new Set<string>();
let tokensFile: string | undefined;

/** Records one token value; each new one is appended at once, so nothing is lost on a crash. */
export function recordToken(value: unknown): void {
  if (typeof value !== 'string' || value.length < MIN_TOKEN_LENGTH || seen.has(value)) return;
  seen.add(value);
  if (!tokensFile) {
    const dir = scratchSubdir('tokens');
    if (!dir) return;
    tokensFile = join(dir, `${unique()}.jsonl`);
  }
  // One JSON string per line: a hostile token may hold a newline.
  appendFileSync(tokensFile, `${JSON.stringify(value)}\n`);
}

/** `Token x` and `Bearer x` record x; any other value is recorded whole. */
export function recordAuthorization(header: unknown): void {
  if (typeof header !== 'string') return;
  const match = /^\s*(?:Token|Bearer)\s+(.*?)\s*$/i.exec(header);
  recordToken(match ? match[1] : header.trim());
}

/** An API key (DESIGN 12) as the service hands it out, in the `key` field of its 201. */
const API_KEY = /^ocpik_/;

/** Every string `token` field of a JSON value, and every API key in a `key` field, at any depth (bounded). */
export function recordTokensIn(value: unknown, depth = 0): void {
  if (depth > 32 || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) recordTokensIn(item, depth + 1);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === 'token') recordToken(item);
    else if (key === 'key' && typeof item === 'string' && API_KEY.test(item)) recordToken(item);
    else recordTokensIn(item, depth + 1);
  }
}

/** The same, for a JSON text; cheap on anything else (no `"token"` or `"key"` in it: not parsed). */
export function recordTokensInText(text: unknown): void {
  if (typeof text !== 'string' || !(text.includes('"token"') || text.includes('"key"'))) return;
  try {
    recordTokensIn(JSON.parse(text));
  } catch {
    // not JSON: no token field to find
  }
}

/**
 * Express middleware for the test apps: records the Authorization header and the `token` fields of
 * JSON request and response bodies. Mounted after the body parser, before the routes.
 */
export function recordRequestTokens(
  req: ExpressRequest,
  res: ExpressResponse,
  next: NextFunction,
): void {
  recordAuthorization(req.headers.authorization);
  recordTokensIn(req.body);
  const send = res.send.bind(res);
  res.send = (body?: unknown) => {
    if (typeof body === 'string') recordTokensInText(body);
    else if (Buffer.isBuffer(body)) recordTokensInText(body.toString('utf8'));
    else recordTokensIn(body);
    return send(body);
  };
  next();
}

/**
 * Wraps the global fetch of a test file: records what the test and the in-process services send
 * (to peers, to child processes) and what comes back, without touching the response it returns.
 */
export function recordFetchTokens(): void {
  const original = globalThis.fetch;
  if ((original as { recordsTokens?: boolean }).recordsTokens) return;
  const wrapped = async (input: string | URL | Request, init?: RequestInit) => {
    try {
      const headers = new Headers(
        init?.headers ?? (input instanceof Request ? input.headers : undefined),
      );
      recordAuthorization(headers.get('authorization') ?? undefined);
      if (typeof init?.body === 'string') recordTokensInText(init.body);
    } catch {
      // headers fetch itself refuses: it throws on them below
    }
    const response = await original(input, init);
    if (response.body && /json/i.test(response.headers.get('content-type') ?? '')) {
      response
        .clone()
        .text()
        .then(recordTokensInText)
        .catch(() => undefined);
    }
    return response;
  };
  globalThis.fetch = Object.assign(wrapped, { recordsTokens: true });
  // The service calls peers through the undici package (an Agent of its own), which the wrapper
  // above does not see: its requests are read off undici's diagnostics channel.
  subscribe('undici:request:create', (message) => {
    const { headers, body } = (message as { request: { headers?: unknown; body?: unknown } })
      .request;
    const lines = Array.isArray(headers)
      ? (headers as unknown[]).map(String)
      : typeof headers === 'string'
        ? headers.split('\r\n')
        : [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (/^authorization$/i.test(line)) recordAuthorization(lines[i + 1]);
      else if (/^authorization:/i.test(line)) recordAuthorization(line.replace(/^[^:]+:\s*/, ''));
    }
    if (typeof body === 'string') recordTokensInText(body);
    else if (body instanceof Uint8Array) recordTokensInText(Buffer.from(body).toString('utf8'));
  });
}

/** How long a file that checks the whole run (secrets scan, OpenAPI answers) waits for the others. */
export const WAIT_FOR_OTHER_FILES_MS = 10 * 60_000;

/**
 * Waits until every file of `expected` is noted done in the run's scratch folder (by
 * test/done-reporter.mjs), or the wait is over; returns those still missing.
 */
export async function waitForOtherFiles(scratch: string, expected: string[]): Promise<string[]> {
  const deadline = Date.now() + WAIT_FOR_OTHER_FILES_MS;
  for (;;) {
    const done = new Set(readFileSync(join(scratch, 'done-files.txt'), 'utf8').split('\n'));
    const missing = expected.filter((path) => !done.has(path));
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

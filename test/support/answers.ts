import { appendFileSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { basename, join } from 'node:path';
import { scratchDir } from './secrets.js';

// Every answer a test app gives, whoever asked (supertest, fetch, a peer calling back, a raw
// socket), is written down in the run's scratch folder (test/global-setup.mjs makes it), one JSON
// line each, for the OpenAPI check that runs last (test/openapi-answers.e2e-spec.ts): it matches
// each answer to the route of the OpenAPI document and validates its status and body. Outside a
// jest run with that folder, nothing is recorded.

export const ANSWERS_SUBDIR = 'answers';

/** Bodies are kept up to this size; a longer one is recorded as truncated (status checked only). */
const MAX_BODY_BYTES = 512 * 1024;

/** One answer of a test app. */
export interface AnswerRecord {
  /** The test file (basename) whose app answered. */
  file: string;
  method: string;
  /** As the client sent it: path and query. */
  url: string;
  /** The route Express matched (`/admin/operations/:operation`), when one did. */
  route?: string;
  status: number;
  contentType?: string;
  /** The body as text, for JSON answers only. */
  body?: string;
  /** The JSON body was longer than MAX_BODY_BYTES and is left out. */
  truncated?: boolean;
  /** The connection closed before the answer was complete. */
  aborted?: boolean;
}

const unique = () =>
  `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

// Jest gives each test file its own module registry, so each file writes a file of its own.
let answersFile: string | undefined;

function write(record: AnswerRecord): void {
  if (!answersFile) {
    const root = scratchDir();
    if (!root) return;
    const dir = join(root, ANSWERS_SUBDIR);
    mkdirSync(dir, { recursive: true });
    answersFile = join(dir, `${unique()}.jsonl`);
  }
  appendFileSync(answersFile, `${JSON.stringify(record)}\n`);
}

/**
 * Records every answer of this HTTP server: a listener that runs before Express's, so that answers
 * given before any route (body too large, not JSON) are recorded too.
 */
export function recordAnswers(server: Server): void {
  if (!scratchDir()) return;
  const file = basename(expect.getState().testPath ?? 'unknown');
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const buffer =
        typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      if (size <= MAX_BODY_BYTES) chunks.push(buffer);
    };
    const write_ = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return write_(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      const contentType = res.getHeader('content-type');
      const type = contentType === undefined ? undefined : String(contentType);
      const json = type !== undefined && /[/+]json\b/i.test(type);
      const route = (req as IncomingMessage & { route?: { path?: unknown } }).route?.path;
      write({
        file,
        method: req.method ?? '?',
        url: req.url ?? '?',
        ...(typeof route === 'string' && { route }),
        status: res.statusCode,
        ...(type !== undefined && { contentType: type }),
        ...(json && size <= MAX_BODY_BYTES && { body: Buffer.concat(chunks).toString('utf8') }),
        ...(json && size > MAX_BODY_BYTES && { truncated: true }),
        ...(aborted && { aborted: true }),
      });
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(!res.writableFinished));
  });
}

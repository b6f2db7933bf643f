import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer } from './loopback-server.js';

/** A request an upstream received, its body as text (or only its size when it was large). */
export interface UpstreamRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  bytes: number;
}

export type UpstreamHandler = (
  request: UpstreamRequest,
  response: ServerResponse,
  upstream: Upstream,
) => void | Promise<void>;

/** Keeps the bodies it receives only up to this size (a 50 MB upload is counted, not kept). */
const KEPT_BODY_BYTES = 1024 * 1024;

/**
 * A real HTTP server standing for a CPO system behind the gateway (or a peer behind the relay):
 * it records every request and answers with `handler` (by default: 200 with an OCPI envelope
 * echoing what it got). `baseUrl` is its loopback address.
 */
export class Upstream extends LoopbackServer {
  readonly received: UpstreamRequest[] = [];
  handler: UpstreamHandler = echo;

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let bytes = 0;
    // A request the gateway abandons midway (a body over its limit) ends in an error here.
    for await (const chunk of req as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes <= KEPT_BODY_BYTES) chunks.push(chunk);
    }
    const request = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      bytes,
    };
    this.received.push(request);
    await this.handler(request, res, this);
  }
}

/** 200 with an OCPI envelope whose data says what the upstream got. */
export const echo: UpstreamHandler = (request, response) => {
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end(
    JSON.stringify({
      data: { method: request.method, url: request.url, body: request.body },
      status_code: 1000,
      timestamp: '2026-12-01T00:00:00Z',
    }),
  );
};

// The ceiling of the gateway: a reverse proxy and nothing else (no auth, no log, no rewriting),
// node:http in front of an undici Pool to UPSTREAM_URL, request and answer streamed through.
import './child-stats.js';
import { createServer } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';

const port = Number(process.env.PORT);
const upstream = new Pool(process.env.UPSTREAM_URL!, { connections: 64, pipelining: 1 });
// Hop-by-hop headers (RFC 9110, 7.6.1) are the connection's, not the message's.
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
HOP.add('proxy-connection');

createServer((request, response) => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && !HOP.has(name) && name !== 'host') headers[name] = value;
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  upstream.request(
    { path: request.url!, method: request.method!, headers, body: hasBody ? request : null },
    (error, answer) => {
      if (error) {
        if (!response.headersSent) response.writeHead(502).end();
        else response.destroy();
        return;
      }
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP.has(name)) response.setHeader(name, value);
      }
      response.writeHead(answer.statusCode);
      pipeline(answer.body, response, () => undefined);
    },
  );
}).listen(port, '127.0.0.1', () => console.error(`bare proxy ready on ${port}`));
process.once('SIGTERM', () => void upstream.close().then(() => process.exit(0)));

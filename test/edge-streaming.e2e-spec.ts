import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { freePort } from '../src/common/free-port.js';
import { useHarness, type ServiceProcess } from './support/harness.js';
import { Upstream } from './support/upstream.js';

// Large answers through each direction of the edge, the service running as a process of its own,
// its resident memory sampled all along. Bodies stream with backpressure rather than being held:
// a 150 MB answer grows it far less than its size (once: the allocator and the garbage collector
// settle at a plateau, ~30 MB here, ~60 MB for a bare node:http + undici proxy under the same
// measure), and a 50 MB answer after it less than 20 MB.

const ADMIN_TOKEN = 'streaming-admin-token-0123456789';
const RELAY_TOKEN = 'streaming-relay-token-0123456789';
const MB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Writes `size` bytes, waiting for the reader whenever its buffers are full. */
async function streamBytes(response: ServerResponse, size: number): Promise<void> {
  response.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  for (let sent = 0; sent < size; sent += CHUNK.length) {
    if (!response.write(CHUNK)) {
      await new Promise((resolve) => response.once('drain', resolve));
    }
  }
  response.end();
}

/** Resident memory of a process now (VmRSS), in bytes. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Reads a whole answer, keeping only its size, while sampling the service's memory. */
async function download(
  url: string,
  headers: Record<string, string>,
  service: ServiceProcess,
): Promise<{ status: number; bytes: number; growth: number }> {
  const pid = service.process.pid as number;
  const before = rss(pid);
  let peak = before;
  const sampling = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
  try {
    const response = await fetch(url, { headers });
    let bytes = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
    }
    return { status: response.status, bytes, growth: peak - before };
  } finally {
    clearInterval(sampling);
  }
}

describe('50 MB answers stream through the gateway and the relay', () => {
  const h = useHarness({ app: false, peer: true });
  const upstream = new Upstream();
  let service: ServiceProcess;
  let connectionToken: string;
  /** The service's address: the PORT given, which its PUBLIC_URL names too. */
  let base: string;

  beforeAll(async () => {
    await upstream.start();
    h.onClose(() => upstream.stop());
    // `?mb=N`: an answer of N MB; `?small`: a short one, to warm each direction up.
    upstream.handler = (request, response) => {
      const mb = Number(new URL(request.url, 'http://x').searchParams.get('mb') ?? 0);
      return mb > 0 ? streamBytes(response, mb * MB) : void response.end('{}');
    };
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = await h.startService({
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: h.db.url,
      ADMIN_TOKEN,
      RELAY_TOKEN,
      GATEWAY_UPSTREAM_TOKEN: 'streaming-gateway-token-0123456789',
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ALLOW_INSECURE_PEER_URLS: 'true',
      ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
      LOG_LEVEL: 'info',
      DATA_DIR: h.tempDir('streaming'),
    });
    const admin = (path: string, body: object) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (
        await admin('/admin/operations', {
          operator_id: 'FR*AB1',
          business_details: { name: 'Streaming' },
          endpoints: [{ identifier: 'locations', upstream_url: `${upstream.baseUrl}/locations` }],
        })
      ).status,
    ).toBe(201);
    const { token } = (await (
      await admin('/admin/operations/FR*AB1/registration-tokens', {})
    ).json()) as { token: string };
    // FromIOP: the peer registers with the operation, which gives it its connection token.
    const registered = await fetch(`${h.peer.baseUrl}/sim/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ versions_url: `${base}/ocpi/FR/AB1/versions`, token }),
    });
    expect(await registered.json()).toMatchObject({ ok: true });
    connectionToken = h.peer.parties.at(-1)!.tokenForHub;
    // The relay's target: the peer's tokens module, served by the same streaming server.
    await h.db.query(
      `UPDATE connections SET peer_endpoints = jsonb_build_array(
         jsonb_build_object('identifier', 'tokens', 'url', $1::text))`,
      [`${upstream.baseUrl}/emsp/tokens`],
    );
    for (let i = 0; i < 20; i++) {
      await fetch(`${base}/ocpi/FR/AB1/2.1.1/locations?small`, {
        headers: { Authorization: `Token ${connectionToken}` },
      }).then((r) => r.arrayBuffer());
      await fetch(`${base}/relay/FR*AB1/tokens?small`, {
        headers: { Authorization: `Bearer ${RELAY_TOKEN}` },
      }).then((r) => r.arrayBuffer());
    }
  });

  it.each([
    ['the gateway', () => `${base}/ocpi/FR/AB1/2.1.1/locations`, () => `Token ${connectionToken}`],
    ['the relay', () => `${base}/relay/FR*AB1/tokens`, () => `Bearer ${RELAY_TOKEN}`],
  ])(
    'through %s',
    async (name, url, authorization) => {
      const headers = { Authorization: authorization() };
      const first = await download(`${url()}?mb=150`, headers, service);
      const second = await download(`${url()}?mb=50`, headers, service);
      console.log(
        `${name}: 150 MB answered, service memory grew ${mb(first.growth)} MB at most; ` +
          `then 50 MB, grew ${mb(second.growth)} MB`,
      );
      expect(first).toMatchObject({ status: 200, bytes: 150 * MB });
      expect(first.growth).toBeLessThan(60 * MB);
      expect(second).toMatchObject({ status: 200, bytes: 50 * MB });
      expect(second.growth).toBeLessThan(20 * MB);
    },
    60_000,
  );
});

const mb = (bytes: number) => (bytes / MB).toFixed(1);

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { eventually } from './support/eventually.js';
import { useHarness, type Harness, type ServiceProcess, type TestApp } from './support/harness.js';
import { registerWithPeer } from './support/ocpi.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { Upstream, type UpstreamRequest } from './support/upstream.js';

// The outbox when things break under it: a replica killed (SIGKILL) in the middle of a delivery,
// and the database going away while deliveries are under way. At least once: nothing is lost, a
// delivery interrupted is sent again with the same X-Request-ID, the order per queue is kept.

const ADMIN_TOKEN = 'outbox-crash-admin-token-0123456789';
const RELAY_TOKEN = 'outbox-crash-relay-token-0123456789';

const ok = (response: ServerResponse) => {
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify({ status_code: 1000, timestamp: '2026-12-01T00:00:00Z' }));
};

/** Points the peer's `locations` endpoint of FR*AB1 at `modules`. */
async function locationsAt(h: Harness, modules: Upstream): Promise<void> {
  await h.db.query(
    `UPDATE connections SET peer_endpoints = $1::jsonb
     WHERE operation_id = (SELECT id FROM operations WHERE party_id = 'AB1')`,
    [JSON.stringify([{ identifier: 'locations', url: `${modules.baseUrl}/locations` }])],
  );
}

const delivered = (h: Harness) =>
  h.db.query<{ path: string }>(
    `SELECT path FROM deliveries WHERE status = 'DELIVERED' ORDER BY seq`,
  );

describe('a replica killed in the middle of a delivery', () => {
  const h = useHarness({ app: false, peer: true });
  const modules = new Upstream();
  let replicas: ServiceProcess[];

  beforeAll(async () => {
    await modules.start();
    h.onClose(() => modules.stop());
    const env = {
      DATABASE_URL: h.db.url,
      ADMIN_TOKEN,
      RELAY_TOKEN,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ALLOW_INSECURE_PEER_URLS: 'true',
      ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
      OUTBOX_MAX_BACKOFF_S: '1',
      PEER_TIMEOUT_MS: '60000',
      DATA_DIR: h.tempDir('replica'),
    };
    replicas = await Promise.all([h.startService(env), h.startService(env)]);
  });

  const call = (
    replica: ServiceProcess,
    path: string,
    init: RequestInit = {},
    token = ADMIN_TOKEN,
  ) =>
    fetch(`${replica.baseUrl}${path}`, {
      ...init,
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${token}`,
        ...(init.headers as Record<string, string>),
      },
    });

  it('has the other replica send it again, with the same X-Request-ID, and then the rest in order', async () => {
    const [first] = replicas;
    expect(
      (
        await call(first, '/admin/operations', {
          method: 'POST',
          body: JSON.stringify({ operator_id: 'FR*AB1', business_details: { name: 'Crash' } }),
        })
      ).status,
    ).toBe(201);
    const registered = await call(first, '/admin/operations/FRAB1/register', {
      method: 'POST',
      body: JSON.stringify({ versions_url: h.peer.versionsUrl, token: h.peer.expectedToken }),
    });
    expect(registered.status).toBe(200);
    await locationsAt(h, modules);

    // The first delivery hangs at the peer until its sender is gone; the rest are answered.
    modules.handler = (_request: UpstreamRequest, response: ServerResponse) => {
      if (modules.received.length > 1) ok(response);
    };
    for (const id of ['CRASH1', 'CRASH2', 'CRASH3']) {
      const pushed = await call(
        replicas[id === 'CRASH2' ? 1 : 0],
        `/relay/FRAB1/locations/FR/AB1/${id}`,
        { method: 'PUT', body: JSON.stringify({ id }), headers: { Prefer: 'respond-async' } },
        RELAY_TOKEN,
      );
      expect(pushed.status).toBe(202);
    }
    await eventually(
      () => Promise.resolve(modules.received.length),
      (n) => n === 1,
      10_000,
    );
    const [holder] = await h.db.query<{ locked_by: string }>(
      `SELECT locked_by FROM deliveries WHERE locked_by IS NOT NULL`,
    );
    const pid = Number(holder.locked_by.split(':')[1]);
    const doomed = replicas.find((r) => r.process.pid === pid)!;
    expect(doomed).toBeDefined();
    doomed.process.kill('SIGKILL');
    expect(await doomed.exited).toBeNull();

    const paths = await eventually(
      () => delivered(h),
      (rows) => rows.length === 3,
      40_000,
    );
    expect(paths.map((r) => r.path)).toEqual([
      '/FR/AB1/CRASH1',
      '/FR/AB1/CRASH2',
      '/FR/AB1/CRASH3',
    ]);
    expect(modules.received.map((r) => r.url)).toEqual([
      '/locations/FR/AB1/CRASH1',
      '/locations/FR/AB1/CRASH1',
      '/locations/FR/AB1/CRASH2',
      '/locations/FR/AB1/CRASH3',
    ]);
    const [before, again] = modules.received;
    expect(again.headers['x-request-id']).toBe(before.headers['x-request-id']);
    expect(new Set(modules.received.map((r) => r.headers['x-request-id'])).size).toBe(3);
  }, 90_000);
});

describe('the database going away while deliveries are under way', () => {
  const h = useHarness({ app: false, peer: true });
  const modules = new Upstream();
  let proxy: TcpProxy;
  let app: TestApp;

  beforeAll(async () => {
    await modules.start();
    h.onClose(() => modules.stop());
    const url = new URL(h.db.url);
    proxy = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
    h.onClose(() => proxy.stop());
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    app = await h.startApp(
      { databaseUrl: url.toString(), outboxMaxBackoffS: 1 },
      { reachable: true },
    );
    h.onClose(() => proxy.restore());
  });

  it('loses nothing, keeps the order, and resumes by itself', async () => {
    await app.http
      .post('/admin/operations')
      .set(app.admin)
      .send({ operator_id: 'FR*AB1', business_details: { name: 'Outage' } })
      .expect(201);
    await registerWithPeer(app, h.peer);
    await locationsAt(h, modules);
    modules.handler = (_request, response) => void setTimeout(() => ok(response), 100);
    const ids = Array.from({ length: 20 }, (_, i) => `OUT${String(i + 1).padStart(2, '0')}`);
    for (const id of ids) {
      await app.http
        .put(`/relay/FR*AB1/locations/FR/AB1/${id}`)
        .set({ Authorization: `Bearer ${app.config.relayToken}`, Prefer: 'respond-async' })
        .send({ id })
        .expect(202);
    }
    await eventually(
      () => Promise.resolve(modules.received.length),
      (n) => n >= 3,
      10_000,
    );
    proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    proxy.restore();

    const rows = await eventually(
      () => delivered(h),
      (found) => found.length === ids.length,
      40_000,
    );
    expect(rows.map((r) => r.path)).toEqual(ids.map((id) => `/FR/AB1/${id}`));
    // At least once, in order: what the peer got, first sendings only, is every push in order.
    const firsts = [...new Set(modules.received.map((r) => r.url))];
    expect(firsts).toEqual(ids.map((id) => `/locations/FR/AB1/${id}`));
  }, 90_000);
});

import { isDatabaseUnavailable } from '../src/common/database-errors.js';
import { OutboxStore } from '../src/outbox/outbox-store.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { useHarness, type Harness, type TestApp } from './support/harness.js';

/**
 * The app of the harness `h`, reaching the harness's database through a proxy the test can cut
 * or black-hole; the proxy is restored before the app closes.
 */
async function appBehindProxy(h: Harness, settings: Partial<TestApp['config']> = {}) {
  const url = new URL(h.db.url);
  const proxy = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
  h.onClose(() => proxy.stop());
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  const app = await h.startApp({ databaseUrl: url.toString(), ...settings });
  // Closed first (newest first), with the database reachable again.
  h.onClose(() => proxy.restore());
  await createOperation(app);
  return { proxy, app };
}

describe('PostgreSQL unavailable while the service runs', () => {
  // The app reaches the harness's database through a proxy the test cuts.
  const h = useHarness({ app: false });
  let proxy: TcpProxy;
  let t: TestApp;
  let tokenA: string;

  beforeAll(async () => {
    ({ proxy, app: t } = await appBehindProxy(h));
    tokenA = await mintTokenA(t);
  });

  it('answers 503 on admin and OCPI routes, fails readiness, stays live, and recovers by itself', async () => {
    proxy.cut();

    const admin = await t.http.get('/admin/operations').set(t.admin).expect(503);
    expect(admin.body).toEqual({ status: 503, error: expect.stringMatching(/database/) });
    const ocpi = await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenA)).expect(503);
    expect(ocpi.body).toEqual({
      status_code: 3000,
      status_message: expect.stringMatching(/database/),
      timestamp: expect.any(String),
    });
    await t.http.get('/health/ready').expect(503);
    await t.http.get('/health').expect(200);
    // Metrics still answer, with the pool figures that explain the outage.
    const metrics = await t.http.get('/metrics').set(t.admin).expect(200);
    expect(metrics.text).toContain('db_pool_connections{state="max"} 20');
    expect(metrics.text).not.toContain('ocpi_operations{');

    proxy.restore();
    await t.http.get('/admin/operations').set(t.admin).expect(200);
    await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenA)).expect(200);
    await t.http.get('/health/ready').expect(200);
  });
});

describe('PostgreSQL that stops answering (black-holed, no error) while the service runs', () => {
  const h = useHarness({ app: false });
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    // No cache: every OCPI request needs the database.
    ({ proxy, app: t } = await appBehindProxy(h, { authCacheEntries: 0 }));
  });

  const timed = async (request: PromiseLike<{ status: number }>) => {
    const started = Date.now();
    const { status } = await request;
    return { status, ms: Date.now() - started };
  };

  it('answers 503 within the bound on admin and OCPI routes, and /metrics in time, then recovers', async () => {
    const tokenA = await mintTokenA(t);
    proxy.blackHole();
    const answers = await Promise.all([
      timed(t.http.get('/admin/operations').set(t.admin)),
      timed(t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenA))),
      timed(t.http.post('/admin/operations/FR*AB1/registration-tokens').set(t.admin).send({})),
    ]);
    for (const { status, ms } of answers) {
      expect(status).toBe(503);
      // DATABASE_WAIT_MS (5 s) for the query or for a pooled connection, and some slack.
      expect(ms).toBeLessThan(8_000);
    }
    const metrics = await timed(t.http.get('/metrics').set(t.admin));
    expect(metrics.status).toBe(200);
    expect(metrics.ms).toBeLessThan(4_000);

    proxy.restore();
    // The connections held in the black hole are dropped; the pool opens new ones.
    let status = 0;
    for (const deadline = Date.now() + 10_000; status !== 200 && Date.now() < deadline;) {
      status = (await t.http.get('/admin/operations').set(t.admin)).status;
    }
    expect(status).toBe(200);
    await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenA)).expect(200);
  }, 30_000);
});

describe('PostgreSQL that stops answering while pushes are being stored', () => {
  const h = useHarness({ app: false });

  it('fails the pushes waiting to be stored together, at once, not one by one', async () => {
    const { proxy, app } = await appBehindProxy(h);
    const [{ id: operationId }] = await h.db.query<{ id: string }>('SELECT id FROM operations');
    const store = app.app.get(OutboxStore);
    proxy.blackHole();
    const started = Date.now();
    // The first goes alone; the others wait for it and go together.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.enqueueCommitted({
          kind: 'relay',
          queue: `relay:${operationId}:locations`,
          operationId,
          method: 'PUT',
          identifier: 'locations',
          path: `/FR/AB1/OUTAGE${i}`,
          headers: {},
          body: null,
        }),
      ),
    );
    // Two waits of DATABASE_WAIT_MS (5 s), and some slack; row by row it would be 20 of them.
    expect(Date.now() - started).toBeLessThan(14_000);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(isDatabaseUnavailable((outcome as PromiseRejectedResult).reason)).toBe(true);
    }
    proxy.restore();
    expect(await h.db.query(`SELECT id FROM deliveries WHERE path LIKE '/FR/AB1/OUTAGE%'`)).toEqual(
      [],
    );
  }, 30_000);
});

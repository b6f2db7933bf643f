import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { useHarness, type TestApp } from './support/harness.js';

describe('PostgreSQL unavailable while the service runs', () => {
  // The app reaches the harness's database through a proxy the test cuts.
  const h = useHarness({ app: false });
  let proxy: TcpProxy;
  let t: TestApp;
  let tokenA: string;

  beforeAll(async () => {
    const url = new URL(h.db.url);
    proxy = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
    h.onClose(() => proxy.stop());
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    t = await h.startApp({ databaseUrl: url.toString() });
    // Closed first (newest first), with the database reachable again.
    h.onClose(() => proxy.restore());
    await createOperation(t);
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

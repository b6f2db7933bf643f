import { scrapeMetrics } from './support/metrics.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { useHarness } from './support/harness.js';

const METRICS_TOKEN = 'test-metrics-token-0123456789';

describe('GET /metrics', () => {
  const t = useHarness({ app: { metricsToken: METRICS_TOKEN, peerTimeoutMs: 500 }, peer: true });
  const { peer } = t;

  beforeAll(async () => {
    await createOperation(t, 'FR*AB1');
    await createOperation(t, 'FR*AB2');
  });

  const scrape = () => scrapeMetrics(t, `Bearer ${METRICS_TOKEN}`);

  it('opens with METRICS_TOKEN or the admin token, and to nothing else', async () => {
    await t.http.get('/metrics').expect(401);
    await t.http.get('/metrics').set({ Authorization: 'Bearer not-the-token' }).expect(401);
    await t.http.get('/metrics').set(tokenHeader(METRICS_TOKEN)).expect(401);
    await t.http.get('/metrics').set(t.admin).expect(200);
    await scrape();
    // The metrics token opens nothing else: it has scope metrics only (DESIGN 12).
    await t.http
      .get('/admin/operations')
      .set({ Authorization: `Bearer ${METRICS_TOKEN}` })
      .expect(403);
  });

  it('counts and times requests by route template and status, never by concrete path', async () => {
    const tokenA = await mintTokenA(t, 'FR*AB2');
    const before = await scrape();
    const versions = 'route="/ocpi/:countryCode/:partyId/versions"';
    for (let i = 0; i < 3; i += 1) {
      await t.http.get('/ocpi/FR/AB2/versions').set(tokenHeader(tokenA)).expect(200);
    }
    await t.http.get('/ocpi/fr/ab2/versions/').set(tokenHeader('wrong')).expect(401);
    await t.http.get('/no/such/path/4711').expect(404);
    await t.http
      .post('/admin/operations')
      .set(t.admin)
      .set('Content-Type', 'application/json')
      .send('{"operator_id": ')
      .expect(400);
    const after = await scrape();
    const ok = `http_requests_total{method="GET",${versions},status="200"}`;
    const denied = `http_requests_total{method="GET",${versions},status="401"}`;
    const unmatched = 'http_requests_total{method="GET",route="unmatched",status="404"}';
    const broken = 'http_requests_total{method="POST",route="unmatched",status="400"}';
    expect((after(ok) ?? 0) - (before(ok) ?? 0)).toBe(3);
    expect((after(denied) ?? 0) - (before(denied) ?? 0)).toBe(1);
    expect((after(unmatched) ?? 0) - (before(unmatched) ?? 0)).toBe(1);
    // Refused by the body parser, before any route: counted all the same.
    expect((after(broken) ?? 0) - (before(broken) ?? 0)).toBe(1);
    expect(
      after(`http_request_duration_seconds_count{method="GET",${versions},status="200"}`),
    ).toBe(after(ok));
    expect(
      after(
        `http_request_duration_seconds_bucket{le="+Inf",method="GET",${versions},status="200"}`,
      ),
    ).toBe(after(ok));
  });

  it('counts handshakes by action, initiator and outcome, and operations by connection status', async () => {
    const tokenA = await mintTokenA(t, 'FR*AB1');
    const credentials = '/ocpi/FR/AB1/2.1.1/credentials';
    peer.faults.versions = 'http500';
    const failed = await t.http.post(credentials).set(tokenHeader(tokenA)).send(peer.credentials());
    expect(failed.body.status_code).toBe(3001);
    peer.reset();
    const registered = await t.http
      .post(credentials)
      .set(tokenHeader(tokenA))
      .send(peer.credentials());
    expect(registered.body.status_code).toBe(1000);

    const value = await scrape();
    const handshake = (outcome: string) =>
      value(`ocpi_handshakes_total{action="REGISTER",initiated_by="PEER",outcome="${outcome}"}`);
    expect(handshake('FAILED')).toBe(1);
    expect(handshake('SUCCEEDED')).toBe(1);
    expect(value('ocpi_operations{connection_status="REGISTERED"}')).toBe(1);
    expect(value('ocpi_operations{connection_status="UNREGISTERED"}')).toBe(1);
  });

  it('shows the database pool and the process', async () => {
    const value = await scrape();
    expect(value('db_pool_connections{state="max"}')).toBe(20);
    expect(value('db_pool_connections{state="total"}')).toBeGreaterThan(0);
    expect(value('db_pool_waiting_requests')).toBe(0);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

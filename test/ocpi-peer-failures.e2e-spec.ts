import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import type { AppConfig } from '../src/config/app-config.js';
import { useHarness, type TestApp } from './support/harness.js';

const CREDENTIALS = '/ocpi/FR/AB1/2.1.1/credentials';

describe('OCPI FromIOP: the peer fails during the call-back', () => {
  const t = useHarness({ app: { peerTimeoutMs: 500 }, peer: true });
  const { db, peer } = t;
  let tokenA: string;

  beforeAll(async () => {
    await createOperation(t);
    tokenA = await mintTokenA(t);
  });
  beforeEach(() => peer.reset());

  const snapshot = () =>
    db.query(
      `SELECT c.*, (SELECT json_agg(t ORDER BY t.id) FROM issued_tokens t) AS tokens FROM connections c`,
    );

  async function expectFailure(
    body: Record<string, unknown>,
    statusCode: number,
    error: RegExp,
    step: string,
  ) {
    const before = await snapshot();
    const historyBefore = (await db.query(`SELECT id FROM handshakes`)).length;
    const response = await t.http.post(CREDENTIALS).set(tokenHeader(tokenA)).send(body).expect(200);
    expect(response.body).toEqual({
      status_code: statusCode,
      status_message: expect.stringMatching(error),
      timestamp: expect.any(String),
    });
    expect(response.body.status_message).not.toContain(String(body.token));
    expect(await snapshot()).toEqual(before);
    // The token A still works.
    await t.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenA)).expect(200);
    const history = await t.http
      .get('/admin/operations/FR*AB1/handshakes?limit=1')
      .set(t.admin)
      .expect(200);
    expect(history.body.total).toBe(historyBefore + 1);
    const [entry] = history.body.items as { steps: { request: string }[] }[];
    expect(entry).toMatchObject({
      action: 'REGISTER',
      initiated_by: 'PEER',
      outcome: 'FAILED',
      error: expect.stringMatching(error),
    });
    expect(entry.steps.at(-1)?.request).toContain(step === 'versions' ? '/versions' : '/2.1.1');
    expect(JSON.stringify(history.body)).not.toContain(String(body.token));
  }

  it('answers 3001 when the peer refuses the token it gave us', async () => {
    await expectFailure(peer.credentials('some-other-token'), 3001, /HTTP 401/, 'versions');
  });

  it('follows a redirect on the same host', async () => {
    peer.faults.versions = 'redirect_same_host';
    const response = await t.http
      .post(CREDENTIALS)
      .set(tokenHeader(tokenA))
      .send(peer.credentials())
      .expect(200);
    expect(response.body.status_code).toBe(1000);
    await t.http.delete(CREDENTIALS).set(tokenHeader(response.body.data.token)).expect(200);
    tokenA = await mintTokenA(t);
  });

  it.each<[string, Partial<AppConfig>, RegExp]>([
    [
      'on plain http when insecure URLs are not allowed',
      { allowInsecurePeerUrls: false },
      /url: is not https/,
    ],
    [
      'on a host outside PEER_HOST_ALLOWLIST',
      { peerHostAllowlist: ['iop.gireve.com'] },
      /PEER_HOST_ALLOWLIST/,
    ],
  ])('answers 400 / 2001 to a peer %s, calling nothing', async (_name, overrides, message) => {
    const fenced = await t.startApp(overrides);
    try {
      const a = await mintTokenA(fenced);
      const response = await fenced.http
        .post(CREDENTIALS)
        .set(tokenHeader(a))
        .send(peer.credentials())
        .expect(400);
      expect(response.body).toMatchObject({
        status_code: 2001,
        status_message: expect.stringMatching(message),
      });
      expect(peer.received).toEqual([]);
    } finally {
      await fenced.close();
    }
  });
});

describe('OCPI FromIOP: concurrent registrations', () => {
  const h = useHarness({ replica: true, peer: true });
  const { db, peer } = h;
  let replicas: TestApp[];

  beforeAll(async () => {
    replicas = [h.app, h.replica];
    await createOperation(replicas[0]);
  });

  it('registers exactly once when 10 POSTs with one token A arrive at two replicas together', async () => {
    const tokenA = await mintTokenA(replicas[0]);
    peer.faults.delay_ms = { versions: 200 };
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        replicas[i % 2].http.post(CREDENTIALS).set(tokenHeader(tokenA)).send(peer.credentials()),
      ),
    );
    const outcomes = responses.map((r) => `${r.status}/${r.body.status_code}`);
    expect(outcomes.filter((o) => o === '200/1000')).toHaveLength(1);
    for (const o of outcomes.filter((x) => x !== '200/1000'))
      expect(['409/2000', '401/2000']).toContain(o);
    expect(await db.query(`SELECT status FROM connections`)).toEqual([{ status: 'REGISTERED' }]);
    expect(await db.query(`SELECT kind FROM issued_tokens WHERE state = 'ACTIVE'`)).toEqual([
      { kind: 'CONNECTION' },
    ]);
    const history = await db.query(`SELECT outcome FROM handshakes`);
    expect(history).toEqual([{ outcome: 'SUCCEEDED' }]);
  });
});

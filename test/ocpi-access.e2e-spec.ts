import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { useHarness } from './support/harness.js';

type Route = 'versions' | 'details' | 'get' | 'post' | 'put' | 'delete';
const ROUTES: Route[] = ['versions', 'details', 'get', 'post', 'put', 'delete'];

describe('OCPI access: which token opens what (DESIGN section 5)', () => {
  const t = useHarness({ peer: true });
  const { db, peer } = t;
  let seq = 0;

  /** Calls one OCPI route of an operation with a token and returns the HTTP status. */
  async function call(
    route: Route,
    cc: string,
    pid: string,
    token: string | undefined,
  ): Promise<number> {
    const base = `/ocpi/${cc}/${pid}`;
    const auth = token === undefined ? {} : tokenHeader(token);
    const body = peer.credentials();
    const request = {
      versions: () => t.http.get(`${base}/versions`),
      details: () => t.http.get(`${base}/2.1.1`),
      get: () => t.http.get(`${base}/2.1.1/credentials`),
      post: () => t.http.post(`${base}/2.1.1/credentials`).send(body),
      put: () => t.http.put(`${base}/2.1.1/credentials`).send(body),
      delete: () => t.http.delete(`${base}/2.1.1/credentials`),
    }[route]();
    const response = await request.set(auth);
    if (response.status !== 200) {
      expect(response.body).toEqual({
        status_code: 2000,
        status_message: expect.any(String),
        timestamp: expect.any(String),
      });
    }
    return response.status;
  }

  /** A fresh operation, in one of the states a token can be in. */
  async function operationWith(
    state: 'A' | 'C' | 'grace',
  ): Promise<{ cc: string; pid: string; token: string }> {
    seq += 1;
    const pid = `Z${String(seq).padStart(2, '0')}`;
    await createOperation(t, `FR*${pid}`);
    const tokenA = await mintTokenA(t, `FR*${pid}`);
    if (state === 'A') return { cc: 'FR', pid, token: tokenA };
    const registered = await t.http
      .post(`/ocpi/FR/${pid}/2.1.1/credentials`)
      .set(tokenHeader(tokenA))
      .send(peer.credentials())
      .expect(200);
    const tokenC = registered.body.data.token as string;
    if (state === 'C') return { cc: 'FR', pid, token: tokenC };
    await t.http.delete(`/ocpi/FR/${pid}/2.1.1/credentials`).set(tokenHeader(tokenC)).expect(200);
    return { cc: 'FR', pid, token: tokenC };
  }

  const TABLE: Record<'A' | 'C' | 'grace', Record<Route, number>> = {
    A: { versions: 200, details: 200, get: 401, post: 200, put: 405, delete: 405 },
    C: { versions: 200, details: 200, get: 200, post: 405, put: 200, delete: 200 },
    grace: { versions: 200, details: 200, get: 401, post: 200, put: 405, delete: 405 },
  };

  describe.each(['A', 'C', 'grace'] as const)('with the %s token', (state) => {
    it.each(ROUTES)('%s answers as the table says', async (route) => {
      const { cc, pid, token } = await operationWith(state);
      expect(await call(route, cc, pid, token)).toBe(TABLE[state][route]);
    });
  });

  describe.each([
    ['no token', undefined],
    ['a wrong token', 'not-a-token-of-anyone'],
    ['an empty token', ''],
  ])('with %s', (_name, token) => {
    it.each(ROUTES)('%s answers 401', async (route) => {
      const { cc, pid } = await operationWith('C');
      expect(await call(route, cc, pid, token)).toBe(401);
    });
  });

  it('refuses a revoked token A, and an expired one', async () => {
    const { pid, token } = await operationWith('C');
    await t.http.delete(`/ocpi/FR/${pid}/2.1.1/credentials`).set(tokenHeader(token)).expect(200);
    const expiring = await mintTokenA(t, `FR*${pid}`, { expires_in_s: 60 });
    expect(await call('versions', 'FR', pid, expiring)).toBe(200);
    await db.query(
      `UPDATE issued_tokens SET expires_at = now() - interval '1 second'
        WHERE expires_at BETWEEN now() + interval '30 seconds' AND now() + interval '2 minutes'`,
    );
    expect(await call('versions', 'FR', pid, expiring)).toBe(401);
    expect(await call('post', 'FR', pid, expiring)).toBe(401);
  });

  it('refuses the DELETE token once its grace period is over', async () => {
    const { pid, token } = await operationWith('grace');
    await db.query(
      `UPDATE issued_tokens SET expires_at = now() - interval '1 second' WHERE state = 'REREGISTER_ONLY'`,
    );
    expect(await call('versions', 'FR', pid, token)).toBe(401);
    expect(await call('post', 'FR', pid, token)).toBe(401);
  });

  it('keeps every operation to its own tokens (tenant isolation matrix)', async () => {
    const tenants = [
      await operationWith('A'),
      await operationWith('C'),
      await operationWith('grace'),
    ];
    for (const owner of tenants) {
      for (const other of tenants.filter((o) => o !== owner)) {
        for (const route of ROUTES) {
          expect([
            owner.pid,
            other.pid,
            route,
            await call(route, other.cc, other.pid, owner.token),
          ]).toEqual([owner.pid, other.pid, route, 401]);
        }
      }
    }
  });

  it('answers 404 with an envelope for an unknown operation, whatever the token', async () => {
    const { token } = await operationWith('C');
    for (const route of ROUTES) {
      const response = await t.http.get(`/ocpi/FR/QQQ/versions`).set(tokenHeader(token));
      expect([route, response.status, response.body.status_code]).toEqual([route, 404, 2000]);
    }
  });

  describe('admin: registration tokens', () => {
    it('issues a token A shown once, with its expiry and the versions URL', async () => {
      await createOperation(t, 'BE*TOK');
      const response = await t.http
        .post('/admin/operations/betok/registration-tokens')
        .set(t.admin)
        .send({ expires_in_s: 3600 })
        .expect(201);
      expect(response.body).toEqual({
        token: expect.stringMatching(/^[\w-]{43}$/),
        expires_at: expect.any(String),
        versions_url: 'https://ocpi.cpo.example/ocpi/BE/TOK/versions',
      });
      expect(Date.parse(response.body.expires_at) - Date.now()).toBeGreaterThan(3590_000);
      const stored = await db.query<{ hash: Buffer }>(
        `SELECT hash FROM issued_tokens ORDER BY created_at DESC LIMIT 1`,
      );
      expect(stored[0].hash).toHaveLength(32);
    });

    it('takes a null lifetime as none given: the token lives REGISTRATION_TOKEN_TTL_S', async () => {
      await createOperation(t, 'BE*NUL');
      const response = await t.http
        .post('/admin/operations/BE*NUL/registration-tokens')
        .set(t.admin)
        .send({ expires_in_s: null })
        .expect(201);
      const ttlMs = t.config.registrationTokenTtlS * 1000;
      expect(Date.parse(response.body.expires_at) - Date.now()).toBeGreaterThan(ttlMs - 60_000);
      expect(Date.parse(response.body.expires_at) - Date.now()).toBeLessThanOrEqual(ttlMs);
      await t.http.get('/ocpi/BE/NUL/versions').set(tokenHeader(response.body.token)).expect(200);
    });

    it('answers 409 while the operation is registered', async () => {
      const { pid } = await operationWith('C');
      const response = await t.http
        .post(`/admin/operations/FR*${pid}/registration-tokens`)
        .set(t.admin)
        .send({})
        .expect(409);
      expect(response.body.error).toMatch(/registered/);
    });

    it('answers 404 for an unknown operation and 400 for a bad lifetime', async () => {
      await t.http
        .post('/admin/operations/FR*NOP/registration-tokens')
        .set(t.admin)
        .send({})
        .expect(404);
      await createOperation(t, 'BE*BAD');
      for (const expires_in_s of [10, 'soon', 1.5, -1]) {
        const response = await t.http
          .post('/admin/operations/BE*BAD/registration-tokens')
          .set(t.admin)
          .send({ expires_in_s })
          .expect(400);
        expect(response.body.fields).toEqual([
          { field: 'expires_in_s', message: expect.any(String) },
        ]);
      }
      expect(
        await db.query(
          `SELECT t.id FROM issued_tokens t JOIN operations o ON o.id = t.operation_id WHERE o.party_id = 'BAD'`,
        ),
      ).toEqual([]);
    });

    it('answers 404 for the connection and history of an unknown operation', async () => {
      await t.http.get('/admin/operations/FR*NOP/connection').set(t.admin).expect(404);
      await t.http.get('/admin/operations/FR*NOP/handshakes').set(t.admin).expect(404);
    });
  });
});

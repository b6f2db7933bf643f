import { DataSource } from 'typeorm';
import { Operation } from '../src/operations/operation.entity.js';
import { TokensService } from '../src/tokens/tokens.service.js';
import { scrapeMetrics } from './support/metrics.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { useHarness, type AppHandle, type TestApp } from './support/harness.js';

const CREDENTIALS = '/ocpi/FR/AB1/2.1.1/credentials';
/** The bound this suite holds the cache to: a change reaches every replica within it. */
const BOUND_MS = 1_000;

describe('The token cache of each replica follows every change made anywhere', () => {
  // Replica A is the harness's app, B its second replica.
  const a = useHarness({ reachable: true, replica: true, peer: true });
  const { db, peer } = a;
  let b: TestApp;
  let tokenC: string;

  beforeAll(async () => {
    b = a.replica;
    await createOperation(a);
    await untilListening(a);
    await untilListening(b);
    const registered = await a.http
      .post(CREDENTIALS)
      .set(tokenHeader(await mintTokenA(a)))
      .send(peer.credentials())
      .expect(200);
    tokenC = registered.body.data.token;
  });

  const metric = async (t: AppHandle, series: string) =>
    (await scrapeMetrics(t))(series) ?? Number.NaN;
  async function untilListening(t: AppHandle): Promise<void> {
    await until(async () => (await metric(t, 'ocpi_auth_cache_listening')) === 1, 10_000);
  }
  /** Polls `check` until it holds; returns how long that took. */
  async function until(check: () => Promise<boolean>, timeoutMs = BOUND_MS): Promise<number> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return Date.now() - started;
  }
  const versionsStatus = async (t: AppHandle, token: string, operation = 'FR/AB1') =>
    (await t.http.get(`/ocpi/${operation}/versions`).set(tokenHeader(token))).status;
  const hits = (t: AppHandle) => metric(t, 'ocpi_auth_cache_lookups_total{result="hit"}');

  it('answers a peer’s repeated calls from memory', async () => {
    await b.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenC)).expect(200);
    const before = await hits(b);
    for (let i = 0; i < 5; i += 1) {
      await b.http.get('/ocpi/FR/AB1/versions').set(tokenHeader(tokenC)).expect(200);
    }
    expect((await hits(b)) - before).toBe(5);
  });

  it('stops a token rotated through one replica on the other, within the bound', async () => {
    expect(await versionsStatus(b, tokenC)).toBe(200);
    const rotated = await a.http
      .put(CREDENTIALS)
      .set(tokenHeader(tokenC))
      .send(peer.credentials())
      .expect(200);
    await until(async () => (await versionsStatus(b, tokenC)) === 401);
    tokenC = rotated.body.data.token;
    expect(await versionsStatus(b, tokenC)).toBe(200);
  });

  it('stops a token revoked straight in SQL, which no service code saw', async () => {
    expect(await versionsStatus(b, tokenC)).toBe(200);
    expect(await versionsStatus(a, tokenC)).toBe(200);
    await db.query(`UPDATE issued_tokens SET state = 'ACTIVE' WHERE state = 'ACTIVE'`);
    // An update that changes nothing still drops the entries: the next calls read again.
    expect(await versionsStatus(b, tokenC)).toBe(200);
    await db.query(`UPDATE issued_tokens SET state = 'REVOKED' WHERE state = 'ACTIVE'`);
    await until(async () => (await versionsStatus(b, tokenC)) === 401);
    await until(async () => (await versionsStatus(a, tokenC)) === 401);
    await db.query(`UPDATE issued_tokens SET state = 'ACTIVE' WHERE state = 'REVOKED'`);
    await until(async () => (await versionsStatus(b, tokenC)) === 200);
  });

  it('refuses on a cached answer only after the database confirms it (a POST right after a DELETE)', async () => {
    expect(await versionsStatus(b, tokenC)).toBe(200);
    // What the peer's DELETE commits, kept from the replicas' ears as if its notification were
    // still on its way: B's cache still holds the token as the connection token, which may not
    // POST (405), while the database says it may register again.
    await db.query('ALTER TABLE issued_tokens DISABLE TRIGGER issued_tokens_notify_auth_change');
    try {
      await db.query(
        `UPDATE issued_tokens SET state = 'REREGISTER_ONLY', expires_at = now() + interval '1 hour'
         WHERE state = 'ACTIVE'`,
      );
      await db.query(`UPDATE connections SET status = 'UNREGISTERED'`);
    } finally {
      await db.query('ALTER TABLE issued_tokens ENABLE TRIGGER issued_tokens_notify_auth_change');
    }
    const registered = await b.http
      .post(CREDENTIALS)
      .set(tokenHeader(tokenC))
      .send(peer.credentials())
      .expect(200);
    expect(registered.body.status_code).toBe(1000);
    tokenC = registered.body.data.token;
    expect(await versionsStatus(a, tokenC)).toBe(200);
  });

  it('shows an operation changed or removed through one replica on the other', async () => {
    const details = async () =>
      (await b.http.get('/ocpi/FR/AB1/2.1.1').set(tokenHeader(tokenC)).expect(200)).body.data
        .endpoints as { identifier: string }[];
    expect((await details()).map((e) => e.identifier)).toEqual(['credentials', 'locations']);
    await a.http
      .patch('/admin/operations/FR*AB1')
      .set(a.admin)
      .send({ endpoints: [{ identifier: 'tariffs', url: 'https://cpo.example/tariffs' }] })
      .expect(200);
    await until(async () => (await details()).some((e) => e.identifier === 'tariffs'));

    await createOperation(a, 'FR*AB2');
    const tokenA = await mintTokenA(a, 'FR*AB2');
    expect(await versionsStatus(b, tokenA, 'FR/AB2')).toBe(200);
    expect(await versionsStatus(b, tokenA, 'FR/AB2')).toBe(200);
    await a.http.delete('/admin/operations/FR*AB2').set(a.admin).expect(204);
    await until(async () => (await versionsStatus(b, tokenA, 'FR/AB2')) === 404);
  });

  it('reads the operation of a token whole, as its entity maps it', async () => {
    // The token check writes its query from the entity's columns: one added later is read too.
    await db.query(
      `UPDATE operations SET endpoints = $1 WHERE country_code = 'FR' AND party_id = 'AB1'`,
      [JSON.stringify([{ identifier: 'locations', upstream_url: 'http://127.0.0.1:9/locations' }])],
    );
    const operator = { countryCode: 'FR', partyId: 'AB1' };
    const found = await b.app.get(TokensService).authenticate(operator, tokenC, { fresh: true });
    const stored = await b.app.get(DataSource).getRepository(Operation).findOneByOrFail(operator);
    expect(found?.operation).toBeInstanceOf(Operation);
    expect(found?.operation).toEqual(stored);
    expect(found?.token?.role).toBe('CONNECTION');
    expect(found?.peer).toBe('FR*PID');
  });

  it('turns the cache off while it cannot hear changes, and on again once it can', async () => {
    expect(await versionsStatus(b, tokenC)).toBe(200);
    const [{ count }] = await db.query<{ count: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS count FROM pg_stat_activity
       WHERE application_name = 'ocpi-auth-cache-listener' AND datname = current_database()`,
    );
    expect(count).toBe(2);
    // Changed while no replica listens: the next calls must not be answered from memory.
    await db.query(`UPDATE issued_tokens SET state = 'REVOKED' WHERE state = 'ACTIVE'`);
    await until(async () => (await versionsStatus(b, tokenC)) === 401);
    await db.query(`UPDATE issued_tokens SET state = 'ACTIVE' WHERE state = 'REVOKED'`);
    await untilListening(b);
    await until(async () => (await versionsStatus(b, tokenC)) === 200, 5_000);
    const before = await hits(b);
    expect(await versionsStatus(b, tokenC)).toBe(200);
    expect(await hits(b)).toBe(before + 1);
  });
});

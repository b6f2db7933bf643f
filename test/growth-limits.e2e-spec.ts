import { RetentionService } from '../src/retention/retention.service.js';
import { useHarness } from './support/harness.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';

const DAY_MS = 24 * 3600 * 1000;

describe('What grows is bounded', () => {
  const t = useHarness({
    app: { maxActiveRegistrationTokens: 3, historyRetentionDays: 30, authFailureLimit: 3 },
    reachable: true,
    peer: true,
  });

  it('issues at most MAX_ACTIVE_REGISTRATION_TOKENS unexpired tokens A, then 409 naming the limit', async () => {
    await createOperation(t, 'FR*CAP');
    for (let i = 0; i < 3; i++) await mintTokenA(t, 'FR*CAP');
    const refused = await t.http
      .post('/admin/operations/FR*CAP/registration-tokens')
      .set(t.admin)
      .send({})
      .expect(409);
    expect(refused.body.error).toMatch(
      /has 3 unexpired tokens A, .*MAX_ACTIVE_REGISTRATION_TOKENS/,
    );
    // Expired ones do not count.
    await t.db.query(
      `UPDATE issued_tokens SET expires_at = now() - interval '1 second'
        WHERE operation_id = (SELECT id FROM operations WHERE party_id = 'CAP')`,
    );
    await mintTokenA(t, 'FR*CAP');
  });

  it('gives a token A without a lifetime REGISTRATION_TOKEN_TTL_S (30 days)', async () => {
    await createOperation(t, 'FR*TTL');
    const response = await t.http
      .post('/admin/operations/FR*TTL/registration-tokens')
      .set(t.admin)
      .send({})
      .expect(201);
    const lifetime = Date.parse(response.body.expires_at) - Date.now();
    expect(lifetime).toBeGreaterThan(30 * DAY_MS - 60_000);
    expect(lifetime).toBeLessThanOrEqual(30 * DAY_MS);
  });

  it('lets a token A fail FromIOP handshakes AUTH_FAILURE_LIMIT times per window, then 429 without calling the peer', async () => {
    await createOperation(t, 'FR*FLD');
    const tokenA = await mintTokenA(t, 'FR*FLD');
    t.peer.faults.versions = 'http500';
    const post = () =>
      t.http
        .post('/ocpi/FR/FLD/2.1.1/credentials')
        .set(tokenHeader(tokenA))
        .send(t.peer.credentials());
    for (let i = 0; i < 3; i++) expect((await post()).body.status_code).toBe(3001);
    t.peer.reset();
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.body.status_message).toMatch(/Too many failed/);
    expect(t.peer.received).toEqual([]);
    const history = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM handshakes
        WHERE operation_id = (SELECT id FROM operations WHERE party_id = 'FLD')`,
    );
    expect(history).toEqual([{ n: 3 }]);
    // The token itself is fine: versions still open with it.
    await t.http.get('/ocpi/FR/FLD/versions').set(tokenHeader(tokenA)).expect(200);
  });

  it('purges handshakes and dead tokens older than HISTORY_RETENTION_DAYS, and ended failure windows', async () => {
    await createOperation(t, 'FR*OLD');
    const [{ id }] = await t.db.query<{ id: string }>(
      `SELECT id FROM operations WHERE party_id = 'OLD'`,
    );
    const failRegister = () =>
      t.http
        .post('/admin/operations/FR*OLD/register')
        .set(t.admin)
        .send({ versions_url: 'http://127.0.0.1:9/versions', token: 'gone' })
        .expect(502);
    const live = await mintTokenA(t, 'FR*OLD');
    const revoked = await mintTokenA(t, 'FR*OLD');
    const expired = await mintTokenA(t, 'FR*OLD');
    const setState = (token: string, change: string) =>
      t.db.query(`UPDATE issued_tokens SET ${change} WHERE hash = sha256($1::text::bytea)`, [
        token,
      ]);
    await setState(revoked, `state = 'REVOKED'`);
    await setState(expired, `expires_at = now() - interval '1 second'`);
    await failRegister();
    // All of that 31 days old; then a recent failed attempt and a recent dead token.
    await t.db.query(
      `UPDATE handshakes SET started_at = now() - interval '31 days' WHERE operation_id = $1`,
      [id],
    );
    await t.db.query(
      `UPDATE issued_tokens SET created_at = now() - interval '31 days' WHERE operation_id = $1`,
      [id],
    );
    await failRegister();
    await setState(await mintTokenA(t, 'FR*OLD'), `state = 'REVOKED'`);
    await t.db.query(
      `INSERT INTO auth_failures VALUES ('test old window', 5, now() - interval '1 day')`,
    );

    const deleted = await t.app.app.get(RetentionService).purge();
    expect(deleted).toMatchObject({ handshakes: 1, tokens: 2, authFailures: 1 });
    // Left: the old live token A, and the recent dead one (dead, but not for long enough).
    const left = await t.db.query<{ state: string }>(
      `SELECT state FROM issued_tokens WHERE operation_id = $1 ORDER BY created_at`,
      [id],
    );
    expect(left.map((row) => row.state)).toEqual(['ACTIVE', 'REVOKED']);
    const history = await t.http.get('/admin/operations/FR*OLD/handshakes').set(t.admin);
    expect(history.body.total).toBe(1);
    await t.http.get('/ocpi/FR/OLD/versions').set(tokenHeader(live)).expect(200);
  });
});

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { OutboxStore } from '../src/outbox/outbox-store.js';
import { RetentionService } from '../src/retention/retention.service.js';
import { eventually } from './support/eventually.js';
import { useHarness, type Harness } from './support/harness.js';
import { createOperation, registerWithPeer } from './support/ocpi.js';
import { RELAY_TOKEN } from './support/test-app.js';

// Store-and-forward (DESIGN 9.3): pushes through the relay with `Prefer: respond-async` are
// committed to the outbox, answered 202, and sent to the peer (the hub simulator as GIREVE) in
// order, retried through its outages, dead when it refuses them.

const RELAY = { Authorization: `Bearer ${RELAY_TOKEN}` };
const ASYNC = { ...RELAY, Prefer: 'respond-async, wait=5' };
/** Bound of a delivery that needs a few retries at OUTBOX_MAX_BACKOFF_S=1. */
const DRAIN_MS = 30_000;

interface DeliveryBody {
  id: string;
  identifier: string;
  method: string;
  path: string;
  status: 'PENDING' | 'DELIVERED' | 'DEAD';
  attempts: number;
  last_error: string | null;
  delivered_at: string | null;
}

/** Creates FR*AB1 and registers it with the harness's fake peer; the peer's modules path. */
async function registered(t: Harness): Promise<string> {
  await createOperation(t);
  return registerWithPeer(t, t.peer);
}

async function deliveries(t: Harness, status?: string): Promise<DeliveryBody[]> {
  const response = await t.http
    .get(`/admin/operations/FR*AB1/deliveries?limit=500${status ? `&status=${status}` : ''}`)
    .set(t.admin)
    .expect(200);
  return (response.body as { items: DeliveryBody[] }).items;
}

/** What the peer answered (not the calls it dropped): method and path, in the order it got them. */
function answered(
  t: Harness,
  status = 200,
): { method: string; path: string; requestId?: string }[] {
  return t.peer.moduleRequests
    .filter((r) => r.status === status)
    .map((r) => ({ method: r.method, path: r.path, requestId: r.headers['x-request-id'] }));
}

const location = (id: string) => ({ id, name: `Location ${id}` });

describe('store-and-forward through the relay', () => {
  const t = useHarness({ reachable: true, peer: true, app: { outboxMaxBackoffS: 1 } });
  let modules: string;

  beforeAll(async () => {
    modules = await registered(t);
  });
  beforeEach(() => {
    t.peer.reset();
    t.peer.moduleRequests.length = 0;
  });

  it('answers 202 {delivery_id} once committed, then sends the push with the peer token', async () => {
    const response = await t.http
      .put('/relay/FR*AB1/locations/FR/AB1/LOC1')
      .set(ASYNC)
      .set('X-Correlation-ID', 'corr-outbox-1')
      .send(location('LOC1'))
      .expect(202);
    expect(response.body).toEqual({ delivery_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(response.headers['preference-applied']).toBe('respond-async');
    const id = (response.body as { delivery_id: string }).delivery_id;
    const [row] = await t.db.query<{ status: string }>(
      'SELECT status FROM deliveries WHERE id = $1',
      [id],
    );
    expect(row).toBeDefined();

    const delivered = await eventually(
      () => deliveries(t, 'DELIVERED'),
      (items) => items.some((d) => d.id === id),
      DRAIN_MS,
    );
    expect(delivered.find((d) => d.id === id)).toMatchObject({
      identifier: 'locations',
      method: 'PUT',
      path: '/FR/AB1/LOC1',
      attempts: 1,
      last_error: null,
    });
    const [got] = t.peer.moduleRequests;
    expect(got).toMatchObject({
      method: 'PUT',
      path: `${modules}/locations/FR/AB1/LOC1`,
      status: 200,
      body: location('LOC1'),
    });
    expect(got.headers).toMatchObject({
      authorization: `Token ${t.peer.expectedToken}`,
      'x-correlation-id': 'corr-outbox-1',
      'x-request-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'content-type': expect.stringMatching(/^application\/json/),
    });
  });

  it('relays a GET with respond-async at once: a read has nothing to keep', async () => {
    const response = await t.http.get('/relay/FR*AB1/locations/FR/AB1/LOC1').set(ASYNC);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status_code: 1000 });
  });

  it('refuses a push for a module the peer does not offer (404) and a body over the limit (413)', async () => {
    const before = await deliveries(t);
    const unknown = await t.http.put('/relay/FR*AB1/nothing/x').set(ASYNC).send({}).expect(404);
    expect(unknown.body.error).toMatch(/offers no module nothing/);
    await t.http
      .post('/relay/FR*AB1/cdrs')
      .set(ASYNC)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ id: 'x'.repeat(t.config.upstreamMaxBodyBytes) }))
      .expect(413);
    expect(await deliveries(t)).toHaveLength(before.length);
  });

  it('keeps 50 pushes in order through an outage of the module, and delivers each once when it is back', async () => {
    t.peer.takeModuleDown('locations', 3);
    for (let i = 1; i <= 50; i++) {
      await t.http
        .put(`/relay/FR*AB1/locations/FR/AB1/FIFO${i}`)
        .set(ASYNC)
        .send(location(`FIFO${i}`))
        .expect(202);
    }
    // The head was tried and failed: the queue waits behind it.
    const failing = await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.some((d) => d.last_error !== null),
      DRAIN_MS,
    );
    expect(failing.find((d) => d.last_error !== null)).toMatchObject({
      path: '/FR/AB1/FIFO1',
      last_error: expect.stringMatching(/could not be reached/),
    });
    const pending = await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.length === 0,
      DRAIN_MS,
    );
    expect(pending).toEqual([]);
    const seen = answered(t).filter((r) => r.path.includes('/FIFO'));
    expect(seen.map((r) => r.path)).toEqual(
      Array.from({ length: 50 }, (_, i) => `${modules}/locations/FR/AB1/FIFO${i + 1}`),
    );
    // The one that failed kept its X-Request-ID across attempts.
    const head = t.peer.moduleRequests.filter((r) => r.path.endsWith('/FIFO1'));
    expect(head.length).toBeGreaterThan(1);
    expect(new Set(head.map((r) => r.headers['x-request-id'])).size).toBe(1);
  });

  it('commits pushes that come together in one insert, in their order; a refused one fails alone', async () => {
    const store = t.app.app.get(OutboxStore);
    const [{ id: operationId }] = await t.db.query<{ id: string }>(
      `SELECT id FROM operations WHERE country_code = 'FR' AND party_id = 'AB1'`,
    );
    const push = (path: string, operation = operationId) =>
      store.enqueueCommitted({
        kind: 'relay',
        queue: `relay:${operation}:locations`,
        operationId: operation,
        method: 'PUT',
        identifier: 'locations',
        path,
        headers: {},
        body: Buffer.from('{}'),
      });
    const rowsOf = (prefix: string) =>
      t.db.query<{ path: string; tx: string }>(
        `SELECT path, xmin::text AS tx FROM deliveries WHERE path LIKE $1 ORDER BY seq`,
        [`${prefix}%`],
      );
    const paths = (prefix: string) =>
      Array.from({ length: 40 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

    // Added in one go: the first goes at once, the others wait for it and go together.
    const ids = await Promise.all(paths('/FR/AB1/BATCHA').map((path) => push(path)));
    expect(new Set(ids).size).toBe(40);
    const stored = await rowsOf('/FR/AB1/BATCHA');
    expect(stored.map((r) => r.path)).toEqual(paths('/FR/AB1/BATCHA'));
    expect(new Set(stored.map((r) => r.tx)).size).toBeLessThanOrEqual(2);

    // One of a batch refused by the database (its operation does not exist): the others stored.
    const outcomes = await Promise.allSettled(
      paths('/FR/AB1/BATCHB').map((path, i) =>
        push(path, i === 20 ? '00000000-0000-4000-8000-000000000000' : operationId),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(
      paths('/FR/AB1/BATCHB').map((_, i) => (i === 20 ? 'rejected' : 'fulfilled')),
    );
    expect((await rowsOf('/FR/AB1/BATCHB')).map((r) => r.path)).toEqual(
      paths('/FR/AB1/BATCHB').filter((_, i) => i !== 20),
    );
    // They go to the peer in that order.
    await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.length === 0,
      DRAIN_MS,
    );
    const batched = answered(t).filter((r) => r.path.includes('/BATCH'));
    expect(batched.map((r) => r.path.slice(r.path.lastIndexOf('/')))).toEqual([
      ...paths('/BATCHA'),
      ...paths('/BATCHB').filter((_, i) => i !== 20),
    ]);
  });

  it('holds only the stalled queue: another module of the operation goes on meanwhile', async () => {
    t.peer.takeModuleDown('locations', 60);
    try {
      await t.http
        .put('/relay/FR*AB1/locations/FR/AB1/STALLED')
        .set(ASYNC)
        .send(location('STALLED'))
        .expect(202);
      await t.http
        .put('/relay/FR*AB1/tariffs/FR/AB1/T1')
        .set(ASYNC)
        .send({ id: 'T1', currency: 'EUR' })
        .expect(202);
      const delivered = await eventually(
        () => deliveries(t, 'DELIVERED'),
        (items) => items.some((d) => d.path === '/FR/AB1/T1'),
        DRAIN_MS,
      );
      expect(delivered.find((d) => d.path === '/FR/AB1/T1')).toMatchObject({
        identifier: 'tariffs',
      });
      expect(await deliveries(t, 'PENDING')).toEqual([
        expect.objectContaining({ path: '/FR/AB1/STALLED', identifier: 'locations' }),
      ]);
    } finally {
      t.peer.takeModuleDown('locations', 0);
    }
    await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.length === 0,
      DRAIN_MS,
    );
  });

  it('kills a push the peer refuses (4xx) and goes on with the queue; the admin retries it', async () => {
    const refused = await t.http
      .patch('/relay/FR*AB1/locations/FR/AB1/LATER')
      .set(ASYNC)
      .send({ name: 'patched' })
      .expect(202);
    await t.http
      .put('/relay/FR*AB1/locations/FR/AB1/LATER')
      .set(ASYNC)
      .send(location('LATER'))
      .expect(202);
    const id = (refused.body as { delivery_id: string }).delivery_id;
    await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.length === 0,
      DRAIN_MS,
    );
    const [dead] = await deliveries(t, 'DEAD');
    expect(dead).toMatchObject({
      id,
      method: 'PATCH',
      status: 'DEAD',
      attempts: 1,
      last_error: 'HTTP 404, status_code 2003 (Unknown location)',
    });
    expect(answered(t).map((r) => r.method)).toEqual(['PUT']);

    // Only a dead one can be retried; now that the location exists, the PATCH goes through.
    const pendingOrDelivered = (await deliveries(t, 'DELIVERED'))[0];
    const conflict = await t.http
      .post(`/admin/operations/FR*AB1/deliveries/${pendingOrDelivered.id}/retry`)
      .set(t.admin)
      .expect(409);
    expect(conflict.body.error).toMatch(/not dead/);
    const retried = await t.http
      .post(`/admin/operations/FR*AB1/deliveries/${id}/retry`)
      .set(t.admin)
      .expect(200);
    expect(retried.body).toMatchObject({ id, status: 'PENDING', attempts: 0 });
    const delivered = await eventually(
      () => deliveries(t, 'DELIVERED'),
      (items) => items.some((d) => d.id === id),
      DRAIN_MS,
    );
    expect(delivered[0]).toMatchObject({ id, attempts: 1, last_error: null });
  });

  it('takes a queue with the pushes behind its head: one refused dies alone, the rest go in order, each tried once', async () => {
    // The head fails once: the queue waits behind it (at least 500 ms) while the rest come.
    t.peer.takeModuleDown('locations', 1);
    const push = (id: string, method: 'put' | 'patch' = 'put') =>
      t.http[method](`/relay/FR*AB1/locations/FR/AB1/${id}`)
        .set(ASYNC)
        .send(method === 'put' ? location(id) : { name: 'patched' })
        .expect(202);
    await push('BATCH1');
    await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.some((d) => d.last_error !== null),
      DRAIN_MS,
    );
    for (let i = 2; i <= 6; i++) await push(`BATCH${i}`);
    await push('NOWHERE', 'patch');
    for (let i = 7; i <= 11; i++) await push(`BATCH${i}`);
    await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.length === 0,
      DRAIN_MS,
    );

    const ids = Array.from({ length: 11 }, (_, i) => `BATCH${i + 1}`);
    expect(answered(t).map((r) => r.path)).toEqual(
      ids.map((id) => `${modules}/locations/FR/AB1/${id}`),
    );
    const delivered = (await deliveries(t, 'DELIVERED')).filter((d) => /\/BATCH\d+$/.test(d.path));
    // Newest first; those taken behind the head and not sent when it failed were given back
    // without an attempt counted.
    expect(delivered.map((d) => [d.path, d.attempts])).toEqual(
      ids
        .map((id) => [`/FR/AB1/${id}`, id === 'BATCH1' ? (expect.any(Number) as number) : 1])
        .reverse(),
    );
    expect(delivered.at(-1)?.attempts).toBeGreaterThan(1);
    const times = delivered.map((d) => Date.parse(String(d.delivered_at))).reverse();
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const dead = (await deliveries(t, 'DEAD')).filter((d) => d.path.endsWith('/NOWHERE'));
    expect(dead).toMatchObject([{ method: 'PATCH', attempts: 1, last_error: /HTTP 404/ }]);
  });

  it('counts a push taken behind the head as tried only once it is sent', async () => {
    // The head fails once (a 5xx: retried); the next two come while it waits (at least 500 ms),
    // and its next try, which takes them with it, is held at the peer for 1.5 s.
    t.peer.faults.modules = 'http500';
    const push = (id: string) =>
      t.http.put(`/relay/FR*AB1/locations/FR/AB1/${id}`).set(ASYNC).send(location(id)).expect(202);
    await push('COUNT1');
    await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.some((d) => d.last_error !== null),
      DRAIN_MS,
    );
    t.peer.faults.modules = undefined;
    t.peer.faults.delay_ms = { modules: 1_500 };
    await push('COUNT2');
    await push('COUNT3');
    /** Attempts by location id. */
    const attemptsOf = (items: DeliveryBody[]): Record<string, number> =>
      Object.fromEntries(items.map((d) => [d.path.slice(d.path.lastIndexOf('/') + 1), d.attempts]));
    const during = await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => attemptsOf(items).COUNT1 === 2,
      DRAIN_MS,
    );
    // Its second try is under way, the two behind it taken with it: not tried yet.
    expect(attemptsOf(during)).toEqual({ COUNT1: 2, COUNT2: 0, COUNT3: 0 });
    const done = await eventually(
      () => deliveries(t, 'DELIVERED'),
      (items) => items.filter((d) => /\/COUNT\d$/.test(d.path)).length === 3,
      DRAIN_MS,
    );
    expect(attemptsOf(done.filter((d) => /\/COUNT\d$/.test(d.path)))).toEqual({
      COUNT1: 2,
      COUNT2: 1,
      COUNT3: 1,
    });
  });

  it('wakes the workers for a push that may go now, not for one behind a stuck head', async () => {
    const listener = new pg.Client({ connectionString: t.db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', ({ payload }) => heard.push(payload ?? ''));
    await listener.query('LISTEN ocpi_outbox');
    const heldId = await createOperation(t, 'FR*AB2', 'Never registered');
    const [{ id: liveId }] = await t.db.query<{ id: string }>(
      `SELECT id FROM operations WHERE country_code = 'FR' AND party_id = 'AB1'`,
    );
    const path = `/wake-${randomUUID()}`;
    /** Rows of one statement: queue, operation, and the SQL of their time and lease. */
    const insert = async (...rows: [string, string, string?, string?][]) => {
      await t.db.query(
        `INSERT INTO deliveries (kind, queue, operation_id, method, identifier, path, headers,
                                 request_id, next_attempt_at, locked_until, locked_by)
         VALUES ${rows
           .map(
             ([, , at = 'now()', lease = 'NULL'], i) =>
               `('relay', $${2 * i + 2}, $${2 * i + 3}, 'PUT', 'locations', $1, '{}',
                 gen_random_uuid(), ${at}, ${lease}, ${lease === 'NULL' ? 'NULL' : "'elsewhere'"})`,
           )
           .join(', ')}`,
        [path, ...rows.flatMap(([queue, operation]) => [queue, operation])],
      );
    };
    /** Whether `write` woke the workers: notifications come in commit order, then our marker. */
    const wakes = async (write: () => Promise<unknown>) => {
      const from = heard.length;
      await write();
      const marker = randomUUID();
      await t.db.query(`SELECT pg_notify('ocpi_outbox', $1)`, [marker]);
      const all = await eventually(
        () => Promise.resolve(heard),
        (h) => h.includes(marker),
        5_000,
      );
      return all.slice(from, all.indexOf(marker)).includes('');
    };
    const held = `relay:${heldId}:locations`;
    const waiting = `relay:${liveId}:wake-waiting`;
    const inFlight = `relay:${liveId}:wake-in-flight`;
    try {
      // A new head wakes them, whatever it is; behind a held head or one waiting for its retry,
      // nothing can go before that head does.
      expect(await wakes(() => insert([held, heldId]))).toBe(true);
      expect(await wakes(() => insert([held, heldId]))).toBe(false);
      expect(await wakes(() => insert([waiting, liveId, "now() + interval '1 hour'"]))).toBe(true);
      expect(await wakes(() => insert([waiting, liveId]))).toBe(false);
      // Behind one in flight: it may end at any moment, and the next go.
      expect(
        await wakes(() => insert([inFlight, liveId, 'now()', "now() + interval '1 hour'"])),
      ).toBe(true);
      expect(await wakes(() => insert([inFlight, liveId]))).toBe(true);
      // One statement: one of its rows may go.
      expect(await wakes(() => insert([held, heldId], [`${waiting}-2`, liveId]))).toBe(true);
    } finally {
      await t.db.query('DELETE FROM deliveries WHERE path = $1', [path]);
      await listener.end();
    }
  });

  it('drops a dead delivery (204), and answers 404 for one it does not have, 400 for a bad id', async () => {
    const refused = await t.http
      .patch('/relay/FR*AB1/locations/FR/AB1/NEVER')
      .set(ASYNC)
      .send({ name: 'x' })
      .expect(202);
    const id = (refused.body as { delivery_id: string }).delivery_id;
    await eventually(
      () => deliveries(t, 'DEAD'),
      (items) => items.some((d) => d.id === id),
      DRAIN_MS,
    );
    await t.http.delete(`/admin/operations/FR*AB1/deliveries/${id}`).set(t.admin).expect(204);
    await t.http.delete(`/admin/operations/FR*AB1/deliveries/${id}`).set(t.admin).expect(404);
    await t.http.post(`/admin/operations/FR*AB1/deliveries/${id}/retry`).set(t.admin).expect(404);
    const badId = await t.http
      .delete('/admin/operations/FR*AB1/deliveries/not-a-uuid')
      .set(t.admin)
      .expect(400);
    expect(badId.body).toMatchObject({ fields: [{ field: 'id', message: expect.any(String) }] });
    const bad = await t.http
      .get('/admin/operations/FR*AB1/deliveries?status=LOST')
      .set(t.admin)
      .expect(400);
    expect(JSON.stringify(bad.body)).toMatch(/status/);
    await t.http.get('/admin/operations/FR*NOP/deliveries').set(t.admin).expect(404);
  });

  it('lists newest first, by status, never with the body', async () => {
    const all = await t.http
      .get('/admin/operations/FR*AB1/deliveries?limit=3')
      .set(t.admin)
      .expect(200);
    expect(all.body).toMatchObject({ offset: 0, limit: 3, total: expect.any(Number) });
    const items = all.body.items as DeliveryBody[];
    expect(items).toHaveLength(3);
    expect(Object.keys(items[0]).sort()).toEqual(
      [
        'attempts',
        'created_at',
        'delivered_at',
        'id',
        'identifier',
        'last_error',
        'method',
        'next_attempt_at',
        'path',
        'status',
      ].sort(),
    );
    const [newest] = await t.db.query<{ id: string }>(
      `SELECT id FROM deliveries ORDER BY seq DESC LIMIT 1`,
    );
    expect(items[0].id).toBe(newest.id);
  });

  it('counts deliveries by status and outcome, with no operation label', async () => {
    const metrics = await t.http.get('/metrics').set(t.admin).expect(200);
    expect(metrics.text).toMatch(/ocpi_outbox_deliveries\{status="DELIVERED"\} [1-9]/);
    expect(metrics.text).toMatch(/ocpi_outbox_deliveries\{status="PENDING"\} 0/);
    expect(metrics.text).toMatch(/ocpi_outbox_oldest_age_seconds\{status="DELIVERED"\} /);
    expect(metrics.text).toMatch(/ocpi_outbox_outcomes_total\{kind="relay",outcome="dead"\} [1-9]/);
    expect(metrics.text).toMatch(
      /ocpi_outbox_outcomes_total\{kind="relay",outcome="retried"\} [1-9]/,
    );
    expect(metrics.text).toMatch(/ocpi_outbox_attempts_total\{kind="relay"\} [1-9]/);
    expect(metrics.text).not.toMatch(/ocpi_outbox[^\n]*operation/);
  });

  it('purges delivered deliveries older than OUTBOX_RETENTION_S, and keeps the dead', async () => {
    const dead = (await deliveries(t, 'DEAD')).length;
    await t.db.query(
      `UPDATE deliveries SET delivered_at = now() - make_interval(secs => $1 + 60)
       WHERE status = 'DELIVERED' AND path LIKE '%FIFO%'`,
      [t.config.outboxRetentionS],
    );
    const deleted = await t.app.app.get(RetentionService).purge();
    expect(deleted.deliveries).toBe(50);
    expect(await deliveries(t, 'DELIVERED')).not.toContainEqual(
      expect.objectContaining({ path: expect.stringMatching(/FIFO/) }),
    );
    expect((await deliveries(t, 'DELIVERED')).length).toBeGreaterThan(0);
    expect(await deliveries(t, 'DEAD')).toHaveLength(dead);
  });

  it("holds the queue while unregistered, then sends it with the new token after GIREVE's DELETE-then-POST", async () => {
    const ours = `${t.baseUrl}/ocpi/FR/AB1/versions`;
    const sim = (path: string, body: object) =>
      fetch(`${t.peer.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const before = t.peer.expectedToken;
    const lastToken = t.peer.parties.at(-1)!.tokenForHub;
    expect(await sim('/sim/unregister', { versions_url: ours })).toMatchObject({ ok: true });
    for (const id of ['HELD1', 'HELD2', 'HELD3']) {
      await t.http
        .put(`/relay/FR*AB1/locations/FR/AB1/${id}`)
        .set(ASYNC)
        .send(location(id))
        .expect(202);
    }
    // Nothing goes out and no attempt is spent while unregistered.
    const held = await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.some((d) => d.attempts > 0),
      1_500,
    );
    expect(held.map((d) => [d.path, d.attempts])).toEqual([
      ['/FR/AB1/HELD3', 0],
      ['/FR/AB1/HELD2', 0],
      ['/FR/AB1/HELD1', 0],
    ]);
    expect(t.peer.moduleRequests).toEqual([]);

    // GIREVE registers again with the token it used for its DELETE.
    expect(await sim('/sim/register', { versions_url: ours, token: lastToken })).toMatchObject({
      ok: true,
    });
    const after = t.peer.expectedToken;
    expect(after).not.toBe(before);
    await eventually(
      () => deliveries(t, 'PENDING'),
      (items) => items.length === 0,
      DRAIN_MS,
    );
    expect(t.peer.moduleRequests.map((r) => [r.path, r.headers.authorization, r.status])).toEqual([
      [`${modules}/locations/FR/AB1/HELD1`, `Token ${after}`, 200],
      [`${modules}/locations/FR/AB1/HELD2`, `Token ${after}`, 200],
      [`${modules}/locations/FR/AB1/HELD3`, `Token ${after}`, 200],
    ]);
  });

  it('answers 409 for an operation that never had a connection', async () => {
    await createOperation(t, 'FR*NEV', 'Never registered');
    const response = await t.http
      .put('/relay/FR*NEV/locations/FR/NEV/LOC1')
      .set(ASYNC)
      .send(location('LOC1'))
      .expect(409);
    expect(response.body.error).toMatch(/never been registered/);
  });
});

describe('store-and-forward: giving up', () => {
  const t = useHarness({
    reachable: true,
    peer: true,
    app: { outboxMaxBackoffS: 1, outboxMaxAttempts: 3 },
  });
  let modules: string;

  beforeAll(async () => {
    modules = await registered(t);
  });

  it('kills a push after OUTBOX_MAX_ATTEMPTS failures (5xx, OCPI 3xxx), and the queue goes on', async () => {
    t.peer.faults = { modules: 'http500' };
    await t.http.post('/relay/FR*AB1/cdrs').set(ASYNC).send({ id: 'CDR1' }).expect(202);
    const [dead] = await eventually(
      () => deliveries(t, 'DEAD'),
      (items) => items.length === 1,
      DRAIN_MS,
    );
    expect(dead).toMatchObject({
      attempts: 3,
      last_error: expect.stringMatching(
        /^HTTP 500, status_code 3000 \(Internal error\); gave up after 3 attempts \(OUTBOX_MAX_ATTEMPTS\)$/,
      ),
    });
    expect(t.peer.moduleRequests.filter((r) => r.status === 500)).toHaveLength(3);

    t.peer.faults = {};
    await t.http.post('/relay/FR*AB1/cdrs').set(ASYNC).send({ id: 'CDR2' }).expect(202);
    await eventually(
      () => deliveries(t, 'DELIVERED'),
      (items) => items.length === 1,
      DRAIN_MS,
    );
    expect(t.peer.moduleRequests.filter((r) => r.status === 200).map((r) => r.path)).toEqual([
      `${modules}/cdrs`,
    ]);
  });
});

describe('store-and-forward: too old', () => {
  const t = useHarness({
    reachable: true,
    peer: true,
    app: { outboxMaxBackoffS: 1, outboxMaxAgeS: 2 },
  });

  beforeAll(async () => {
    await registered(t);
  });

  it('kills a push not delivered within OUTBOX_MAX_AGE_S', async () => {
    t.peer.faults = { modules: 'status_3000' };
    await t.http.post('/relay/FR*AB1/cdrs').set(ASYNC).send({ id: 'OLD' }).expect(202);
    const [dead] = await eventually(
      () => deliveries(t, 'DEAD'),
      (items) => items.length === 1,
      DRAIN_MS,
    );
    expect(dead.last_error).toMatch(/OUTBOX_MAX_AGE_S \(2 s\)/);
    expect(dead.attempts).toBeGreaterThanOrEqual(1);
  });
});

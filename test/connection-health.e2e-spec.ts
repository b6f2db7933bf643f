import pg from 'pg';
import { eventually } from './support/eventually.js';
import { useHarness, type Harness } from './support/harness.js';
import { scrapeMetrics } from './support/metrics.js';
import { createOperation } from './support/ocpi.js';

// Connection health (issue 17, DESIGN 10) with the hub simulator as the peer: what a probe finds,
// the probe asked for, the health on the connection and in the list's filters and the metrics.

const ADMIN = '/admin/operations/FR*AB1';
const NO_HEALTH = {
  status: 'UNKNOWN',
  checked_at: null,
  last_up_at: null,
  consecutive_failures: 0,
  error: null,
};

interface Health {
  status: string;
  checked_at: string | null;
  last_up_at: string | null;
  consecutive_failures: number;
  error: string | null;
}

/** Helpers over one harness whose app is reachable and whose peer is the hub simulator. */
function helpers(t: Harness) {
  const health = async () =>
    (await t.http.get(`${ADMIN}/connection`).set(t.admin).expect(200)).body.health as Health;
  const control = async (method: string, path: string, body: object) => {
    const response = await fetch(`${t.peer.baseUrl}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  };
  const ourVersionsUrl = () => `${t.baseUrl}/ocpi/FR/AB1/versions`;
  return {
    health,
    /** The hub refuses the token we present (401), or is down for us, or neither. */
    partyFaults: (faults: { refuse_token?: boolean; down?: boolean }) =>
      control('PUT', '/sim/party-faults', { versions_url: ourVersionsUrl(), ...faults }),
    /** GIREVE's way of renewing: DELETE, then a new registration (with a new token for us). */
    renewFromHub: () => control('POST', '/sim/update', { versions_url: ourVersionsUrl() }),
    registerToIop: async () => {
      const tokenA = t.peer.issueTokenA();
      return t.http
        .post(`${ADMIN}/register`)
        .set(t.admin)
        .send({ versions_url: t.peer.versionsUrl, token: tokenA })
        .expect(200);
    },
    probe: () => t.http.post(`${ADMIN}/connection/probe`).set(t.admin),
    probesReceived: () =>
      t.peer.received
        .filter((r) => r.method === 'GET' && r.path === '/ocpi/emsp/versions')
        .map((r) => r.authorization),
  };
}

describe('connection health: a probe asked for (no scheduled probes)', () => {
  const t = useHarness({ app: { peerTimeoutMs: 500 }, reachable: true, peer: true });
  const h = helpers(t);

  beforeAll(async () => {
    await createOperation(t);
  });

  it('answers 409 to a probe of a connection that is not registered, 404 to no operation', async () => {
    const response = await h.probe().expect(409);
    expect(response.body).toEqual({
      status: 409,
      error: 'Operation FR*AB1 is not registered: there is nothing to probe',
    });
    await t.http.post('/admin/operations/FR*ZZ9/connection/probe').set(t.admin).expect(404);
    expect(await h.health()).toEqual(NO_HEALTH);
  });

  it('is UNKNOWN at registration; a probe GETs the peer versions with its token and finds it UP', async () => {
    const registered = await h.registerToIop();
    expect(registered.body.health).toEqual(NO_HEALTH);
    t.peer.reset();
    const response = await h.probe().expect(200);
    expect(response.body).toEqual({
      status: 'UP',
      checked_at: expect.any(String),
      last_up_at: response.body.checked_at,
      consecutive_failures: 0,
      error: null,
    });
    expect(h.probesReceived()).toEqual([`Token ${t.peer.expectedToken}`]);
    expect(await h.health()).toEqual(response.body);
  });

  it('is REJECTED when the peer answers 401, saying what to do, with no token in the error', async () => {
    const before = await h.health();
    await h.partyFaults({ refuse_token: true });
    const response = await h.probe().expect(200);
    expect(response.body).toEqual({
      status: 'REJECTED',
      checked_at: expect.any(String),
      last_up_at: before.last_up_at,
      consecutive_failures: 1,
      error: expect.stringMatching(
        /^GET http:\/\/127\.0\.0\.1:\d+\/ocpi\/emsp\/versions answered HTTP 401: the peer no longer accepts our token; register again/,
      ),
    });
    expect(response.body.error).not.toContain(t.peer.expectedToken);
  });

  it('is DOWN when the peer does not answer, counting the failures, and UP again once it does', async () => {
    await h.partyFaults({ down: true });
    const down = await h.probe().expect(200);
    expect(down.body).toMatchObject({
      status: 'DOWN',
      consecutive_failures: 2,
      error: expect.stringMatching(/versions could not be reached or gave no complete answer/),
    });
    t.peer.faults = { versions: 'http500' };
    await h.partyFaults({});
    expect((await h.probe().expect(200)).body).toMatchObject({
      status: 'DOWN',
      consecutive_failures: 3,
      error: expect.stringMatching(/answered HTTP 500$/),
    });
    t.peer.faults = { versions: 'status_3000' };
    expect((await h.probe().expect(200)).body).toMatchObject({
      status: 'DOWN',
      error: expect.stringMatching(/answered status_code 3000/),
    });
    t.peer.faults = {};
    const up = await h.probe().expect(200);
    expect(up.body).toMatchObject({ status: 'UP', consecutive_failures: 0, error: null });
    expect(up.body.last_up_at).toBe(up.body.checked_at);
  });

  it('never runs two probes of a connection at once: the second asked meanwhile answers 409', async () => {
    t.peer.faults = { delay_ms: { versions: 300 } };
    const [first, second] = await Promise.all([h.probe(), h.probe()]);
    t.peer.faults = {};
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    expect([first, second].find((r) => r.status === 409)?.body.error).toMatch(
      /^A probe of FR\*AB1 is under way: its result shows in GET \/admin\/operations\/FR\*AB1\/connection within \d+ s$/,
    );
    // The lease is let go once the probe is recorded.
    await h.probe().expect(200);
  });

  it('goes back to UNKNOWN at a new registration, and the new token is UP where the old was REJECTED', async () => {
    await h.partyFaults({ refuse_token: true });
    expect((await h.probe().expect(200)).body.status).toBe('REJECTED');
    const renewed = await h.renewFromHub();
    expect(renewed).toMatchObject({ deleted: { ok: true }, registered: { ok: true } });
    expect(await h.health()).toEqual(NO_HEALTH);
    t.peer.reset();
    expect((await h.probe().expect(200)).body).toMatchObject({ status: 'UP', error: null });
    expect(h.probesReceived()).toEqual([`Token ${t.peer.expectedToken}`]);
  });

  it('goes back to UNKNOWN at unregister, and is probed no more', async () => {
    const response = await t.http.post(`${ADMIN}/unregister`).set(t.admin).send({}).expect(200);
    expect(response.body.health).toEqual(NO_HEALTH);
    await h.probe().expect(409);
    const [row] = await t.db.query(
      `SELECT probe_due_at, probing_until FROM connections c JOIN operations o ON o.id = c.operation_id
        WHERE o.party_id = 'AB1'`,
    );
    expect(row).toEqual({ probe_due_at: null, probing_until: null });
  });
});

describe('connection health: probed every interval by the service itself', () => {
  const t = useHarness({
    app: { healthProbeIntervalS: 1, peerTimeoutMs: 500 },
    reachable: true,
    peer: true,
  });
  const h = helpers(t);
  const becomes = (status: string) =>
    eventually(h.health, (health) => health.status === status, 5_000);

  beforeAll(async () => {
    await createOperation(t);
  });

  it('finds a new registration UP within an interval, REJECTED once the hub refuses our token, UP after a new registration', async () => {
    await h.registerToIop();
    const firstToken = t.peer.expectedToken;
    expect(await becomes('UP')).toMatchObject({ status: 'UP', error: null });
    expect(h.probesReceived()).toContain(`Token ${firstToken}`);

    await h.partyFaults({ refuse_token: true });
    expect(await becomes('REJECTED')).toMatchObject({
      error: expect.stringMatching(/answered HTTP 401: the peer no longer accepts our token/),
    });

    await h.renewFromHub();
    expect(t.peer.expectedToken).not.toBe(firstToken);
    expect(await becomes('UP')).toMatchObject({ consecutive_failures: 0, error: null });
    expect(h.probesReceived()).toContain(`Token ${t.peer.expectedToken}`);
  });

  it('finds it DOWN while the hub is down for it, and UP again after', async () => {
    await h.partyFaults({ down: true });
    expect((await becomes('DOWN')).consecutive_failures).toBeGreaterThanOrEqual(1);
    await h.partyFaults({});
    expect(await becomes('UP')).toMatchObject({ consecutive_failures: 0, error: null });
  });

  it('counts the probes and the connections by health in /metrics', async () => {
    const metrics = await scrapeMetrics(t);
    expect(metrics('ocpi_connection_health{health="UP"}')).toBe(1);
    expect(metrics('ocpi_connection_health{health="DOWN"}')).toBe(0);
    expect(metrics('ocpi_health_probes_total{outcome="UP"}')).toBeGreaterThanOrEqual(2);
    expect(metrics('ocpi_health_probes_total{outcome="REJECTED"}')).toBeGreaterThanOrEqual(1);
    expect(
      metrics('ocpi_health_probe_duration_seconds_count{outcome="DOWN"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('probes an unregistered connection no more', async () => {
    await t.http.post(`${ADMIN}/unregister`).set(t.admin).send({}).expect(200);
    expect(await h.health()).toEqual(NO_HEALTH);
    // Absent from what the prober claims: not registered, no due time.
    expect(await t.db.query(`SELECT 1 FROM connections WHERE probe_due_at IS NOT NULL`)).toEqual(
      [],
    );
  });
});

describe('GET /admin/operations filtered by connection status and health', () => {
  const t = useHarness();
  const list = (query: string) => t.http.get(`/admin/operations?${query}`).set(t.admin);
  const listed = async (query: string) => {
    const response = await list(query).expect(200);
    return {
      ids: (response.body.items as { operator_id: string }[]).map((i) => i.operator_id),
      total: response.body.total as number,
    };
  };

  beforeAll(async () => {
    // A registered connection of each health, and one unregistered: written as probes leave them.
    const healths = { AA1: 'UP', AA2: 'DOWN', AA3: 'REJECTED', AA4: 'UNKNOWN', AA5: 'DOWN' };
    for (const [party, health] of Object.entries(healths)) {
      const id = await createOperation(t, `FR*${party}`);
      await t.db.query(
        `UPDATE connections SET status = 'REGISTERED', health_status = $2 WHERE operation_id = $1`,
        [id, health],
      );
    }
    await createOperation(t, 'FR*AA6');
  });

  it('lists the registered ones of a health ("which of mine are down?")', async () => {
    expect(await listed('health=DOWN')).toEqual({ ids: ['FR*AA2', 'FR*AA5'], total: 2 });
    expect(await listed('health=DOWN&limit=1&offset=1')).toEqual({ ids: ['FR*AA5'], total: 2 });
    expect(await listed('health=REJECTED')).toEqual({ ids: ['FR*AA3'], total: 1 });
  });

  it('matches health on registered connections only', async () => {
    // FR*AA6 is UNKNOWN too, but not registered.
    expect(await listed('health=UNKNOWN')).toEqual({ ids: ['FR*AA4'], total: 1 });
    expect(await listed('connection_status=UNREGISTERED&health=UNKNOWN')).toEqual({
      ids: [],
      total: 0,
    });
  });

  it('lists by connection status, alone or with health', async () => {
    expect(await listed('connection_status=UNREGISTERED')).toEqual({ ids: ['FR*AA6'], total: 1 });
    expect((await listed('connection_status=REGISTERED')).total).toBe(5);
    expect(await listed('connection_status=REGISTERED&health=UP')).toEqual({
      ids: ['FR*AA1'],
      total: 1,
    });
    expect((await listed('')).total).toBe(6);
  });

  it.each([
    ['health=down', 'health', /^must be one of UNKNOWN, UP, DOWN, REJECTED$/],
    ['health=', 'health', /^must be one of/],
    ['connection_status=ACTIVE', 'connection_status', /^must be one of UNREGISTERED, REGISTERED$/],
  ])('answers 400 naming the field for %s', async (query, field, message) => {
    const response = await list(query).expect(400);
    expect(response.body.fields).toEqual([{ field, message: expect.stringMatching(message) }]);
  });

  it('filters through an index, and counts by health through one', async () => {
    const indexes = await t.db.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'connections' ORDER BY indexname`,
    );
    expect(indexes.map((i) => i.indexdef)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\(probe_due_at\) WHERE \(\(status\)::text = 'REGISTERED'/),
        expect.stringMatching(/\(status, health_status\)$/),
      ]),
    );
  });
});

describe('a health write does not empty the caches of every replica', () => {
  const t = useHarness();
  let listener: pg.Client;
  const heard: string[] = [];

  beforeAll(async () => {
    listener = new pg.Client({ connectionString: t.db.url });
    await listener.connect();
    // Ended before the harness drops the database.
    t.onClose(() => listener.end());
    listener.on('notification', ({ payload }) => heard.push(payload ?? ''));
    await listener.query('LISTEN ocpi_auth_changes');
  });

  /** What was announced up to a marker of ours: notifications come in commit order. */
  const announcedBy = async (marker: string) => {
    await t.db.query(`SELECT pg_notify('ocpi_auth_changes', $1)`, [marker]);
    const all = await eventually(
      () => Promise.resolve(heard),
      (h) => h.includes(marker),
      5_000,
    );
    expect(all).toContain(marker);
    // Without the listeners' own round trips (`probe:…`, every few seconds).
    return heard
      .splice(0, heard.indexOf(marker) + 1)
      .slice(0, -1)
      .filter((payload) => !payload.startsWith('probe:'));
  };

  it('announces a change of the connection, never one of its health or probing alone', async () => {
    const id = await createOperation(t, 'FR*NN1');
    await announcedBy('start');
    await t.db.query(
      `UPDATE connections SET health_status = 'DOWN', health_checked_at = now(),
         health_consecutive_failures = 3, health_error = 'x', probe_due_at = now(),
         probing_until = now() WHERE operation_id = $1`,
      [id],
    );
    expect(await announcedBy('after health')).toEqual([]);
    await t.db.query(
      `UPDATE connections SET status = 'REGISTERED', health_status = 'UNKNOWN' WHERE operation_id = $1`,
      [id],
    );
    expect(await announcedBy('after status')).toEqual([id]);
    await t.db.query(`DELETE FROM operations WHERE id = $1`, [id]);
    expect(await announcedBy('after delete')).toContain(id);
  });
});

import { freePort } from '../src/common/free-port.js';
import { useHarness } from './support/harness.js';
import { createOperation, registerWithPeer } from './support/ocpi.js';
import { ADMIN_TOKEN, RELAY_TOKEN } from './support/test-app.js';
import { eventually } from './support/eventually.js';
import { echo, Upstream } from './support/upstream.js';

// The relay (DESIGN 9.2): the CPO's systems call the peer of FR*AB1 through it with the relay
// token; it presents the peer's token. The fake GIREVE is the peer, on two replicas; a real
// server stands for a peer module where a test needs to shape the answers.

const RELAY = { Authorization: `Bearer ${RELAY_TOKEN}` };

describe('relay', () => {
  const t = useHarness({ reachable: true, peer: true, replica: true });
  const peerModule = new Upstream();
  let modules: string;

  beforeAll(async () => {
    await peerModule.start();
    t.onClose(() => peerModule.stop());
    await createOperation(t);
    modules = await registerWithPeer(t, t.peer);
  });
  beforeEach(() => {
    t.peer.reset();
    peerModule.received.length = 0;
    peerModule.handler = echo;
  });

  /**
   * Points one of the peer's endpoints at the test's own server (or a closed port), as if the peer
   * listed it so, and waits until the relay goes there: each replica keeps the operation's relay
   * target in memory, dropped when PostgreSQL notifies the change, milliseconds after the commit.
   */
  async function peerEndpointAt(identifier: string, url: string): Promise<void> {
    await t.db.query(
      `UPDATE connections SET peer_endpoints = (
         SELECT jsonb_agg(CASE WHEN e->>'identifier' = $1 THEN jsonb_build_object('identifier', $1::text, 'url', $2::text) ELSE e END)
         FROM jsonb_array_elements(peer_endpoints) e)
       WHERE operation_id = (SELECT id FROM operations WHERE party_id = 'AB1')`,
      [identifier, url],
    );
    const path = new URL(url).pathname;
    const arrived = await eventually(
      async () => (await t.http.get(`/relay/FR*AB1/${identifier}`).set(RELAY)).status,
      (status) => status === 502 || peerModule.received.some((r) => r.url.startsWith(path)),
    );
    expect(arrived === 502 || peerModule.received.length > 0).toBe(true);
    peerModule.received.length = 0;
    t.peer.reset();
  }

  it("sends a call to the peer's module with the peer's token, exactly as it issued it", async () => {
    await t.http
      .get('/relay/FR*AB1/locations/FR/AB1/LOC1?fields=all')
      .set(RELAY)
      .expect((response) => expect(response.status).toBeLessThan(500));
    expect(t.peer.received).toEqual([
      {
        method: 'GET',
        path: `${modules}/locations/FR/AB1/LOC1?fields=all`,
        authorization: `Token ${t.peer.expectedToken}`,
        body: undefined,
      },
    ]);
  });

  it('sends the body and Content-Type as given, new request ids, and the answer as the peer gave it', async () => {
    await peerEndpointAt('tokens', `${peerModule.baseUrl}/emsp/tokens`);
    peerModule.handler = (request, response) => {
      response.writeHead(202, { 'Content-Type': 'application/json', 'X-Peer': 'here' });
      response.end(
        JSON.stringify({
          status_code: 1000,
          timestamp: '2026-12-01T00:00:00Z',
          data: { got: request.body },
        }),
      );
    };
    const token = { uid: '012345678', type: 'RFID', auth_id: 'FR-GIR-C12345678', valid: true };
    const response = await t.http
      .put('/relay/frab1/tokens/FR/GIR/012345678')
      .set(RELAY)
      .set('X-Correlation-ID', 'corr-relay-1')
      .set('X-Request-ID', 'caller-request-1')
      .send(token)
      .expect(202);
    expect(response.headers['x-peer']).toBe('here');
    expect(response.headers['x-correlation-id']).toBe('corr-relay-1');
    expect(response.body.data.got).toBe(JSON.stringify(token));
    const [got] = peerModule.received;
    expect(got).toMatchObject({ method: 'PUT', url: '/emsp/tokens/FR/GIR/012345678' });
    expect(got.headers).toMatchObject({
      authorization: `Token ${t.peer.expectedToken}`,
      'x-correlation-id': 'corr-relay-1',
      'content-type': expect.stringMatching(/^application\/json/),
    });
    expect(got.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(got.headers['x-request-id']).not.toBe('caller-request-1');
    expect(JSON.stringify(got.headers)).not.toContain(RELAY_TOKEN);
  });

  it("gives the peer the id of its answer's X-Request-ID when the caller sent none", async () => {
    await peerEndpointAt('tokens', `${peerModule.baseUrl}/emsp/tokens`);
    peerModule.handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ status_code: 1000, timestamp: '2026-12-01T00:00:00Z' }));
    };
    const response = await t.http.get('/relay/FR*AB1/tokens').set(RELAY).expect(200);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(peerModule.received[0].headers['x-request-id']).toBe(response.headers['x-request-id']);
  });

  it.each(['POST', 'PATCH', 'DELETE'] as const)(
    '%s goes to the peer with its body, and its answer comes back',
    async (method) => {
      await peerEndpointAt('tariffs', `${peerModule.baseUrl}/emsp/tariffs`);
      peerModule.handler = (request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify({
            status_code: 1000,
            timestamp: '2026-12-01T00:00:00Z',
            data: { method: request.method, body: request.body },
          }),
        );
      };
      const response = await t.http[method.toLowerCase() as 'post'](
        '/relay/FR*AB1/tariffs/FR/AB1/T1',
      )
        .set(RELAY)
        .send({ id: 'T1' })
        .expect(200);
      expect(response.body.data).toEqual({ method, body: JSON.stringify({ id: 'T1' }) });
      expect(peerModule.received[0]).toMatchObject({ method, url: '/emsp/tariffs/FR/AB1/T1' });
    },
  );

  it('rewrites Link URLs under the peer endpoint to relay URLs, over a three-page listing', async () => {
    await peerEndpointAt('tokens', `${peerModule.baseUrl}/emsp/tokens`);
    peerModule.handler = (request, response) => {
      const offset = Number(new URL(request.url, 'http://x').searchParams.get('offset') ?? 0);
      response.writeHead(200, {
        'Content-Type': 'application/json',
        'X-Total-Count': '3',
        ...(offset < 2 && {
          Link: `<${peerModule.baseUrl}/emsp/tokens?offset=${offset + 1}&limit=1>; rel="next"`,
        }),
      });
      response.end(
        JSON.stringify({
          status_code: 1000,
          timestamp: '2026-12-01T00:00:00Z',
          data: [{ uid: `T${offset}` }],
        }),
      );
    };
    const uids: string[] = [];
    let next: string | undefined = `${t.baseUrl}/relay/FR*AB1/tokens?limit=1`;
    while (next) {
      const response = await fetch(next, { headers: RELAY });
      expect(response.status).toBe(200);
      uids.push(...((await response.json()) as { data: { uid: string }[] }).data.map((d) => d.uid));
      const link = response.headers.get('link');
      if (link) expect(link).toMatch(new RegExp(`^<${t.baseUrl}/relay/FR\\*AB1/tokens\\?offset=`));
      next = link ? /<([^>]+)>/.exec(link)?.[1] : undefined;
    }
    expect(uids).toEqual(['T0', 'T1', 'T2']);
    expect(peerModule.received.map((r) => r.url)).toEqual([
      '/emsp/tokens?limit=1',
      '/emsp/tokens?offset=1&limit=1',
      '/emsp/tokens?offset=2&limit=1',
    ]);
  });

  it("takes a URL the peer handed out on the origin of one of the peer's endpoints", async () => {
    const responseUrl = `${t.peer.baseUrl}/ocpi/emsp/2.1.1/commands/START_SESSION/42`;
    await t.http
      .post('/relay/FR*AB1/url')
      .set(RELAY)
      .set('X-OCPI-Target-URL', responseUrl)
      .send({ result: 'ACCEPTED' })
      .expect((response) => expect(response.status).toBeLessThan(500));
    expect(t.peer.received).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/ocpi/emsp/2.1.1/commands/START_SESSION/42',
        authorization: `Token ${t.peer.expectedToken}`,
        body: { result: 'ACCEPTED' },
      }),
    ]);
  });

  it.each([
    ['another origin', () => 'http://localhost:1/commands/START_SESSION/42'],
    ['no URL', () => undefined],
    ['not a URL', () => 'not a url'],
  ])('refuses a target URL with %s, and sends nothing', async (_name, target) => {
    const url = target();
    const request = t.http.post('/relay/FR*AB1/url').set(RELAY);
    const response = await (url ? request.set('X-OCPI-Target-URL', url) : request)
      .send({ result: 'ACCEPTED' })
      .expect(400);
    expect(response.body.fields).toEqual([
      { field: 'X-OCPI-Target-URL', message: expect.stringMatching(/origin of one of the peer/) },
    ]);
    expect(t.peer.received).toEqual([]);
    expect(peerModule.received).toEqual([]);
  });

  it('answers 404 for a module the peer does not offer, and for an unknown operation', async () => {
    const response = await t.http.get('/relay/FR*AB1/chargingprofiles').set(RELAY).expect(404);
    expect(response.body.error).toMatch(
      /offers no module chargingprofiles; it offers: .*locations/,
    );
    await t.http.get('/relay/FR*ZZ9/locations').set(RELAY).expect(404);
    expect(t.peer.received).toEqual([]);
  });

  it('refuses on what it holds in memory only after the database confirms it', async () => {
    await t.http.get('/relay/FR*AB1/locations').set(RELAY); // the target is in memory now
    // A new peer module, kept from the replicas' ears as if its notification were on its way.
    await t.db.query('ALTER TABLE connections DISABLE TRIGGER connections_notify_auth_change');
    try {
      await t.db.query(
        `UPDATE connections SET peer_endpoints = peer_endpoints || jsonb_build_array(
           jsonb_build_object('identifier', 'hubclientinfo', 'url', $1::text))
         WHERE operation_id = (SELECT id FROM operations WHERE party_id = 'AB1')`,
        [`${peerModule.baseUrl}/emsp/hubclientinfo`],
      );
    } finally {
      await t.db.query('ALTER TABLE connections ENABLE TRIGGER connections_notify_auth_change');
    }
    await t.http.get('/relay/FR*AB1/hubclientinfo/FR/AB1').set(RELAY).expect(200);
    expect(peerModule.received.map((r) => r.url)).toEqual(['/emsp/hubclientinfo/FR/AB1']);
  });

  it('answers 409 for an operation that is not registered', async () => {
    await createOperation(t, 'FR*AB2');
    const response = await t.http.get('/relay/FR*AB2/locations').set(RELAY).expect(409);
    expect(response.body.error).toMatch(/not registered/);
  });

  it('answers 502 step relay when the peer gives no answer within PEER_TIMEOUT_MS', async () => {
    await peerEndpointAt('cdrs', `${peerModule.baseUrl}/emsp/cdrs`);
    peerModule.handler = (_request, response) => {
      setTimeout(() => response.end('{}'), 5_000).unref();
    };
    const response = await t.http.post('/relay/FR*AB1/cdrs').set(RELAY).send({}).expect(502);
    expect(response.body).toMatchObject({
      status: 502,
      step: 'relay',
      error: expect.stringMatching(/no answer within 2000 ms/),
    });
  });

  it('answers 502 step relay when the peer cannot be reached, and logs why under the request', async () => {
    await peerEndpointAt('sessions', `http://127.0.0.1:${await freePort()}/emsp/sessions`);
    const lines: string[] = [];
    const logged = await t.startApp({
      logLevel: 'warn',
      logDestination: { write: (line: string) => void lines.push(line) },
    });
    const response = await logged.http.get('/relay/FR*AB1/sessions').set(RELAY).expect(502);
    expect(response.body).toMatchObject({
      step: 'relay',
      error: expect.stringMatching(/could not be reached/),
    });
    const warning = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.context === 'Relay');
    expect(warning).toMatchObject({
      req: { id: response.headers['x-request-id'], url: '/relay/FR*AB1/sessions' },
      msg: expect.stringMatching(/^Relay to the peer of FR\*AB1 failed: .*ECONNREFUSED/),
    });
  });

  it('refuses a peer on a private address unless ALLOW_PRIVATE_PEER_ADDRESSES', async () => {
    const strict = await t.startApp({ allowPrivatePeerAddresses: false });
    const response = await strict.http.get('/relay/FR*AB1/locations').set(RELAY).expect(502);
    expect(response.body).toMatchObject({
      step: 'relay',
      error: expect.stringMatching(/refused.*loopback/),
    });
    expect(t.peer.received).toEqual([]);
  });

  it('opens with the relay token or the admin token (DESIGN 12); the relay token opens nothing else', async () => {
    await t.http.get('/relay/FR*AB1/locations').expect(401);
    await t.http
      .get('/relay/FR*AB1/locations')
      .set({ Authorization: `Bearer not-${RELAY_TOKEN}` })
      .expect(401);
    expect(t.peer.received).toEqual([]);
    const forbidden = await t.http.get('/admin/operations').set(RELAY).expect(403);
    expect(forbidden.body.error).toMatch(/^Scope operations:read is required/);
    await t.http.get('/metrics').set(RELAY).expect(403);
    const relayed = await t.http
      .get('/relay/FR*AB1/locations')
      .set({ Authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(relayed.status).not.toBe(401);
    expect(t.peer.received.map((r) => r.authorization)).toEqual([`Token ${t.peer.expectedToken}`]);
  });

  it("uses the peer's new token at once on both replicas after GIREVE's DELETE-then-POST", async () => {
    const before = t.peer.expectedToken;
    const update = await fetch(`${t.peer.baseUrl}/sim/update`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ versions_url: `${t.baseUrl}/ocpi/FR/AB1/versions` }),
    });
    expect(await update.json()).toMatchObject({ deleted: { ok: true }, registered: { ok: true } });
    const after = t.peer.expectedToken;
    expect(after).not.toBe(before);
    t.peer.reset();
    await t.http.get('/relay/FR*AB1/locations').set(RELAY);
    await t.replica.http.get('/relay/FR*AB1/locations').set(RELAY);
    expect(t.peer.received.map((r) => r.authorization)).toEqual([
      `Token ${after}`,
      `Token ${after}`,
    ]);
  });

  it('counts relayed requests by module, method, status class and outcome', async () => {
    const metrics = await t.http.get('/metrics').set(t.admin).expect(200);
    expect(metrics.text).toMatch(
      /ocpi_edge_requests_total\{direction="relay",module="tokens",method="PUT",status_class="2xx",outcome="ok"\} 1/,
    );
    expect(metrics.text).toMatch(
      /ocpi_edge_requests_total\{direction="relay",module="cdrs",[^}]*outcome="timeout"\} 1/,
    );
    expect(metrics.text).toMatch(
      /ocpi_edge_requests_total\{direction="relay",module="url",[^}]*\} 1/,
    );
  });
});

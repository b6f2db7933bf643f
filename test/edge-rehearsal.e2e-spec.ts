import { freePort } from '../src/common/free-port.js';
import { eventually } from './support/eventually.js';
import { useHarness, type ServiceProcess } from './support/harness.js';
import { hubControl } from './support/hub-control.js';
import { mintTokenA } from './support/ocpi.js';
import { GATEWAY_UPSTREAM_TOKEN } from './support/test-app.js';

// The README's edge rehearsal, its way: the hub simulator as `npm run hub-sim` runs it, the
// example upstream as `node examples/locations-upstream.mjs` runs it, each a process of its own;
// the service in-process. The hub pulls locations through the gateway, the CPO pushes one to the
// hub through the relay, and answers a command's response_url through the relay. As the README,
// with the keys of DESIGN 12: the provider makes an organisation and gives the CPO a key bound to
// it; the CPO runs the walk-through with that key, and gives its locations system a relay-only key.

describe("the README's edge rehearsal: gateway, relay, command", () => {
  const t = useHarness({ reachable: true });
  let hub: ServiceProcess;
  let upstream: ServiceProcess;
  const versionsUrl = () => `${t.baseUrl}/ocpi/FR/AB1/versions`;
  const modules = () => `${t.baseUrl}/ocpi/FR/AB1/2.1.1`;

  const control = (method: string, path: string, body?: object) =>
    hubControl(hub.baseUrl, method, path, body);
  /** The CPO's key (bound to its organisation), and its locations system's (relay only). */
  let cpo: { Authorization: string };
  let RELAY: { Authorization: string };
  /**
   * The upstream's log lines since `from` characters of its output, once `count` have come: it
   * logs after answering, and its output comes through a pipe that may trail the answer.
   */
  const upstreamLines = (from: number, count: number) =>
    eventually(
      () => Promise.resolve(upstream.output().slice(from).split('\n').filter(Boolean)),
      (lines) => lines.length >= count,
      5_000,
    );

  beforeAll(async () => {
    hub = await t.startHubProcess();
    const port = await freePort();
    upstream = await t.spawn('examples/locations-upstream.mjs', {
      args: ['--port', String(port)],
      env: { GATEWAY_UPSTREAM_TOKEN },
      port,
      ready: 'Locations upstream on',
    });
    // As the README: the provider sets up the CPO's organisation and key...
    const organisation = await t.http
      .post('/admin/organisations')
      .set(t.admin)
      .send({ name: 'My CPO' })
      .expect(201);
    const cpoKey = await t.http
      .post('/admin/api-keys')
      .set(t.admin)
      .send({
        name: 'My CPO',
        scopes: ['operations:read', 'operations:write', 'handshakes', 'relay'],
        organisation_id: (organisation.body as { id: string }).id,
      })
      .expect(201);
    cpo = { Authorization: `Bearer ${(cpoKey.body as { key: string }).key}` };
    // ...the CPO gives its locations system a key for the relay only...
    const relayKey = await t.http
      .post('/admin/api-keys')
      .set(cpo)
      .send({ name: 'locations system', scopes: ['relay'] })
      .expect(201);
    RELAY = { Authorization: `Bearer ${(relayKey.body as { key: string }).key}` };
    // ...and with its key makes an operation with locations and commands behind the gateway; the
    // hub registers with it (FromIOP) and reads its version details.
    await t.http
      .post('/admin/operations')
      .set(cpo)
      .send({
        operator_id: 'FR*AB1',
        business_details: { name: 'My network' },
        endpoints: [
          { identifier: 'locations', upstream_url: `${upstream.baseUrl}/locations` },
          { identifier: 'commands', upstream_url: `${upstream.baseUrl}/commands` },
        ],
      })
      .expect(201);
    const registered = await control('POST', '/sim/register', {
      versions_url: versionsUrl(),
      token: await mintTokenA({ http: t.http, admin: cpo }),
    });
    expect(registered).toMatchObject({ ok: true });
  });

  it('the hub pulls the locations through the gateway, page after page', async () => {
    const before = upstream.output().length;
    const pulled = await control('POST', '/sim/pull', {
      versions_url: versionsUrl(),
      module: 'locations',
    });
    expect(pulled).toEqual({
      ok: true,
      pages: [
        { url: `${modules()}/locations`, status: 200, status_code: 1000, items: 2 },
        {
          url: `${modules()}/locations?offset=2&limit=2`,
          status: 200,
          status_code: 1000,
          items: 1,
        },
      ],
      items_total: 3,
      x_total_count: 3,
    });
    // The upstream saw who calls (operation, peer) and the exchange's ids; never a peer token.
    const lines = await upstreamLines(before, 2);
    expect(lines).toEqual([
      expect.stringMatching(
        /^GET \/locations operation=FR\*AB1 peer=FR\*GIR request_id=[\w-]+ correlation_id=[\w-]+ -> 200$/,
      ),
      expect.stringMatching(
        /^GET \/locations\?offset=2&limit=2 operation=FR\*AB1 peer=FR\*GIR request_id=[\w-]+ correlation_id=[\w-]+ -> 200$/,
      ),
    ]);
    expect(upstream.output()).not.toMatch(/Token |Bearer /);
  });

  it('the upstream refuses anyone but the gateway', async () => {
    const response = await fetch(`${upstream.baseUrl}/locations`);
    expect(response.status).toBe(401);
    const wrong = await fetch(`${upstream.baseUrl}/locations`, {
      headers: { Authorization: 'Bearer not-the-gateway-token' },
    });
    expect(wrong.status).toBe(401);
  });

  const location = {
    id: 'LOC1',
    type: 'ON_STREET',
    name: 'Lafayette',
    address: '1 rue Lafayette',
    city: 'Paris',
    postal_code: '75009',
    country: 'FRA',
    coordinates: { latitude: '48.873790', longitude: '2.332270' },
    last_updated: '2026-12-01T10:00:00Z',
  };

  it('the CPO pushes a location to the hub through the relay, and reads it back', async () => {
    await control('DELETE', '/sim/received');
    const pushed = await t.http
      .put('/relay/FR*AB1/locations/FR/AB1/LOC1')
      .set(RELAY)
      .set('X-Correlation-ID', 'rehearsal-1')
      .send(location)
      .expect(200);
    expect(pushed.body).toMatchObject({ status_code: 1000 });
    expect(pushed.headers['x-correlation-id']).toBe('rehearsal-1');
    const { requests } = await control('GET', '/sim/received');
    expect(requests).toEqual([
      expect.objectContaining({
        method: 'PUT',
        path: '/ocpi/emsp/2.1.1/locations/FR/AB1/LOC1',
        body: location,
        status: 200,
        headers: expect.objectContaining({
          authorization: expect.stringMatching(/^Token [\w-]+$/),
          'x-correlation-id': 'rehearsal-1',
          'content-type': 'application/json',
        }),
      }),
    ]);
    const read = await t.http.get('/relay/FR*AB1/locations/FR/AB1/LOC1').set(RELAY).expect(200);
    expect(read.body.data).toEqual(location);
  });

  it('the hub sends a command; the CPO answers its response_url through the relay', async () => {
    const before = upstream.output().length;
    const sent = await control('POST', '/sim/command', {
      versions_url: versionsUrl(),
      command: 'START_SESSION',
      body: { location_id: 'LOC1', token: { uid: 'HUBSIM0001' } },
    });
    expect(sent).toMatchObject({
      ok: true,
      request: `POST ${modules()}/commands/START_SESSION`,
      body: { data: { result: 'ACCEPTED' } },
    });
    const responseUrl = sent.response_url as string;
    expect(await upstreamLines(before, 2)).toEqual([
      `  START_SESSION: the result goes to response_url ${responseUrl}`,
      expect.stringMatching(/^POST \/commands\/START_SESSION operation=FR\*AB1 peer=FR\*GIR /),
    ]);

    await control('DELETE', '/sim/received');
    const answered = await t.http
      .post('/relay/FR*AB1/url')
      .set(RELAY)
      .set('X-OCPI-Target-URL', responseUrl)
      .send({ result: 'ACCEPTED' })
      .expect(200);
    expect(answered.body).toMatchObject({ status_code: 1000 });
    const { requests } = await control('GET', '/sim/received');
    expect(requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: new URL(responseUrl).pathname,
        body: { result: 'ACCEPTED' },
        status: 200,
      }),
    ]);
  });

  it("the relay follows GIREVE's DELETE-then-POST at once", async () => {
    const updated = await control('POST', '/sim/update', { versions_url: versionsUrl() });
    expect(updated).toMatchObject({ deleted: { ok: true }, registered: { ok: true } });
    const read = await t.http.get('/relay/FR*AB1/locations/FR/AB1/LOC1').set(RELAY).expect(200);
    expect(read.body).toMatchObject({ status_code: 1000 });
  });
});

import { createOperation, mintTokenA } from './support/ocpi.js';
import { useHarness } from './support/harness.js';
import { hubControl } from './support/hub-control.js';

// All five GIREVE use cases, one after the other, against the hub simulator running as a process
// of its own (`npm run hub-sim`, here its built entry point).

describe('the five GIREVE use cases against the hub simulator', () => {
  const t = useHarness({ reachable: true });
  let hub: string;

  beforeAll(async () => {
    hub = (await t.startHubProcess()).baseUrl;
    await createOperation(t);
  });

  const control = (method: string, path: string, body?: object) =>
    hubControl(hub, method, path, body);
  const admin = (path: string, body?: object) =>
    t.http.post(`/admin/operations/FR*AB1${path}`).set(t.admin).send(body);
  const connection = async () =>
    (await t.http.get('/admin/operations/FR*AB1/connection').set(t.admin).expect(200))
      .body as Record<string, unknown>;
  const versionsUrl = () => `${t.baseUrl}/ocpi/FR/AB1/versions`;

  it('1. Register ToIOP with a token A from the hub', async () => {
    const { token, versions_url } = await control('POST', '/sim/tokens');
    const response = await admin('/register', { versions_url, token }).expect(200);
    expect(response.body).toMatchObject({
      status: 'REGISTERED',
      initiated_by: 'US',
      peer: { party_id: 'GIR' },
    });
    expect(response.body.peer_endpoints).toHaveLength(7);
  });

  it('2. Update credentials ToIOP', async () => {
    const before = (await t.http.get('/admin/operations/FR*AB1/connection/peer-token').set(t.admin))
      .body.token;
    await admin('/update-credentials').expect(200);
    const after = (await t.http.get('/admin/operations/FR*AB1/connection/peer-token').set(t.admin))
      .body.token;
    expect(after).not.toBe(before);
  });

  it('3. Unregister ToIOP', async () => {
    await admin('/unregister').expect(200);
    expect(await connection()).toMatchObject({ status: 'UNREGISTERED' });
    expect(await control('GET', '/sim/state')).toEqual({
      parties: [expect.objectContaining({ versions_url: versionsUrl(), registered: false })],
    });
  });

  it('4. Register FromIOP with a token A the admin minted', async () => {
    const tokenA = await mintTokenA(t);
    const result = await control('POST', '/sim/register', {
      versions_url: versionsUrl(),
      token: tokenA,
    });
    expect(result).toMatchObject({ ok: true });
    expect(await connection()).toMatchObject({ status: 'REGISTERED', initiated_by: 'PEER' });
    // The endpoints it read, for /sim/pull, /sim/send and /sim/command.
    expect(await control('GET', '/sim/state')).toEqual({
      parties: [
        expect.objectContaining({
          endpoints: [
            { identifier: 'credentials', url: `${t.baseUrl}/ocpi/FR/AB1/2.1.1/credentials` },
            { identifier: 'locations', url: 'https://cpo.example/ocpi/2.1.1/locations' },
          ],
        }),
      ],
    });
  });

  it("5a. Update FromIOP, GIREVE's way: DELETE, then POST with the same token", async () => {
    const result = await control('POST', '/sim/update', { versions_url: versionsUrl() });
    expect(result).toMatchObject({ deleted: { ok: true }, registered: { ok: true } });
    expect(await connection()).toMatchObject({ status: 'REGISTERED', initiated_by: 'PEER' });
  });

  it('5b. Unregister FromIOP', async () => {
    expect(await control('POST', '/sim/unregister', { versions_url: versionsUrl() })).toMatchObject(
      { ok: true },
    );
    expect(await connection()).toMatchObject({ status: 'UNREGISTERED' });
  });

  it('shows every step in the history', async () => {
    const history = await t.http
      .get('/admin/operations/FR*AB1/handshakes')
      .set(t.admin)
      .expect(200);
    const items = history.body.items as { action: string; initiated_by: string; outcome: string }[];
    expect(items.map((h) => `${h.initiated_by} ${h.action} ${h.outcome}`).reverse()).toEqual([
      'US REGISTER SUCCEEDED',
      'US UPDATE SUCCEEDED',
      'US UNREGISTER SUCCEEDED',
      'PEER REGISTER SUCCEEDED',
      'PEER UNREGISTER SUCCEEDED',
      'PEER REGISTER SUCCEEDED',
      'PEER UNREGISTER SUCCEEDED',
    ]);
  });

  it('answers 404 to a path it does not serve, even with a valid token', async () => {
    const { token } = await control('POST', '/sim/tokens');
    for (const path of ['/ocpi/emsp/version', '/ocpi/emsp/2.1.1/charging', '/ocpi/other']) {
      const response = await fetch(`${hub}${path}`, {
        headers: { Authorization: `Token ${String(token)}` },
      });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
  });

  it.each(['/sim/unregister', '/sim/update'])(
    'answers 404 to %s for a party it does not know',
    async (path) => {
      const response = await fetch(`${hub}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ versions_url: 'http://127.0.0.1:1/ocpi/XX/NOP/versions' }),
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: expect.stringMatching(/no party/) });
    },
  );

  it.each([
    [{ no_2_1_1: true }, 'versions', /no OCPI 2\.1\.1/],
    [{ no_credentials_endpoint: true }, 'version_details', /no credentials endpoint/],
    [{ versions: 'bad_json' }, 'versions', /not an OCPI JSON envelope/],
    [{ details: 'status_3000' }, 'version_details', /status_code 3000/],
    [{ credentials: 'http500' }, 'credentials', /HTTP 500/],
    [{ down: true }, 'versions', /could not be reached or gave no complete answer within/],
  ])('reports the injected fault %j at its step', async (faults, step, error) => {
    const { token, versions_url } = await control('POST', '/sim/tokens');
    await control('PUT', '/sim/faults', faults);
    try {
      const response = await admin('/register', { versions_url, token }).expect(502);
      expect(response.body).toMatchObject({ step, error: expect.stringMatching(error) });
      expect(await connection()).toMatchObject({ status: 'UNREGISTERED' });
    } finally {
      await control('PUT', '/sim/faults', {});
    }
  });
});

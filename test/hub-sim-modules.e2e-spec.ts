import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../src/common/free-port.js';
import { useHarness } from './support/harness.js';
import { OCPI_TIMESTAMP, tokenHeader } from './support/ocpi.js';

// The hub simulator as the eMSP side: the modules it serves to a registered operation, and the
// control routes with which it calls the modules the operation advertises (here a small upstream
// server of the test's own, until the service proxies them itself).

/** What the upstream server received. */
interface UpstreamCall {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

const LOCATIONS = Array.from({ length: 7 }, (_, i) => ({ id: `LOC${i + 1}` }));

/** A CPO system behind the operation: locations paged by Link, commands, and one HTML page. */
function startUpstream(calls: UpstreamCall[]): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += String(chunk)));
    req.on('end', () => {
      calls.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body,
      });
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      const reply = (data: unknown, headers: Record<string, string> = {}) =>
        res
          .writeHead(200, { ...headers, 'Content-Type': 'application/json' })
          .end(JSON.stringify({ data, status_code: 1000, timestamp: '2026-01-01T00:00:00Z' }));
      if (url.pathname === '/locations/html') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>Maintenance</html>');
      } else if (req.method === 'GET' && url.pathname === '/locations') {
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 5);
        const headers: Record<string, string> = { 'X-Total-Count': String(LOCATIONS.length) };
        // `?foreign=1`: the next page on another origin, as an upstream whose Link no gateway rewrote.
        const origin = url.searchParams.has('foreign')
          ? url.origin.replace('127.0.0.1', 'localhost')
          : url.origin;
        if (offset + limit < LOCATIONS.length) {
          headers.Link = `<${origin}/locations?offset=${offset + limit}&limit=${limit}>; rel="next"`;
        }
        reply(LOCATIONS.slice(offset, offset + limit), headers);
      } else if (url.pathname.startsWith('/commands/')) {
        reply({ result: 'ACCEPTED' });
      } else {
        reply(undefined);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe("the hub simulator's eMSP modules and its calls to an operation", () => {
  const t = useHarness({ reachable: true, hub: true });
  const upstreamCalls: UpstreamCall[] = [];
  let upstream: string;
  /** The token the hub issued to the operation, which the operation presents to the hub. */
  let token: string;
  const versionsUrl = () => `${t.baseUrl}/ocpi/FR/AB1/versions`;
  const modules = () => `${t.hub.baseUrl}/ocpi/emsp/2.1.1`;

  beforeAll(async () => {
    const server = await startUpstream(upstreamCalls);
    t.onClose(() => new Promise<void>((resolve) => server.close(() => resolve())));
    upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await t.http
      .post('/admin/operations')
      .set(t.admin)
      .send({
        operator_id: 'FR*AB1',
        business_details: { name: 'Operation AB1' },
        endpoints: [
          { identifier: 'locations', url: `${upstream}/locations` },
          { identifier: 'commands', url: `${upstream}/commands` },
        ],
      })
      .expect(201);
    await t.http
      .post('/admin/operations/FR*AB1/register')
      .set(t.admin)
      .send({ versions_url: t.hub.versionsUrl, token: t.hub.issueTokenA() })
      .expect(200);
    const peerToken = await t.http
      .get('/admin/operations/FR*AB1/connection/peer-token')
      .set(t.admin)
      .expect(200);
    token = (peerToken.body as { token: string }).token;
  });

  beforeEach(() => {
    upstreamCalls.length = 0;
    t.hub.faults = {};
  });

  const ocpi = async (method: string, path: string, body?: unknown, auth = token) => {
    const response = await fetch(`${modules()}${path}`, {
      method,
      headers: { ...tokenHeader(auth), 'Content-Type': 'application/json' },
      body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const control = async (method: string, path: string, body?: object) => {
    const response = await fetch(`${t.hub.baseUrl}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('lists every module it serves in its version details', async () => {
    const details = await fetch(`${t.hub.baseUrl}/ocpi/emsp/2.1.1`, {
      headers: tokenHeader(token),
    });
    const { data } = (await details.json()) as {
      data: { endpoints: { identifier: string; url: string }[] };
    };
    expect(data.endpoints.map((e) => e.identifier)).toEqual([
      'credentials',
      'locations',
      'tokens',
      'commands',
      'sessions',
      'cdrs',
      'tariffs',
    ]);
    expect(data.endpoints[1].url).toBe(`${modules()}/locations`);
  });

  it('stores a location pushed with PUT, its EVSE and a PATCH, and gives it back with GET', async () => {
    const location = { id: 'LOC1', name: 'Place', evses: [] };
    expect(await ocpi('PUT', '/locations/FR/AB1/LOC1', location)).toMatchObject({
      status: 200,
      body: { status_code: 1000, timestamp: expect.stringMatching(OCPI_TIMESTAMP) },
    });
    await ocpi('PUT', '/locations/FR/AB1/LOC1/EVSE1', { uid: 'EVSE1', status: 'AVAILABLE' });
    await ocpi('PATCH', '/locations/FR/AB1/LOC1/EVSE1', { status: 'CHARGING' });
    await ocpi('PATCH', '/locations/FR/AB1/LOC1', { name: 'Renamed' });
    expect((await ocpi('GET', '/locations/FR/AB1/LOC1')).body.data).toEqual({
      id: 'LOC1',
      name: 'Renamed',
      evses: [{ uid: 'EVSE1', status: 'CHARGING' }],
    });
    expect((await ocpi('GET', '/locations/FR/AB1/LOC1/EVSE1')).body.data).toEqual({
      uid: 'EVSE1',
      status: 'CHARGING',
    });
    for (const path of ['/locations/FR/AB1/NOPE', '/locations/FR/AB1/NOPE/EVSE1']) {
      expect(await ocpi('GET', path)).toMatchObject({ status: 404, body: { status_code: 2003 } });
    }
  });

  it('stores sessions, tariffs (also DELETE) and CDRs', async () => {
    await ocpi('PUT', '/sessions/FR/AB1/S1', { id: 'S1', kwh: 1 });
    await ocpi('PATCH', '/sessions/FR/AB1/S1', { kwh: 2 });
    expect((await ocpi('GET', '/sessions/FR/AB1/S1')).body.data).toEqual({ id: 'S1', kwh: 2 });
    await ocpi('PUT', '/tariffs/FR/AB1/T1', { id: 'T1' });
    expect((await ocpi('DELETE', '/tariffs/FR/AB1/T1')).status).toBe(200);
    expect((await ocpi('GET', '/tariffs/FR/AB1/T1')).status).toBe(404);
    const posted = await ocpi('POST', '/cdrs', { id: 'CDR1', total_cost: 3 });
    expect(posted.headers.get('location')).toBe(`${modules()}/cdrs/CDR1`);
    expect((await ocpi('GET', '/cdrs/CDR1')).body.data).toEqual({ id: 'CDR1', total_cost: 3 });
  });

  it('pages its tokens with Link, X-Total-Count and X-Limit, three pages of 10, 10 and 5', async () => {
    const pages: number[] = [];
    let next: string | undefined = `${modules()}/tokens`;
    while (next) {
      const response = await fetch(next, { headers: tokenHeader(token) });
      expect(response.headers.get('x-total-count')).toBe('25');
      expect(response.headers.get('x-limit')).toBe('10');
      pages.push(((await response.json()) as { data: unknown[] }).data.length);
      next = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
      if (next) expect(next.startsWith(`${modules()}/tokens?`)).toBe(true);
    }
    expect(pages).toEqual([10, 10, 5]);
  });

  it('authorizes the tokens it knows only', async () => {
    expect((await ocpi('POST', '/tokens/HUBSIM0001/authorize')).body).toMatchObject({
      status_code: 1000,
      data: { allowed: 'ALLOWED' },
    });
    expect((await ocpi('POST', '/tokens/UNKNOWN/authorize')).status).toBe(404);
  });

  it('records the result of a command', async () => {
    const result = { result: 'ACCEPTED' };
    expect((await ocpi('POST', '/commands/START_SESSION/abc', result)).body).toMatchObject({
      status_code: 1000,
    });
    expect((await ocpi('GET', '/commands/START_SESSION/abc')).body.data).toMatchObject(result);
  });

  it('answers 401 with an envelope to a wrong token and to a token A', async () => {
    for (const wrong of ['not-a-token', t.hub.issueTokenA()]) {
      expect(await ocpi('GET', '/locations/FR/AB1/LOC1', undefined, wrong)).toMatchObject({
        status: 401,
        body: { status_code: 2000 },
      });
    }
  });

  it('answers 400 with 2001 to a body that is not JSON', async () => {
    expect(await ocpi('PUT', '/locations/FR/AB1/LOC2', '{"id": ')).toMatchObject({
      status: 400,
      body: { status_code: 2001 },
    });
  });

  it('shows what came to its modules in /sim/received, until DELETE clears it', async () => {
    await control('DELETE', '/sim/received');
    await fetch(`${modules()}/sessions/FR/AB1/S9`, {
      method: 'PUT',
      headers: { ...tokenHeader(token), 'Content-Type': 'application/json', 'X-Request-ID': 'r-1' },
      body: JSON.stringify({ id: 'S9' }),
    });
    await ocpi('GET', '/tokens?limit=2', undefined, 'wrong');
    expect((await control('GET', '/sim/received')).body).toEqual({
      requests: [
        {
          at: expect.any(String),
          method: 'PUT',
          path: '/ocpi/emsp/2.1.1/sessions/FR/AB1/S9',
          headers: {
            authorization: `Token ${token}`,
            'x-request-id': 'r-1',
            'content-type': 'application/json',
          },
          body: { id: 'S9' },
          status: 200,
        },
        expect.objectContaining({ path: '/ocpi/emsp/2.1.1/tokens?limit=2', status: 401 }),
      ],
    });
    await control('DELETE', '/sim/received');
    expect((await control('GET', '/sim/received')).body).toEqual({ requests: [] });
  });

  it('fails its modules on demand (the modules fault)', async () => {
    await control('PUT', '/sim/faults', { modules: 'http500' });
    expect(await ocpi('PUT', '/locations/FR/AB1/LOC3', { id: 'LOC3' })).toMatchObject({
      status: 500,
      body: { status_code: 3000 },
    });
  });

  it('sends one call to a module of the operation with the token the operation issued it', async () => {
    const location = { id: 'LOC1', name: 'Place' };
    const { body } = await control('POST', '/sim/send', {
      versions_url: versionsUrl(),
      module: 'locations',
      method: 'PUT',
      path: '/FR/AB1/LOC1',
      body: location,
    });
    expect(body).toMatchObject({
      ok: true,
      request: `PUT ${upstream}/locations/FR/AB1/LOC1`,
      status: 200,
      body: { status_code: 1000 },
    });
    expect(upstreamCalls).toEqual([
      {
        method: 'PUT',
        url: '/locations/FR/AB1/LOC1',
        authorization: `Token ${t.hub.parties[0].tokenForHub}`,
        body: JSON.stringify(location),
      },
    ]);
  });

  it('reports an answer that is not JSON as data', async () => {
    const { status, body } = await control('POST', '/sim/send', {
      versions_url: versionsUrl(),
      module: 'locations',
      method: 'GET',
      path: '/html',
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, status: 200, body: '<html>Maintenance</html>' });
  });

  it('pulls a module of the operation page after page, following its Link headers', async () => {
    const { body } = await control('POST', '/sim/pull', {
      versions_url: versionsUrl(),
      module: 'locations',
      limit: 3,
    });
    expect(body).toEqual({
      ok: true,
      pages: [
        { url: `${upstream}/locations?limit=3`, status: 200, status_code: 1000, items: 3 },
        { url: `${upstream}/locations?offset=3&limit=3`, status: 200, status_code: 1000, items: 3 },
        { url: `${upstream}/locations?offset=6&limit=3`, status: 200, status_code: 1000, items: 1 },
      ],
      items_total: 7,
      x_total_count: 7,
    });
    expect(upstreamCalls.map((c) => `${c.method} ${c.url} ${c.authorization}`)).toEqual(
      ['/locations?limit=3', '/locations?offset=3&limit=3', '/locations?offset=6&limit=3'].map(
        (url) => `GET ${url} Token ${t.hub.parties[0].tokenForHub}`,
      ),
    );
  });

  describe('with the endpoint of locations moved', () => {
    const moveLocations = (url: string) => {
      const endpoint = t.hub.parties[0].endpoints?.find((e) => e.identifier === 'locations');
      if (!endpoint) throw new Error('the hub read no locations endpoint');
      const before = endpoint.url;
      endpoint.url = url;
      return () => (endpoint.url = before);
    };

    it('stops a pull at a Link to another origin, without sending the token there', async () => {
      const restore = moveLocations(`${upstream}/locations?foreign=1`);
      try {
        const { body } = await control('POST', '/sim/pull', {
          versions_url: versionsUrl(),
          module: 'locations',
          limit: 5,
        });
        expect(body).toMatchObject({
          ok: false,
          pages: [{ status: 200, items: 5 }],
          stopped: expect.stringMatching(
            /^the next page is not on http:\/\/127\.0\.0\.1:\d+: http:\/\/localhost:/,
          ),
        });
        expect(upstreamCalls).toHaveLength(1);
      } finally {
        restore();
      }
    });

    it('reports an operation it cannot reach as data', async () => {
      const restore = moveLocations(`http://127.0.0.1:${await freePort()}/locations`);
      try {
        const { status, body } = await control('POST', '/sim/send', {
          versions_url: versionsUrl(),
          module: 'locations',
          method: 'GET',
        });
        expect(status).toBe(200);
        expect(body).toMatchObject({
          ok: false,
          status: 0,
          error: expect.stringMatching(/ECONNREFUSED/),
        });
      } finally {
        restore();
      }
    });
  });

  it('sends a command whose response_url leads back to its own commands module', async () => {
    const { body } = await control('POST', '/sim/command', {
      versions_url: versionsUrl(),
      command: 'START_SESSION',
      body: { location_id: 'LOC1', token: { uid: 'HUBSIM0001' } },
    });
    expect(body).toMatchObject({
      ok: true,
      request: `POST ${upstream}/commands/START_SESSION`,
      body: { data: { result: 'ACCEPTED' } },
      response_url: expect.stringMatching(/\/commands\/START_SESSION\//),
    });
    const sent = JSON.parse(upstreamCalls[0].body) as { response_url: string };
    expect(sent).toMatchObject({ location_id: 'LOC1', response_url: expect.any(String) });
    expect(sent.response_url.startsWith(`${modules()}/commands/START_SESSION/`)).toBe(true);
    // The CPO's result, later, at that URL.
    const result = await fetch(sent.response_url, {
      method: 'POST',
      headers: { ...tokenHeader(token), 'Content-Type': 'application/json' },
      body: JSON.stringify({ result: 'ACCEPTED' }),
    });
    expect(result.status).toBe(200);
    expect((body as { response_url: string }).response_url).toBe(sent.response_url);
  });

  it('answers 404 for a party it does not know or a module the party does not list', async () => {
    expect(
      await control('POST', '/sim/pull', {
        versions_url: 'http://127.0.0.1:1/x',
        module: 'locations',
      }),
    ).toMatchObject({ status: 404, body: { error: expect.stringMatching(/no party/) } });
    expect(
      await control('POST', '/sim/send', { versions_url: versionsUrl(), module: 'tariffs' }),
    ).toMatchObject({
      status: 404,
      body: {
        error: 'the party lists no endpoint tariffs (it lists: credentials, locations, commands)',
      },
    });
  });
});

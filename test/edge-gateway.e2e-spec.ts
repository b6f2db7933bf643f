import { freePort } from '../src/common/free-port.js';
import { useHarness, type Harness } from './support/harness.js';
import {
  createOperation,
  mintTokenA,
  OCPI_TIMESTAMP,
  registerWithPeer,
  tokenHeader,
} from './support/ocpi.js';
import { GATEWAY_UPSTREAM_TOKEN } from './support/test-app.js';
import { eventually } from './support/eventually.js';
import { scrapeMetrics } from './support/metrics.js';
import { Upstream } from './support/upstream.js';

// The module gateway (DESIGN 9.1): the peer (the fake GIREVE) calls a module FR*AB1 serves behind
// the gateway; a real upstream server stands for the CPO's locations system.

const MODULE = '/ocpi/FR/AB1/2.1.1/locations';

/**
 * Starts `upstream` (stopped with the harness) and creates FR*AB1 serving `locations` behind the
 * gateway on it, with `more` endpoints.
 */
async function proxiedOperation(t: Harness, upstream: Upstream, more: object[] = []) {
  await upstream.start();
  t.onClose(() => upstream.stop());
  await t.http
    .post('/admin/operations')
    .set(t.admin)
    .send({
      operator_id: 'FR*AB1',
      business_details: { name: 'Operation AB1' },
      endpoints: [
        { identifier: 'locations', upstream_url: `${upstream.baseUrl}/cpo/locations` },
        ...more,
      ],
    })
    .expect(201);
}

describe('module gateway', () => {
  const t = useHarness({
    reachable: true,
    peer: true,
    app: { upstreamTimeoutMs: 1_000, upstreamMaxBodyBytes: 64 * 1024 },
  });
  const upstream = new Upstream();
  /** The connection token: what the peer presents on our modules. */
  let peerToken: string;

  beforeAll(async () => {
    await proxiedOperation(t, upstream, [
      { identifier: 'sessions', url: 'https://sessions.cpo.example/ocpi/sessions' },
    ]);
    await registerWithPeer(t, t.peer);
    peerToken = t.peer.parties.at(-1)!.tokenForHub;
  });
  beforeEach(() => {
    upstream.received.length = 0;
    upstream.handler = echoHandler;
  });
  const echoHandler = upstream.handler;

  it('advertises the module under the operation prefix, and the other as given', async () => {
    const response = await t.http.get('/ocpi/FR/AB1/2.1.1').set(tokenHeader(peerToken)).expect(200);
    expect(response.body.data.endpoints).toEqual([
      { identifier: 'credentials', url: `${t.baseUrl}/ocpi/FR/AB1/2.1.1/credentials` },
      { identifier: 'locations', url: `${t.baseUrl}${MODULE}` },
      { identifier: 'sessions', url: 'https://sessions.cpo.example/ocpi/sessions' },
    ]);
    // The admin sees the upstream; the peer never does.
    expect(JSON.stringify(response.body)).not.toContain(upstream.baseUrl);
  });

  it('forwards a GET with its sub-path and query, with the gateway token and identity headers', async () => {
    const response = await t.http
      .get(`${MODULE}/FR/AB1/LOC1?date_from=2026-01-01T00:00:00Z&limit=5`)
      .set(tokenHeader(peerToken))
      .set('X-Correlation-ID', 'corr-123')
      .set('OCPI-to-party-id', 'AB1')
      .expect(200);
    expect(upstream.received).toHaveLength(1);
    const [got] = upstream.received;
    expect(got.method).toBe('GET');
    expect(got.url).toBe('/cpo/locations/FR/AB1/LOC1?date_from=2026-01-01T00:00:00Z&limit=5');
    expect(got.headers).toMatchObject({
      authorization: `Bearer ${GATEWAY_UPSTREAM_TOKEN}`,
      'x-ocpi-operation': 'FR*AB1',
      'x-ocpi-peer': 'FR*PID',
      'x-correlation-id': 'corr-123',
      'x-request-id': response.headers['x-request-id'],
      'ocpi-to-party-id': 'AB1',
    });
    expect(response.headers['x-correlation-id']).toBe('corr-123');
    expect(JSON.stringify(got.headers)).not.toContain(peerToken);
  });

  it('generates the correlation id when the peer sends none, and answers with the same', async () => {
    const response = await t.http.get(MODULE).set(tokenHeader(peerToken)).expect(200);
    const [got] = upstream.received;
    expect(got.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-correlation-id']).toBe(got.headers['x-correlation-id']);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)(
    '%s goes upstream with its body, and the upstream answer comes back as it gave it',
    async (method) => {
      upstream.handler = (request, response) => {
        response.writeHead(201, { 'Content-Type': 'application/json', 'X-Upstream': 'yes' });
        response.end(
          JSON.stringify({
            status_code: 1000,
            timestamp: '2026-12-01T00:00:00Z',
            data: { got: request.body },
          }),
        );
      };
      const body = { id: 'LOC1', evses: [{ uid: 'E1', status: 'AVAILABLE' }] };
      const response = await t.http[method.toLowerCase() as 'post'](`${MODULE}/FR/AB1/LOC1/E1`)
        .set(tokenHeader(peerToken))
        .send(body)
        .expect(201);
      expect(response.headers['x-upstream']).toBe('yes');
      expect(response.body).toMatchObject({
        status_code: 1000,
        data: { got: JSON.stringify(body) },
      });
      const [got] = upstream.received;
      expect(got).toMatchObject({ method, url: '/cpo/locations/FR/AB1/LOC1/E1' });
      expect(JSON.parse(got.body)).toEqual(body);
      expect(got.headers['content-type']).toMatch(/^application\/json/);
    },
  );

  it('keeps a trailing slash, and passes any body type as is', async () => {
    await t.http
      .put(`${MODULE}/`)
      .set(tokenHeader(peerToken))
      .set('Content-Type', 'text/plain')
      .send('not json at all')
      .expect(200);
    expect(upstream.received[0]).toMatchObject({ url: '/cpo/locations/', body: 'not json at all' });
  });

  it('refuses . and .. segments, which would climb out of the upstream URL', async () => {
    const response = await t.http
      .get(`${MODULE}/%2e%2e/admin`)
      .set(tokenHeader(peerToken))
      .expect(400);
    expect(response.body).toMatchObject({ status_code: 2001 });
    expect(upstream.received).toHaveLength(0);
  });

  it('rewrites Link URLs under the upstream to the module URL, over a three-page listing', async () => {
    upstream.handler = (request, response) => {
      const offset = Number(new URL(request.url, 'http://x').searchParams.get('offset') ?? 0);
      response.writeHead(200, {
        'Content-Type': 'application/json',
        'X-Total-Count': '3',
        'X-Limit': '1',
        ...(offset < 2 && {
          Link: `<${upstream.baseUrl}/cpo/locations?offset=${offset + 1}&limit=1>; rel="next"`,
        }),
      });
      response.end(
        JSON.stringify({
          status_code: 1000,
          timestamp: '2026-12-01T00:00:00Z',
          data: [{ id: `LOC${offset}` }],
        }),
      );
    };
    const ids: string[] = [];
    let next: string | undefined = `${t.baseUrl}${MODULE}?limit=1`;
    while (next) {
      const response = await fetch(next, { headers: tokenHeader(peerToken) });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-total-count')).toBe('3');
      expect(response.headers.get('x-limit')).toBe('1');
      const body = (await response.json()) as { data: { id: string }[] };
      ids.push(...body.data.map((l) => l.id));
      const link = response.headers.get('link');
      if (link) expect(link).toContain(`<${t.baseUrl}${MODULE}?offset=`);
      next = link ? /<([^>]+)>/.exec(link)?.[1] : undefined;
    }
    expect(ids).toEqual(['LOC0', 'LOC1', 'LOC2']);
    expect(upstream.received.map((r) => r.url)).toEqual([
      '/cpo/locations?limit=1',
      '/cpo/locations?offset=1&limit=1',
      '/cpo/locations?offset=2&limit=1',
    ]);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', tokenHeader('not-a-token-of-anyone')],
  ])('answers 401 to %s, and the upstream sees nothing', async (_name, headers) => {
    const response = await t.http.get(`${MODULE}/FR/AB1/LOC1`).set(headers).expect(401);
    expect(response.body).toMatchObject({
      status_code: 2000,
      timestamp: expect.stringMatching(OCPI_TIMESTAMP),
    });
    expect(upstream.received).toHaveLength(0);
  });

  it("answers 401 to another operation's token A", async () => {
    await createOperation(t, 'FR*AB2');
    const other = await mintTokenA(t, 'FR*AB2');
    await t.http.get(MODULE).set(tokenHeader(other)).expect(401);
    expect(upstream.received).toHaveLength(0);
  });

  it.each(['tariffs', 'sessions', 'credentials/extra'])(
    'answers 404 for a module not behind the gateway (%s)',
    async (module) => {
      const response = await t.http
        .get(`/ocpi/FR/AB1/2.1.1/${module}`)
        .set(tokenHeader(peerToken))
        .expect(404);
      expect(response.body).toMatchObject({ status_code: 2000 });
      expect(upstream.received).toHaveLength(0);
    },
  );

  it('answers 504 with an envelope when the upstream sends no headers in time', async () => {
    upstream.handler = (_request, response) => {
      setTimeout(() => response.end('{}'), 3_000).unref();
    };
    const response = await t.http.get(MODULE).set(tokenHeader(peerToken)).expect(504);
    expect(response.body).toMatchObject({ status_code: 3000 });
    expect(response.body.status_message).toMatch(/no answer within 1000 ms/);
  });

  it('ends the call upstream when the peer hangs up before the answer', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    upstream.handler = (_request, response) => {
      response.once('close', upstreamClosed);
    };
    const caller = new AbortController();
    const call = fetch(`${t.baseUrl}${MODULE}`, {
      headers: tokenHeader(peerToken),
      signal: caller.signal,
    }).catch((error: unknown) => error);
    while (upstream.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    caller.abort();
    await call;
    await closed;
    const metrics = await t.http.get('/metrics').set(t.admin).expect(200);
    expect(metrics.text).toMatch(
      /ocpi_edge_requests_total\{direction="gateway",module="locations",method="GET",status_class="4xx",outcome="broken"\} 1/,
    );
  });

  it('answers 413 to a body over UPSTREAM_MAX_BODY_BYTES, declared or streamed', async () => {
    const large = JSON.stringify({ pad: 'x'.repeat(100 * 1024) });
    const declared = await t.http
      .put(`${MODULE}/FR/AB1/LOC1`)
      .set(tokenHeader(peerToken))
      .set('Content-Type', 'application/json')
      .send(large)
      .expect(413);
    expect(declared.body).toMatchObject({ status_code: 2001 });
    expect(upstream.received).toHaveLength(0);

    const streamed = await fetch(`${t.baseUrl}${MODULE}/FR/AB1/LOC1`, {
      method: 'PUT',
      headers: { ...tokenHeader(peerToken), 'Content-Type': 'application/json' },
      body: new Blob([large]).stream(),
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ status_code: 2001 });
  });

  it('answers 502 with an envelope naming no address when the upstream is down', async () => {
    const closed = await freePort();
    await t.http
      .patch('/admin/operations/FR*AB1')
      .set(t.admin)
      .send({
        endpoints: [{ identifier: 'locations', upstream_url: `http://127.0.0.1:${closed}/cpo` }],
      })
      .expect(200);
    try {
      // Every replica hears of the change within milliseconds (its token cache holds the operation).
      const response = await eventually(
        () => t.http.get(MODULE).set(tokenHeader(peerToken)),
        (answer) => answer.status === 502,
      );
      expect(response.status).toBe(502);
      expect(response.body).toMatchObject({ status_code: 3000 });
      expect(JSON.stringify(response.body)).not.toMatch(new RegExp(`127\\.0\\.0\\.1|${closed}`));
    } finally {
      await t.http
        .patch('/admin/operations/FR*AB1')
        .set(t.admin)
        .send({
          endpoints: [
            { identifier: 'locations', upstream_url: `${upstream.baseUrl}/cpo/locations` },
          ],
        })
        .expect(200);
      await eventually(
        () => t.http.get(MODULE).set(tokenHeader(peerToken)),
        (answer) => answer.status === 200,
      );
    }
  });

  it('answers with the security headers, HEAD included, and counts calls under the route template', async () => {
    const series = (status: number) =>
      `http_requests_total{method="GET",route="/ocpi/:countryCode/:partyId/2.1.1/*path",status="${status}"}`;
    const before = await scrapeMetrics(t);
    const answers = [
      await t.http.get(MODULE).set(tokenHeader(peerToken)).expect(200),
      await t.http.head(MODULE).set(tokenHeader(peerToken)).expect(200),
      await t.http.get(MODULE).set(tokenHeader('not-a-token')).expect(401),
    ];
    for (const answer of answers) {
      expect(answer.headers).toMatchObject({
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
      });
      expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
      expect(answer.headers['x-request-id']).toBeDefined();
    }
    expect(upstream.received.map((got) => got.method)).toEqual(['GET', 'HEAD']);
    expect(upstream.received[1].headers.authorization).toBe(`Bearer ${GATEWAY_UPSTREAM_TOKEN}`);
    const after = await scrapeMetrics(t);
    for (const status of [200, 401]) {
      expect((after(series(status)) ?? 0) - (before(series(status)) ?? 0)).toBe(1);
    }
  });

  it('counts forwarded requests by module, method, status class and outcome', async () => {
    await t.http.get(MODULE).set(tokenHeader(peerToken)).expect(200);
    const metrics = await t.http.get('/metrics').set(t.admin).expect(200);
    expect(metrics.text).toMatch(
      /ocpi_edge_requests_total\{direction="gateway",module="locations",method="GET",status_class="2xx",outcome="ok"\} \d+/,
    );
    expect(metrics.text).toMatch(/ocpi_edge_requests_total\{[^}]*outcome="timeout"\} 1/);
    expect(metrics.text).toMatch(
      /ocpi_edge_request_duration_seconds_bucket\{le="[^"]+",direction="gateway"/,
    );
    expect(metrics.text).not.toContain('FR*AB1');
  });

  it('logs each call with its request and correlation ids, and no token', async () => {
    const lines: string[] = [];
    const logged = await t.startApp(
      { logLevel: 'info', logDestination: { write: (line: string) => void lines.push(line) } },
      { reachable: true },
    );
    const response = await logged.http
      .get(`${MODULE}/FR/AB1/LOC1`)
      .set(tokenHeader(peerToken))
      .set('X-Correlation-ID', 'corr-logged-1')
      .expect(200);
    const entry = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'request completed');
    expect(entry).toMatchObject({
      req: { id: response.headers['x-request-id'], url: `${MODULE}/FR/AB1/LOC1` },
      res: { statusCode: 200 },
      correlationId: 'corr-logged-1',
    });
    const text = lines.join('');
    for (const secret of [peerToken, GATEWAY_UPSTREAM_TOKEN]) expect(text).not.toContain(secret);
  });

  it('refuses upstream_url and url together, or neither, naming the field', async () => {
    const response = await t.http
      .patch('/admin/operations/FR*AB1')
      .set(t.admin)
      .send({
        endpoints: [
          {
            identifier: 'locations',
            url: 'https://a.example/l',
            upstream_url: 'http://b.internal/l',
          },
          { identifier: 'tokens' },
        ],
      })
      .expect(400);
    expect(response.body.fields).toEqual([
      {
        field: 'endpoints[0]',
        message: expect.stringMatching(/exactly one of url .* and upstream_url/),
      },
      {
        field: 'endpoints[1]',
        message: expect.stringMatching(/exactly one of url .* and upstream_url/),
      },
    ]);
  });
});

describe('module gateway: which token opens it, on two replicas', () => {
  const t = useHarness({ reachable: true, peer: true, replica: true });
  const upstream = new Upstream();
  const replicas = () => [t.app, t.replica];
  /** Until each replica answers a GET of the module with this token so (within the bound). */
  const answersBecome = async (token: string, expected: number[]) => {
    const seen = await eventually(
      () => statuses(token),
      (now) => JSON.stringify(now) === JSON.stringify(expected),
    );
    expect(seen).toEqual(expected);
  };
  /** What each replica answers to a GET of the module with this token. */
  const statuses = (token: string) =>
    Promise.all(
      replicas().map(async (app) => (await app.http.get(MODULE).set(tokenHeader(token))).status),
    );
  const register = async (token: string) => {
    const response = await fetch(`${t.peer.baseUrl}/sim/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ versions_url: `${t.baseUrl}/ocpi/FR/AB1/versions`, token }),
    });
    expect(await response.json()).toMatchObject({ ok: true });
    return t.peer.parties.at(-1)!.tokenForHub;
  };

  beforeAll(async () => {
    await proxiedOperation(t, upstream);
  });

  it("follows registration, GIREVE's DELETE and its POST again, at once on both replicas", async () => {
    const tokenA = await mintTokenA(t);
    expect(await statuses(tokenA)).toEqual([401, 401]);

    const first = await register(tokenA);
    expect(await statuses(first)).toEqual([200, 200]);
    expect(await statuses(tokenA)).toEqual([401, 401]);

    // The peer's DELETE: its token is a grace token now, for registering again only.
    await t.replica.http
      .delete('/ocpi/FR/AB1/2.1.1/credentials')
      .set(tokenHeader(first))
      .expect(200);
    await answersBecome(first, [401, 401]);

    // Its POST again with the same token: a new connection token, the grace one ends.
    const second = await register(first);
    expect(second).not.toBe(first);
    expect(await statuses(second)).toEqual([200, 200]);
    await answersBecome(first, [401, 401]);

    // What reached the upstream came with the gateway's token, never a peer's.
    for (const request of upstream.received) {
      expect(request.headers.authorization).toBe(`Bearer ${GATEWAY_UPSTREAM_TOKEN}`);
      expect(JSON.stringify(request.headers)).not.toMatch(
        new RegExp(`${first}|${second}|${tokenA}`),
      );
    }
  });
});

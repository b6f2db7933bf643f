import type { Response } from 'supertest';
import { SCOPES, type Scope } from '../src/auth/scopes.js';
import { useHarness } from './support/harness.js';
import { ADMIN_TOKEN } from './support/test-app.js';

// The access matrix of DESIGN 12, generated from a table of routes rather than written case by
// case: every admin, relay and metrics route × each scope alone × a key bound to organisation A
// and an unbound key × an operation of organisation A ("own") and of organisation B ("other").
// What each case must answer follows from the table: the route's scope missing → 403 naming it;
// a bound key on the other organisation's operation → 404, the answer of an operation that does
// not exist; else the route's success. Lists and counts of a bound key hold its organisation's
// operations and keys only. Success needs a state (a registered operation to unregister): a case
// that is to succeed on a route that changes things gets a fresh operation of its own.

type Binding = 'unbound' | 'bound';

/** A delivery id no operation has: the delivery routes' access is checked before it is looked up. */
const NO_DELIVERY = '00000000-0000-4000-8000-00000000dead';
type Owner = 'own' | 'other';

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: object;
  headers?: Record<string, string>;
}

/** What a route needs of the operation a successful call acts on. */
type State = 'shared' | 'fresh' | 'fresh-registered';

interface OperationRoute {
  route: string;
  scope: Scope;
  state: State;
  call: (operation: string) => Call;
  /**
   * The success status; `relayed`: the peer's answer came back, whatever it is; `admitted`: any
   * answer but the access refusals (a delivery id that is not there: 404 naming the delivery).
   */
  success: number | 'relayed' | 'admitted';
}

const PROVIDER = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const LOCATION = { id: 'LOC1', name: 'A place' };

describe('access keys: every route × each scope × bound and unbound keys × own and other operations', () => {
  const t = useHarness({ reachable: true, hub: true, app: { maxActiveRegistrationTokens: 1000 } });
  const organisation: Record<'A' | 'B', string> = { A: '', B: '' };
  /** The key of each scope alone, unbound and bound to A (none: a bound key cannot have metrics). */
  const keys = new Map<string, string>();
  const keyOf = (scope: Scope, binding: Binding) => keys.get(`${scope} ${binding}`);
  /** A registered operation of each organisation, shared by the cases that change nothing. */
  const shared: Record<Owner, string> = { own: 'FR*AA1', other: 'FR*BB1' };
  let made = 0;
  let cases = 0;

  const send = (key: string, { method, path, body, headers }: Call): Promise<Response> => {
    let request = t.http[method.toLowerCase() as 'get'](path).set('Authorization', `Bearer ${key}`);
    if (headers) request = request.set(headers);
    return body === undefined ? request : request.send(body);
  };

  async function newOperation(owner: Owner, registered: boolean): Promise<string> {
    made += 1;
    const operatorId = `DE*${made.toString(36).toUpperCase().padStart(3, '0')}`;
    await createOperation(operatorId, owner === 'own' ? 'A' : 'B');
    if (registered) await register(operatorId);
    return operatorId;
  }

  async function createOperation(operatorId: string, org: 'A' | 'B'): Promise<void> {
    await t.http
      .post('/admin/operations')
      .set(PROVIDER)
      .send({
        operator_id: operatorId,
        business_details: { name: operatorId },
        organisation_id: organisation[org],
      })
      .expect(201);
  }

  async function register(operatorId: string): Promise<void> {
    await t.http
      .post(`/admin/operations/${operatorId}/register`)
      .set(PROVIDER)
      .send({ versions_url: t.hub.versionsUrl, token: t.hub.issueTokenA() })
      .expect(200);
  }

  beforeAll(async () => {
    for (const org of ['A', 'B'] as const) {
      const created = await t.http
        .post('/admin/organisations')
        .set(PROVIDER)
        .send({ name: `Organisation ${org}` })
        .expect(201);
      organisation[org] = (created.body as { id: string }).id;
    }
    await createOperation(shared.own, 'A');
    await register(shared.own);
    await createOperation(shared.other, 'B');
    await register(shared.other);
    for (const scope of SCOPES) {
      for (const binding of ['unbound', 'bound'] as const) {
        const response = await t.http
          .post('/admin/api-keys')
          .set(PROVIDER)
          .send({
            name: `${scope} ${binding}`,
            scopes: [scope],
            ...(binding === 'bound' && { organisation_id: organisation.A }),
          });
        if (binding === 'bound' && scope === 'metrics') {
          // /metrics is service-wide: an organisation's key cannot have it.
          expect(response.status).toBe(400);
          continue;
        }
        expect(response.status).toBe(201);
        keys.set(`${scope} ${binding}`, (response.body as { key: string }).key);
      }
    }
  });

  afterAll(() => {
    console.log(`Access matrix: ${cases} cases`);
  });

  /** Each key of the matrix: scope alone, bound or not. */
  const everyKey = () =>
    SCOPES.flatMap((scope) =>
      (['unbound', 'bound'] as const).flatMap((binding) => {
        const key = keyOf(scope, binding);
        return key ? [{ scope, binding, key }] : [];
      }),
    );

  const operationRoutes: OperationRoute[] = [
    {
      route: 'GET /admin/operations/{operation}',
      scope: 'operations:read',
      state: 'shared',
      call: (op) => ({ method: 'GET', path: `/admin/operations/${op}` }),
      success: 200,
    },
    {
      route: 'PATCH /admin/operations/{operation}',
      scope: 'operations:write',
      state: 'shared',
      call: (op) => ({
        method: 'PATCH',
        path: `/admin/operations/${op}`,
        body: { business_details: { name: `Renamed ${op}` } },
      }),
      success: 200,
    },
    {
      route: 'DELETE /admin/operations/{operation}',
      scope: 'operations:write',
      state: 'fresh',
      call: (op) => ({ method: 'DELETE', path: `/admin/operations/${op}` }),
      success: 204,
    },
    {
      route: 'POST /admin/operations/{operation}/registration-tokens',
      scope: 'operations:write',
      state: 'fresh',
      call: (op) => ({
        method: 'POST',
        path: `/admin/operations/${op}/registration-tokens`,
        body: {},
      }),
      success: 201,
    },
    {
      route: 'POST /admin/operations/{operation}/register',
      scope: 'handshakes',
      state: 'fresh',
      call: (op) => ({
        method: 'POST',
        path: `/admin/operations/${op}/register`,
        body: { versions_url: t.hub.versionsUrl, token: t.hub.issueTokenA() },
      }),
      success: 200,
    },
    {
      route: 'POST /admin/operations/{operation}/update-credentials',
      scope: 'handshakes',
      state: 'fresh-registered',
      call: (op) => ({ method: 'POST', path: `/admin/operations/${op}/update-credentials` }),
      success: 200,
    },
    {
      route: 'POST /admin/operations/{operation}/unregister',
      scope: 'handshakes',
      state: 'fresh-registered',
      call: (op) => ({ method: 'POST', path: `/admin/operations/${op}/unregister`, body: {} }),
      success: 200,
    },
    {
      route: 'POST /admin/operations/{operation}/connection/probe',
      scope: 'handshakes',
      state: 'fresh-registered',
      call: (op) => ({ method: 'POST', path: `/admin/operations/${op}/connection/probe` }),
      success: 200,
    },
    {
      route: 'GET /admin/operations/{operation}/deliveries',
      scope: 'operations:read',
      state: 'shared',
      call: (op) => ({ method: 'GET', path: `/admin/operations/${op}/deliveries` }),
      success: 200,
    },
    {
      route: 'POST /admin/operations/{operation}/deliveries/{id}/retry',
      scope: 'operations:write',
      state: 'shared',
      call: (op) => ({
        method: 'POST',
        path: `/admin/operations/${op}/deliveries/${NO_DELIVERY}/retry`,
      }),
      success: 'admitted',
    },
    {
      route: 'DELETE /admin/operations/{operation}/deliveries/{id}',
      scope: 'operations:write',
      state: 'shared',
      call: (op) => ({
        method: 'DELETE',
        path: `/admin/operations/${op}/deliveries/${NO_DELIVERY}`,
      }),
      success: 'admitted',
    },
    {
      route: 'GET /admin/operations/{operation}/connection',
      scope: 'operations:read',
      state: 'shared',
      call: (op) => ({ method: 'GET', path: `/admin/operations/${op}/connection` }),
      success: 200,
    },
    {
      route: 'GET /admin/operations/{operation}/connection/peer-token',
      scope: 'peer-token',
      state: 'shared',
      call: (op) => ({ method: 'GET', path: `/admin/operations/${op}/connection/peer-token` }),
      success: 200,
    },
    {
      route: 'GET /admin/operations/{operation}/handshakes',
      scope: 'operations:read',
      state: 'shared',
      call: (op) => ({ method: 'GET', path: `/admin/operations/${op}/handshakes` }),
      success: 200,
    },
    {
      route: 'GET /relay/{operation}/{path}',
      scope: 'relay',
      state: 'shared',
      call: (op) => ({ method: 'GET', path: `/relay/${op}/locations` }),
      success: 'relayed',
    },
    {
      route: 'POST /relay/{operation}/{path}',
      scope: 'relay',
      state: 'shared',
      call: (op) => ({
        method: 'POST',
        path: `/relay/${op}/cdrs`,
        body: { id: 'CDR1', total_cost: 1 },
      }),
      success: 'relayed',
    },
    {
      route: 'PUT /relay/{operation}/{path}',
      scope: 'relay',
      state: 'shared',
      call: (op) => ({
        method: 'PUT',
        path: `/relay/${op}/locations/${op.slice(0, 2)}/${op.slice(3)}/LOC1`,
        body: LOCATION,
      }),
      success: 'relayed',
    },
    {
      route: 'PATCH /relay/{operation}/{path}',
      scope: 'relay',
      state: 'shared',
      call: (op) => ({
        method: 'PATCH',
        path: `/relay/${op}/locations/${op.slice(0, 2)}/${op.slice(3)}/LOC1`,
        body: { name: 'Renamed' },
      }),
      success: 'relayed',
    },
    {
      route: 'DELETE /relay/{operation}/{path}',
      scope: 'relay',
      state: 'shared',
      call: (op) => ({
        method: 'DELETE',
        path: `/relay/${op}/locations/${op.slice(0, 2)}/${op.slice(3)}/LOC1`,
      }),
      success: 'relayed',
    },
    {
      route: 'POST /relay/{operation}/url',
      scope: 'relay',
      state: 'shared',
      call: (op) => ({
        method: 'POST',
        path: `/relay/${op}/url`,
        body: { result: 'ACCEPTED' },
        headers: { 'X-OCPI-Target-URL': `${t.hub.baseUrl}/ocpi/emsp/2.1.1/commands/result/1` },
      }),
      success: 'relayed',
    },
  ];

  /** Whether an answer is one of the service's own refusals rather than the relayed peer's. */
  const refusedByUs = (response: Response) =>
    response.status === 401 ||
    response.status === 403 ||
    (response.status === 404 && /^No operation /.test(String(response.body?.error)));

  it.each(operationRoutes.map((route) => [route.route, route] as const))(
    '%s',
    async (_name, route) => {
      const wrong: string[] = [];
      for (const { scope, binding, key } of everyKey()) {
        for (const owner of ['own', 'other'] as const) {
          cases += 1;
          const forbidden = scope !== route.scope;
          const hidden = !forbidden && binding === 'bound' && owner === 'other';
          const operation =
            forbidden || hidden || route.state === 'shared'
              ? shared[owner]
              : await newOperation(owner, route.state === 'fresh-registered');
          const response = await send(key, route.call(operation));
          const label = `${scope} ${binding} on ${owner} ${operation}: ${response.status} ${JSON.stringify(response.body)}`;
          if (forbidden) {
            if (response.status !== 403 || !String(response.body.error).includes(route.scope)) {
              wrong.push(`${label} (expected 403 naming ${route.scope})`);
            }
          } else if (hidden) {
            // Exactly what an operation that does not exist gets.
            const none = await send(key, route.call('FR*ZZ9'));
            if (
              response.status !== 404 ||
              response.body.error !== `No operation ${operation}` ||
              none.status !== 404 ||
              none.body.error !== 'No operation FR*ZZ9'
            ) {
              wrong.push(`${label} (expected 404 as for no operation)`);
            }
          } else if (
            typeof route.success === 'string'
              ? refusedByUs(response)
              : response.status !== route.success
          ) {
            wrong.push(`${label} (expected ${route.success})`);
          }
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  /** The routes the tests below cover besides the table's (the matrix has them all). */
  const otherRoutes = [
    'POST /admin/operations',
    'GET /admin/operations',
    'GET /metrics',
    'POST /admin/organisations',
    'GET /admin/organisations',
    'GET /admin/organisations/{id}',
    'PATCH /admin/organisations/{id}',
    'DELETE /admin/organisations/{id}',
    'POST /admin/api-keys',
    'GET /admin/api-keys',
    'DELETE /admin/api-keys/{id}',
    'POST /admin/webhooks',
    'GET /admin/webhooks',
    'DELETE /admin/webhooks/{id}',
  ];

  it('documents the access of every admin, relay and metrics route, and its 403; the matrix covers each', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { 'x-required-access'?: string; responses: object }>>;
    };
    const routes = Object.entries(doc.paths)
      .filter(([path]) => /^\/(admin|relay|metrics)/.test(path))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({ path, method, op })),
      );
    expect(routes.length).toBeGreaterThanOrEqual(27);
    const undocumented = routes
      .filter(({ op }) => !op['x-required-access'] || !('403' in op.responses))
      .map(({ method, path }) => `${method} ${path}`);
    expect(undocumented).toEqual([]);
    // A route added without a row here is a route the matrix does not check.
    const covered = new Set([...operationRoutes.map((route) => route.route), ...otherRoutes]);
    const uncovered = routes
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      .filter((route) => !covered.has(route));
    expect(uncovered).toEqual([]);
  });

  it('keeps the operations the refused cases named, as they were', async () => {
    for (const operation of Object.values(shared)) {
      const response = await t.http.get(`/admin/operations/${operation}`).set(PROVIDER).expect(200);
      expect(response.body.connection.status).toBe('REGISTERED');
    }
  });

  it('POST /admin/operations: with operations:write, in the key’s organisation; 403 naming it else', async () => {
    const wrong: string[] = [];
    for (const { scope, binding, key } of everyKey()) {
      cases += 1;
      made += 1;
      const operatorId = `NL*${made.toString(36).toUpperCase().padStart(3, '0')}`;
      const response = await send(key, {
        method: 'POST',
        path: '/admin/operations',
        body: { operator_id: operatorId, business_details: { name: 'New' } },
      });
      const label = `${scope} ${binding}: ${response.status} ${JSON.stringify(response.body)}`;
      if (scope !== 'operations:write') {
        if (response.status !== 403 || !String(response.body.error).includes('operations:write'))
          wrong.push(label);
      } else if (
        response.status !== 201 ||
        response.body.organisation_id !== (binding === 'bound' ? organisation.A : null)
      ) {
        wrong.push(label);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("GET /admin/operations: with operations:read; a bound key's list and total hold its organisation's only", async () => {
    const [{ count: all }] = await t.db.query<{ count: string }>('SELECT count(*) FROM operations');
    const [{ count: ofA }] = await t.db.query<{ count: string }>(
      'SELECT count(*) FROM operations WHERE organisation_id = $1',
      [organisation.A],
    );
    expect(Number(ofA)).toBeLessThan(Number(all));
    const wrong: string[] = [];
    for (const { scope, binding, key } of everyKey()) {
      cases += 1;
      const response = await send(key, { method: 'GET', path: '/admin/operations?limit=500' });
      const label = `${scope} ${binding}: ${response.status}`;
      if (scope !== 'operations:read') {
        if (response.status !== 403 || !String(response.body.error).includes('operations:read'))
          wrong.push(label);
        continue;
      }
      const body = response.body as { items: { organisation_id: string }[]; total: number };
      const expected = binding === 'bound' ? Number(ofA) : Number(all);
      if (response.status !== 200 || body.total !== expected || body.items.length !== expected) {
        wrong.push(`${label} total ${body.total}, expected ${expected}`);
      }
      if (
        binding === 'bound' &&
        body.items.some((item) => item.organisation_id !== organisation.A)
      ) {
        wrong.push(`${label}: another organisation's operation in the list`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('GET /metrics: with metrics (unbound keys only); 403 naming it else', async () => {
    const wrong: string[] = [];
    for (const { scope, binding, key } of everyKey()) {
      cases += 1;
      const response = await send(key, { method: 'GET', path: '/metrics' });
      const expected = scope === 'metrics' ? 200 : 403;
      if (response.status !== expected) wrong.push(`${scope} ${binding}: ${response.status}`);
      if (expected === 403 && !String(response.body.error).includes('metrics')) {
        wrong.push(`${scope} ${binding}: ${JSON.stringify(response.body)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the organisation routes: the provider only, 403 for every key', async () => {
    const calls: Call[] = [
      { method: 'POST', path: '/admin/organisations', body: { name: 'Not yours' } },
      { method: 'GET', path: '/admin/organisations' },
      { method: 'GET', path: `/admin/organisations/${organisation.A}` },
      { method: 'PATCH', path: `/admin/organisations/${organisation.A}`, body: { name: 'Mine' } },
      { method: 'DELETE', path: `/admin/organisations/${organisation.A}` },
    ];
    const wrong: string[] = [];
    for (const call of calls) {
      for (const { scope, binding, key } of everyKey()) {
        cases += 1;
        const response = await send(key, call);
        if (response.status !== 403 || !String(response.body.error).includes('ADMIN_TOKEN')) {
          wrong.push(`${call.method} ${call.path} ${scope} ${binding}: ${response.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    const [{ count }] = await t.db.query<{ count: string }>('SELECT count(*) FROM organisations');
    expect(count).toBe('2');
  });

  it("the API key routes: any key, within its scope and organisation; a bound key lists its organisation's keys only", async () => {
    const wrong: string[] = [];
    for (const { scope, binding, key } of everyKey()) {
      cases += 3;
      const label = `${scope} ${binding}`;
      const created = await send(key, {
        method: 'POST',
        path: '/admin/api-keys',
        body: { name: `child of ${label}`, scopes: [scope] },
      });
      const child = created.body as { id: string; organisation_id: string | null };
      if (
        created.status !== 201 ||
        child.organisation_id !== (binding === 'bound' ? organisation.A : null)
      ) {
        wrong.push(`POST ${label}: ${created.status} ${JSON.stringify(created.body)}`);
      }
      const listed = await send(key, { method: 'GET', path: '/admin/api-keys?limit=500' });
      const items = (listed.body as { items: { organisation_id: string | null; id: string }[] })
        .items;
      if (listed.status !== 200 || !items.some((item) => item.id === child.id)) {
        wrong.push(`GET ${label}: ${listed.status}`);
      }
      if (binding === 'bound' && items.some((item) => item.organisation_id !== organisation.A)) {
        wrong.push(`GET ${label}: another organisation's key in the list`);
      }
      if (items.some((item) => 'key' in item)) wrong.push(`GET ${label}: a key in the list`);
      const revoked = await send(key, { method: 'DELETE', path: `/admin/api-keys/${child.id}` });
      if (revoked.status !== 204) wrong.push(`DELETE ${label}: ${revoked.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it("the webhook routes: with webhooks; a bound key's webhooks are its organisation's, and it sees only those", async () => {
    const wrong: string[] = [];
    const provider = await t.http
      .post('/admin/webhooks')
      .set(PROVIDER)
      .send({ url: 'https://events.provider.example/ocpi', events: ['connection.registered'] })
      .expect(201);
    for (const { scope, binding, key } of everyKey()) {
      cases += 3;
      const label = `${scope} ${binding}`;
      const created = await send(key, {
        method: 'POST',
        path: '/admin/webhooks',
        body: { url: 'https://events.cpo.example/ocpi', events: ['connection.registered'] },
      });
      const listed = await send(key, { method: 'GET', path: '/admin/webhooks?limit=500' });
      const removed = await send(key, {
        method: 'DELETE',
        path: `/admin/webhooks/${(created.body as { id?: string }).id ?? provider.body.id}`,
      });
      if (scope !== 'webhooks') {
        for (const [what, response] of [
          ['POST', created],
          ['GET', listed],
          ['DELETE', removed],
        ] as const) {
          if (response.status !== 403 || !String(response.body.error).includes('webhooks')) {
            wrong.push(`${what} ${label}: ${response.status} (expected 403 naming webhooks)`);
          }
        }
        continue;
      }
      const webhook = created.body as { id: string; organisation_id: string | null };
      if (
        created.status !== 201 ||
        webhook.organisation_id !== (binding === 'bound' ? organisation.A : null)
      ) {
        wrong.push(`POST ${label}: ${created.status} ${JSON.stringify(created.body)}`);
      }
      const items = (listed.body as { items: { id: string; organisation_id: string | null }[] })
        .items;
      if (listed.status !== 200 || !items.some((item) => item.id === webhook.id)) {
        wrong.push(`GET ${label}: ${listed.status}`);
      }
      if (binding === 'bound' && items.some((item) => item.organisation_id !== organisation.A)) {
        wrong.push(`GET ${label}: a webhook of another organisation, or of none, in the list`);
      }
      if (items.some((item) => 'secret' in item)) wrong.push(`GET ${label}: a secret in the list`);
      if (removed.status !== 204) wrong.push(`DELETE ${label}: ${removed.status}`);
    }
    // The provider's webhook is not the bound key's to remove: as if it did not exist.
    const bound = keyOf('webhooks', 'bound')!;
    const foreign = await send(bound, {
      method: 'DELETE',
      path: `/admin/webhooks/${provider.body.id}`,
    });
    if (foreign.status !== 404) wrong.push(`DELETE the provider's webhook: ${foreign.status}`);
    expect(wrong).toEqual([]);
  });
});

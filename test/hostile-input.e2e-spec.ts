import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import { useHarness } from './support/harness.js';

// A generated corpus of hostile requests over every admin and OCPI route. Each must answer the
// right 4xx in the right shape, never a 5xx, and leave every table exactly as it was.

type Shape = 'admin' | 'ocpi';
interface Hostile {
  name: string;
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  shape: Shape;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string;
}

const WRONG_VALUES: [string, unknown][] = [
  ['null', null],
  ['a number', 42],
  ['a boolean', true],
  ['an array', ['x']],
  ['an object', { nested: 'x' }],
  ['an empty string', ''],
  ['a 10 kB string', 'x'.repeat(10_000)],
  ['a SQL fragment', "x'; DROP TABLE operations; --"],
];

function corpus(admin: Record<string, string>, token: string, peerUrl: string): Hostile[] {
  const validOperation = { operator_id: 'FR*NEW', business_details: { name: 'New' } };
  const validCredentials = {
    token: 'hostile-input-peer-token-0001',
    url: peerUrl,
    business_details: { name: 'Peer' },
    party_id: 'PID',
    country_code: 'FR',
  };
  const list: Hostile[] = [];
  const adminJson = (name: string, method: Hostile['method'], path: string, body: unknown) =>
    list.push({ name, method, path, shape: 'admin', headers: admin, body });
  const ocpiJson = (name: string, method: Hostile['method'], body: unknown) =>
    list.push({
      name,
      method,
      path: '/ocpi/FR/AB1/2.1.1/credentials',
      shape: 'ocpi',
      headers: tokenHeader(token),
      body,
    });

  for (const [what, value] of WRONG_VALUES) {
    // null is how OCPI spells "absent" for optional fields: accepted there, so not hostile.
    const optional = value === null ? [] : ['endpoints'];
    for (const field of ['operator_id', 'business_details', ...optional]) {
      adminJson(`create: ${field} is ${what}`, 'post', '/admin/operations', {
        ...validOperation,
        [field]: value,
      });
    }
    // A SQL fragment is a fine name: it is stored as data, which the dump below checks.
    if (what !== 'a SQL fragment') {
      adminJson(`create: business_details.name is ${what}`, 'post', '/admin/operations', {
        ...validOperation,
        business_details: { name: value },
      });
    }
    for (const field of value === null ? [] : ['business_details', 'endpoints']) {
      adminJson(`patch: ${field} is ${what}`, 'patch', '/admin/operations/FR*AB1', {
        [field]: value,
      });
    }
    if (value !== null) {
      const path = '/admin/operations/FR*AB1/registration-tokens';
      adminJson(`registration token: expires_in_s is ${what}`, 'post', path, {
        expires_in_s: value,
      });
    }
    for (const field of ['versions_url', 'token']) {
      adminJson(`register: ${field} is ${what}`, 'post', '/admin/operations/FR*AB1/register', {
        versions_url: peerUrl,
        token: 'x',
        [field]: value,
      });
    }
    adminJson(`unregister: force is ${what}`, 'post', '/admin/operations/FR*AB1/unregister', {
      force: value,
    });
    for (const field of ['token', 'url', 'business_details', 'party_id', 'country_code']) {
      ocpiJson(`POST credentials: ${field} is ${what}`, 'post', {
        ...validCredentials,
        [field]: value,
      });
    }
  }
  for (const query of [
    'limit=abc',
    'limit=0',
    'limit=501',
    'offset=-1',
    'offset=1e99',
    'limit[]=1',
    'x=1',
  ]) {
    list.push({
      name: `list ?${query}`,
      method: 'get',
      path: `/admin/operations?${query}`,
      shape: 'admin',
      headers: admin,
    });
    list.push({
      name: `history ?${query}`,
      method: 'get',
      path: `/admin/operations/FR*AB1/handshakes?${query}`,
      shape: 'admin',
      headers: admin,
    });
  }
  for (const raw of ['{', '{"a":', 'not json', '[1,2', '\u0000', '{"operator_id": "FR*AB1",}']) {
    list.push({
      name: `create: broken JSON ${JSON.stringify(raw)}`,
      method: 'post',
      path: '/admin/operations',
      shape: 'admin',
      headers: admin,
      raw,
    });
    list.push({
      name: `POST credentials: broken JSON ${JSON.stringify(raw)}`,
      method: 'post',
      path: '/ocpi/FR/AB1/2.1.1/credentials',
      shape: 'ocpi',
      headers: tokenHeader(token),
      raw,
    });
  }
  const badPaths = [
    '..%2F..%2Fetc',
    'FR%2AAB1%27--',
    '%C0%AE%C0%AE',
    'ＦＲ＊ＡＢ１',
    "FR*AB1' OR '1'='1",
    '%00',
    'a'.repeat(2000),
  ];
  for (const ref of badPaths) {
    for (const suffix of ['', '/connection', '/handshakes', '/connection/peer-token']) {
      list.push({
        name: `admin path ${ref.slice(0, 20)}${suffix}`,
        method: 'get',
        path: `/admin/operations/${ref}${suffix}`,
        shape: 'admin',
        headers: admin,
      });
    }
    list.push({
      name: `OCPI path ${ref.slice(0, 20)}`,
      method: 'get',
      path: `/ocpi/${ref}/AB1/versions`,
      shape: 'ocpi',
      headers: tokenHeader(token),
    });
    list.push({
      name: `OCPI party ${ref.slice(0, 20)}`,
      method: 'get',
      path: `/ocpi/FR/${ref}/2.1.1`,
      shape: 'ocpi',
      headers: tokenHeader(token),
    });
  }
  const badAuth = [
    '',
    'Token',
    'Token ',
    `Token ${Buffer.from(token).toString('base64')}`,
    `Bearer ${token}`,
    `Token ${'t'.repeat(10_000)}`,
    `Token ${token}, Token ${token}`,
    'Basic YWRtaW46YWRtaW4=',
  ];
  for (const authorization of badAuth) {
    for (const [method, path] of [
      ['get', '/ocpi/FR/AB1/versions'],
      ['get', '/ocpi/FR/AB1/2.1.1/credentials'],
      ['put', '/ocpi/FR/AB1/2.1.1/credentials'],
      ['delete', '/ocpi/FR/AB1/2.1.1/credentials'],
    ] as const) {
      list.push({
        name: `${method} ${path} with Authorization ${JSON.stringify(authorization.slice(0, 30))}`,
        method,
        path,
        shape: 'ocpi',
        headers: { Authorization: authorization },
      });
    }
    list.push({
      name: `admin with Authorization ${JSON.stringify(authorization.slice(0, 30))}`,
      method: 'get',
      path: '/admin/operations',
      shape: 'admin',
      headers: { Authorization: authorization },
    });
  }
  return list;
}

describe('hostile input over every route', () => {
  const t = useHarness({ peer: true });
  const { db, peer } = t;
  let tokenA: string;

  beforeAll(async () => {
    await createOperation(t);
    tokenA = await mintTokenA(t);
  });

  /** Every row of every table, as JSON, in a stable order. */
  const dump = async () => {
    const tables = await db.query<{ table_name: string }>(
      // auth_failures counts the refused requests themselves: that it grows is the point.
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name <> 'auth_failures' ORDER BY table_name`,
    );
    const rows: Record<string, unknown[]> = {};
    for (const { table_name } of tables) {
      rows[table_name] = (
        await db.query<{ row: string }>(
          `SELECT row_to_json(t)::text AS row FROM "${table_name}" t ORDER BY 1`,
        )
      ).map((r) => r.row);
    }
    return rows;
  };

  it('answers at least 200 hostile requests with the right 4xx, no 5xx, and no row changed', async () => {
    const requests = corpus(t.admin, tokenA, peer.versionsUrl);
    expect(requests.length).toBeGreaterThanOrEqual(200);
    const before = await dump();
    const wrong: string[] = [];
    for (const hostile of requests) {
      let call = t.http[hostile.method](hostile.path).set(hostile.headers ?? {});
      if (hostile.raw !== undefined)
        call = call.set('Content-Type', 'application/json').send(hostile.raw);
      else if (hostile.body !== undefined) call = call.send(hostile.body as object);
      const response = await call;
      const shapeOk =
        hostile.shape === 'ocpi'
          ? typeof response.body?.status_code === 'number' &&
            response.body.status_code >= 2000 &&
            typeof response.body.timestamp === 'string'
          : typeof response.body?.status === 'number' && typeof response.body.error === 'string';
      const fieldsOk =
        response.status !== 400 ||
        hostile.shape === 'ocpi' ||
        Array.isArray(response.body.fields) ||
        /JSON|malformed/.test(response.body.error);
      if (response.status < 400 || response.status >= 500 || !shapeOk || !fieldsOk) {
        wrong.push(
          `${hostile.name}: ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`,
        );
      }
    }
    expect(wrong).toEqual([]);
    expect(peer.received).toEqual([]);
    expect(await dump()).toEqual(before);
  }, 120_000);
});

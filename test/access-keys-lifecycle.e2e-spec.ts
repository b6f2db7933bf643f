import type { DestinationStream } from 'pino';
import { eventually } from './support/eventually.js';
import { useHarness, type Harness } from './support/harness.js';
import { ADMIN_TOKEN, RELAY_TOKEN } from './support/test-app.js';

// API keys and organisations (DESIGN 12) beyond the access matrix (test/access-keys.e2e-spec.ts):
// the provider's organisation routes and `organisation_id`, what a key may mint and revoke,
// revocation and expiry on a second replica, `last_used_at`, the failed-authentication limit,
// and the logs of admin writes.

const PROVIDER = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

interface CreatedKey {
  id: string;
  key: string;
  organisation_id: string | null;
  scopes: string[];
  expires_at: string | null;
}

/** The items of a list answer. */
const itemsOf = (response: { body: unknown }) =>
  (response.body as { items: { id: string; last_used_at?: string }[] }).items;

async function createOrganisation(t: Harness, name: string): Promise<string> {
  const response = await t.http.post('/admin/organisations').set(PROVIDER).send({ name });
  expect(response.status).toBe(201);
  return (response.body as { id: string }).id;
}

async function createKey(
  t: Harness,
  body: object,
  authorization: Record<string, string> = PROVIDER,
): Promise<CreatedKey> {
  const response = await t.http.post('/admin/api-keys').set(authorization).send(body);
  expect(response.status).toBe(201);
  return response.body as CreatedKey;
}

async function createOperation(t: Harness, operatorId: string, organisationId?: string | null) {
  const response = await t.http
    .post('/admin/operations')
    .set(PROVIDER)
    .send({
      operator_id: operatorId,
      business_details: { name: operatorId },
      ...(organisationId !== undefined && { organisation_id: organisationId }),
    });
  expect(response.status).toBe(201);
  return response.body as { id: string; organisation_id: string | null };
}

describe('organisations: the provider sets them up and assigns operations', () => {
  const t = useHarness();

  it('creates, lists, reads, renames and deletes an organisation', async () => {
    const created = await t.http
      .post('/admin/organisations')
      .set(PROVIDER)
      .send({ name: 'Charge & Go' })
      .expect(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Charge & Go',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const id = (created.body as { id: string }).id;
    const list = await t.http.get('/admin/organisations').set(PROVIDER).expect(200);
    expect(list.body).toEqual({ items: [created.body], total: 1, offset: 0, limit: 50 });
    await t.http.get(`/admin/organisations/${id}`).set(PROVIDER).expect(200, created.body);
    const renamed = await t.http
      .patch(`/admin/organisations/${id}`)
      .set(PROVIDER)
      .send({ name: 'Charge and Go' })
      .expect(200);
    expect(renamed.body).toMatchObject({ id, name: 'Charge and Go' });
    await t.http.delete(`/admin/organisations/${id}`).set(PROVIDER).expect(204);
    await t.http.get(`/admin/organisations/${id}`).set(PROVIDER).expect(404);
    await t.http.get('/admin/organisations/not-an-id').set(PROVIDER).expect(404);
  });

  it('refuses a bad name with the field named, and creates nothing', async () => {
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(201) }, { name: 'a', extra: 1 }]) {
      const response = await t.http.post('/admin/organisations').set(PROVIDER).send(body);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.fields)).toMatch(/name|extra/);
    }
    expect(await t.db.query('SELECT id FROM organisations')).toEqual([]);
  });

  it('assigns operations on create and PATCH; refuses an unknown organisation with the field named', async () => {
    const a = await createOrganisation(t, 'A');
    const b = await createOrganisation(t, 'B');
    expect((await createOperation(t, 'FR*OA1', a)).organisation_id).toBe(a);
    const moved = await t.http
      .patch('/admin/operations/FR*OA1')
      .set(PROVIDER)
      .send({ organisation_id: b })
      .expect(200);
    expect(moved.body.organisation_id).toBe(b);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const refused = await t.http
      .post('/admin/operations')
      .set(PROVIDER)
      .send({ operator_id: 'FR*OA2', business_details: { name: 'x' }, organisation_id: unknown })
      .expect(400);
    expect(refused.body.fields).toEqual([
      { field: 'organisation_id', message: expect.stringContaining(unknown) },
    ]);
    await t.http.get('/admin/operations/FR*OA2').set(PROVIDER).expect(404);
    await t.http
      .patch('/admin/operations/FR*OA1')
      .set(PROVIDER)
      .send({ organisation_id: 'nope' })
      .expect(400);
    const unchanged = await t.http.get('/admin/operations/FR*OA1').set(PROVIDER).expect(200);
    expect(unchanged.body.organisation_id).toBe(b);
  });

  it('refuses to delete an organisation that owns operations (409), then deletes it with its keys', async () => {
    const org = await createOrganisation(t, 'Owner');
    await createOperation(t, 'FR*OW1', org);
    const key = await createKey(t, {
      name: 'owner key',
      scopes: ['operations:read'],
      organisation_id: org,
    });
    const refused = await t.http.delete(`/admin/organisations/${org}`).set(PROVIDER).expect(409);
    expect(refused.body.error).toMatch(/owns operations/);
    await t.http.get('/admin/operations/FR*OW1').set(bearer(key.key)).expect(200);
    await t.http
      .patch('/admin/operations/FR*OW1')
      .set(PROVIDER)
      .send({ organisation_id: null })
      .expect(200);
    await t.http.delete(`/admin/organisations/${org}`).set(PROVIDER).expect(204);
    expect(await t.db.query('SELECT id FROM api_keys WHERE id = $1', [key.id])).toEqual([]);
    await t.http.get('/admin/operations').set(bearer(key.key)).expect(401);
  });

  it('lets only the provider set organisation_id: 403 for a key, which creates in its own organisation', async () => {
    const a = await createOrganisation(t, 'Key A');
    const b = await createOrganisation(t, 'Key B');
    const bound = await createKey(t, {
      name: 'writer A',
      scopes: ['operations:write', 'operations:read'],
      organisation_id: a,
    });
    const unbound = await createKey(t, { name: 'writer', scopes: ['operations:write'] });
    const body = { operator_id: 'FR*KA1', business_details: { name: 'x' } };
    const forbidden = await t.http
      .post('/admin/operations')
      .set(bearer(bound.key))
      .send({ ...body, organisation_id: b })
      .expect(403);
    expect(forbidden.body.error).toMatch(/organisation_id is set by the provider only/);
    await t.http
      .post('/admin/operations')
      .set(bearer(unbound.key))
      .send({ ...body, organisation_id: a })
      .expect(403);
    await t.http.get('/admin/operations/FR*KA1').set(PROVIDER).expect(404);
    // Its own organisation, said or not, is what it gets anyway.
    const created = await t.http
      .post('/admin/operations')
      .set(bearer(bound.key))
      .send({ ...body, organisation_id: a })
      .expect(201);
    expect(created.body.organisation_id).toBe(a);
    for (const organisation_id of [b, null]) {
      await t.http
        .patch('/admin/operations/FR*KA1')
        .set(bearer(bound.key))
        .send({ organisation_id })
        .expect(403);
    }
    const still = await t.http.get('/admin/operations/FR*KA1').set(PROVIDER).expect(200);
    expect(still.body.organisation_id).toBe(a);
  });
});

describe('API keys: what a key may mint and revoke', () => {
  const t = useHarness();
  let a: string;
  let b: string;

  beforeAll(async () => {
    a = await createOrganisation(t, 'A');
    b = await createOrganisation(t, 'B');
  });

  it('hands the key out once, as ocpik_ and 43 characters from the CSPRNG, and keeps its hash only', async () => {
    const created = await t.http
      .post('/admin/api-keys')
      .set(PROVIDER)
      .send({ name: 'dashboard', scopes: ['operations:read', 'metrics'], expires_in_s: 3600 })
      .expect(201);
    const body = created.body as CreatedKey & { prefix: string };
    expect(body.key).toMatch(/^ocpik_[A-Za-z0-9_-]{43}$/);
    expect(body).toEqual({
      id: expect.any(String),
      key: body.key,
      name: 'dashboard',
      prefix: body.key.slice(0, 12),
      scopes: ['operations:read', 'metrics'],
      organisation_id: null,
      expires_at: expect.any(String),
      last_used_at: null,
      created_at: expect.any(String),
      created_by: 'ADMIN_TOKEN',
    });
    const lifetime = Date.parse(body.expires_at!) - Date.parse(created.headers.date);
    expect(lifetime).toBeGreaterThan(3590_000);
    expect(lifetime).toBeLessThanOrEqual(3601_000);
    const [row] = await t.db.query<{ key_hash: Buffer }>(
      'SELECT key_hash FROM api_keys WHERE id = $1',
      [body.id],
    );
    expect(row.key_hash.length).toBe(32);
    const listed = await t.http.get('/admin/api-keys').set(PROVIDER).expect(200);
    expect(listed.text).not.toContain(body.key);
    expect(itemsOf(listed).find((k) => k.id === body.id)).not.toHaveProperty('key');
  });

  it('refuses bad input with each field named, and creates nothing', async () => {
    const before = await t.db.query('SELECT id FROM api_keys');
    for (const [body, field] of [
      [{ scopes: ['relay'] }, 'name'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'x', scopes: ['admin'] }, 'scopes'],
      [{ name: 'x', scopes: ['relay', 'relay'] }, 'scopes'],
      [{ name: 'x', scopes: 'relay' }, 'scopes'],
      [{ name: 'x', scopes: ['relay'], expires_in_s: 10 }, 'expires_in_s'],
      [{ name: 'x', scopes: ['relay'], organisation_id: 'A' }, 'organisation_id'],
      [
        { name: 'x', scopes: ['relay'], organisation_id: '00000000-0000-4000-8000-000000000000' },
        'organisation_id',
      ],
    ] as const) {
      const response = await t.http.post('/admin/api-keys').set(PROVIDER).send(body).expect(400);
      expect(
        (response.body as { fields: { field: string }[] }).fields.map((f) => f.field),
      ).toContain(field);
    }
    expect(await t.db.query('SELECT id FROM api_keys')).toEqual(before);
  });

  it('refuses metrics to a key bound to an organisation: /metrics counts the whole service', async () => {
    const response = await t.http
      .post('/admin/api-keys')
      .set(PROVIDER)
      .send({ name: 'cpo metrics', scopes: ['metrics'], organisation_id: a })
      .expect(400);
    expect(response.body.fields).toEqual([
      { field: 'scopes', message: expect.stringMatching(/^metrics is service-wide/) },
    ]);
  });

  it('lets a bound key mint keys of its organisation with at most its own scopes', async () => {
    const cpo = await createKey(t, {
      name: 'cpo admin',
      scopes: ['operations:read', 'relay'],
      organisation_id: a,
    });
    const more = await t.http
      .post('/admin/api-keys')
      .set(bearer(cpo.key))
      .send({ name: 'more', scopes: ['relay', 'operations:write'] })
      .expect(403);
    expect(more.body.error).toMatch(/^Scope operations:write is required/);
    const elsewhere = await t.http
      .post('/admin/api-keys')
      .set(bearer(cpo.key))
      .send({ name: 'elsewhere', scopes: ['relay'], organisation_id: b })
      .expect(403);
    expect(elsewhere.body.error).toMatch(/creates keys for that organisation only/);
    const child = await createKey(
      t,
      { name: 'locations pusher', scopes: ['relay'] },
      bearer(cpo.key),
    );
    expect(child).toMatchObject({ organisation_id: a, scopes: ['relay'] });
    const [row] = await t.db.query<{ created_by: string }>(
      'SELECT created_by FROM api_keys WHERE id = $1',
      [child.id],
    );
    expect(row.created_by).toBe(`key ${cpo.id} (cpo admin)`);
  });

  it('lets an unbound key mint at most its own scopes, for any organisation', async () => {
    const ops = await createKey(t, { name: 'ops', scopes: ['operations:read'] });
    await t.http
      .post('/admin/api-keys')
      .set(bearer(ops.key))
      .send({ name: 'relay', scopes: ['relay'] })
      .expect(403);
    const child = await createKey(
      t,
      { name: 'reader B', scopes: ['operations:read'], organisation_id: b },
      bearer(ops.key),
    );
    expect(child.organisation_id).toBe(b);
  });

  it('revokes within reach only: another organisation’s key is 404, a key with more scopes 403', async () => {
    const reader = await createKey(t, {
      name: 'reader A',
      scopes: ['operations:read'],
      organisation_id: a,
    });
    const ofB = await createKey(t, { name: 'B', scopes: ['operations:read'], organisation_id: b });
    const stronger = await createKey(t, {
      name: 'A writer',
      scopes: ['operations:read', 'operations:write'],
      organisation_id: a,
    });
    await t.http.delete(`/admin/api-keys/${ofB.id}`).set(bearer(reader.key)).expect(404);
    const forbidden = await t.http
      .delete(`/admin/api-keys/${stronger.id}`)
      .set(bearer(reader.key))
      .expect(403);
    expect(forbidden.body.error).toMatch(/operations:write/);
    await t.http.delete('/admin/api-keys/not-an-id').set(PROVIDER).expect(404);
    await t.http.get('/admin/operations').set(bearer(ofB.key)).expect(200);
    await t.http.get('/admin/operations').set(bearer(stronger.key)).expect(200);
    await t.http.delete(`/admin/api-keys/${stronger.id}`).set(PROVIDER).expect(204);
    await t.http.delete(`/admin/api-keys/${stronger.id}`).set(PROVIDER).expect(404);
  });

  it('lets neither METRICS_TOKEN nor RELAY_TOKEN manage keys', async () => {
    const response = await t.http
      .post('/admin/api-keys')
      .set(bearer(RELAY_TOKEN))
      .send({ name: 'x', scopes: ['relay'] })
      .expect(403);
    expect(response.body.error).toMatch(/RELAY_TOKEN manages no API keys/);
    await t.http.get('/admin/api-keys').set(bearer(RELAY_TOKEN)).expect(403);
  });
});

describe('API keys on two replicas', () => {
  const t = useHarness({ replica: true });

  const status = async (app: Harness['app'], key: string) =>
    (await app.http.get('/admin/operations').set(bearer(key))).status;

  it('stops a revoked key on the other replica within the bound, and on this one at once', async () => {
    const key = await createKey(t, { name: 'revoked', scopes: ['operations:read'] });
    // Each replica now holds the key in its cache.
    expect(await status(t.app, key.key)).toBe(200);
    expect(await status(t.replica, key.key)).toBe(200);
    await t.http.delete(`/admin/api-keys/${key.id}`).set(PROVIDER).expect(204);
    expect(await status(t.app, key.key)).toBe(401);
    expect(
      await eventually(
        () => status(t.replica, key.key),
        (s) => s === 401,
      ),
    ).toBe(401);
  });

  it('stops the keys of a deleted organisation on the other replica too', async () => {
    const org = await createOrganisation(t, 'Leaving');
    const key = await createKey(t, {
      name: 'leaving',
      scopes: ['operations:read'],
      organisation_id: org,
    });
    expect(await status(t.replica, key.key)).toBe(200);
    await t.http.delete(`/admin/organisations/${org}`).set(PROVIDER).expect(204);
    expect(
      await eventually(
        () => status(t.replica, key.key),
        (s) => s === 401,
      ),
    ).toBe(401);
  });

  it('refuses an expired key on both replicas', async () => {
    const key = await createKey(t, {
      name: 'short',
      scopes: ['operations:read'],
      expires_in_s: 60,
    });
    expect(await status(t.app, key.key)).toBe(200);
    expect(await status(t.replica, key.key)).toBe(200);
    // As if its minute had passed.
    await t.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      key.id,
    ]);
    for (const app of [t.app, t.replica]) {
      expect(
        await eventually(
          () => status(app, key.key),
          (s) => s === 401,
        ),
      ).toBe(401);
    }
  });

  it('moves an operation out of a bound key’s sight on the relay of both replicas', async () => {
    const a = await createOrganisation(t, 'Relay A');
    const b = await createOrganisation(t, 'Relay B');
    await createOperation(t, 'FR*RL1', a);
    const key = await createKey(t, { name: 'relay A', scopes: ['relay'], organisation_id: a });
    // Not registered: 409 is past the organisation check, and keeps the target in memory.
    const relay = (app: Harness['app']) =>
      app.http.get('/relay/FR*RL1/locations').set(bearer(key.key));
    for (const app of [t.app, t.replica]) expect((await relay(app)).status).toBe(409);
    await t.http
      .patch('/admin/operations/FR*RL1')
      .set(PROVIDER)
      .send({ organisation_id: b })
      .expect(200);
    for (const app of [t.app, t.replica]) {
      expect(
        await eventually(
          async () => (await relay(app)).status,
          (s) => s === 404,
        ),
      ).toBe(404);
    }
  });

  it('records last_used_at, written at most once a minute', async () => {
    const key = await createKey(t, { name: 'used', scopes: ['operations:read'] });
    const lastUsed = async () =>
      (
        await t.db.query<{ last_used_at: Date | null }>(
          'SELECT last_used_at FROM api_keys WHERE id = $1',
          [key.id],
        )
      )[0].last_used_at;
    expect(await lastUsed()).toBeNull();
    await t.http.get('/admin/operations').set(bearer(key.key)).expect(200);
    const first = await eventually(lastUsed, (value) => value !== null);
    expect(first).toBeInstanceOf(Date);
    for (const app of [t.app, t.replica, t.app]) {
      await app.http.get('/admin/operations').set(bearer(key.key)).expect(200);
    }
    // The replica's first use writes too, on a condition that keeps the minute's first write.
    expect(await lastUsed()).toEqual(first);
    const listed = await t.http.get('/admin/api-keys').set(PROVIDER).expect(200);
    const item = itemsOf(listed).find((k) => k.id === key.id)!;
    expect(Date.parse(item.last_used_at!)).toBe(first!.getTime());
  });
});

describe('API keys and the failed-authentication limit', () => {
  const t = useHarness({ app: { authFailureLimit: 3, authFailureWindowS: 60 } });

  it('counts wrong keys as failures, and never refuses a valid key', async () => {
    const key = await createKey(t, { name: 'valid', scopes: ['operations:read'] });
    const wrong = `ocpik_${'x'.repeat(43)}`;
    for (let i = 0; i < 3; i++) {
      await t.http
        .get('/admin/operations')
        .set(bearer(`${wrong}${i}`))
        .expect(401);
    }
    const limited = await t.http.get('/admin/operations').set(bearer(wrong)).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await t.http.get('/admin/operations').set(bearer(key.key)).expect(200);
    await t.http.get('/metrics').set(bearer(wrong)).expect(429);
  });
});

describe('API keys in the logs', () => {
  const lines: string[] = [];
  const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
  const t = useHarness({ app: { logDestination: destination, logLevel: 'trace' } });

  it('logs each admin write with the key id and name, and never a key', async () => {
    const key = await createKey(t, { name: 'auditor', scopes: ['operations:write'] });
    await t.http
      .post('/admin/operations')
      .set(bearer(key.key))
      .send({ operator_id: 'FR*LG1', business_details: { name: 'Logged' } })
      .expect(201);
    await t.http.delete(`/admin/api-keys/${key.id}`).set(PROVIDER).expect(204);
    const writes = lines
      .map((line) => JSON.parse(line) as { context?: string; principal?: object; msg: string })
      .filter((line) => line.context === 'Access');
    expect(writes).toContainEqual(
      expect.objectContaining({
        principal: { kind: 'key', name: 'auditor', key_id: key.id },
        msg: `Admin POST /admin/operations by key ${key.id} (auditor)`,
      }),
    );
    expect(writes).toContainEqual(
      expect.objectContaining({
        principal: { kind: 'provider', name: 'ADMIN_TOKEN' },
        msg: `Admin DELETE /admin/api-keys/${key.id} by ADMIN_TOKEN`,
      }),
    );
    expect(lines.join('\n')).toContain(`API key ${key.id} (auditor) revoked by ADMIN_TOKEN`);
    expect(lines.join('\n')).not.toContain(key.key);
    expect(lines.join('\n')).not.toContain(key.key.slice(6));
  });
});

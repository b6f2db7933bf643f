import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { eventually } from './support/eventually.js';
import { useHarness } from './support/harness.js';
import { createOperation, registerWithPeer } from './support/ocpi.js';
import { RELAY_TOKEN } from './support/test-app.js';
import { Upstream, type UpstreamRequest } from './support/upstream.js';

// Connection events (DESIGN 9.4): webhooks managed through the admin API get the events they
// want, written in the transaction of each change, delivered through the outbox, and signed the
// Standard Webhooks way, which the test verifies with the reference package, standardwebhooks.

const DRAIN_MS = 20_000;

interface Event {
  type: string;
  occurred_at: string;
  operation: { id: string; operator_id: string };
  connection?: { status: string };
  delivery?: { id: string; status: string; last_error: string };
}

describe('connection events', () => {
  const t = useHarness({ reachable: true, peer: true, app: { outboxMaxBackoffS: 1 } });
  const receiver = new Upstream();
  let operationId: string;
  let connectionHook: { id: string; secret: string };
  let calls = 0;

  const received = (path: string) => receiver.received.filter((r) => r.url === path);
  const verified = (request: UpstreamRequest, secret: string): Event =>
    new Webhook(secret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    }) as Event;
  const webhookDeliveries = async () =>
    (
      await t.db.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM deliveries WHERE kind = 'webhook' AND identifier = $1`,
        [connectionHook.id],
      )
    )[0].count;

  beforeAll(async () => {
    await receiver.start();
    t.onClose(() => receiver.stop());
    // The receiver fails its second call once (503): the event is sent again, the same.
    receiver.handler = (_request: UpstreamRequest, response: ServerResponse) => {
      calls += 1;
      response.writeHead(calls === 2 ? 503 : 204).end();
    };
    operationId = await createOperation(t);
  });

  it('adds a webhook: 201 with its secret shown once, listed without it', async () => {
    const created = await t.http
      .post('/admin/webhooks')
      .set(t.admin)
      .send({
        url: `${receiver.baseUrl}/hooks/connections`,
        events: ['connection.registered', 'connection.updated', 'connection.unregistered'],
      })
      .expect(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: `${receiver.baseUrl}/hooks/connections`,
      events: ['connection.registered', 'connection.updated', 'connection.unregistered'],
      organisation_id: null,
      created_at: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    connectionHook = created.body as { id: string; secret: string };
    const listed = await t.http.get('/admin/webhooks').set(t.admin).expect(200);
    const listedAs = { ...(created.body as Record<string, unknown>) };
    delete listedAs.secret;
    expect(listed.body).toEqual({ items: [listedAs], total: 1, offset: 0, limit: 50 });
    expect(JSON.stringify(listed.body)).not.toContain(connectionHook.secret);
  });

  it('refuses a webhook without a URL or with unknown events, naming the field', async () => {
    const bad = await t.http
      .post('/admin/webhooks')
      .set(t.admin)
      .send({ url: 'not a url', events: ['connection.exploded'] })
      .expect(400);
    expect(JSON.stringify(bad.body)).toMatch(/url/);
    expect(JSON.stringify(bad.body)).toMatch(/events/);
    await t.http
      .post('/admin/webhooks')
      .set(t.admin)
      .send({ url: 'https://events.cpo.example', events: [] })
      .expect(400);
  });

  it('signs each event the Standard Webhooks way: registered, updated, unregistered, never a token', async () => {
    await t.http
      .post('/admin/operations/FR*AB1/register')
      .set(t.admin)
      .send({ versions_url: t.peer.versionsUrl, token: t.peer.expectedToken })
      .expect(200);
    await t.http.post('/admin/operations/FR*AB1/update-credentials').set(t.admin).expect(200);
    await t.http.post('/admin/operations/FR*AB1/unregister').set(t.admin).send({}).expect(200);

    const path = '/hooks/connections';
    const answered = await eventually(
      () => Promise.resolve(received(path)),
      (requests) => requests.length >= 4,
      DRAIN_MS,
    );
    const events = answered.map((r) => verified(r, connectionHook.secret));
    // The second call was refused (503) and sent again: the same event, the same webhook-id.
    expect(events.map((e) => e.type)).toEqual([
      'connection.registered',
      'connection.updated',
      'connection.updated',
      'connection.unregistered',
    ]);
    expect(answered[2].headers['webhook-id']).toBe(answered[1].headers['webhook-id']);
    expect(answered[1].body).toBe(answered[2].body);
    expect(events[0]).toEqual({
      type: 'connection.registered',
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      operation: { id: operationId, operator_id: 'FR*AB1' },
      connection: expect.objectContaining({ status: 'REGISTERED', initiated_by: 'US' }),
    });
    expect(events[3].connection).toMatchObject({ status: 'UNREGISTERED' });
    expect(answered[0].headers['content-type']).toMatch(/^application\/json/);
    const text = answered.map((r) => r.body).join('\n');
    expect(text).not.toMatch(/"token"/);
    expect(text).not.toContain(t.peer.expectedToken);
    // A signature made with another secret does not verify.
    expect(() =>
      verified(answered[0], `whsec_${Buffer.alloc(32, 1).toString('base64')}`),
    ).toThrow();
  });

  it('writes an event if and only if its change committed: none for a failed handshake', async () => {
    const before = await webhookDeliveries();
    t.peer.faults = { credentials_post: 'http500' };
    await t.http
      .post('/admin/operations/FR*AB1/register')
      .set(t.admin)
      .send({ versions_url: t.peer.versionsUrl, token: t.peer.expectedToken })
      .expect(502);
    t.peer.faults = {};
    // Written in the handshake's own transaction: what the database holds now is final.
    expect(await webhookDeliveries()).toBe(before);
    const [handshakes] = await t.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM handshakes WHERE outcome = 'SUCCEEDED'`,
    );
    expect(await webhookDeliveries()).toBe(handshakes.count);
  });

  it('tells the webhooks that want it when a push dies (delivery.dead), with the delivery', async () => {
    const dead = await t.http
      .post('/admin/webhooks')
      .set(t.admin)
      .send({ url: `${receiver.baseUrl}/hooks/dead`, events: ['delivery.dead'] })
      .expect(201);
    const { secret } = dead.body as { secret: string };
    await registerWithPeer(t, t.peer);
    const pushed = await t.http
      .patch('/relay/FR*AB1/locations/FR/AB1/UNKNOWN')
      .set({ Authorization: `Bearer ${RELAY_TOKEN}`, Prefer: 'respond-async' })
      .send({ name: 'x' })
      .expect(202);
    const [event] = await eventually(
      () => Promise.resolve(received('/hooks/dead')),
      (requests) => requests.length === 1,
      DRAIN_MS,
    );
    expect(verified(event, secret)).toEqual({
      type: 'delivery.dead',
      occurred_at: expect.any(String),
      operation: { id: operationId, operator_id: 'FR*AB1' },
      delivery: expect.objectContaining({
        id: (pushed.body as { delivery_id: string }).delivery_id,
        identifier: 'locations',
        method: 'PATCH',
        status: 'DEAD',
        last_error: 'HTTP 404, status_code 2003 (Unknown location)',
      }),
    });
  });

  it('removes a webhook (204) with its undelivered events; 404 after, 400 for a bad id', async () => {
    await t.http.delete(`/admin/webhooks/${connectionHook.id}`).set(t.admin).expect(204);
    await t.http.delete(`/admin/webhooks/${connectionHook.id}`).set(t.admin).expect(404);
    const badId = await t.http.delete('/admin/webhooks/not-an-id').set(t.admin).expect(400);
    expect(badId.body).toMatchObject({ fields: [{ field: 'id', message: expect.any(String) }] });
    expect(await webhookDeliveries()).toBe(0);
    const listed = await t.http.get('/admin/webhooks').set(t.admin).expect(200);
    expect((listed.body as { items: { id: string }[] }).items.map((w) => w.id)).not.toContain(
      connectionHook.id,
    );
  });

  it('keeps no change without its event: a change whose event cannot be written is rolled back', async () => {
    // The operation is registered (the test before): unregistered first, then a registration
    // whose event a webhook wants.
    await t.http.post('/admin/operations/FR*AB1/unregister').set(t.admin).send({}).expect(200);
    await t.http
      .post('/admin/webhooks')
      .set(t.admin)
      .send({ url: `${receiver.baseUrl}/hooks/again`, events: ['connection.registered'] })
      .expect(201);
    const events = async () =>
      (
        await t.db.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM deliveries WHERE kind = 'webhook'`,
        )
      )[0].count;
    const before = await events();
    // The event's insert fails inside the registration's transaction.
    await t.db.query(`
      CREATE FUNCTION refuse_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.kind = 'webhook' THEN RAISE EXCEPTION 'no events today'; END IF;
        RETURN NEW;
      END $$`);
    await t.db.query(`
      CREATE TRIGGER refuse_webhook_event BEFORE INSERT ON deliveries
      FOR EACH ROW EXECUTE FUNCTION refuse_webhook_event()`);
    try {
      const refused = await t.http
        .post('/admin/operations/FR*AB1/register')
        .set(t.admin)
        .send({ versions_url: t.peer.versionsUrl, token: t.peer.expectedToken });
      expect(refused.status).toBeGreaterThanOrEqual(500);
    } finally {
      await t.db.query('DROP TRIGGER refuse_webhook_event ON deliveries');
      await t.db.query('DROP FUNCTION refuse_webhook_event()');
    }
    const connection = await t.http.get('/admin/operations/FR*AB1/connection').set(t.admin);
    expect(connection.body).toMatchObject({ status: 'UNREGISTERED' });
    expect(await events()).toBe(before);
  });
});

describe("connection events of an organisation's operations, and health changes", () => {
  const t = useHarness({ reachable: true, peer: true, app: { outboxMaxBackoffS: 1 } });
  const receiver = new Upstream();
  const hooks: Record<'A' | 'B', { id: string; secret: string }> = {
    A: { id: '', secret: '' },
    B: { id: '', secret: '' },
  };
  const eventsFor = async (hook: 'A' | 'B') =>
    (
      await t.db.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM deliveries WHERE kind = 'webhook' AND identifier = $1`,
        [hooks[hook].id],
      )
    )[0].count;

  beforeAll(async () => {
    await receiver.start();
    t.onClose(() => receiver.stop());
    await createOperation(t);
    for (const org of ['A', 'B'] as const) {
      const organisation = await t.http
        .post('/admin/organisations')
        .set(t.admin)
        .send({ name: `Organisation ${org}` })
        .expect(201);
      const id = (organisation.body as { id: string }).id;
      if (org === 'A') {
        await t.http
          .patch('/admin/operations/FR*AB1')
          .set(t.admin)
          .send({ organisation_id: id })
          .expect(200);
      }
      const key = await t.http
        .post('/admin/api-keys')
        .set(t.admin)
        .send({ name: `events of ${org}`, scopes: ['webhooks'], organisation_id: id })
        .expect(201);
      const hook = await t.http
        .post('/admin/webhooks')
        .set({ Authorization: `Bearer ${(key.body as { key: string }).key}` })
        .send({
          url: `${receiver.baseUrl}/hooks/${org}`,
          events: ['connection.registered', 'connection.health_changed'],
        })
        .expect(201);
      expect(hook.body).toMatchObject({ organisation_id: id });
      hooks[org] = hook.body as { id: string; secret: string };
    }
  });

  it("sends an organisation's webhooks its own operations' events only, health changes included", async () => {
    await t.http
      .post('/admin/operations/FR*AB1/register')
      .set(t.admin)
      .send({ versions_url: t.peer.versionsUrl, token: t.peer.expectedToken })
      .expect(200);
    // UNKNOWN to UP: a change; UP again: none.
    const first = await t.http.post('/admin/operations/FR*AB1/connection/probe').set(t.admin);
    expect(first.body).toMatchObject({ status: 'UP' });
    await t.http.post('/admin/operations/FR*AB1/connection/probe').set(t.admin).expect(200);
    // Written with each change: what the database holds now is final.
    expect(await eventsFor('A')).toBe(2);
    expect(await eventsFor('B')).toBe(0);
    const answered = await eventually(
      () => Promise.resolve(receiver.received.filter((r) => r.url === '/hooks/A')),
      (requests) => requests.length === 2,
      DRAIN_MS,
    );
    const events = answered.map((request) =>
      new Webhook(hooks.A.secret).verify(request.body, {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      }),
    ) as (Event & { connection: { health: { status: string } } })[];
    expect(events.map((e) => [e.type, e.connection.health.status])).toEqual([
      ['connection.registered', 'UNKNOWN'],
      ['connection.health_changed', 'UP'],
    ]);
    expect(receiver.received.filter((r) => r.url === '/hooks/B')).toEqual([]);
  });
});

import type { ServerResponse } from 'node:http';
import { eventually } from './support/eventually.js';
import { useHarness, type Harness } from './support/harness.js';
import { createOperation, registerWithPeer } from './support/ocpi.js';
import { RELAY_TOKEN } from './support/test-app.js';
import { Upstream, type UpstreamRequest } from './support/upstream.js';

// Two replicas share the outbox: pushes accepted by either go out in order per queue, with never
// two of one queue in flight at once, whichever replica sends them. The peer's modules are a real
// server here that answers slowly, sometimes fails (503, to be retried), and records overlaps.

const ASYNC = { Authorization: `Bearer ${RELAY_TOKEN}`, Prefer: 'respond-async' };
const QUEUES = 10;
const PUSHES = 200;

/** Points the peer's endpoints of FR*AB1 at `modules`, one module `q{i}` per queue. */
async function peerModulesAt(t: Harness, modules: Upstream): Promise<void> {
  const endpoints = Array.from({ length: QUEUES }, (_, i) => ({
    identifier: `q${i}`,
    url: `${modules.baseUrl}/q${i}`,
  }));
  await t.db.query(
    `UPDATE connections SET peer_endpoints = $1::jsonb
     WHERE operation_id = (SELECT id FROM operations WHERE party_id = 'AB1')`,
    [JSON.stringify(endpoints)],
  );
}

describe('the outbox on two replicas', () => {
  const t = useHarness({
    reachable: true,
    peer: true,
    replica: true,
    app: { outboxMaxBackoffS: 1 },
  });
  const modules = new Upstream();
  const active = new Map<string, number>();
  const overlaps: string[] = [];
  /** What the peer accepted (200), per queue, in the order it accepted it. */
  const accepted = new Map<string, number[]>();
  let calls = 0;

  beforeAll(async () => {
    await modules.start();
    t.onClose(() => modules.stop());
    await createOperation(t);
    await registerWithPeer(t, t.peer);
    await peerModulesAt(t, modules);
    modules.handler = async (request: UpstreamRequest, response: ServerResponse) => {
      const queue = request.url.split('/')[1];
      const now = (active.get(queue) ?? 0) + 1;
      active.set(queue, now);
      if (now > 1) overlaps.push(`${queue}: ${now} at once`);
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, (calls * 7) % 15));
      active.set(queue, (active.get(queue) ?? 1) - 1);
      // Every seventh call fails: the queue must wait for it.
      if (calls % 7 === 0) {
        response.writeHead(503).end();
        return;
      }
      const { seq } = JSON.parse(request.body) as { seq: number };
      accepted.set(queue, [...(accepted.get(queue) ?? []), seq]);
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ status_code: 1000, timestamp: '2026-12-01T00:00:00Z' }));
    };
  });

  it('delivers 200 pushes over 10 queues in order per queue, each once, never two of a queue at once', async () => {
    for (let i = 0; i < PUSHES; i++) {
      const replica = i % 2 === 0 ? t.app : t.replica;
      await replica.http
        .post(`/relay/FR*AB1/q${i % QUEUES}/items`)
        .set(ASYNC)
        .send({ seq: Math.floor(i / QUEUES) })
        .expect(202);
    }
    const delivered = await eventually(
      async () =>
        (
          await t.db.query<{ count: number }>(
            `SELECT count(*)::int AS count FROM deliveries WHERE status = 'DELIVERED'`,
          )
        )[0].count,
      (count) => count === PUSHES,
      60_000,
    );
    expect(delivered).toBe(PUSHES);
    expect(overlaps).toEqual([]);
    const inOrder = Array.from({ length: PUSHES / QUEUES }, (_, seq) => seq);
    for (let q = 0; q < QUEUES; q++)
      expect([`q${q}`, accepted.get(`q${q}`)]).toEqual([`q${q}`, inOrder]);
    // Some were refused once (503) and sent again.
    expect(modules.received.length).toBeGreaterThan(PUSHES);
  }, 90_000);
});

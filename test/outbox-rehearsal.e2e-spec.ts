import { eventually } from './support/eventually.js';
import { useHarness, type ServiceProcess } from './support/harness.js';
import { hubControl } from './support/hub-control.js';
import { createOperation, mintTokenA } from './support/ocpi.js';
import { RELAY_TOKEN } from './support/test-app.js';

// The README's store-and-forward walk-through, its way: the hub simulator as `npm run hub-sim`
// runs it (a process of its own), its locations module taken down through `PUT /sim/faults`
// (`module_down`), pushes kept while it is down, the queue holding behind the first, then all of
// them delivered in order once it is back.

const ASYNC = { Authorization: `Bearer ${RELAY_TOKEN}`, Prefer: 'respond-async' };

interface Received {
  method: string;
  path: string;
  status?: number;
  headers: Record<string, string>;
}

describe("the README's store-and-forward walk-through", () => {
  const t = useHarness({ reachable: true, app: { outboxMaxBackoffS: 1 } });
  let hub: ServiceProcess;

  const control = (method: string, path: string, body?: object) =>
    hubControl(hub.baseUrl, method, path, body);

  beforeAll(async () => {
    hub = await t.startHubProcess();
    await createOperation(t);
    const registered = await control('POST', '/sim/register', {
      versions_url: `${t.baseUrl}/ocpi/FR/AB1/versions`,
      token: await mintTokenA(t),
    });
    expect(registered).toMatchObject({ ok: true });
  });

  it('keeps the pushes while the module is down, holds the queue, then delivers them in order', async () => {
    await control('PUT', '/sim/faults', { module_down: { locations: 3 } });
    const ids: string[] = [];
    for (const id of ['SF1', 'SF2', 'SF3']) {
      const pushed = await t.http
        .put(`/relay/FR*AB1/locations/FR/AB1/${id}`)
        .set(ASYNC)
        .send({ id, name: `Kept ${id}` })
        .expect(202);
      ids.push((pushed.body as { delivery_id: string }).delivery_id);
    }
    type Listed = { items: { id: string; path: string; attempts: number; last_error: string }[] };
    const pending = await eventually(
      async () =>
        (
          await t.http
            .get('/admin/operations/FRAB1/deliveries?status=PENDING')
            .set(t.admin)
            .expect(200)
        ).body as Listed,
      (page) => page.items.some((d) => d.last_error !== null),
      10_000,
    );
    // The first was tried and failed; the others wait behind it, untried.
    expect(pending.items.map((d) => [d.path, d.attempts > 0])).toEqual([
      ['/FR/AB1/SF3', false],
      ['/FR/AB1/SF2', false],
      ['/FR/AB1/SF1', true],
    ]);

    const delivered = await eventually(
      async () =>
        (
          await t.http
            .get('/admin/operations/FRAB1/deliveries?status=DELIVERED')
            .set(t.admin)
            .expect(200)
        ).body as Listed,
      (page) => page.items.length === 3,
      30_000,
    );
    expect(delivered.items.map((d) => d.id)).toEqual([...ids].reverse());
    const received = (await control('GET', '/sim/received')).requests as Received[];
    const answered = received.filter((r) => r.status === 200);
    expect(answered.map((r) => r.path)).toEqual([
      '/ocpi/emsp/2.1.1/locations/FR/AB1/SF1',
      '/ocpi/emsp/2.1.1/locations/FR/AB1/SF2',
      '/ocpi/emsp/2.1.1/locations/FR/AB1/SF3',
    ]);
    // SF1 was dropped first, then taken, with one X-Request-ID for all its attempts.
    const first = received.filter((r) => r.path.endsWith('/SF1'));
    expect(first.length).toBeGreaterThan(1);
    expect(new Set(first.map((r) => r.headers['x-request-id'])).size).toBe(1);
  }, 60_000);
});

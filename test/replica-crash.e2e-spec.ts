import { randomBytes } from 'node:crypto';
import { useHarness, type ServiceProcess } from './support/harness.js';

// Two replicas (real processes) on one PostgreSQL; one is killed with SIGKILL in the middle of a
// FromIOP registration, while it waits on the peer's answer.

const ADMIN_TOKEN = 'replica-admin-token-0123456789';

describe('a replica killed in the middle of a handshake', () => {
  const h = useHarness({ app: false, peer: true });
  const { db, peer } = h;
  let replicas: ServiceProcess[];

  beforeAll(async () => {
    const env = {
      DATABASE_URL: db.url,
      ADMIN_TOKEN,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ALLOW_INSECURE_PEER_URLS: 'true',
      ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
      DATA_DIR: h.tempDir('replica'),
    };
    replicas = await Promise.all([h.startService(env), h.startService(env)]);
  });

  const call = (
    replica: ServiceProcess,
    path: string,
    init: RequestInit & { token?: string } = {},
  ) =>
    fetch(`${replica.baseUrl}${path}`, {
      ...init,
      headers: {
        'Content-Type': 'application/json',
        Authorization: init.token ? `Token ${init.token}` : `Bearer ${ADMIN_TOKEN}`,
      },
    });

  it('leaves nothing half-written, no lock held, and the other replica serving at once', async () => {
    const [doomed, survivor] = replicas;
    expect(
      (
        await call(doomed, '/admin/operations', {
          method: 'POST',
          body: JSON.stringify({ operator_id: 'FR*AB1', business_details: { name: 'Crash test' } }),
        })
      ).status,
    ).toBe(201);
    const minted = await call(survivor, '/admin/operations/FRAB1/registration-tokens', {
      method: 'POST',
    });
    const { token } = (await minted.json()) as { token: string };

    peer.faults.delay_ms = { details: 3_000 };
    const registering = call(doomed, '/ocpi/FR/AB1/2.1.1/credentials', {
      method: 'POST',
      token,
      body: JSON.stringify(peer.credentials()),
    }).catch((error: unknown) => error);
    // Kill it once it has called the peer's versions and waits on its version details.
    while (!peer.received.some((r) => r.path.endsWith('/2.1.1')))
      await new Promise((r) => setTimeout(r, 20));
    doomed.process.kill('SIGKILL');
    expect(await doomed.exited).toBeNull();
    // Its client sees the connection drop; no answer ever came.
    expect(await registering).toMatchObject({ message: expect.stringMatching(/fetch failed/) });

    // The survivor serves the operation at once: token A still works, nothing was stored.
    expect((await call(survivor, '/ocpi/FR/AB1/versions', { token })).status).toBe(200);
    const connection = (await (
      await call(survivor, '/admin/operations/FRAB1/connection')
    ).json()) as { status: string };
    expect(connection.status).toBe('UNREGISTERED');
    expect(await db.query(`SELECT outcome FROM handshakes WHERE outcome = 'SUCCEEDED'`)).toEqual(
      [],
    );
    expect(await db.query(`SELECT kind FROM issued_tokens WHERE kind = 'CONNECTION'`)).toEqual([]);

    // No lock stays held: the peer registers through the survivor right away.
    peer.reset();
    const response = await call(survivor, '/ocpi/FR/AB1/2.1.1/credentials', {
      method: 'POST',
      token,
      body: JSON.stringify(peer.credentials()),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status_code: number }).status_code).toBe(1000);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useHarness, type ServiceProcess } from './support/harness.js';

// The service as `npm start` runs it (the built dist/main.js), with no DATABASE_URL: it must start
// its own PostgreSQL, keep its data and admin token across restarts, and stop cleanly.

describe('embedded default (no DATABASE_URL)', () => {
  // No database nor app from the harness: services of their own on one data folder it owns.
  const h = useHarness({ database: false, app: false });
  let dataDir: string;
  let service: ServiceProcess | undefined;

  const startService = (env: Record<string, string> = {}) =>
    h.startService({ DATA_DIR: dataDir, ...env });

  beforeAll(() => {
    dataDir = h.tempDir('embedded');
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  const adminToken = () => readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const postmasterRunning = () => existsSync(join(dataDir, 'postgres', 'postmaster.pid'));

  it('starts its own PostgreSQL, prints the admin token once and serves the admin API', async () => {
    service = await startService();
    const token = adminToken();
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(service.output()).toContain(
      `Admin token (shown once; kept in ${join(dataDir, 'admin-token')}): ${token}`,
    );
    expect(service.output()).toContain('/docs');

    expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
    expect((await fetch(`${service.baseUrl}/docs`)).status).toBe(200);
    const created = await fetch(`${service.baseUrl}/admin/operations`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ operator_id: 'FR*AB1', business_details: { name: 'Embedded' } }),
    });
    expect(created.status).toBe(201);
  });

  it('stops the service and its PostgreSQL on SIGTERM, exiting 0', async () => {
    service = await startService();
    expect(postmasterRunning()).toBe(true);
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(postmasterRunning()).toBe(false);
  });

  it('finishes a handshake in flight on SIGTERM, refuses new connections, then exits 0', async () => {
    const peer = await h.startPeer();
    peer.faults.delay_ms = { versions: 1_500 };
    service = await startService({
      ALLOW_INSECURE_PEER_URLS: 'true',
      ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
    });
    const { baseUrl } = service;
    const admin = { Authorization: `Bearer ${adminToken()}`, 'Content-Type': 'application/json' };
    const minted = await fetch(`${baseUrl}/admin/operations/FRAB1/registration-tokens`, {
      method: 'POST',
      headers: admin,
    });
    const { token } = (await minted.json()) as { token: string };
    const inFlight = fetch(`${baseUrl}/ocpi/FR/AB1/2.1.1/credentials`, {
      method: 'POST',
      headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(peer.credentials()),
    });
    await new Promise((r) => setTimeout(r, 300));
    service.process.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(fetch(`${baseUrl}/health`)).rejects.toThrow();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { status_code: number }).status_code).toBe(1000);
    expect(await service.exited).toBe(0);

    // The registration it finished was committed: it is there after a restart.
    service = await startService();
    const connection = await fetch(`${service.baseUrl}/admin/operations/FRAB1/connection`, {
      headers: admin,
    });
    expect(await connection.json()).toMatchObject({ status: 'REGISTERED' });
  });

  it('keeps the data and the admin token across restarts, without printing the token again', async () => {
    const token = adminToken();
    service = await startService();
    expect(service.output()).not.toContain(token);
    expect(service.output()).toContain(`Admin token: in ${dataDir}/admin-token`);
    const response = await fetch(`${service.baseUrl}/admin/operations/FRAB1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      operator_id: 'FR*AB1',
      business_details: { name: 'Embedded' },
    });
  });

  it('logs every request as JSON with its id, and never the Authorization header, even at trace level', async () => {
    const token = adminToken();
    service = await startService({ LOG_LEVEL: 'trace' });
    const admin = await fetch(`${service.baseUrl}/admin/operations/FRAB1`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': 'trace-me-1' },
    });
    expect(admin.status).toBe(200);
    const ocpi = await fetch(`${service.baseUrl}/ocpi/FR/AB1/versions`, {
      headers: { Authorization: 'Token some-ocpi-token-to-hide', 'X-Request-Id': 'trace-me-2' },
    });
    expect(ocpi.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.includes('trace-me-'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(service.output()).not.toContain(token);
    expect(service.output()).not.toContain('some-ocpi-token-to-hide');
    expect(service.output().toLowerCase()).not.toContain('"authorization"');
  });

  it('takes over the data folder from a PostgreSQL orphaned by a killed service', async () => {
    const killed = await startService();
    killed.process.kill('SIGKILL');
    await killed.exited;
    expect(postmasterRunning()).toBe(true);

    service = await startService();
    expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('refuses to start on a bad variable, naming it', async () => {
    const child = await h.spawn('dist/main.js', { env: { PORT: 'eighty', DATA_DIR: dataDir } });
    const code = await child.exited;
    expect(code).toBe(1);
    expect(child.stderr()).toContain('PORT: must be a whole number');
    expect(child.stderr()).not.toMatch(/\n\s+at /);
  });
});

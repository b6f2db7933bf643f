import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/common/free-port.js';
import { eventually } from './support/eventually.js';
import { HubSimulator, useHarness, type ServiceProcess } from './support/harness.js';

// The service as `npm start` runs it (the built dist/main.js), with no DATABASE_URL: it must start
// its own PostgreSQL, keep its data and admin token across restarts, and stop cleanly.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Running: a zombie (dead, not yet reaped by the init process it was handed to) is not. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** The request log lines of answers with status 500. */
const answeredWith500 = (output: string) =>
  output
    .split('\n')
    .map((line) => {
      try {
        return JSON.parse(line) as { res?: { statusCode?: number } };
      } catch {
        return undefined;
      }
    })
    .filter((entry) => entry?.res?.statusCode === 500);

/** The promise's value, or 'timeout' after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('embedded default (no DATABASE_URL)', () => {
  // No database nor app from the harness: services of their own on one data folder it owns.
  const h = useHarness({ database: false, app: false });
  let dataDir: string;
  let service: ServiceProcess | undefined;

  const startService = (env: Record<string, string> = {}, options = { processGroup: false }) =>
    h.startService({ DATA_DIR: dataDir, ...env }, options);

  beforeAll(() => {
    dataDir = h.tempDir('embedded');
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  const adminToken = () => readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const postmasterRunning = () => existsSync(join(dataDir, 'postgres', 'postmaster.pid'));
  const postmasterPid = () =>
    Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

  it('starts its own PostgreSQL, prints the admin token once and serves the admin API', async () => {
    service = await startService();
    const token = adminToken();
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(service.output()).toContain(
      `Admin token (shown once; kept in ${join(dataDir, 'admin-token')}): ${token}`,
    );
    expect(service.output()).toContain('/docs');
    // The edge's tokens: where they are, never what they are.
    for (const [name, line] of [
      ['relay-token', 'Relay token (Bearer, for /relay)'],
      ['gateway-upstream-token', 'Gateway upstream token (what upstreams get as Bearer)'],
    ]) {
      const file = join(dataDir, name);
      expect(service.output()).toContain(`${line}: in ${file}`);
      expect(service.output()).not.toContain(readFileSync(file, 'utf8').trim());
    }

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
    // Its lines come through a pipe that may trail the answers.
    const running = service;
    const lines = await eventually(
      () =>
        Promise.resolve(
          running
            .output()
            .split('\n')
            .filter((line) => line.includes('trace-me-')),
        ),
      (found) => found.length >= 2,
      5_000,
    );
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(service.output()).not.toContain(token);
    expect(service.output()).not.toContain('some-ocpi-token-to-hide');
    expect(service.output().toLowerCase()).not.toContain('"authorization"');
  });

  it('takes over the data folder from a PostgreSQL orphaned by a killed service', async () => {
    const killed = await startService();
    const orphan = postmasterPid();
    killed.process.kill('SIGKILL');
    await killed.exited;
    expect(postmasterRunning()).toBe(true);

    service = await startService();
    expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
    expect(isAlive(orphan)).toBe(false);
    expect(postmasterPid()).not.toBe(orphan);
  });

  it('refuses a second start on the same DATA_DIR at once, in one line, and the first keeps serving', async () => {
    service = await startService();
    const postmaster = postmasterPid();
    const token = adminToken();
    const started = Date.now();
    const port = await freePort();
    const second = await h.spawn('dist/main.js', {
      env: { PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      port,
    });
    const outcome = await within(
      Promise.race([
        second.exited,
        (async () => {
          while (!second.output().includes('ready in')) {
            if (second.process.exitCode !== null) return 'exited' as const;
            await sleep(50);
          }
          return 'ready' as const;
        })(),
      ]),
      20_000,
    );
    const refusedMs = Date.now() - started;
    if (outcome === 'ready' || outcome === 'timeout') {
      second.process.kill('SIGTERM');
      await within(second.exited, 20_000);
    }
    console.log(`A second start on the same DATA_DIR: ${String(outcome)} after ${refusedMs} ms`);

    expect(outcome).toBe(1);
    expect(second.output().trim()).toBe(
      `DATA_DIR ${dataDir} is in use by the service with pid ${service.process.pid}`,
    );
    // The first one keeps its PostgreSQL and keeps serving.
    expect(postmasterPid()).toBe(postmaster);
    for (let i = 0; i < 3; i += 1) {
      expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
      const read = await fetch(`${service.baseUrl}/admin/operations/FRAB1`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(read.status).toBe(200);
      await sleep(500);
    }
  }, 60_000);

  it('stops on a Ctrl-C (SIGINT to its whole process group): exit 0, its PostgreSQL stopped last, none left', async () => {
    service = await startService({}, { processGroup: true });
    const postmaster = postmasterPid();
    process.kill(-service.process.pid!, 'SIGINT');
    expect(await within(service.exited, 20_000)).toBe(0);
    expect(isAlive(postmaster)).toBe(false);
    expect(postmasterRunning()).toBe(false);
  }, 60_000);

  it('finishes a ToIOP register in flight on a Ctrl-C (never a 500), records it, then exits 0 with no PostgreSQL left', async () => {
    const hub = await new HubSimulator().start();
    h.onClose(() => hub.stop());
    service = await startService(
      { ALLOW_INSECURE_PEER_URLS: 'true', ALLOW_PRIVATE_PEER_ADDRESSES: 'true' },
      { processGroup: true },
    );
    const { baseUrl } = service;
    const admin = { Authorization: `Bearer ${adminToken()}`, 'Content-Type': 'application/json' };
    const created = await fetch(`${baseUrl}/admin/operations`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ operator_id: 'FR*CC1', business_details: { name: 'Ctrl-C' } }),
    });
    expect(created.status).toBe(201);
    const minted = await fetch(`${hub.baseUrl}/sim/tokens`, { method: 'POST' });
    const { token, versions_url } = (await minted.json()) as {
      token: string;
      versions_url: string;
    };
    // Each call to the hub takes 3 s: the register is under way for about 9 s.
    const faults = await fetch(`${hub.baseUrl}/sim/faults`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ delay_ms: 3_000 }),
    });
    expect(faults.status).toBe(200);
    const postmaster = postmasterPid();

    const register = fetch(`${baseUrl}/admin/operations/FRCC1/register`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ versions_url, token }),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
    }));
    // Meanwhile an admin client reads on, on its keep-alive connection, until it is refused.
    const reads: number[] = [];
    const reading = (async () => {
      for (;;) {
        try {
          const read = await fetch(`${baseUrl}/admin/operations/FRCC1`, { headers: admin });
          reads.push(read.status);
          await read.arrayBuffer();
        } catch {
          return;
        }
        await sleep(100);
      }
    })();
    await sleep(1_000);
    const signalledAt = Date.now();
    process.kill(-service.process.pid!, 'SIGINT');
    const answer = await register;
    const exitCode = await within(service.exited, 30_000);
    const exitMs = Date.now() - signalledAt;
    await reading;
    console.log(
      `Ctrl-C with a ToIOP register in flight: answered ${answer.status} ` +
        `(${JSON.stringify(answer.body)}), exit ${String(exitCode)} ${exitMs} ms after SIGINT; ` +
        `admin reads meanwhile: ${reads.length}, statuses ${[...new Set(reads)].join(', ')}`,
    );

    expect([200, 502]).toContain(answer.status);
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads)).toEqual(new Set([200]));
    expect(exitCode).toBe(0);
    expect(isAlive(postmaster)).toBe(false);
    expect(postmasterRunning()).toBe(false);
    expect(service.output()).not.toContain('QueryRunnerAlreadyReleased');
    expect(answeredWith500(service.output())).toEqual([]);

    // The attempt is in the history after a restart, with the outcome it was answered with.
    service = await startService();
    const history = await fetch(`${service.baseUrl}/admin/operations/FRCC1/handshakes`, {
      headers: admin,
    });
    expect(history.status).toBe(200);
    expect(((await history.json()) as { items: unknown[] }).items).toEqual([
      expect.objectContaining({
        action: 'REGISTER',
        initiated_by: 'US',
        outcome: answer.status === 200 ? 'SUCCEEDED' : 'FAILED',
      }),
    ]);
  }, 90_000);

  it('leaves its PostgreSQL running when killed with its whole process group, and the next start takes it over', async () => {
    const killed = await startService({}, { processGroup: true });
    const orphan = postmasterPid();
    process.kill(-killed.process.pid!, 'SIGKILL');
    await killed.exited;
    // PostgreSQL is in a session of its own: nothing stops it but the next start.
    expect(isAlive(orphan)).toBe(true);

    service = await startService();
    expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
    expect(isAlive(orphan)).toBe(false);
    expect(postmasterPid()).not.toBe(orphan);
  }, 60_000);

  it('refuses to start on a bad variable, naming it', async () => {
    const child = await h.spawn('dist/main.js', { env: { PORT: 'eighty', DATA_DIR: dataDir } });
    const code = await child.exited;
    expect(code).toBe(1);
    expect(child.stderr()).toContain('PORT: must be a whole number');
    expect(child.stderr()).not.toMatch(/\n\s+at /);
  });
});

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { useHarness, type ServiceProcess } from './support/harness.js';

// The built service as a process, under sustained load from keep-alive clients, gets SIGTERM: it
// must finish what it has begun, answer nothing but 200 meanwhile, refuse new connections, close
// its pool (and its embedded PostgreSQL) and exit 0, without hanging on busy keep-alive clients.

const ADMIN_TOKEN = 'shutdown-admin-token-0123456789';
const CLIENTS = 32;
const LOAD_BEFORE_SIGTERM_MS = 1_500;
const EXIT_BOUND_MS = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;
const HANDSHAKES = 3;
/** What a client may see once the service stops listening: the connection refused or dropped. */
const CLOSED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

interface Outcome {
  at: number;
  status?: number;
  error?: string;
}

/** One GET on a keep-alive agent; never rejects, times out as 'TIMEOUT'. */
function get(agent: Agent | false, url: string, authorization: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: { Authorization: authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ at: Date.now(), status: res.statusCode }));
      res.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ at: Date.now(), error: error.code ?? error.message }),
      );
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ at: Date.now(), error: error.code ?? error.message }),
    );
    req.end();
  });
}

const postmasterPid = (pidFile: string) => Number(readFileSync(pidFile, 'utf8').split('\n')[0]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['server', 'embedded'] as const)(
  'SIGTERM under sustained load (%s PostgreSQL)',
  (mode) => {
    // The harness stops what the test left running (its PostgreSQL too) and removes the folder.
    const h = useHarness({ app: false, database: mode === 'server', peer: true });
    const { peer } = h;
    let dataDir: string;
    let service: ServiceProcess;

    beforeAll(async () => {
      dataDir = h.tempDir('shutdown');
      const env: Record<string, string> = {
        ADMIN_TOKEN,
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        ALLOW_INSECURE_PEER_URLS: 'true',
        ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
        DATA_DIR: dataDir,
      };
      if (mode === 'server') env.DATABASE_URL = h.db.url;
      service = await h.startService(env);
    });

    const admin = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${service.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const mintToken = async (operation: string) => {
      const minted = await admin(`/admin/operations/${operation}/registration-tokens`, 'POST');
      return ((await minted.json()) as { token: string }).token;
    };

    /** Connections of the service to its database, seen from the server (server mode). */
    const serviceConnections = async (): Promise<number> => {
      const client = new pg.Client({ connectionString: process.env.TEST_SERVER_URL });
      await client.connect();
      try {
        const name = new URL(h.db.url).pathname.slice(1);
        const { rows } = await client.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
          [name],
        );
        return rows[0].n;
      } finally {
        await client.end();
      }
    };

    it('finishes in-flight requests, refuses new ones, closes the pool and exits 0', async () => {
      const operators = [
        'FR*AB1',
        ...Array.from({ length: HANDSHAKES }, (_, i) => `FR*HS${i + 1}`),
      ];
      for (const operator_id of operators) {
        expect(
          (
            await admin('/admin/operations', 'POST', {
              operator_id,
              business_details: { name: operator_id },
            })
          ).status,
        ).toBe(201);
      }
      const versionsToken = await mintToken('FRAB1');
      const handshakeTokens = await Promise.all(
        operators.slice(1).map((o) => mintToken(o.replace('*', ''))),
      );
      const postmaster =
        mode === 'embedded'
          ? postmasterPid(join(dataDir, 'postgres', 'postmaster.pid'))
          : undefined;

      // The load: keep-alive clients looping on OCPI versions (3 in 4) and an admin read.
      let sigtermAt = Infinity;
      let stopAt = Infinity;
      const outcomes: Outcome[] = [];
      const client = async (index: number) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          for (let n = 0; Date.now() < stopAt; n++) {
            const outcome =
              (n + index) % 4 === 3
                ? await get(
                    agent,
                    `${service.baseUrl}/admin/operations/FRAB1`,
                    `Bearer ${ADMIN_TOKEN}`,
                  )
                : await get(
                    agent,
                    `${service.baseUrl}/ocpi/FR/AB1/versions`,
                    `Token ${versionsToken}`,
                  );
            outcomes.push(outcome);
            if (outcome.error) await sleep(25); // refused: no busy loop
          }
        } finally {
          agent.destroy();
        }
      };
      const load = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));

      await sleep(LOAD_BEFORE_SIGTERM_MS);
      const connectionsUnderLoad = mode === 'server' ? await serviceConnections() : undefined;
      // Handshakes that wait ~1 s on the peer's versions: in flight when SIGTERM comes.
      peer.faults.delay_ms = { versions: 1_000 };
      const handshakes = handshakeTokens.map((token, i) =>
        fetch(`${service.baseUrl}/ocpi/FR/HS${i + 1}/2.1.1/credentials`, {
          method: 'POST',
          headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(peer.credentials()),
        }).then(async (response) => ({
          status: response.status,
          statusCode: ((await response.json()) as { status_code: number }).status_code,
        })),
      );
      await sleep(300);

      sigtermAt = Date.now();
      service.process.kill('SIGTERM');
      await sleep(150);
      // A new connection, while the service is still draining, is refused.
      const fresh = await get(false, `${service.baseUrl}/health`, '');
      const exitCode = await Promise.race([
        service.exited,
        sleep(EXIT_BOUND_MS).then(() => 'timeout' as const),
      ]);
      const exitMs = Date.now() - sigtermAt;
      // Keep the load on a little after the exit: those requests must be refused, not hang.
      stopAt = Date.now() + 300;
      await load;
      const handshakeResults = await Promise.all(handshakes);
      const leftConnections = mode === 'server' ? await serviceConnections() : undefined;
      const postmasterAlive =
        postmaster !== undefined &&
        (() => {
          try {
            process.kill(postmaster, 0);
            return true;
          } catch {
            return false;
          }
        })();

      const before = outcomes.filter((o) => o.at < sigtermAt);
      const after = outcomes.filter((o) => o.at >= sigtermAt);
      const count = (list: Outcome[], test: (o: Outcome) => boolean) => list.filter(test).length;
      const statuses: Record<string, number> = {};
      const errors: Record<string, number> = {};
      for (const o of outcomes) {
        if (o.status !== undefined) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
        else errors[o.error!] = (errors[o.error!] ?? 0) + 1;
      }
      console.log(
        [
          `Shutdown under load (${mode} PostgreSQL, ${CLIENTS} keep-alive clients):`,
          `  requests sent:              ${outcomes.length} (${before.length} before SIGTERM, ${after.length} after)`,
          `  answered, by status:        ${JSON.stringify(statuses)} (${count(after, (o) => o.status !== undefined)} of them after SIGTERM)`,
          `  failed, by error:           ${JSON.stringify(errors)} (${count(before, (o) => !!o.error)} before SIGTERM)`,
          `  handshakes in flight:       ${JSON.stringify(handshakeResults)}`,
          `  new connection at +150 ms:  ${fresh.error ?? fresh.status}`,
          `  exit code ${String(exitCode)} in ${exitMs} ms`,
          ...(mode === 'server'
            ? [
                `  service connections to its database: ${connectionsUnderLoad} under load, ${leftConnections} after exit`,
              ]
            : [`  postmaster ${postmaster} alive after exit: ${postmasterAlive}`]),
        ].join('\n'),
      );

      expect(exitCode).toBe(0);
      expect(exitMs).toBeLessThan(EXIT_BOUND_MS);
      expect(before.length).toBeGreaterThan(200);
      expect(count(before, (o) => !!o.error)).toBe(0);
      expect(Object.keys(statuses)).toEqual(['200']);
      expect(Object.keys(errors).filter((e) => !CLOSED.has(e))).toEqual([]);
      expect(count(after, (o) => !!o.error)).toBeGreaterThan(0);
      // Refused: at once, or reset when it had reached the listen queue just before the close.
      expect(['ECONNREFUSED', 'ECONNRESET']).toContain(fresh.error);
      expect(handshakeResults).toEqual(Array(HANDSHAKES).fill({ status: 200, statusCode: 1000 }));
      if (mode === 'server') {
        expect(connectionsUnderLoad).toBeGreaterThan(0);
        expect(leftConnections).toBe(0);
      } else {
        expect(postmasterAlive).toBe(false);
        expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
      }
    });
  },
);

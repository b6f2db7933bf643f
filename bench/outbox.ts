// The outbox figures of issue 16, each against its target (`npm run bench -- --outbox` alone, and
// in every whole run). Works in a database of its own on the bench's PostgreSQL server, dropped at
// the end.
// Two replicas of the service (child processes) share the outbox; the peer is a stub in this
// process that answers 200 at once and records what it got per queue.
//
// - enqueue: PUTs with `Prefer: respond-async` through the relay, over 100 operations (100
//   queues), as fast as 50 connections go: 202s per second with the queues held (target
//   2,000/s), then with the outbox delivering meanwhile (no target);
// - drain: a backlog of 100,000 deliveries over 100 queues, written while the operations are
//   unregistered (held), then released at once (as a hub coming back): deliveries per second
//   until the last (target 1,000/s), lost, out of order and duplicates (targets 0);
// - latency when healthy: paced pushes, from the push's 202 to the peer's receipt, p99 (target
//   under 100 ms).
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../src/common/free-port.js';
import { quantile, spawnServer, type Server } from './processes.js';
import { seedOperations, seededOperation, seededOperationId, type EdgeSeed } from './seed.js';

const QUEUES = 100;
const PACED_RATE = 200;

/** One figure, as bench/run.ts prints and keeps it. */
export interface OutboxFigure {
  name: string;
  value: number;
  unit: string;
  target: string;
  met: boolean;
}

export interface OutboxBenchOptions {
  /** A PostgreSQL server's URL (DATABASE_URL of the bench). */
  serverUrl: string;
  /** The project's folder. */
  root: string;
  quick: boolean;
  report: (figure: OutboxFigure) => void;
}

/** The peer: 200 at once; per queue (path), the sequence numbers it got, and receipt times. */
class PeerStub {
  readonly got = new Map<string, number[]>();
  readonly latencies: number[] = [];
  total = 0;
  private server?: HttpServer;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.total += 1;
        const { seq, sentAt } = JSON.parse(body || '{}') as { seq?: number; sentAt?: number };
        const queue = (req.url ?? '').split('/').slice(0, 8).join('/');
        if (seq !== undefined) this.got.set(queue, [...(this.got.get(queue) ?? []), seq]);
        if (sentAt !== undefined) this.latencies.push(Date.now() - sentAt);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"status_code":1000,"timestamp":"2026-12-01T00:00:00Z"}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ocpi/emsp/2.1.1/locations`;
  }

  reset(): void {
    this.got.clear();
    this.latencies.length = 0;
    this.total = 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function outboxBench({
  serverUrl,
  root,
  quick,
  report: keep,
}: OutboxBenchOptions): Promise<void> {
  const BACKLOG = quick ? 20_000 : 100_000;
  const LOAD_S = quick ? 5 : 15;
  const PACED_PUSHES = quick ? 500 : 2_000;
  const report = (name: string, value: number, unit: string, target: string, met: boolean) =>
    keep({ name: `outbox: ${name}`, value, unit, target, met });
  const database = `ocpi_bench_outbox_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/${database}`;
  const db = new pg.Pool({ connectionString: databaseUrl.toString(), max: 2 });
  const servers: Server[] = [];
  const peer = new PeerStub();
  try {
    await peer.start();
    const relayToken = randomBytes(24).toString('hex');
    const encryptionKey = randomBytes(32).toString('hex');
    const ports: number[] = [];
    const profileDir = process.env.BENCH_CPU_PROF;
    for (const name of ['replica 1', 'replica 2']) {
      const port = await freePort();
      servers.push(
        await spawnServer(
          name,
          join(root, 'dist-bench/bench/server.js'),
          port,
          {
            DATABASE_URL: databaseUrl.toString(),
            ADMIN_TOKEN: randomBytes(24).toString('hex'),
            ENCRYPTION_KEY: encryptionKey,
            RELAY_TOKEN: relayToken,
            ALLOW_INSECURE_PEER_URLS: 'true',
            ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
            LOG_LEVEL: 'warn',
          },
          // BENCH_CPU_PROF=<dir>: a CPU profile of the replica the pushes go to.
          profileDir && name === 'replica 1' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        ),
      );
      ports.push(port);
    }
    const edge: EdgeSeed = {
      upstreamUrl: peer.url,
      peerUrl: peer.url,
      encryptionKey: Buffer.from(encryptionKey, 'hex'),
    };
    await seedOperations(db, 0, QUEUES, 'CONNECTION', edge);
    /** Delivered rows; with `path`, those whose path matches it (a regular expression). */
    const delivered = async (path = '') =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM deliveries WHERE status = 'DELIVERED' AND path ~ $1`,
            [path],
          )
        ).rows[0].n,
      );

    // --- enqueue throughput ------------------------------------------------------------------
    // Pushes to one replica over 50 connections: first with the queues held (the operations
    // unregistered: the cost of accepting a push alone, the target), then with both replicas
    // delivering them meanwhile (what accepting costs while the outbox drains).
    let next = 0;
    const pushes = () =>
      autocannon({
        url: `http://127.0.0.1:${ports[0]}`,
        connections: 50,
        duration: LOAD_S,
        requests: [
          {
            method: 'PUT',
            setupRequest: (request) => {
              const i = next++;
              const op = seededOperation(i % QUEUES, 'CONNECTION');
              return {
                ...request,
                path: `/relay/${op.countryCode}${op.partyId}/locations/FR/AB1/L${i}`,
                headers: {
                  Authorization: `Bearer ${relayToken}`,
                  Prefer: 'respond-async',
                  'Content-Type': 'application/json',
                },
                body: JSON.stringify({ id: `L${i}` }),
              };
            },
          },
        ],
      });
    await db.query(`UPDATE connections SET status = 'UNREGISTERED'`);
    const held = await pushes();
    report(
      'enqueue through the relay, queues held (202/s)',
      held.requests.average,
      '/s',
      '>= 2000/s',
      held.requests.average >= 2000 && held.errors + held.timeouts + held.non2xx === 0,
    );
    await db.query(`UPDATE connections SET status = 'REGISTERED'`);
    await until(async () => (await delivered()) >= held.requests.total, 600_000);
    const live = await pushes();
    keep({
      name: 'outbox: enqueue through the relay while both replicas deliver (202/s)',
      value: live.requests.average,
      unit: '/s',
      target: 'none (the outbox drains meanwhile)',
      met: live.errors + live.timeouts + live.non2xx === 0,
    });
    await until(
      async () => (await delivered()) >= held.requests.total + live.requests.total,
      600_000,
    );
    await db.query('TRUNCATE deliveries');
    peer.reset();

    // --- drain of a backlog after an outage ---------------------------------------------------
    await db.query(`UPDATE connections SET status = 'UNREGISTERED'`);
    await db.query(
      `INSERT INTO deliveries (kind, queue, operation_id, method, identifier, path, headers, body, request_id)
       SELECT 'relay', 'relay:' || op || ':locations', op::uuid, 'PUT', 'locations',
              '/FR/AB1/L' || q || '/' || n, '{"content-type": "application/json"}',
              convert_to('{"seq": ' || n || '}', 'UTF8'), gen_random_uuid()
       FROM generate_series(0, $1::int - 1) AS g(k),
            LATERAL (SELECT k % $2 AS q, k / $2 AS n) x,
            LATERAL (SELECT $3::text[] AS ids) i,
            LATERAL (SELECT i.ids[x.q + 1] AS op) o
       ORDER BY k`,
      [BACKLOG, QUEUES, Array.from({ length: QUEUES }, (_, q) => seededOperationId(q))],
    );
    const started = performance.now();
    await db.query(`UPDATE connections SET status = 'REGISTERED'`);
    // The backlog's rows only (`/FR/AB1/L{queue}/{n}`): a push of the runs above still in flight
    // when autocannon stopped counting may commit after the TRUNCATE; counted here, it ended the
    // wait before the backlog's last rows were sent (3 "lost" in one run).
    await until(async () => (await delivered('^/FR/AB1/L[0-9]+/[0-9]+$')) >= BACKLOG, 1_800_000);
    const seconds = (performance.now() - started) / 1000;
    report(
      'backlog drain',
      BACKLOG / seconds,
      'deliveries/s',
      '>= 1000/s',
      BACKLOG / seconds >= 1000,
    );
    let outOfOrder = 0;
    let received = 0;
    const unique = new Set<string>();
    for (const [queue, seqs] of peer.got) {
      received += seqs.length;
      seqs.forEach((seq, i) => {
        unique.add(`${queue}#${seq}`);
        if (i > 0 && seq < seqs[i - 1]) outOfOrder += 1;
      });
    }
    report('lost', BACKLOG - unique.size, '', '0', unique.size === BACKLOG);
    report('out of order', outOfOrder, '', '0', outOfOrder === 0);
    report('duplicates', received - unique.size, '', '0', received === unique.size);
    await db.query('TRUNCATE deliveries');
    peer.reset();

    // --- latency when healthy ------------------------------------------------------------------
    for (let i = 0; i < PACED_PUSHES; i++) {
      const op = seededOperation(i % QUEUES, 'CONNECTION');
      const answer = await fetch(
        `http://127.0.0.1:${ports[i % 2]}/relay/${op.countryCode}${op.partyId}/locations/FR/AB1/P${i}`,
        {
          method: 'PUT',
          headers: {
            Authorization: `Bearer ${relayToken}`,
            Prefer: 'respond-async',
            'Content-Type': 'application/json',
          },
          body: JSON.stringify({ sentAt: Date.now() }),
        },
      );
      if (answer.status !== 202) throw new Error(`push answered ${answer.status}`);
      await new Promise((resolve) => setTimeout(resolve, 1000 / PACED_RATE));
    }
    await until(() => Promise.resolve(peer.latencies.length >= PACED_PUSHES), 60_000);
    const p99 = quantile(peer.latencies, 0.99);
    report('push to peer, p99 (healthy)', p99, 'ms', '< 100 ms', p99 < 100);
  } finally {
    for (const server of servers) await server.stop();
    await peer.stop();
    await db.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

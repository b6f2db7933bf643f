import { spawn, type ChildProcess } from 'node:child_process';
import { scratchLog } from './secrets.js';

/**
 * A built entry point (dist/main.js, dist/hub-sim/main.js), or any other Node script
 * (examples/locations-upstream.mjs), running as a process of its own.
 */
export interface ServiceProcess {
  process: ChildProcess;
  /** Its address on loopback, when it was given a port. */
  baseUrl: string;
  /** Its standard output and error, as they came. */
  output: () => string;
  stderr: () => string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves once it exited and its output pipes are
   * closed (an open pipe would keep jest waiting). At once when it has exited already.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node {script} {args}` with exactly the given variables on top of the test's environment
 * (the test's own DATABASE_URL, ADMIN_TOKEN and ENCRYPTION_KEY are not passed on) and, with
 * `ready`, waits until its output says so (60 s at most). It logs at trace level unless LOG_LEVEL
 * is given; its whole output is also kept in the run's scratch folder for the secrets scan.
 * Used through the harness (harness.ts), which stops it after the file.
 */
export async function spawnProcess(
  script: string,
  { args = [], env = {}, port, ready, processGroup = false }: SpawnOptions,
): Promise<ServiceProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.DATABASE_URL;
  delete childEnv.ADMIN_TOKEN;
  delete childEnv.ENCRYPTION_KEY;
  // No health probes unless asked for: they would add calls to what the test's peers receive.
  Object.assign(childEnv, { LOG_LEVEL: 'trace', HEALTH_PROBE_INTERVAL_S: '0' }, env);
  const child = spawn(process.execPath, [script, ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: processGroup,
  });
  let output = '';
  let stderr = '';
  // Named after the script (`hub-sim`, `examples-locations-upstream.mjs`), in one file name.
  const name = script
    .replace(/^dist\//, '')
    .replace(/\/?main\.js$/, '')
    .replace(/[^\w.-]+/g, '-');
  const log = scratchLog(name || 'service');
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    log?.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
    log?.write(chunk);
  });
  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      log?.end();
      resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 10_000) => {
    if (running()) {
      child.kill('SIGTERM');
      if (!(await within(exited, graceMs))) child.kill('SIGKILL');
    }
    await exited;
    // A process it started (an orphaned PostgreSQL) may hold its pipes open: let them go.
    if (!(await within(closed, 2_000))) {
      child.stdout.destroy();
      child.stderr.destroy();
      log?.end();
    }
  };
  const started: ServiceProcess = {
    process: child,
    baseUrl: port === undefined ? '' : `http://127.0.0.1:${port}`,
    output: () => output,
    stderr: () => stderr,
    exited,
    stop,
  };
  if (ready === undefined) return started;

  // The 60 s bound is cleared once settled: a pending timer would keep jest from exiting.
  let giveUp: NodeJS.Timeout | undefined;
  let settled = false;
  const isReady = await Promise.race([
    (async () => {
      while (!settled && !output.includes(ready)) await new Promise((r) => setTimeout(r, 50));
      return output.includes(ready);
    })(),
    exited.then(() => false),
    new Promise<boolean>((resolve) => (giveUp = setTimeout(() => resolve(false), 60_000))),
  ]).finally(() => {
    settled = true;
    clearTimeout(giveUp);
  });
  if (!isReady) {
    child.kill('SIGKILL');
    await closed;
    throw new Error(`${script} did not start:\n${output}`);
  }
  return started;
}

export interface SpawnOptions {
  args?: string[];
  env?: Record<string, string>;
  /** The port it was told to listen on, for its baseUrl. */
  port?: number;
  /** Text of its output that says it is ready; none: do not wait. */
  ready?: string;
  /**
   * Leader of a process group of its own, as a shell makes of a command it runs in a terminal:
   * `process.kill(-service.process.pid, 'SIGINT')` then does what a terminal's Ctrl-C does, a
   * signal to every process of the group.
   */
  processGroup?: boolean;
}

/** Whether `promise` settles within `ms` (the timer does not outlive it). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

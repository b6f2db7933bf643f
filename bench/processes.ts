import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/common/free-port.js';
import type { ChildStats } from './child-stats.js';

export interface Server {
  pid: number;
  /** What the server reports about itself (bench/child-stats.ts, over IPC). */
  stats(): Promise<ChildStats>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `url` answers anything when `until` is unset, else once it answers `until`. */
async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number, until?: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before answering`);
    const status = await fetch(url).then(
      (response) => response.status,
      () => undefined,
    );
    if (status !== undefined && (until === undefined || status === until)) return;
    await sleep(50);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

/** A compiled script on `port`, as a child process of its own (stdout, its logs, discarded). */
export async function spawnServer(
  name: string,
  script: string,
  port: number,
  env: Record<string, string> = {},
  execArgv: string[] = [],
): Promise<Server> {
  const child = spawn(process.execPath, [...execArgv, script], {
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.channel?.unref();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, child, 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${name}: ${(error as Error).message}\n${stderr}`);
  }
  return {
    pid: child.pid!,
    stats: () =>
      new Promise<ChildStats>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no stats within 5 s`)), 5_000);
        child.once('message', (stats) => {
          clearTimeout(timer);
          resolve(stats as ChildStats);
        });
        child.send('stats');
      }),
    stop: async () => {
      child.kill('SIGTERM');
      await stopped(child);
    },
  };
}

export interface EmbeddedStart {
  /** Seconds from `npm start` to the first 200 on /health. */
  seconds: number;
  /** Whether that `npm start` compiled (scripts/build.mjs found dist/ out of date). */
  built: boolean;
}

/**
 * `npm start` with no DATABASE_URL (the build step, then the embedded PostgreSQL in `dataDir`):
 * seconds to the first 200 on /health. Stopped with SIGTERM, as a user's Ctrl-C would, before
 * returning. `cleanBuild` first drops the build stamp, so that this start compiles all of dist/,
 * as the first `npm start` of a fresh clone does.
 */
export async function startEmbeddedDefault(
  root: string,
  dataDir: string,
  { cleanBuild = false } = {},
): Promise<EmbeddedStart> {
  // Written by scripts/build.mjs after each build; without it, `npm start` builds.
  if (cleanBuild) rmSync(join(root, 'dist/.build-stamp.json'), { force: true });
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  delete env.ADMIN_TOKEN;
  delete env.ENCRYPTION_KEY;
  const started = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // The build step says whether it compiled before the service starts logging.
  let built: boolean | undefined;
  let head = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (built !== undefined) return;
    head += chunk.toString();
    if (head.includes('dist/ is up to date')) built = false;
    else if (head.includes('built dist/ in')) built = true;
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`, child, 180_000, 200);
    const seconds = (performance.now() - started) / 1000;
    if (built === undefined) throw new Error('npm start did not say whether it built dist/');
    return { seconds, built };
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    // The whole group (npm, the service, PostgreSQL) must be gone before the next run.
    for (let i = 0; i < 600 && groupAlive(child.pid!); i += 1) await sleep(50);
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resident set size of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/common/free-port.js';
import { scratchLog } from './secrets.js';

/** The built service (dist/main.js) running as a process of its own, as `npm start` runs it. */
export interface ServiceProcess {
  process: ChildProcess;
  baseUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

export interface ServiceProcessOptions {
  /**
   * Leader of a process group of its own, as a shell makes of a command it runs in a terminal:
   * `process.kill(-service.process.pid, 'SIGINT')` then does what a terminal's Ctrl-C does, a
   * signal to every process of the group.
   */
  processGroup?: boolean;
}

/**
 * Starts dist/main.js with exactly the given variables on top of the test's environment (the
 * test's own DATABASE_URL, ADMIN_TOKEN and ENCRYPTION_KEY are not passed on), without waiting for
 * anything. It logs at trace level unless LOG_LEVEL is given; its whole output is also kept in the
 * run's scratch folder for the secrets scan.
 */
export async function spawnServiceProcess(
  env: Record<string, string>,
  { processGroup = false }: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.DATABASE_URL;
  delete childEnv.ADMIN_TOKEN;
  delete childEnv.ENCRYPTION_KEY;
  Object.assign(childEnv, { PORT: String(port), LOG_LEVEL: 'trace' }, env);
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: processGroup,
  });
  let output = '';
  const log = scratchLog('service');
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    log?.write(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('close', () => log?.end());
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { process: child, baseUrl: `http://127.0.0.1:${port}`, output: () => output, exited };
}

/** {@link spawnServiceProcess}, then waits until the service says it is ready. */
export async function startServiceProcess(
  env: Record<string, string>,
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const service = await spawnServiceProcess(env, options);
  const deadline = Date.now() + 60_000;
  while (
    !service.output().includes('ready in') &&
    service.process.exitCode === null &&
    service.process.signalCode === null &&
    Date.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const ready = service.output().includes('ready in');
  if (!ready) {
    service.process.kill('SIGKILL');
    throw new Error(`the service did not start:\n${service.output()}`);
  }
  return service;
}

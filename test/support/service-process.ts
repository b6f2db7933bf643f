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

/**
 * Starts dist/main.js with exactly the given variables on top of the test's environment (the
 * test's own DATABASE_URL, ADMIN_TOKEN and ENCRYPTION_KEY are not passed on) and waits until it
 * says it is ready. It logs at trace level unless LOG_LEVEL is given; its whole output is also
 * kept in the run's scratch folder for the secrets scan.
 */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.DATABASE_URL;
  delete childEnv.ADMIN_TOKEN;
  delete childEnv.ENCRYPTION_KEY;
  Object.assign(childEnv, { PORT: String(port), LOG_LEVEL: 'trace' }, env);
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
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
  // The 60 s bound is cleared once settled: a pending timer would keep jest from exiting.
  let giveUp: NodeJS.Timeout | undefined;
  let settled = false;
  const ready = await Promise.race([
    (async () => {
      while (!settled && !output.includes('ready in')) await new Promise((r) => setTimeout(r, 50));
      return output.includes('ready in');
    })(),
    exited.then(() => false),
    new Promise<boolean>((resolve) => (giveUp = setTimeout(() => resolve(false), 60_000))),
  ]).finally(() => {
    settled = true;
    clearTimeout(giveUp);
  });
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`the service did not start:\n${output}`);
  }
  return { process: child, baseUrl: `http://127.0.0.1:${port}`, output: () => output, exited };
}

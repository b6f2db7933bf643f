import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort } from '../../src/common/free-port.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { HubSimulator } from '../../src/hub-sim/hub-simulator.js';
import { recordAnswers } from './answers.js';
import { FakePeer } from './fake-peer.js';
import { spawnProcess, type ServiceProcess, type SpawnOptions } from './service-process.js';
import {
  ADMIN_HEADERS,
  ADMIN_TOKEN,
  startTestApp,
  type AppHandle,
  type TestApp,
} from './test-app.js';
import { TestDatabase } from './test-database.js';

export { ADMIN_TOKEN, FakePeer, HubSimulator, TestDatabase };
export type { AppHandle, ServiceProcess, TestApp };

/**
 * The one set-up of the end-to-end files. `useHarness()` gives a file (or a describe block) a
 * database of its own, the service in-process, and what else it asks for; all of it, and all it
 * made meanwhile (apps, peers, child processes, temp folders), is gone after the block, also when
 * a test or a hook failed.
 *
 *   const t = useHarness({ reachable: true, peer: true });
 *   it('…', async () => {
 *     await t.http.post('/admin/operations').set(t.admin).send(body).expect(201);
 *     expect(await t.db.query('SELECT …')).toEqual(…);
 *     expect(t.peer.received).toEqual(…);
 *   });
 *
 * `t` stands for the main app too (`t.http`, `t.admin`, `t.baseUrl`, `t.config`). Every app of a
 * harness shares its database and its encryption key, as replicas do.
 */
export interface HarnessOptions {
  /** A database of its own (default true). */
  database?: boolean;
  /** The service in-process, with these settings over the tests' (default {}); false: none. */
  app?: Partial<AppConfig> | false;
  /** The app's PUBLIC_URL is its own loopback address, so that a peer can call it back. */
  reachable?: boolean;
  /** A second replica of the app (`t.replica`): same settings, database and encryption key. */
  replica?: boolean;
  /** A fake peer (`t.peer`): the hub simulator as one GIREVE-like peer. */
  peer?: boolean;
  /** The hub simulator with many parties (`t.hub`). */
  hub?: boolean;
  /** Before and after each test instead of once for the block. */
  each?: boolean;
}

/** Registers the harness's set-up and clean-up as hooks of the current describe block. */
export function useHarness(options: HarnessOptions = {}): Harness {
  const harness = new Harness(options);
  if (options.each) {
    beforeEach(() => harness.setUp());
    afterEach(() => harness.close(), CLOSE_TIMEOUT_MS);
  } else {
    beforeAll(() => harness.setUp());
    afterAll(() => harness.close(), CLOSE_TIMEOUT_MS);
  }
  return harness;
}

const CLOSE_TIMEOUT_MS = 60_000;

export class Harness {
  readonly admin = ADMIN_HEADERS;
  private readonly database?: TestDatabase;
  private readonly fakePeer?: FakePeer;
  private readonly simulator?: HubSimulator;
  private main?: TestApp;
  private second?: TestApp;
  private encryptionKey = randomBytes(32);
  /** What to undo, newest last; run newest first. */
  private cleanups: (() => Promise<void> | void)[] = [];
  private root?: string;
  private made = 0;

  constructor(private readonly options: HarnessOptions) {
    if (options.database !== false) this.database = new TestDatabase();
    if (options.peer) this.fakePeer = new FakePeer();
    if (options.hub) this.simulator = new HubSimulator();
  }

  async setUp(): Promise<void> {
    this.encryptionKey = randomBytes(32);
    if (this.database) {
      await this.database.create();
      const db = this.database;
      this.onClose(() => db.drop());
    }
    if (this.fakePeer) await this.track(this.fakePeer);
    if (this.simulator) await this.track(this.simulator);
    const { app = {}, reachable, replica } = this.options;
    if (app === false) return;
    this.main = await this.startApp(app, { reachable });
    if (replica) this.second = await this.startApp(app, { reachable });
  }

  /** Undoes everything, newest first; every step runs even when one fails. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    this.main = this.second = undefined;
    this.root = undefined;
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'the harness clean-up failed');
  }

  /** Runs `cleanup` when the harness closes, before what was set up earlier. */
  onClose(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  // --- what it set up ---------------------------------------------------------------------------

  get db(): TestDatabase {
    return required(this.database, 'database');
  }

  get peer(): FakePeer {
    return required(this.fakePeer, 'peer');
  }

  get hub(): HubSimulator {
    return required(this.simulator, 'hub');
  }

  /** The main app; the harness stands for it too. */
  get app(): TestApp {
    return required(this.main, 'app');
  }

  get replica(): TestApp {
    return required(this.second, 'replica');
  }

  get http(): TestApp['http'] {
    return this.app.http;
  }

  get baseUrl(): string {
    return this.app.baseUrl;
  }

  get config(): AppConfig {
    return this.app.config;
  }

  // --- more, on demand; closed with the harness -------------------------------------------------

  /**
   * Another app on the harness's database (or `overrides.databaseUrl`) with its encryption key;
   * the test may close it sooner.
   */
  async startApp(
    overrides: Partial<AppConfig> = {},
    { reachable = false }: { reachable?: boolean } = {},
  ): Promise<TestApp> {
    const base = {
      databaseUrl: this.database?.url,
      dataDir: this.tempDir('app'),
      encryptionKey: this.encryptionKey,
    };
    const app = await startTestApp(base, overrides, { reachable });
    this.onClose(() => app.close());
    // Every answer it gives, for the OpenAPI check of the run (test/openapi-answers.e2e-spec.ts).
    recordAnswers(app.app.getHttpServer());
    return app;
  }

  /** Another fake peer, stopped with the harness. */
  async startPeer(): Promise<FakePeer> {
    return this.track(new FakePeer());
  }

  /**
   * The built service (dist/main.js) as a process of its own, as `npm start` runs it, with these
   * variables (and a free PORT); it is ready when it returns. Stopped with the harness.
   */
  async startService(
    env: Record<string, string>,
    { processGroup = false } = {},
  ): Promise<ServiceProcess> {
    const port = await freePort();
    return this.spawn('dist/main.js', {
      env: { PORT: String(port), ...env },
      port,
      ready: 'ready in',
      processGroup,
    });
  }

  /** The hub simulator as `npm run hub-sim` runs it (built), on a free port. */
  async startHubProcess(): Promise<ServiceProcess> {
    const port = await freePort();
    return this.spawn('dist/hub-sim/main.js', {
      args: ['--port', String(port)],
      port,
      ready: 'Hub simulator',
    });
  }

  /**
   * A built entry point, or any Node script of the repository (`examples/…`), as a process (see
   * spawnProcess), stopped with the harness.
   */
  async spawn(script: string, options: SpawnOptions): Promise<ServiceProcess> {
    const started = await spawnProcess(script, options);
    this.onClose(() => started.stop());
    return started;
  }

  /**
   * A new folder in the harness's temp folder, which goes with the harness. Anyone may enter it
   * (an embedded PostgreSQL run by root runs as `postgres`); a PostgreSQL left running in it
   * (`{dir}/postgres`, as the service's embedded one) is stopped first.
   */
  tempDir(name: string): string {
    if (!this.root) {
      const file = basename(expect.getState().testPath ?? 'test', '.e2e-spec.ts');
      const root = mkdtempSync(join(tmpdir(), `ocpi-test-${file}-`));
      chmodSync(root, 0o755);
      this.root = root;
      // The first clean-up registered, so the last one run.
      this.cleanups.unshift(() => removeTempRoot(root));
    }
    this.made += 1;
    const dir = join(this.root, `${name}-${this.made}`);
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    return dir;
  }

  private async track<T extends HubSimulator>(hub: T): Promise<T> {
    await hub.start();
    this.onClose(() => hub.stop());
    return hub;
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`the harness has no ${what}: ask useHarness() for it, and use it in a test`);
  }
  return value;
}

/** Stops any PostgreSQL still running in a folder of the harness, then removes them all. */
async function removeTempRoot(root: string): Promise<void> {
  if (!existsSync(root)) return;
  for (const dir of readdirNames(root)) await stopOrphanPostgres(join(root, dir, 'postgres'));
  rmSync(root, { recursive: true, force: true });
}

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * A service killed with SIGKILL leaves its embedded PostgreSQL running. Its postmaster is stopped
 * (fast shutdown) when the pid file names a live process that is a postgres of this very folder.
 */
async function stopOrphanPostgres(databaseDir: string): Promise<void> {
  const pidFile = join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const isOurs = () => {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return command.includes('postgres') && command.includes(databaseDir);
    } catch {
      return false;
    }
  };
  if (!pid || !isOurs()) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 10_000 && isOurs(); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

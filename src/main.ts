import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { pino } from 'pino';
import { ConfigError, loadConfig, type AppConfig, type EnvConfig } from './config/app-config.js';
import { resolveLocalSecrets } from './config/local-secrets.js';
import { DataDirInUseError } from './database/data-dir-owner.js';
import { startEmbeddedPostgres, stopEmbeddedPostgres } from './database/embedded-postgres.js';
import { handleStopSignals } from './shutdown.js';

// Signals are ours from the first line: the embedded PostgreSQL, in a session of its own, is
// stopped by this process only, last, also when a signal comes while the service is starting.
const shutdown = handleStopSignals(stopEmbeddedPostgres);

/**
 * The app's modules (Nest, TypeORM, the service's own): loaded while the embedded PostgreSQL
 * boots, once spawned. Imported before it, they kept its start (0.4 s of the 3 s of a second
 * `npm start`) waiting for their 0.6 s; loaded at once beside it, they held back its steps.
 */
let appModules: ReturnType<typeof importApp> | undefined;
const importApp = () =>
  Promise.all([import('@nestjs/core'), import('./app.module.js'), import('./app.setup.js')]);
const loadApp = () => (appModules ??= importApp());

async function main(): Promise<void> {
  const started = Date.now();
  const env = loadConfig(process.env);
  const secrets = resolveLocalSecrets(env);
  const databaseUrl = env.databaseUrl ?? (await startEmbedded(env));
  const [{ NestFactory }, { AppModule }, { configureApp, DOCS_PATH, httpAdapter }] =
    await loadApp();
  const config: AppConfig = { ...env, ...secrets, databaseUrl };

  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config),
    httpAdapter(config),
    { bufferLogs: true, bodyParser: false },
  );
  configureApp(app);
  shutdown.drain(app);
  await app.listen(config.port, config.host);

  const base = `http://localhost:${config.port}`;
  const lines = [
    `OCPI connection service ready in ${Date.now() - started} ms on ${base}`,
    `Swagger UI: ${base}/${DOCS_PATH}   public URL: ${config.publicUrl}`,
  ];
  if (secrets.createdAdminTokenFile) {
    lines.push(
      `Admin token (shown once; kept in ${secrets.createdAdminTokenFile}): ${secrets.adminToken}`,
    );
  } else if (!env.adminToken) {
    lines.push(`Admin token: in ${config.dataDir}/admin-token`);
  }
  // Never their values: the files are where the CPO's systems read them.
  if (secrets.relayTokenFile) {
    lines.push(`Relay token (Bearer, for /relay): in ${secrets.relayTokenFile}`);
  }
  if (secrets.gatewayUpstreamTokenFile) {
    lines.push(
      `Gateway upstream token (what upstreams get as Bearer): in ${secrets.gatewayUpstreamTokenFile}`,
    );
  }
  console.log(lines.join('\n'));
}

/**
 * The embedded PostgreSQL starts here, before the app: a DATA_DIR in use is refused in one line,
 * and it is stopped after the app is closed (see shutdown.ts). Its log lines are JSON lines as
 * the app's, with the context 'Database'.
 */
async function startEmbedded(env: EnvConfig): Promise<string> {
  const log = pino({ level: env.logLevel }).child({ context: 'Database' });
  const started = Date.now();
  const cluster = await startEmbeddedPostgres(
    env.dataDir,
    {
      debug: (message) => log.debug(message),
      info: (message) => log.info(message),
      warn: (message) => log.warn(message),
      error: (message) => log.error(message),
    },
    {
      ownSession: true,
      // A module that fails to load fails main() where it awaits loadApp(), which stops the
      // embedded PostgreSQL; not an unhandled rejection here, which would leave it running.
      spawned: () => void loadApp().catch(() => undefined),
    },
  );
  log.info(`Embedded PostgreSQL started from ${env.dataDir} in ${Date.now() - started} ms`);
  return cluster.url;
}

main().catch(async (error: unknown) => {
  // Stopping while starting: the stop exits once the embedded PostgreSQL is stopped.
  if (shutdown.requested) return;
  const known = error instanceof ConfigError || error instanceof DataDirInUseError;
  console.error(known ? error.message : error);
  await stopEmbeddedPostgres().catch(() => undefined);
  process.exit(1);
});

import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp, DOCS_PATH } from './app.setup.js';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { resolveLocalSecrets } from './config/local-secrets.js';

async function main(): Promise<void> {
  const started = Date.now();
  const env = loadConfig(process.env);
  const secrets = resolveLocalSecrets(env);
  const config: AppConfig = { ...env, ...secrets };

  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(app);
  // Our own signal handling rather than enableShutdownHooks(): stop accepting connections and let
  // in-flight requests finish first (Nest would close the database pool before the HTTP server),
  // then close the app, and exit 0 (Nest re-raises the signal, which exits 143).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const server = app.getHttpServer();
      new Promise<void>((resolve) => server.close(() => resolve()))
        .then(() => app.close())
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          console.error('Shutdown failed', error);
          process.exit(1);
        });
    });
  }
  await app.listen(config.port);

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
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

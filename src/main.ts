import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp, DOCS_PATH, httpAdapter } from './app.setup.js';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config.js';
import { resolveLocalSecrets } from './config/local-secrets.js';
import { stopGracefullyOnSignals } from './shutdown.js';

async function main(): Promise<void> {
  const started = Date.now();
  const env = loadConfig(process.env);
  const secrets = resolveLocalSecrets(env);
  const config: AppConfig = { ...env, ...secrets };

  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config),
    httpAdapter(config),
    { bufferLogs: true, bodyParser: false },
  );
  configureApp(app);
  stopGracefullyOnSignals(app);
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
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

// The service as `node dist/main.js` runs it, plus one bare route in the same Nest app: no guard,
// no database, no interceptor, the same JSON as GET versions. The bench compares the two to
// price what the token check and the tenant lookup add to the stack's own cost.
import 'reflect-metadata';
import './child-stats.js';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../src/app.module.js';
import { configureApp, httpAdapter } from '../src/app.setup.js';
import { loadConfig, type AppConfig } from '../src/config/app-config.js';
import { resolveLocalSecrets } from '../src/config/local-secrets.js';
import { stopGracefullyOnSignals } from '../src/shutdown.js';
import { versionsBody } from './versions-body.js';

const env = loadConfig(process.env);
const config: AppConfig = { ...env, ...resolveLocalSecrets(env) };

@Controller('bench')
class BareController {
  @Get('versions')
  versions(): object {
    return versionsBody(config.publicUrl);
  }
}

@Module({ imports: [AppModule.forRoot(config)], controllers: [BareController] })
class BenchModule {}

const app = await NestFactory.create<NestExpressApplication>(BenchModule, httpAdapter(config), {
  bufferLogs: true,
  bodyParser: false,
});
configureApp(app);
stopGracefullyOnSignals(app);
await app.listen(config.port, '127.0.0.1');
console.error(`bench server ready on ${config.port}`);

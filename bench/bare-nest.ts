// The reference of GET versions: a Nest app (Express) with one controller answering the same
// small JSON, and nothing else on it: no request log, no metrics, no request ids, no security
// headers, no guard, no database. What the service adds to Nest itself is priced against it.
import 'reflect-metadata';
import './child-stats.js';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { versionsBody } from './versions-body.js';

const port = Number(process.env.PORT);
const publicUrl = `http://127.0.0.1:${port}`;

@Controller()
class BareController {
  @Get()
  versions(): object {
    return versionsBody(publicUrl);
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

const app = await NestFactory.create<NestExpressApplication>(BareModule, {
  logger: false,
  bodyParser: false,
});
app.enableShutdownHooks();
await app.listen(port, '127.0.0.1');
console.error(`bare Nest ready on ${port}`);

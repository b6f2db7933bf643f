import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from './embedded-postgres.js';

/**
 * Where the database is: DATABASE_URL when set (main.ts sets it to the embedded PostgreSQL it
 * starts itself before the app, so as to refuse a DATA_DIR in use in one line and to stop it
 * after the app is closed), otherwise an embedded PostgreSQL that this provider starts on first
 * use and stops when the application shuts down (an app built without main.ts).
 */
@Injectable()
export class DatabaseUrlProvider implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private cluster?: EmbeddedCluster;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly moduleRef: ModuleRef,
  ) {}

  async resolve(): Promise<string> {
    const url = this.config.get('databaseUrl', { infer: true });
    if (url) return url;
    const dataDir = this.config.get('dataDir', { infer: true });
    const started = Date.now();
    this.cluster = await startEmbeddedPostgres(dataDir, this.logger);
    this.logger.log(`Embedded PostgreSQL started from ${dataDir} in ${Date.now() - started} ms`);
    return this.cluster.url;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.cluster) return;
    // The pool must close before its server goes away; TypeORM's own shutdown hook may run later.
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.cluster.stop();
    this.logger.log('Embedded PostgreSQL stopped');
  }
}

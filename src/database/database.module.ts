import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseUrlProvider } from './database-url.provider.js';
import { dataSourceOptions } from './data-source-options.js';
import { runMigrationsExclusively } from './run-migrations.js';

@Module({
  providers: [DatabaseUrlProvider],
  exports: [DatabaseUrlProvider],
})
class DatabaseUrlModule {}

/** PostgreSQL through TypeORM, migrated to the latest schema before the app serves anything. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [DatabaseUrlModule],
      inject: [DatabaseUrlProvider],
      useFactory: async (database: DatabaseUrlProvider) =>
        dataSourceOptions(await database.resolve()),
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('TypeORM options are missing');
        const dataSource = await new DataSource(options).initialize();
        await runMigrationsExclusively(dataSource);
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}

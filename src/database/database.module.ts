import { Module, type DynamicModule } from '@nestjs/common';
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
@Module({})
export class DatabaseModule {
  /** The entities come from the app, which knows every module; this folder knows none. */
  static forRoot(entities: Parameters<typeof dataSourceOptions>[1]): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          imports: [DatabaseUrlModule],
          inject: [DatabaseUrlProvider],
          useFactory: async (database: DatabaseUrlProvider) =>
            dataSourceOptions(await database.resolve(), entities),
          dataSourceFactory: async (options) => {
            if (!options) throw new Error('TypeORM options are missing');
            await runMigrationsExclusively(options);
            return new DataSource(options).initialize();
          },
        }),
      ],
    };
  }
}

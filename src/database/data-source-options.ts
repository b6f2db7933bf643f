import type { DataSourceOptions, EntitySchema } from 'typeorm';
import { migrations } from './migrations/index.js';

/** Connections per replica; see HandshakeRunner for how handshakes share them. */
export const POOL_SIZE = 20;

/** Options shared by the app and the migration CLI: schema changes only through migrations. */
export function dataSourceOptions(
  url: string,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
  entities: (Function | EntitySchema)[],
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: POOL_SIZE, connectionTimeoutMillis: 5_000 },
  };
}

import type { DataSourceOptions, EntitySchema } from 'typeorm';
import { migrations } from './migrations/index.js';

/** Connections per replica; see HandshakeRunner for how handshakes share them. */
export const POOL_SIZE = 20;

/**
 * How long a query may take, and a request may wait for a pooled connection, before it fails
 * (503): a database that stops answering (a black-holed connection sends no error) must not hang
 * requests. Every query of the service takes milliseconds; migrations run without this bound.
 */
export const DATABASE_WAIT_MS = 5_000;

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
    extra: {
      max: POOL_SIZE,
      connectionTimeoutMillis: DATABASE_WAIT_MS,
      // Client side: rejects a query whose answer does not come (no packet will say why).
      query_timeout: DATABASE_WAIT_MS,
      // Server side: stops the work of a query nobody waits for any more.
      statement_timeout: DATABASE_WAIT_MS,
      keepAlive: true,
    },
  };
}

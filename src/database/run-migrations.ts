import { DataSource, type DataSourceOptions } from 'typeorm';

// Any fixed 64-bit key, shared by every instance of the service.
const MIGRATION_LOCK_KEY = 7_242_019_552_113;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so that replicas starting together
 * apply them once: the others wait, then find nothing left to do. On a connection of its own,
 * without the service's query time bound: a migration (or the wait for another replica's) may
 * take longer than any query of the service.
 */
export async function runMigrationsExclusively(options: DataSourceOptions): Promise<void> {
  const dataSource = await new DataSource({
    ...options,
    // Two connections: one holds the lock while the migrations run on the other.
    extra: { ...(options.extra as object), max: 2, query_timeout: undefined, statement_timeout: 0 },
  }).initialize();
  try {
    await migrate(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

async function migrate(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    await runner.release();
  }
}

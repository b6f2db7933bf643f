import type { DataSource } from 'typeorm';

// Any fixed 64-bit key, shared by every instance of the service.
const MIGRATION_LOCK_KEY = 7_242_019_552_113;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so that replicas starting together
 * apply them once: the others wait, then find nothing left to do.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<void> {
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

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { scratchSubdir } from './secrets.js';

export interface TestDatabase {
  url: string;
  /** Runs SQL against the test database, outside the app. */
  query<T extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<T[]>;
  /** Dumps every table into the run's scratch folder (for the secrets scan), then drops it. */
  drop(): Promise<void>;
}

/** A database of its own for one test file, so that files run in parallel without sharing rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_SERVER_URL;
  if (!serverUrl) throw new Error('TEST_SERVER_URL is set by test/global-setup.ts');
  const name = `test_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  return {
    url: url.toString(),
    query: async <T extends pg.QueryResultRow>(sql: string, params?: unknown[]) =>
      (await pool.query<T>(sql, params)).rows,
    drop: async () => {
      await dumpTables(pool, name);
      await pool.end();
      await withClient(serverUrl, (client) => client.query(`DROP DATABASE ${name} WITH (FORCE)`));
    },
  };
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * Every row of every table, as PostgreSQL renders the row as text (bytea as hex), into
 * `dumps/{database}.txt`: a `-- table {name}: {n} rows` line, then one row per line.
 */
async function dumpTables(pool: pg.Pool, database: string): Promise<void> {
  const dir = scratchSubdir('dumps');
  if (!dir) return;
  const lines: string[] = [];
  try {
    const { rows: tables } = await pool.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    for (const { name } of tables) {
      const { rows } = await pool.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
      lines.push(`-- table ${name}: ${rows.length} rows`, ...rows.map((r) => r.row));
    }
  } catch (error) {
    lines.push(`-- dump failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  writeFileSync(join(dir, `${database}.txt`), `${lines.join('\n')}\n`);
}

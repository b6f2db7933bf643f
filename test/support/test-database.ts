import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { scratchSubdir } from './secrets.js';

/**
 * A database of its own for one test file (or one test), so that files run in parallel without
 * sharing rows; on the server test/global-setup.mjs names. Made by the harness (harness.ts).
 */
export class TestDatabase {
  private name?: string;
  private pool?: pg.Pool;

  private static serverUrl(): string {
    const serverUrl = process.env.TEST_SERVER_URL;
    if (!serverUrl) throw new Error('TEST_SERVER_URL is set by test/global-setup.mjs');
    return serverUrl;
  }

  get url(): string {
    if (!this.name) throw new Error('the test database is not created yet (harness set-up)');
    const url = new URL(TestDatabase.serverUrl());
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  /** Creates a new, empty database (migrated by the first app that starts on it). */
  async create(): Promise<void> {
    const name = `test_${randomBytes(6).toString('hex')}`;
    await withClient(TestDatabase.serverUrl(), (client) => client.query(`CREATE DATABASE ${name}`));
    this.name = name;
    this.pool = new pg.Pool({ connectionString: this.url, max: 2 });
  }

  /** Runs SQL against the test database, outside the app. */
  async query<T extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<T[]> {
    if (!this.pool) throw new Error('the test database is not created yet (harness set-up)');
    return (await this.pool.query<T>(sql, params)).rows;
  }

  /** Dumps every table into the run's scratch folder (for the secrets scan), then drops it. */
  async drop(): Promise<void> {
    const { name, pool } = this;
    if (!name || !pool) return;
    this.name = undefined;
    this.pool = undefined;
    try {
      await dumpTables(pool, name);
    } finally {
      await pool.end();
      await withClient(TestDatabase.serverUrl(), (client) =>
        client.query(`DROP DATABASE ${name} WITH (FORCE)`),
      );
    }
  }
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

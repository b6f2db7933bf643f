import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { entities } from '../src/entities.js';
import { migrations } from '../src/database/migrations/index.js';
import { runMigrationsExclusively } from '../src/database/run-migrations.js';
import { useHarness } from './support/harness.js';

describe('database', () => {
  // A fresh database for each test; the apps a test starts are closed after it.
  const h = useHarness({ app: false, each: true });
  const { db } = h;

  it('migrates a fresh database once when several instances start together', async () => {
    const options = dataSourceOptions(db.url, entities);
    await Promise.all(Array.from({ length: 4 }, () => runMigrationsExclusively(options)));
    const applied = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => m.name));
  });

  it('has a schema that matches the entities exactly, so no migration is missing', async () => {
    const options = dataSourceOptions(db.url, entities);
    await runMigrationsExclusively(options);
    const dataSource = await new DataSource(options).initialize();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('keeps the operations when the app restarts on the same database', async () => {
    const first = await h.startApp();
    const created = await first.http
      .post('/admin/operations')
      .set(first.admin)
      .send({ operator_id: 'FR*AB1', business_details: { name: 'Persistent' } })
      .expect(201);
    await first.close();

    const second = await h.startApp();
    const response = await second.http
      .get('/admin/operations/FR*AB1')
      .set(second.admin)
      .expect(200);
    expect(response.body).toEqual(created.body);
  });

  it('enforces one operation per operator id in the database itself', async () => {
    const app = await h.startApp();
    await app.close();
    await db.query(
      `INSERT INTO operations (country_code, party_id, business_details) VALUES ('FR', 'AB1', '{"name":"a"}')`,
    );
    await expect(
      db.query(
        `INSERT INTO operations (country_code, party_id, business_details) VALUES ('FR', 'AB1', '{"name":"b"}')`,
      ),
    ).rejects.toThrow(/operations_operator_id_key/);
    await expect(
      db.query(
        `INSERT INTO operations (country_code, party_id, business_details) VALUES ('fr', 'ab1', '{"name":"c"}')`,
      ),
    ).rejects.toThrow(/check constraint/);
  });
});

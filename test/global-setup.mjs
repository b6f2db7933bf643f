// Gives every test file a PostgreSQL server to create its own database on: the one DATABASE_URL
// names, or else one embedded cluster in a fresh folder, shared by the run and stopped after it.
// Plain ESM that loads the built service (`npm test` builds first): jest loads global setup
// outside its module system, where the TypeScript sources cannot be imported.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../dist/database/embedded-postgres.js';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.TEST_SERVER_URL = process.env.DATABASE_URL;
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ocpi-test-pg-'));
  // When tests run as root, postgres runs as its own user and must be able to enter the folder.
  chmodSync(dataDir, 0o755);
  const log = { debug: () => undefined, warn: (message) => console.warn(message) };
  globalThis.embeddedCluster = await startEmbeddedPostgres(dataDir, log);
  process.env.TEST_SERVER_URL = globalThis.embeddedCluster.url;
}

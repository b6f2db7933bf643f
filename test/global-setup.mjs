// Gives every test file a PostgreSQL server to create its own database on: the one DATABASE_URL
// names, or else one embedded cluster in a fresh folder, shared by the run and stopped after it.
// Also makes the run's scratch folder for the secrets scan (test/secrets-scan.e2e-spec.ts): logs,
// tokens used and database dumps land there, with the list of files the scan waits for.
// Plain ESM that loads the built service (`npm test` builds first): jest loads global setup
// outside its module system, where the TypeScript sources cannot be imported.
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../dist/database/embedded-postgres.js';

export default async function globalSetup() {
  // Set here, it reaches every worker (they start after global setup), as TEST_SERVER_URL does.
  const scratch = mkdtempSync(join(tmpdir(), 'ocpi-test-run-'));
  process.env.OCPI_TEST_SCRATCH_DIR = scratch;
  // Set by test/sequencer.mjs: every file of this run but the scan.
  writeFileSync(join(scratch, 'run-files.json'), process.env.OCPI_TEST_RUN_FILES ?? '[]');
  writeFileSync(join(scratch, 'done-files.txt'), '');

  if (process.env.DATABASE_URL) {
    process.env.TEST_SERVER_URL = process.env.DATABASE_URL;
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ocpi-test-pg-'));
  // Removed by test/global-teardown.mjs once the cluster is stopped.
  globalThis.embeddedClusterDir = dataDir;
  // When tests run as root, postgres runs as its own user and must be able to enter the folder.
  chmodSync(dataDir, 0o755);
  // The cluster's own log is scanned too.
  mkdirSync(join(scratch, 'logs'), { recursive: true });
  const clusterLog = join(scratch, 'logs', 'test-cluster.log');
  const log = {
    debug: (message) => appendFileSync(clusterLog, `${message}\n`),
    warn: (message) => {
      appendFileSync(clusterLog, `${message}\n`);
      console.warn(message);
    },
  };
  try {
    globalThis.embeddedCluster = await startEmbeddedPostgres(dataDir, log);
  } catch (error) {
    // Jest runs no global teardown when the setup fails.
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  process.env.TEST_SERVER_URL = globalThis.embeddedCluster.url;
}

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export default async function globalTeardown() {
  await globalThis.embeddedCluster?.stop();
  // The embedded cluster's folder (test/global-setup.mjs) goes with it.
  if (globalThis.embeddedClusterDir) {
    rmSync(globalThis.embeddedClusterDir, { recursive: true, force: true });
  }
  // The scratch folder goes, unless the secrets scan failed (or stopped half way): then it stays
  // for a look at what it found. OCPI_TEST_KEEP_SCRATCH=1 keeps it anyway.
  const scratch = process.env.OCPI_TEST_SCRATCH_DIR;
  if (!scratch) return;
  if (existsSync(join(scratch, 'scan-failed'))) {
    console.log(`\nThe secrets scan failed; its material is kept in ${scratch}`);
  } else if (process.env.OCPI_TEST_KEEP_SCRATCH) {
    console.log(`\nScratch folder of the run kept in ${scratch}`);
  } else {
    rmSync(scratch, { recursive: true, force: true });
  }
}

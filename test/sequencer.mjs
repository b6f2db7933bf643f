// Jest's own order (failed and slow files first), with the secrets scan moved to the end: it reads
// what every other file of the run left in the scratch folder, so it must come after them all.
// The files it waits for are handed on to test/global-setup.mjs, which writes them down for it.
import Sequencer from '@jest/test-sequencer';

export const SCAN_FILE = /[\\/]test[\\/]secrets-scan\.e2e-spec\.ts$/;

export default class SecretsLastSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const scan = sorted.filter((test) => SCAN_FILE.test(test.path));
    const others = sorted.filter((test) => !SCAN_FILE.test(test.path));
    process.env.OCPI_TEST_RUN_FILES = JSON.stringify(others.map((test) => test.path));
    return [...others, ...scan];
  }
}

// Jest's own order (failed and slow files first), with the files that check what the whole run
// left in the scratch folder moved to the end: the OpenAPI check of every answer the test apps
// gave (test/openapi-answers.e2e-spec.ts), then the secrets scan, last. Each waits for every file
// before it; the files the scan waits for (the OpenAPI check included) are handed on to
// test/global-setup.mjs, which writes them down for them.
import Sequencer from '@jest/test-sequencer';

export const SCAN_FILE = /[\\/]test[\\/]secrets-scan\.e2e-spec\.ts$/;
export const OPENAPI_CHECK_FILE = /[\\/]test[\\/]openapi-answers\.e2e-spec\.ts$/;

export default class SecretsLastSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const scan = sorted.filter((test) => SCAN_FILE.test(test.path));
    const check = sorted.filter((test) => OPENAPI_CHECK_FILE.test(test.path));
    const others = sorted.filter(
      (test) => !SCAN_FILE.test(test.path) && !OPENAPI_CHECK_FILE.test(test.path),
    );
    process.env.OCPI_TEST_RUN_FILES = JSON.stringify(
      [...others, ...check].map((test) => test.path),
    );
    return [...others, ...check, ...scan];
  }
}

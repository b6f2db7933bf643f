/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  testRegex: '(src/.*\\.spec|test/.*\\.e2e-spec)\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import each other as `./x.js`, as Node's ESM wants; jest resolves the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  // The secrets scan (test/secrets-scan.e2e-spec.ts) runs last and waits for every other file:
  // the sequencer puts it last, the reporter notes each file done, the setup file records tokens.
  testSequencer: '<rootDir>/test/sequencer.mjs',
  reporters: ['default', '<rootDir>/test/done-reporter.mjs'],
  setupFilesAfterEnv: ['<rootDir>/test/support/record-tokens.ts'],
  testTimeout: 30_000,
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        useESM: true,
        tsconfig: 'tsconfig.spec.json',
        astTransformers: {
          before: [
            {
              path: '<rootDir>/test/swagger-plugin.cjs',
              options: { classValidatorShim: true, introspectComments: true },
            },
          ],
        },
      },
    ],
  },
};

import { waitForOtherFiles, WAIT_FOR_OTHER_FILES_MS } from './support/secrets.js';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SCRATCH_ENV } from './support/secrets.js';
import { ADMIN_TOKEN } from './support/test-app.js';

// The last file of every run (test/sequencer.mjs puts it there): once every other file of the run
// is done, every token the run used (Authorization headers, `token` fields, and API keys in the
// `key` field of their creation's answer, seen by the test
// apps, by fetch and by the fake peer; test/support/secrets.ts) must appear nowhere in the logs
// (test apps at trace level, child services, the hub simulator, the embedded test cluster) nor in
// the dumps of the test databases: not as is, nor Base64 (as OCPI 2.2 sends tokens), nor hex
// (as a bytea column shows them).
//
// It scans what the files of its own run left: with a subset (`npm test -- test/x.e2e-spec.ts
// test/secrets-scan.e2e-spec.ts`) it scans x's material only; a subset without it has no scan.

/**
 * The one deliberate exception: on its very first start, the embedded default prints the admin
 * token it generated, once, to its terminal (README, "Run it"; test/embedded-default.e2e-spec.ts).
 * Only that exact line is left out of the scan, and counted.
 */
const FIRST_START_ADMIN_TOKEN_LINE = /^Admin token \(shown once; kept in [^\n]*\): [^\n]*$/gm;

interface Needle {
  token: string;
  encoding: 'plain' | 'base64' | 'base64url' | 'hex';
  text: string;
}

const PREFIX = 8;

/** Every token in the encodings it could leak in, indexed by their first characters. */
function needles(tokens: Iterable<string>): Map<string, Needle[]> {
  const index = new Map<string, Needle[]>();
  const add = (needle: Needle) => {
    if (needle.text.length < PREFIX) return;
    const key = needle.text.slice(0, PREFIX);
    const list = index.get(key) ?? [];
    list.push(needle);
    index.set(key, list);
  };
  for (const token of tokens) {
    const bytes = Buffer.from(token, 'utf8');
    add({ token, encoding: 'plain', text: token });
    add({ token, encoding: 'base64', text: bytes.toString('base64').replace(/=+$/, '') });
    add({ token, encoding: 'hex', text: bytes.toString('hex') });
    const base64url = bytes.toString('base64url');
    // Without '-' or '_' it is the Base64 needle again.
    if (/[-_]/.test(base64url)) add({ token, encoding: 'base64url', text: base64url });
  }
  return index;
}

interface Finding {
  file: string;
  offset: number;
  encoding: Needle['encoding'];
  token: string;
  context: string;
}

function scan(file: string, text: string, index: Map<string, Needle[]>): Finding[] {
  const findings: Finding[] = [];
  for (let i = 0; i + PREFIX <= text.length; i++) {
    const candidates = index.get(text.slice(i, i + PREFIX));
    if (!candidates) continue;
    for (const needle of candidates) {
      if (text.startsWith(needle.text, i)) {
        findings.push({
          file,
          offset: i,
          encoding: needle.encoding,
          token: needle.token,
          context: text.slice(Math.max(0, i - 80), i + needle.text.length + 40),
        });
      }
    }
  }
  return findings;
}

const listFiles = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : [];

describe('secrets scan over the whole run', () => {
  it('finds a token in each encoding it could leak in', () => {
    const token = '~~~planted-token-0123456789'; // its Base64 holds a '+', Base64url a '-'
    const index = needles([token, 'another-token-abcdefgh']);
    const bytes = Buffer.from(token);
    const text = [
      `{"msg":"${token}"}`,
      `Authorization: Token ${bytes.toString('base64')}`,
      `?t=${bytes.toString('base64url')}`,
      `(1,"\\x00${bytes.toString('hex')}00")`,
      '~~~planted-token-012345678 (one character short)',
    ].join('\n');
    expect(scan('planted', text, index).map((f) => f.encoding)).toEqual([
      'plain',
      'base64',
      'base64url',
      'hex',
    ]);
    expect(scan('clean', 'planted-token-0123456789 ~~planted-token-0123456789', index)).toEqual([]);
  });

  it(
    'finds no token used by the run in any log or database dump',
    async () => {
      const scratch = process.env[SCRATCH_ENV];
      expect(scratch).toBeTruthy();
      const root = scratch!;
      // Stays unless the scan passes; global teardown then keeps the folder and prints its path.
      writeFileSync(join(root, 'scan-failed'), '');

      const expected = JSON.parse(readFileSync(join(root, 'run-files.json'), 'utf8')) as string[];
      expect(expected.length).toBeGreaterThan(0); // run alone, it would have nothing to scan
      const missing = await waitForOtherFiles(root, expected);
      expect(missing).toEqual([]);

      const tokens = new Set<string>();
      for (const file of listFiles(join(root, 'tokens'))) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          if (line) tokens.add(JSON.parse(line) as string);
        }
      }
      const index = needles(tokens);

      const findings: Finding[] = [];
      let logBytes = 0;
      let adminTokenNotices = 0;
      const logFiles = listFiles(join(root, 'logs'));
      for (const file of logFiles) {
        logBytes += statSync(file).size;
        const text = readFileSync(file, 'utf8').replace(FIRST_START_ADMIN_TOKEN_LINE, () => {
          adminTokenNotices += 1;
          return '';
        });
        findings.push(...scan(relative(root, file), text, index));
      }
      let dumpRows = 0;
      const dumpFailures: string[] = [];
      const dumpFiles = listFiles(join(root, 'dumps'));
      for (const file of dumpFiles) {
        const text = readFileSync(file, 'utf8');
        for (const [, rows] of text.matchAll(/^-- table \S+: (\d+) rows$/gm)) dumpRows += +rows;
        for (const [line] of text.matchAll(/^-- dump failed: .*$/gm)) dumpFailures.push(line);
        findings.push(...scan(relative(root, file), text, index));
      }

      const fullSuite = readdirSync(join(process.cwd(), 'test'))
        .filter((name) => name.endsWith('.e2e-spec.ts') && name !== 'secrets-scan.e2e-spec.ts')
        .every((name) => expected.includes(join(process.cwd(), 'test', name)));
      console.log(
        [
          `Secrets scan (${fullSuite ? 'whole suite' : 'subset'}: ${expected.length} other test files)`,
          `  tokens collected:     ${tokens.size} (searched as plain, Base64, Base64url and hex)`,
          `  log files scanned:    ${logFiles.length}, ${logBytes} bytes`,
          `  database dumps:       ${dumpFiles.length}, ${dumpRows} rows`,
          `  first-start admin token notices left out: ${adminTokenNotices}`,
          `  occurrences found:    ${findings.length}`,
          ...findings
            .slice(0, 20)
            .map(
              (f) =>
                `    ${f.file}@${f.offset} ${f.encoding} of ${f.token.slice(0, 6)}…(${f.token.length}): ${JSON.stringify(f.context)}`,
            ),
        ].join('\n'),
      );

      expect(dumpFailures).toEqual([]);
      expect(logBytes).toBeGreaterThan(0);
      expect(dumpRows).toBeGreaterThan(0);
      if (fullSuite) {
        // The admin token of the test apps, and many OCPI tokens of every kind.
        expect(tokens.has(ADMIN_TOKEN)).toBe(true);
        // API keys (test/access-keys*.e2e-spec.ts), as handed out and as presented.
        expect([...tokens].filter((token) => token.startsWith('ocpik_')).length).toBeGreaterThan(
          20,
        );
        expect(tokens.size).toBeGreaterThanOrEqual(150);
        expect(logBytes).toBeGreaterThan(500_000);
        expect(dumpRows).toBeGreaterThan(200);
      } else {
        expect(tokens.size).toBeGreaterThan(0);
      }
      expect(findings.map((f) => `${f.file}@${f.offset} (${f.encoding})`)).toEqual([]);

      rmSync(join(root, 'scan-failed'));
    },
    WAIT_FOR_OTHER_FILES_MS + 120_000,
  );
});

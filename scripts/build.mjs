// `nest build`, only when something it reads has changed since the last build made here.
//
//   node scripts/build.mjs             build dist/ unless it is up to date
//   node scripts/build.mjs --force     build dist/ in any case
//   node scripts/build.mjs --start ... build if needed, then run dist/main.js (`npm start`), as
//                                      `nest start` did: extra arguments go to the service,
//                                      SIGINT/SIGTERM/SIGHUP are passed on, its exit code is ours
//
// Up to date means: dist/.build-stamp.json, written after the last successful build, holds the
// same hash of the inputs (every file under src/, the tsconfigs, nest-cli.json, package.json, the
// lockfile and npm's record of node_modules, this script), and every file that build wrote is
// still there, untouched (size and mtime). Anything else runs a full `nest build`: it empties
// dist/ first (deleteOutDir), so a deleted source leaves nothing behind, and the @nestjs/swagger
// plugin sees the whole program, as every build before this script did.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-stamp.json');
const INPUT_FILES = [
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
  'scripts/build.mjs',
];
const INPUT_DIRS = ['src'];

/** Every file under `dir`, folders walked, as paths relative to ROOT with forward slashes. */
function walk(dir) {
  const files = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...walk(path));
    else files.push(path);
  }
  return files;
}

function inputsHash() {
  const hash = createHash('sha256');
  const files = [...INPUT_FILES, ...INPUT_DIRS.flatMap(walk)].sort();
  for (const file of files) {
    const path = join(ROOT, file);
    hash.update(`${file}\0`);
    hash.update(existsSync(path) ? readFileSync(path) : '(none)');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Size and mtime of every file under dist/ but the stamp. */
function outputs() {
  return walk('dist')
    .filter((file) => file !== 'dist/.build-stamp.json')
    .map((file) => {
      const { size, mtimeMs } = statSync(join(ROOT, file));
      return [file, size, mtimeMs];
    });
}

function upToDate(inputs) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return false;
  }
  if (stamp.inputs !== inputs || !Array.isArray(stamp.outputs) || !stamp.outputs.length)
    return false;
  return stamp.outputs.every(([file, size, mtimeMs]) => {
    try {
      const stats = statSync(join(ROOT, file));
      return stats.size === size && stats.mtimeMs === mtimeMs;
    } catch {
      return false;
    }
  });
}

function build(force) {
  // Hashed before building: a file saved during the build makes the next run build again.
  const inputs = inputsHash();
  if (!force && upToDate(inputs)) {
    console.log('dist/ is up to date: nothing to build');
    return;
  }
  rmSync(STAMP, { force: true });
  const require = createRequire(import.meta.url);
  const cli = require.resolve('@nestjs/cli/package.json');
  const nest = join(cli, '..', require(cli).bin.nest);
  const started = Date.now();
  const { status, signal } = spawnSync(process.execPath, [nest, 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (status !== 0) {
    console.error(`nest build failed (${signal ?? `exit code ${status}`})`);
    process.exit(status || 1);
  }
  const temporary = `${STAMP}.${process.pid}`;
  writeFileSync(temporary, JSON.stringify({ inputs, outputs: outputs() }));
  renameSync(temporary, STAMP);
  console.log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The service in a child process, as `nest start` runs it. */
function start(args) {
  const child = spawn(process.execPath, ['--enable-source-maps', join(DIST, 'main.js'), ...args], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal] ?? 0));
  });
}

const args = process.argv.slice(2);
if (args[0] === '--start') {
  build(false);
  start(args.slice(args[1] === '--' ? 2 : 1));
} else if (args.length <= 1 && (args[0] === undefined || args[0] === '--force')) {
  build(args[0] === '--force');
} else {
  console.error('usage: node scripts/build.mjs [--force | --start [service arguments]]');
  process.exit(2);
}

// Compiles src/ into dist/ with the TypeScript compiler and the @nestjs/swagger plugin, as
// `nest build` did, without the Nest CLI (whose dependencies require Node 22; the service runs on
// Node 20), and only when something it reads has changed since the last build made here.
//
//   node scripts/build.mjs             build dist/ unless it is up to date
//   node scripts/build.mjs --force     build dist/ in any case
//   node scripts/build.mjs --start ... build if needed, then run dist/main.js (`npm start`), as
//                                      `nest start` did: extra arguments go to the service,
//                                      SIGINT/SIGTERM/SIGHUP are passed on, its exit code is ours
//   node scripts/build.mjs --watch ... (`npm run start:dev`) compile, run dist/main.js, and on
//                                      every change of src/ compile again and restart it
//
// A build reads tsconfig.build.json, empties dist/ first (a deleted source leaves nothing behind),
// compiles the whole program with the swagger plugin as a `before` transformer (so that it sees
// every DTO, as nest build's did) and fails with the compiler's diagnostics on any error. Only .ts
// files become dist/: there are no assets to copy.
//
// Up to date means: dist/.build-stamp.json, written after the last successful build, holds the
// same hash of the inputs (every file under src/, the tsconfigs, package.json, the lockfile and
// npm's record of node_modules, this script), and every file that build wrote is still there,
// untouched (size and mtime). Anything else runs a full build.
import { spawn } from 'node:child_process';
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
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-stamp.json');
const TSCONFIG = join(ROOT, 'tsconfig.build.json');
/** What nest-cli.json gave the plugin; test/swagger-plugin.cjs does the same for the tests. */
const SWAGGER_PLUGIN_OPTIONS = {
  classValidatorShim: true,
  introspectComments: true,
  dtoFileNameSuffix: ['.dto.ts', '.entity.ts'],
};
const INPUT_FILES = [
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
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

// TypeScript and the swagger plugin take about a second to load: only when compiling.
let ts;
let swaggerPlugin;
async function loadCompiler() {
  ts = (await import('typescript')).default;
  swaggerPlugin = (await import('@nestjs/swagger/plugin')).before;
}

/** tsconfig.build.json, parsed; stops with its diagnostics if it is not valid. */
function readConfig() {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    TSCONFIG,
    // Every build starts from an empty dist/: nothing to gain from a .tsbuildinfo.
    { incremental: false },
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (diagnostic) => report([diagnostic]) },
  );
  if (!parsed || parsed.errors.length > 0) {
    if (parsed) report(parsed.errors);
    process.exit(1);
  }
  return parsed;
}

/** The swagger plugin as nest build ran it: a `before` transformer on the program it reads. */
function transformers(program) {
  return { before: [swaggerPlugin({ ...SWAGGER_PLUGIN_OPTIONS }, program)] };
}

function report(diagnostics) {
  const format = process.stderr.isTTY
    ? ts.formatDiagnosticsWithColorAndContext
    : ts.formatDiagnostics;
  const host = {
    getCanonicalFileName: (path) => path,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => ts.sys.newLine,
  };
  if (diagnostics.length > 0) console.error(format(diagnostics, host));
}

async function build(force) {
  // Hashed before building: a file saved during the build makes the next run build again.
  const inputs = inputsHash();
  if (!force && upToDate(inputs)) {
    console.log('dist/ is up to date: nothing to build');
    return;
  }
  const started = Date.now();
  await loadCompiler();
  rmSync(DIST, { recursive: true, force: true });
  const { options, fileNames } = readConfig();
  const program = ts.createProgram({ rootNames: fileNames, options });
  const emitted = program.emit(undefined, undefined, undefined, false, transformers(program));
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0) {
    report(diagnostics);
    console.error(`build failed: ${diagnostics.length} error(s)`);
    process.exit(1);
  }
  const temporary = `${STAMP}.${process.pid}`;
  writeFileSync(temporary, JSON.stringify({ inputs, outputs: outputs() }));
  renameSync(temporary, STAMP);
  console.log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * The service in a child process, as `nest start` ran it. Stack traces name src/ lines with
 * `sourceMaps` (the watch mode's), at 0.2-0.3 s of every start (Node reads the map of each
 * module it loads): `npm start` leaves them to NODE_OPTIONS=--enable-source-maps.
 */
function service(args, { sourceMaps = false } = {}) {
  const flags = sourceMaps ? ['--enable-source-maps'] : [];
  return spawn(process.execPath, [...flags, join(DIST, 'main.js'), ...args], {
    stdio: 'inherit',
  });
}

function start(args) {
  const child = service(args);
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

/**
 * `nest start --watch`, without its CLI: dist/ emptied, then TypeScript's watch mode on
 * tsconfig.build.json with the same plugin; after each compilation without errors the service is
 * (re)started, once the previous one has stopped. No stamp is written: the next plain build is a
 * full one.
 */
async function watch(args) {
  await loadCompiler();
  rmSync(DIST, { recursive: true, force: true });
  let child;
  let again = false;
  let quitting = false;
  const run = () => {
    again = false;
    child = service(args, { sourceMaps: true });
    child.on('exit', (code, signal) => {
      child = undefined;
      if (quitting) process.exit(0);
      else if (again) run();
      else console.log(`service stopped (${signal ?? `exit code ${code}`}); waiting for changes`);
    });
  };
  const restart = () => {
    if (!child) run();
    else if (!again) {
      again = true;
      child.kill('SIGTERM');
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      quitting = true;
      if (child) child.kill(signal);
      else process.exit(0);
    });
  }
  const host = ts.createWatchCompilerHost(
    TSCONFIG,
    // The screen is not cleared on each change: the service's log lines stay.
    { incremental: false, preserveWatchOutput: true },
    ts.sys,
    ts.createEmitAndSemanticDiagnosticsBuilderProgram,
    (diagnostic) => report([diagnostic]),
    ts.createWatchStatusReporter(ts.sys, process.stdout.isTTY),
  );
  host.afterProgramCreate = (builder) => {
    const emitted = builder.emit(
      undefined,
      undefined,
      undefined,
      false,
      transformers(builder.getProgram()),
    );
    const diagnostics = [
      ...builder.getConfigFileParsingDiagnostics(),
      ...builder.getOptionsDiagnostics(),
      ...builder.getGlobalDiagnostics(),
      ...builder.getSyntacticDiagnostics(),
      ...builder.getSemanticDiagnostics(),
      ...emitted.diagnostics,
    ];
    report(diagnostics);
    console.log(`compiled: ${diagnostics.length} error(s); watching src/ for changes`);
    if (diagnostics.length === 0) restart();
  };
  ts.createWatchProgram(host);
}

const args = process.argv.slice(2);
const serviceArgs = args.slice(args[1] === '--' ? 2 : 1);
if (args[0] === '--start') {
  await build(false);
  start(serviceArgs);
} else if (args[0] === '--watch') {
  await watch(serviceArgs);
} else if (args.length <= 1 && (args[0] === undefined || args[0] === '--force')) {
  await build(args[0] === '--force');
} else {
  console.error('usage: node scripts/build.mjs [--force | --start | --watch [service arguments]]');
  process.exit(2);
}

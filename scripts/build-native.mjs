#!/usr/bin/env node
// Builds the native CPU backend (build/Release/tessera_native.node) with node-gyp at install time.
// Never fails the install: without a C++17 toolchain Tessera runs on the reference backend.
// Nothing is downloaded: node-gyp is pointed at the headers of the running Node install.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const logFile = join(root, 'build', 'native-build.log');

function fallback(reason) {
  try {
    mkdirSync(dirname(logFile), { recursive: true });
    writeFileSync(logFile, reason);
  } catch {
    // the log is best effort
  }
  console.log(
    `tessera: native backend not built (${reason.split('\n').find((l) => l.trim()) ?? 'unknown error'}); Tessera will run on the slower reference backend (details: build/native-build.log)`,
  );
  process.exit(0);
}

if (process.env.TESSERA_SKIP_NATIVE === '1') {
  console.log('tessera: TESSERA_SKIP_NATIVE=1, skipping the native build; Tessera will run on the reference backend');
  process.exit(0);
}

/** node-gyp: the one npm is running with, else the one bundled with npm next to this node, else npx. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const prefix = resolve(dirname(process.execPath), '..');
  candidates.push(
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
  for (const c of candidates) if (existsSync(c)) return [process.execPath, [c]];
  return [process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--no-install', 'node-gyp']];
}

/** The directory whose include/node holds this Node's headers (so node-gyp downloads nothing). */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  for (const dir of [prefix, '/usr', '/usr/local']) {
    if (
      existsSync(join(dir, 'include', 'node', 'node_api.h')) &&
      existsSync(join(dir, 'include', 'node', 'common.gypi'))
    )
      return dir;
  }
  return null;
}

// One build at a time in this tree (node-gyp rebuild wipes build/, so two at once break both).
const lockDir = join(root, '.tessera');
const lockFile = join(lockDir, 'build-native.lock');
function takeLock() {
  mkdirSync(lockDir, { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return;
    } catch {
      let stale = true;
      try {
        const pid = Number(readFileSync(lockFile, 'utf8'));
        if (pid > 0) {
          process.kill(pid, 0); // throws if that process is gone
          stale = false;
        }
      } catch {
        stale = true;
      }
      if (stale || Date.now() > deadline) {
        rmSync(lockFile, { force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}
takeLock();
process.on('exit', () => {
  try {
    if (readFileSync(lockFile, 'utf8') === String(process.pid)) rmSync(lockFile, { force: true });
  } catch {
    // already gone
  }
});

const [cmd, pre] = findNodeGyp();
const args = [...pre, 'rebuild', '--release'];
const nodedir = findNodeDir();
if (nodedir) args.push(`--nodedir=${nodedir}`);
const env = { ...process.env };
if (nodedir) env.npm_config_nodedir = nodedir;

const res = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const output = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
if (res.error) fallback(`could not run node-gyp: ${res.error.message}`);
if (res.status !== 0) {
  const firstError = output.split('\n').find((l) => /error/i.test(l) && !/^gyp info/.test(l));
  fallback(`node-gyp exited with ${res.status}${firstError ? `: ${firstError.trim()}` : ''}\n${output}`);
}
if (!existsSync(join(root, 'build', 'Release', 'tessera_native.node')))
  fallback(`node-gyp produced no addon\n${output}`);
try {
  writeFileSync(logFile, output);
} catch {
  // best effort
}
console.log('tessera: native backend built (build/Release/tessera_native.node)');

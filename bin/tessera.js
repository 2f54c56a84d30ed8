#!/usr/bin/env node
// The `tessera` command. An installed package runs the compiled dist/cli/main.js; a dev checkout
// without a build (or with TESSERA_CLI_SOURCE=1) runs src/cli/main.ts through tsx. Serving commands
// run with the V8 heap settings of node-flags.js. Either needs a re-executed child: it gets
// SIGINT / SIGTERM / SIGHUP forwarded (so `kill <wrapper>` drains and stops the server instead of
// orphaning it), and the wrapper exits with the child's code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { serveNodeFlags } from './node-flags.js';

const dist = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
const args = process.argv.slice(2);
const isChild = process.env.TESSERA_CLI_CHILD === '1';
const fromSource = isChild
  ? process.env.TESSERA_CLI_CHILD_SOURCE === '1'
  : (!existsSync(fileURLToPath(dist)) && existsSync(fileURLToPath(source))) || process.env.TESSERA_CLI_SOURCE === '1';
const nodeFlags = isChild ? [] : serveNodeFlags(args, process.execArgv, process.env);

if (!isChild && (fromSource || nodeFlags.length > 0)) {
  const loader = fromSource ? ['--conditions=source', '--import', import.meta.resolve('tsx')] : [];
  const child = spawn(process.execPath, [...nodeFlags, ...loader, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, TESSERA_CLI_CHILD: '1', TESSERA_CLI_CHILD_SOURCE: fromSource ? '1' : '0' },
  });
  const forward = (signal) => {
    // A terminal's Ctrl-C reaches the whole process group (the child too); forwarding it again is harmless.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, forward);
  child.on('error', (e) => {
    process.stderr.write(`tessera: cannot start the CLI child: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    // Killed by a signal: exit 128 + its number, as a shell reports it.
    process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
  });
} else {
  // Not inherited by processes the command starts (they decide for themselves).
  delete process.env.TESSERA_CLI_CHILD;
  delete process.env.TESSERA_CLI_CHILD_SOURCE;
  const { main } = await import((fromSource ? source : dist).href);
  process.exitCode = await main(args);
}

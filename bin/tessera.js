#!/usr/bin/env node
// The `tessera` command. An installed package runs the compiled dist/cli/main.js; a dev checkout
// without a build (or with TESSERA_CLI_SOURCE=1) re-executes itself through tsx on src/cli/main.ts.
// The re-executed child gets SIGINT / SIGTERM / SIGHUP forwarded (so `kill <wrapper>` drains and
// stops the server instead of orphaning it), and the wrapper exits with the child's code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
const inSourceMode = process.env.TESSERA_CLI_SOURCE_CHILD === '1';

if (
  inSourceMode ||
  (!existsSync(fileURLToPath(dist)) && existsSync(fileURLToPath(source))) ||
  process.env.TESSERA_CLI_SOURCE === '1'
) {
  if (!inSourceMode) {
    const tsx = import.meta.resolve('tsx');
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', tsx, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      { stdio: 'inherit', env: { ...process.env, TESSERA_CLI_SOURCE_CHILD: '1' } },
    );
    const forward = (signal) => {
      // A terminal's Ctrl-C reaches the whole process group (the child too); forwarding it again is harmless.
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, forward);
    child.on('error', (e) => {
      process.stderr.write(`tessera: cannot start the source-mode child: ${e.message}\n`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => {
      // Killed by a signal: exit 128 + its number, as a shell reports it.
      process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
    });
  } else {
    const { main } = await import(source.href);
    process.exitCode = await main(process.argv.slice(2));
  }
} else {
  const { main } = await import(dist.href);
  process.exitCode = await main(process.argv.slice(2));
}

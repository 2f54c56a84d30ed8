#!/usr/bin/env node
// The `tessera` command. An installed package runs the compiled dist/cli/main.js; a dev checkout
// without a build (or with TESSERA_CLI_SOURCE=1) re-executes itself through tsx on src/cli/main.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
    const r = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', tsx, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      { stdio: 'inherit', env: { ...process.env, TESSERA_CLI_SOURCE_CHILD: '1' } },
    );
    process.exit(r.status ?? 1);
  }
  const { main } = await import(source.href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const { main } = await import(dist.href);
  process.exitCode = await main(process.argv.slice(2));
}

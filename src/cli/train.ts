/** `tessera train <script.ts>`: run a user's training script with TypeScript support and 'tessera' importable. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Command, registerCommand, UsageError } from './command.js';

/** The URL of this package's entry: src/index.ts in a dev checkout (running from .ts), else dist/index.js. */
export function packageEntryUrl(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? '../index.ts' : '../index.js', import.meta.url).href;
}

/**
 * Loader hooks for the script's process: 'tessera' resolves normally when it can (the user's
 * install), else to this package; the script itself loads as an ES module (top-level await
 * works) even outside a `"type": "module"` package.
 */
function hooksSource(target: string, script: string): string {
  return `const TARGET = ${JSON.stringify(target)};
const SCRIPT = ${JSON.stringify(script)};
export async function resolve(specifier, context, next) {
  if (specifier === 'tessera') {
    try {
      return await next(specifier, context);
    } catch (e) {
      if (e && e.code === 'ERR_MODULE_NOT_FOUND') return next(TARGET, context);
      throw e;
    }
  }
  const r = await next(specifier, context);
  return r.url === SCRIPT ? { ...r, format: 'module' } : r;
}
export async function load(url, context, next) {
  return next(url, url === SCRIPT ? { ...context, format: 'module' } : context);
}
`;
}

export const trainCommand: Command = {
  name: 'train',
  summary: "run a TypeScript/JavaScript training script with 'tessera' importable",
  help: `Usage: tessera train <script.ts> [script args...]

Runs the script with Node and tsx (TypeScript without a build step). \`import ... from 'tessera'\`
resolves to the project's own install when there is one, else to this tessera. Arguments after
the script are passed to it (process.argv.slice(2)). The exit code is the script's.`,
  async run(args) {
    if (args[0] === '--help' || args[0] === '-h') {
      console.log(trainCommand.help);
      return 0;
    }
    const [script, ...rest] = args;
    if (!script) throw new UsageError('tessera train expects a script path, e.g. tessera train train.ts');
    if (script.startsWith('-'))
      throw new UsageError(`tessera train: unknown option '${script}' (usage: tessera train <script.ts>)`);
    const path = resolve(script);
    if (!existsSync(path)) throw new UsageError(`tessera train: script '${script}' does not exist`);
    const tsx = import.meta.resolve('tsx');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-train-'));
    const hooks = join(dir, 'hooks.mjs');
    const register = join(dir, 'register.mjs');
    writeFileSync(hooks, hooksSource(packageEntryUrl(), pathToFileURL(path).href));
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    const nodeArgs = ['--conditions=source', '--import', tsx, '--import', pathToFileURL(register).href, path, ...rest];
    try {
      return await new Promise<number>((done, fail) => {
        const child = spawn(process.execPath, nodeArgs, { stdio: 'inherit' });
        child.on('error', fail);
        child.on('exit', (code, signal) => done(code ?? (signal ? 128 + 1 : 1)));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

registerCommand(trainCommand);

/**
 * The `tessera` command line. Subcommands live one per file and register themselves in
 * `commands` (command.ts). Other parts of tessera add theirs through EXTENSIONS: a module
 * listed there is imported when it exists and calls registerCommand (e.g. src/serve/cli.ts
 * registering `serve`).
 */
import { createRequire } from 'node:module';
import { TesseraError } from '../tensor/errors.js';
import { commands, UsageError } from './command.js';
import './demo.js';
import './train.js';
import './summary.js';
import './evaluate.js';

export { type Command, commands, parseFlags, registerCommand, UsageError } from './command.js';

/** Optional command modules, relative to this file; missing ones are skipped. */
const EXTENSIONS = ['../serve/cli.js'];

function version(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

function usage(): string {
  const width = Math.max(...[...commands.keys()].map((n) => n.length));
  const lines = [...commands.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: tessera <command> [options]

Commands:
${lines.join('\n')}

Options:
  -h, --help     show this help (tessera <command> --help for a command's options)
  -v, --version  print the version

Examples:
  tessera demo                              train and save the MNIST CNN
  tessera summary models/mnist-cnn/1        print a saved model's layers
  tessera evaluate models/mnist-cnn/1       accuracy on the held-out digits
  tessera train my-training-script.ts       run a training script`;
}

async function loadExtensions(): Promise<void> {
  for (const rel of EXTENSIONS) {
    const url = new URL(rel, import.meta.url);
    try {
      await import(url.href);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const missing =
        (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT') &&
        String((e as Error).message).includes(rel.replace('../', '').replace('.js', ''));
      if (!missing) throw e;
    }
  }
}

/**
 * Run the CLI with these arguments (without `node` and the script); resolves to the exit code:
 * 0 success, 1 a failure while running, 2 a usage error (unknown command or flag).
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[]): Promise<number> {
  try {
    await loadExtensions();
    const [first, ...rest] = argv;
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      const cmd = topic ? commands.get(topic) : undefined;
      if (topic && !cmd) throw new UsageError(`unknown command '${topic}'`);
      console.log(cmd ? cmd.help : usage());
      return first === undefined ? 2 : 0;
    }
    if (first === '--version' || first === '-v') {
      console.log(version());
      return 0;
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`);
    const cmd = commands.get(first);
    if (!cmd) {
      const names = [...commands.keys()];
      const close = names.find((n) => n.startsWith(first.slice(0, 2)));
      throw new UsageError(
        `unknown command '${first}'${close ? ` (did you mean '${close}'?)` : ''}; commands: ${names.join(', ')}`,
      );
    }
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tessera: ${e.message.replace(/^tessera /, '')}\nRun 'tessera --help' for usage.`);
      return 2;
    }
    if (e instanceof TesseraError) {
      console.error(`tessera: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

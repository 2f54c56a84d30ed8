/** The `tessera` command registry: each subcommand is a file that registers a Command. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { TesseraError } from '../tensor/errors.js';

/** A wrong command line: printed with a pointer to --help, exit code 2. */
export class UsageError extends TesseraError {}

export interface Command {
  /** The subcommand word: `tessera <name>`. */
  name: string;
  /** One line for `tessera --help`. */
  summary: string;
  /** The full help text for `tessera <name> --help` (usage line first). */
  help: string;
  /** Run with the arguments after the subcommand word; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Every registered subcommand, in registration order. Add one with registerCommand. */
export const commands = new Map<string, Command>();

/**
 * Add a subcommand (e.g. the model server's `serve`).
 * @example registerCommand({ name: 'serve', summary: 'serve models over HTTP', help: '...', run: async (args) => 0 });
 */
export function registerCommand(command: Command): void {
  commands.set(command.name, command);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parse a subcommand's flags strictly (unknown flags are UsageErrors naming the command).
 * @example const { values, positionals } = parseFlags('evaluate', args, { data: { type: 'string' } });
 */
export function parseFlags<O extends Options>(
  command: string,
  args: string[],
  options: O,
  allowPositionals = true,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals,
      strict: true,
    });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(`tessera ${command}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** A flag's value as a positive integer. */
export function intFlag(command: string, name: string, value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) {
    throw new UsageError(`tessera ${command}: --${name} expects a positive integer, got '${String(value)}'`);
  }
  return n;
}

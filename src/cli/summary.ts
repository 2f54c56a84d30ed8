/** `tessera summary <modelDir>`: the layer table, signature and training config of a saved model. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, readModelJson, WEIGHTS_FILE } from '../io/save.js';
import { type Command, parseFlags, registerCommand, UsageError } from './command.js';

function fmtShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}]`;
}

export const summaryCommand: Command = {
  name: 'summary',
  summary: 'print the layers, parameter counts and signature of a saved model',
  help: `Usage: tessera summary <modelDir>

Loads <modelDir>/model.json and weights.safetensors and prints the Keras-style layer table,
the input/output signature and the training configuration.`,
  async run(args) {
    const { values, positionals } = parseFlags('summary', args, {});
    if (values.help) {
      console.log(summaryCommand.help);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`tessera summary expects one model folder, got ${positionals.length} arguments`);
    }
    const dir = positionals[0] as string;
    const json = readModelJson(dir);
    const model = await loadModel(dir, { compile: false });
    console.log(`Model folder: ${dir} (tessera ${json.tesseraVersion})`);
    model.summary();
    const sig = json.signature ?? { inputs: [], outputs: [] };
    for (const s of sig.inputs) console.log(`Input  ${s.name}: ${s.dtype} ${fmtShape(s.shape)}`);
    for (const s of sig.outputs) console.log(`Output ${s.name}: ${s.dtype} ${fmtShape(s.shape)}`);
    const tc = json.trainingConfig;
    if (tc) {
      const opt = tc.optimizerConfig as { className?: string; config?: { learningRate?: unknown } } | undefined;
      const lossName = (l: unknown): string =>
        Array.isArray(l)
          ? `[${l.map(lossName).join(', ')}]`
          : l && typeof l === 'object' && 'className' in l
            ? String((l as { className: unknown }).className)
            : String(l);
      console.log(
        `Training: optimizer ${opt?.className ?? '?'} (learningRate ${JSON.stringify(opt?.config?.learningRate)}), loss ${lossName(tc.loss)}, metrics ${JSON.stringify(tc.metrics ?? [])}`,
      );
    } else console.log('Training: not compiled');
    const bytes = statSync(join(dir, WEIGHTS_FILE)).size;
    console.log(`Weights: ${json.weightNames.length} tensors, ${(bytes / 1024).toFixed(1)} KiB`);
    return 0;
  },
};

registerCommand(summaryCommand);

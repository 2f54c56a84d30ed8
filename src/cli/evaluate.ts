/** `tessera evaluate <modelDir> [--data mnist]`: loss and metrics of a saved model on held-out data. */
import { mnist } from '../data/mnist.js';
import { loadModel, readModelJson } from '../io/save.js';
import type { Tensor } from '../tensor/tensor.js';
import { type Command, intFlag, parseFlags, registerCommand, UsageError } from './command.js';

/** The MNIST test split shaped for a model's input: [N,28,28,1], [N,784] or [N,k*k] (downsampled). */
export function mnistFor(inputShape: readonly (number | null)[] | undefined): { x: Tensor; y: Tensor } {
  const dims = (inputShape ?? []).slice(1);
  if (dims.length === 3 && dims[0] === 28 && dims[1] === 28 && dims[2] === 1) {
    const d = mnist();
    return { x: d.xTest, y: d.yTest };
  }
  if (dims.length === 1 && typeof dims[0] === 'number') {
    const side = Math.round(Math.sqrt(dims[0]));
    if (side * side === dims[0] && side <= 28) {
      const d = mnist({ size: side, flatten: true });
      return { x: d.xTest, y: d.yTest };
    }
  }
  throw new UsageError(
    `tessera evaluate --data mnist: the model's input shape [${(inputShape ?? []).join(', ')}] fits no MNIST layout (expected [null, 28, 28, 1] or [null, k*k] for k <= 28)`,
  );
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'evaluate a saved model on a built-in test set',
  help: `Usage: tessera evaluate <modelDir> [--data mnist] [--batch-size N]

Loads the model and reports its compiled loss and metrics on the held-out split of the data
set (MNIST: the 2,000 fixed test digits, shaped to the model's input: [28, 28, 1], [784], or
[k*k] for a k x k downsampled model). A model saved without compile is evaluated with
sparseCategoricalCrossentropy and accuracy.`,
  async run(args) {
    const { values, positionals } = parseFlags('evaluate', args, {
      data: { type: 'string' },
      'batch-size': { type: 'string' },
    });
    if (values.help) {
      console.log(evaluateCommand.help);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`tessera evaluate expects one model folder, got ${positionals.length} arguments`);
    }
    const data = (values.data as string | undefined) ?? 'mnist';
    if (data !== 'mnist') throw new UsageError(`tessera evaluate: unknown --data '${data}', expected 'mnist'`);
    const batchSize = intFlag('evaluate', 'batch-size', values['batch-size'], 256);
    const dir = positionals[0] as string;
    const json = readModelJson(dir);
    const model = await loadModel(dir);
    if (!model.compiled) {
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    }
    const { x, y } = mnistFor(json.signature?.inputs?.[0]?.shape);
    const t0 = performance.now();
    const logs = model.evaluate(x, y, { batchSize });
    const ms = performance.now() - t0;
    const parts = Object.entries(logs).map(([k, v]) => `${k}: ${Number(v).toFixed(4)}`);
    console.log(`${dir} on ${data} test (${y.shape[0]} samples, ${ms.toFixed(0)} ms): ${parts.join(', ')}`);
    return 0;
  },
};

registerCommand(evaluateCommand);

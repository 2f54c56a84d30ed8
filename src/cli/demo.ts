/** `tessera demo`: train the seed CNN on MNIST, evaluate it, save it into a model repository. */
import { join } from 'node:path';
import { mnist } from '../data/mnist.js';
import { saveModel } from '../io/save.js';
import { setSeed } from '../tensor/random.js';
import { type Command, intFlag, parseFlags, registerCommand } from './command.js';
import { seedCnnModel } from './seed-models.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'train the seed MNIST CNN, evaluate it and save it to models/mnist-cnn/1',
  help: `Usage: tessera demo [--epochs N] [--batch-size N] [--model-repository DIR] [--seed N]

Trains the seed CNN (conv 32 -> pool -> conv 64 -> pool -> dense 64 -> dense 10) on the
8,000-digit MNIST training split with Adam, reports accuracy on the 2,000 held-out digits,
and saves the model to <model-repository>/mnist-cnn/1 (model.json + weights.safetensors).

Options:
  --epochs N              training epochs (default 10)
  --batch-size N          batch size (default 32)
  --model-repository DIR  where to save (default ./models)
  --seed N                random seed for initialisation and shuffling (default 42)
  --port N                port to serve the trained model on afterwards (default 8000)
  --serve / --no-serve    serve the model afterwards and print a curl command (default: when
                          stdout is a terminal)`,
  async run(args) {
    const { values } = parseFlags(
      'demo',
      args,
      {
        epochs: { type: 'string' },
        'batch-size': { type: 'string' },
        'model-repository': { type: 'string' },
        seed: { type: 'string' },
        port: { type: 'string' },
        serve: { type: 'boolean' },
        'no-serve': { type: 'boolean' },
      },
      false,
    );
    if (values.help) {
      console.log(demoCommand.help);
      return 0;
    }
    const epochs = intFlag('demo', 'epochs', values.epochs, 10);
    const batchSize = intFlag('demo', 'batch-size', values['batch-size'], 32);
    const seed = intFlag('demo', 'seed', values.seed, 42);
    const repo = (values['model-repository'] as string | undefined) ?? 'models';
    console.log('Loading MNIST (8,000 train / 2,000 test digits, fixed split)...');
    const { xTrain, yTrain, xTest, yTest } = mnist();
    setSeed(seed);
    const model = seedCnnModel();
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    model.summary();
    const t0 = performance.now();
    await model.fit(xTrain, yTrain, { epochs, batchSize, verbose: 1 });
    const trainS = (performance.now() - t0) / 1000;
    const result = model.evaluate(xTest, yTest, { batchSize: 256 });
    const acc = Number(result.accuracy);
    console.log(
      `Test accuracy: ${(100 * acc).toFixed(2)}% (loss ${Number(result.loss).toFixed(4)}) after ${epochs} epoch${epochs === 1 ? '' : 's'} in ${trainS.toFixed(1)} s`,
    );
    const dir = join(repo, 'mnist-cnn', '1');
    await saveModel(model, dir);
    console.log(`Saved to ${dir}/ (model.json + weights.safetensors)`);
    console.log(`Serve it with:\n  tessera serve --model-repository ${repo}`);
    if (values['no-serve'] || !(values.serve || process.stdout.isTTY)) return 0;
    const { serveDemo } = await import('../serve/demo.js');
    return serveDemo(repo, 'mnist-cnn', xTest, yTest, intFlag('demo', 'port', values.port, 8000));
  },
};

registerCommand(demoCommand);

/**
 * The Keras MNIST CNN:
 *   node --import tsx examples/seed-cnn.ts        (or: tessera train examples/seed-cnn.ts)
 * Data: the fixed 8,000 / 2,000 split of datasets.mnist (the last 20% of each digit by index is test).
 */
import { datasets, layers, sequential, setSeed } from 'tessera';

setSeed(42);
const { xTrain, yTrain, xTest, yTest } = datasets.mnist(); // [8000, 28, 28, 1] in [0, 1]

const model = sequential([
  layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
  layers.maxPooling2d({ poolSize: 2 }),
  layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
  layers.maxPooling2d({ poolSize: 2 }),
  layers.flatten(),
  layers.dense({ units: 64, activation: 'relu' }),
  layers.dense({ units: 10, activation: 'softmax' }),
]);
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
model.summary();

const t0 = performance.now();
await model.fit(xTrain, yTrain, { epochs: 10, batchSize: 32 });
const seconds = (performance.now() - t0) / 1000;

const { accuracy } = model.evaluate(xTest, yTest);
console.log(
  `Test accuracy: ${(100 * Number(accuracy)).toFixed(2)}% on ${yTest.shape[0]} held-out digits (training ${seconds.toFixed(1)} s)`,
);

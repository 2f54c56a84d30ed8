/**
 * The three-dense-layer Keras program on MNIST downsampled to 10x10 (100 features):
 *   node --import tsx examples/seed-dense.ts      (or: tessera train examples/seed-dense.ts)
 * Data: the fixed 8,000 / 2,000 split of datasets.mnist (the last 20% of each digit by index is test).
 */
import { datasets, layers, sequential, setSeed } from 'tessera';

setSeed(42);
const { xTrain, yTrain, xTest, yTest } = datasets.mnist({ size: 10 });

const model = sequential([
  layers.dense({ units: 64, activation: 'relu', inputShape: [100] }),
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

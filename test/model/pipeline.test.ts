import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineStats, randomUniform, setSeed, type Tensor, tensor } from 'tessera';
import { tensorDataset } from '../../src/data/index.js';
import { layers } from '../../src/layers/index.js';
import { callbacks, optimizers, sequential } from '../../src/model/index.js';
import { blobs } from './helpers-data.js';

test('fit over a data pipeline (tensorDataset.shuffle.batch) with validation data as a dataset', async () => {
  setSeed(1);
  const { x, y } = blobs(96, 4, 3);
  const m = sequential([
    layers.dense({ units: 12, activation: 'relu', inputShape: [4] }),
    layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  m.compile({
    optimizer: optimizers.adam({ learningRate: 0.02 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const train = tensorDataset(x, y).shuffle(96, { seed: 3 }).batch(16);
  const val = tensorDataset(x, y).batch(32);
  const h = await m.fit(train, { epochs: 15, validationData: val, verbose: 0 });
  assert.equal(h.history.val_accuracy?.length, 15);
  assert.ok((h.history.val_accuracy?.at(-1) as number) > 0.9);
});

test('stepsPerEpoch takes that many batches per epoch, continuing the dataset', async () => {
  setSeed(2);
  const { x, y } = blobs(40, 4, 2);
  const m = sequential([layers.dense({ units: 2, activation: 'softmax', inputShape: [4] })]);
  m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  const seen: number[] = [];
  await m.fit(tensorDataset(x, y).batch(10), {
    epochs: 3,
    stepsPerEpoch: 3,
    verbose: 0,
    callbacks: [{ onEpochEnd: () => void seen.push(m.optimizer.iterations) }],
  });
  assert.deepEqual(seen, [3, 6, 9]);
});

test('a small CNN (conv, pool, flatten, dense softmax) trains, and steady-state fit allocates nothing new', async () => {
  setSeed(3);
  // Class 1 images are bright in the top half, class 0 in the bottom half.
  const n = 32;
  const data = new Float32Array(n * 8 * 8);
  const labels: number[] = [];
  const noise = randomUniform([n * 64], { seed: 5 }).dataSync();
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    labels.push(c);
    for (let p = 0; p < 64; p++)
      data[i * 64 + p] = 0.3 * (noise[i * 64 + p] as number) + (p < 32 === (c === 1) ? 1 : 0);
  }
  const x = tensor(data, [n, 8, 8, 1]);
  const y = tensor(labels, [n], 'int32');
  const m = sequential([
    layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
    layers.maxPooling2d({ poolSize: 2 }),
    layers.flatten(),
    layers.dense({ units: 2, activation: 'softmax' }),
  ]);
  m.compile({
    optimizer: optimizers.adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  await m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
  const before = engineStats().freshAllocations;
  const h = await m.fit(x, y, { epochs: 10, batchSize: 8, verbose: 0, callbacks: [callbacks.terminateOnNaN()] });
  assert.equal(engineStats().freshAllocations, before);
  assert.ok((h.history.accuracy?.at(-1) as number) > 0.9, `accuracy ${h.history.accuracy?.at(-1)}`);
  const p = m.predict(x, { batchSize: 5 }) as Tensor;
  assert.deepEqual(p.shape, [32, 2]);
});

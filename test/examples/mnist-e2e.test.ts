import assert from 'node:assert/strict';
import { test } from 'node:test';
import { datasets, layers, sequential, setSeed, sliceRows, tensorDataset } from 'tessera';

test('end to end: an MLP on 2,000 real MNIST digits reaches >= 90% on 500 held-out digits', async () => {
  const t0 = performance.now();
  const { xTrain, yTrain, xTest, yTest } = datasets.mnist({ flatten: true });
  const x = sliceRows(xTrain, 0, 2000);
  const y = sliceRows(yTrain, 0, 2000);
  const xt = sliceRows(xTest, 0, 500);
  const yt = sliceRows(yTest, 0, 500);
  setSeed(7);
  const model = sequential([
    layers.dense({ units: 64, activation: 'relu', inputShape: [784] }),
    layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  // Through the Dataset pipeline, as a user would feed fit.
  const ds = tensorDataset(x, y).shuffle(2000, { seed: 1 }).batch(32);
  const history = await model.fit(ds, { epochs: 8, verbose: 0 });
  const losses = history.history.loss as number[];
  assert.ok((losses.at(-1) as number) < (losses[0] as number) / 2, `loss fell: ${losses.join(', ')}`);
  const { accuracy } = model.evaluate(xt, yt);
  assert.ok(Number(accuracy) >= 0.9, `test accuracy ${accuracy}`);
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(seconds < 30, `took ${seconds.toFixed(1)} s`);
});

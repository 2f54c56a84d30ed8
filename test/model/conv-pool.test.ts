/**
 * Sequential runs Conv2D -> MaxPooling2D as conv -> pool -> bias + relu (src/model/conv-pool.ts).
 * The functional API runs the same layers in the written order, so a functional twin with the same
 * weights is the reference: predictions must be bit-identical and one SGD step must give the same
 * weights (the bias gradient is summed in another order, so to rounding).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { randomNormal, randomUniform, setSeed, type Tensor, tensor } from 'tessera';
import { input, layers } from '../../src/layers/index.js';
import { model, optimizers, sequential } from '../../src/model/index.js';

type ConvArgs = Parameters<typeof layers.conv2d>[0];
type PoolArgs = Parameters<typeof layers.maxPooling2d>[0];

function twins(conv: ConvArgs, pool: PoolArgs, shape: [number, number, number]) {
  setSeed(3);
  const seq = sequential([
    layers.conv2d({ ...conv, inputShape: shape }),
    layers.maxPooling2d(pool),
    layers.flatten(),
    layers.dense({ units: 3 }),
  ]);
  const inp = input({ shape });
  let h = layers.conv2d(conv).apply(inp);
  h = layers.maxPooling2d(pool).apply(h);
  h = layers.flatten().apply(h);
  const fn = model({ inputs: inp, outputs: layers.dense({ units: 3 }).apply(h) });
  // non-zero biases so that the moved bias add matters, and some windows entirely negative
  fn.setWeights(seq.getWeights().map((w) => (w.rank === 1 ? randomNormal(w.shape, { seed: w.size }) : w)));
  seq.setWeights(fn.getWeights());
  return { seq, fn };
}

const close = (a: Tensor, b: Tensor, tol: number) => {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.equal(x.length, y.length);
  for (let i = 0; i < x.length; i++)
    assert.ok(
      Math.abs((x[i] as number) - (y[i] as number)) <= tol * (1 + Math.abs(y[i] as number)),
      `at ${i}: ${x[i]} vs ${y[i]}`,
    );
};

const cases: [string, ConvArgs, PoolArgs][] = [
  ['relu, bias, 2x2', { filters: 4, kernelSize: 3, activation: 'relu' }, { poolSize: 2 }],
  ['linear with bias', { filters: 3, kernelSize: 2 }, { poolSize: 2 }],
  ['relu without bias', { filters: 3, kernelSize: 3, activation: 'relu', useBias: false }, { poolSize: 2 }],
  [
    'same padding, overlapping 3x3 stride 2',
    { filters: 5, kernelSize: 3, activation: 'relu', padding: 'same' },
    { poolSize: 3, strides: 2, padding: 'same' },
  ],
  ['tanh (not reordered)', { filters: 2, kernelSize: 3, activation: 'tanh' }, { poolSize: 2 }],
];

describe('Sequential Conv2D -> MaxPooling2D reordering', () => {
  for (const [name, conv, pool] of cases) {
    test(`${name}: same predictions and the same training step as the written order`, () => {
      const { seq, fn } = twins(conv, pool, [9, 8, 2]);
      const x = randomUniform([5, 9, 8, 2], { minval: -1, maxval: 1, seed: 11 });
      assert.deepEqual((seq.predict(x) as Tensor).dataSync(), (fn.predict(x) as Tensor).dataSync());
      const y = tensor([0, 1, 2, 1, 0], [5], 'int32');
      for (const m of [seq, fn])
        m.compile({ optimizer: optimizers.sgd({ learningRate: 0.5 }), loss: 'sparseCategoricalCrossentropy' });
      const l1 = seq.trainOnBatch(x, y);
      const l2 = fn.trainOnBatch(x, y);
      assert.deepEqual(l1, l2);
      const ws = seq.getWeights();
      const wf = fn.getWeights();
      for (let i = 0; i < ws.length; i++) close(ws[i] as Tensor, wf[i] as Tensor, 1e-6);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arange, gradients, ones, reshape, sum, type Tensor, tensor } from 'tessera';
import {
  AveragePooling1D,
  AveragePooling2D,
  GlobalAveragePooling1D,
  GlobalAveragePooling2D,
  GlobalMaxPooling1D,
  GlobalMaxPooling2D,
  layerFromConfig,
  layers,
  MaxPooling1D,
  MaxPooling2D,
} from '../../src/layers/index.js';
import { assertClose } from '../helpers/gradcheck.js';

function roundTrip(layer: { className: string; getConfig(): Record<string, unknown> }): Record<string, unknown> {
  const config = JSON.parse(JSON.stringify(layer.getConfig()));
  const back = layerFromConfig(layer.className, { ...config, name: `${config.name}_copy` });
  assert.deepEqual({ ...back.getConfig(), name: config.name }, config);
  return config;
}

const x44 = reshape(arange(16), [1, 4, 4, 1]);

describe('2-D pooling', () => {
  test('MaxPooling2D: poolSize default 2, strides default poolSize', () => {
    const p = layers.maxPooling2d();
    assert.deepEqual(p.poolSize, [2, 2]);
    assert.deepEqual(p.strides, [2, 2]);
    const y = p.apply(x44) as Tensor;
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    assertClose(y.dataSync(), [5, 7, 13, 15]);
    assert.deepEqual(p.computeOutputShape([null, 28, 28, 3]), [null, 14, 14, 3]);
    assert.match(p.name, /^max_pooling2d(_\d+)?$/);
  });

  test('AveragePooling2D values; "same" padding averages only the valid cells', () => {
    const p = new AveragePooling2D({ poolSize: [2, 2] });
    assertClose((p.apply(x44) as Tensor).dataSync(), [2.5, 4.5, 10.5, 12.5]);
    const s = new AveragePooling2D({ poolSize: 2, padding: 'same' });
    const x = reshape(arange(9), [1, 3, 3, 1]);
    const y = s.apply(x) as Tensor;
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    assertClose(y.dataSync(), [2, 3.5, 6.5, 8]);
    assert.deepEqual(s.computeOutputShape([null, 3, 3, 1]), [null, 2, 2, 1]);
    const cfg = roundTrip(new MaxPooling2D({ poolSize: 3, strides: 1, padding: 'same' }));
    assert.deepEqual(cfg.poolSize, [3, 3]);
    assert.deepEqual(cfg.strides, [1, 1]);
  });

  test('gradient of max pooling routes to the maxima', () => {
    const x = reshape(arange(16), [1, 4, 4, 1]);
    x.requiresGrad = true;
    const [g] = gradients(sum(new MaxPooling2D().apply(x) as Tensor), [x]);
    assertClose(g!.dataSync(), [0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1]);
  });

  test('rank errors name the layer', () => {
    const p = new MaxPooling2D();
    assert.throws(
      () => p.apply(ones([4, 4, 1])),
      new RegExp(`${p.name} expected input of rank 4 \\[batch, height, width, channels\\], got \\[4, 4, 1\\]`),
    );
  });
});

describe('1-D pooling', () => {
  test('MaxPooling1D / AveragePooling1D over the steps', () => {
    const x = tensor([1, 5, 2, 4, 3, 0], [1, 6, 1]);
    assertClose((new MaxPooling1D().apply(x) as Tensor).dataSync(), [5, 4, 3]);
    assertClose((new AveragePooling1D({ poolSize: 3 }).apply(x) as Tensor).dataSync(), [8 / 3, 7 / 3]);
    assert.deepEqual(new MaxPooling1D({ poolSize: 2, strides: 1 }).computeOutputShape([null, 6, 4]), [null, 5, 4]);
    assert.equal(roundTrip(new AveragePooling1D({ poolSize: 3 })).padding, 'valid');
  });
});

describe('global pooling', () => {
  test('GlobalAveragePooling2D / GlobalMaxPooling2D with and without keepdims', () => {
    const x = tensor([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const avg = new GlobalAveragePooling2D();
    const y = avg.apply(x) as Tensor;
    assert.deepEqual(y.shape, [1, 2]);
    assertClose(y.dataSync(), [2.5, 25]);
    assertClose((new GlobalMaxPooling2D().apply(x) as Tensor).dataSync(), [4, 40]);
    const k = new GlobalAveragePooling2D({ keepdims: true });
    assert.deepEqual((k.apply(x) as Tensor).shape, [1, 1, 1, 2]);
    assert.deepEqual(k.computeOutputShape([null, 7, 7, 64]), [null, 1, 1, 64]);
    assert.deepEqual(avg.computeOutputShape([null, null, null, 64]), [null, 64]);
    assert.equal(roundTrip(k).keepdims, true);
    assert.match(avg.name, /^global_average_pooling2d(_\d+)?$/);
  });

  test('GlobalAveragePooling1D / GlobalMaxPooling1D over steps; gradient of the mean', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 3, 2]);
    x.requiresGrad = true;
    const y = new GlobalAveragePooling1D().apply(x) as Tensor;
    assertClose(y.dataSync(), [3, 4]);
    assertClose((new GlobalMaxPooling1D().apply(x) as Tensor).dataSync(), [5, 6]);
    const [g] = gradients(sum(y), [x]);
    assertClose(g!.dataSync(), [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3]);
  });
});

test('GlobalAveragePooling1D averages only the unmasked steps (Keras masking)', () => {
  const pool = new GlobalAveragePooling1D();
  // batch 2, steps 3, channels 1; row 0 masks its last step, row 1 masks all steps
  const x = tensor([
    [[1], [3], [100]],
    [[5], [7], [9]],
  ]);
  const mask = tensor(
    [
      [true, true, false],
      [false, false, false],
    ],
    [2, 3],
    'bool',
  );
  const out = pool.apply(x, { mask }) as Tensor;
  assert.deepEqual(Array.from(out.dataSync()), [2, 0]);
  const unmasked = pool.apply(x) as Tensor;
  assert.deepEqual(Array.from(unmasked.dataSync()), [104 / 3, 7].map(Math.fround));
});

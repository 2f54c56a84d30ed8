import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arange, gradients, ones, reshape, sum, type Tensor, tensor } from 'tessera';
import {
  Conv1D,
  Conv2D,
  DepthwiseConv2D,
  layerFromConfig,
  layers,
  type SymbolicTensor,
} from '../../src/layers/index.js';
import { assertClose } from '../helpers/gradcheck.js';

function roundTrip(layer: { className: string; getConfig(): Record<string, unknown> }): Record<string, unknown> {
  const config = JSON.parse(JSON.stringify(layer.getConfig()));
  const back = layerFromConfig(layer.className, { ...config, name: `${config.name}_copy` });
  assert.deepEqual({ ...back.getConfig(), name: config.name }, config);
  return config;
}

describe('Conv2D', () => {
  test('kernel [kh, kw, in, filters]; "same" keeps the spatial size, strides halve it', () => {
    const c = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [6, 6, 2] });
    const y = c.apply(ones([2, 6, 6, 2])) as Tensor;
    assert.deepEqual(y.shape, [2, 6, 6, 4]);
    assert.deepEqual(c.kernel!.shape, [3, 3, 2, 4]);
    assert.deepEqual(c.bias!.shape, [4]);
    assert.equal(c.kernel!.name, `${c.name}/kernel`);
    const s = new Conv2D({ filters: 1, kernelSize: [3, 3], strides: 2, padding: 'same' });
    assert.deepEqual((s.apply(ones([1, 7, 7, 1])) as Tensor).shape, [1, 4, 4, 1]);
    const v = new Conv2D({ filters: 1, kernelSize: [3, 2] });
    assert.deepEqual((v.apply(ones([1, 5, 5, 1])) as Tensor).shape, [1, 3, 4, 1]);
    assert.deepEqual(v.computeOutputShape([null, 5, 5, 1]), [null, 3, 4, 1]);
    assert.deepEqual(s.computeOutputShape([null, 7, null, 1]), [null, 4, null, 1]);
  });

  test('hand-worked values: a 2x2 kernel of ones plus bias sums each window', () => {
    const c = new Conv2D({ filters: 1, kernelSize: 2, activation: 'relu' });
    c.apply(ones([1, 3, 3, 1]));
    c.setWeights([ones([2, 2, 1, 1]), tensor([-10])]);
    const x = reshape(arange(9), [1, 3, 3, 1]);
    const y = c.apply(x) as Tensor;
    // windows: 0+1+3+4=8, 1+2+4+5=12, 3+4+6+7=20, 4+5+7+8=24; minus 10, relu.
    assertClose(y.dataSync(), [0, 2, 10, 14]);
  });

  test('gradients flow to kernel and bias', () => {
    const c = new Conv2D({ filters: 2, kernelSize: 2 });
    const x = reshape(arange(9), [1, 3, 3, 1]);
    const loss = sum(c.apply(x) as Tensor);
    const [gk, gb] = gradients(loss, [c.kernel!, c.bias!]);
    // d sum / d k[i, j] = sum of the inputs that tap (i, j) sees over the 4 windows.
    assertClose(gk!.dataSync(), [8, 8, 12, 12, 20, 20, 24, 24]);
    assertClose(gb!.dataSync(), [4, 4]);
  });

  test('channel mismatch throws a ShapeError naming the layer; bad options throw ValueError', () => {
    const c = new Conv2D({ filters: 1, kernelSize: 1 });
    c.apply(ones([1, 4, 4, 3]));
    assert.throws(
      () => c.apply(ones([1, 4, 4, 2])),
      new RegExp(`^ShapeError: ${c.name} expected input \\[\\*, \\*, \\*, 3\\], got \\[1, 4, 4, 2\\]`),
    );
    assert.equal((c.apply(ones([1, 8, 2, 3])) as Tensor).shape[1], 8);
    assert.throws(
      () => new Conv2D({ filters: 1, kernelSize: 3, padding: 'causal' }),
      /expected padding 'valid' or 'same', got "causal"/,
    );
    assert.throws(
      () => new Conv2D({ filters: 1, kernelSize: [3] }),
      /expected kernelSize to be a positive integer or an array of 2/,
    );
    assert.throws(
      () => new Conv2D({ filters: 1, kernelSize: 3, dataFormat: 'channels_first' as never }),
      /channels_last/,
    );
  });

  test('config round-trips', () => {
    const c = new Conv2D({
      filters: 8,
      kernelSize: [3, 3],
      strides: [2, 2],
      padding: 'same',
      activation: 'relu',
      kernelRegularizer: 'l2',
    });
    const cfg = roundTrip(c);
    assert.deepEqual(cfg.kernelSize, [3, 3]);
    assert.deepEqual(cfg.strides, [2, 2]);
    assert.equal(cfg.padding, 'same');
    assert.deepEqual(cfg.dilationRate, [1, 1]);
    assert.equal(cfg.filters, 8);
    assert.match(c.name, /^conv2d(_\d+)?$/);
  });
});

describe('Conv1D', () => {
  test('kernel [k, in, filters]; causal padding only looks back', () => {
    const c = new Conv1D({ filters: 1, kernelSize: 2, padding: 'causal', useBias: false });
    c.apply(ones([1, 4, 1]));
    assert.deepEqual(c.kernel!.shape, [2, 1, 1]);
    c.setWeights([tensor([1, 10], [2, 1, 1])]);
    const y = c.apply(tensor([1, 2, 3, 4], [1, 4, 1])) as Tensor;
    // y[t] = 1 * x[t-1] + 10 * x[t], x[-1] = 0.
    assertClose(y.dataSync(), [10, 21, 32, 43]);
    const d = new Conv1D({ filters: 3, kernelSize: 3, dilationRate: 2 });
    assert.deepEqual((d.apply(ones([2, 10, 4])) as Tensor).shape, [2, 6, 3]);
    assert.deepEqual(d.computeOutputShape([null, 10, 4]), [null, 6, 3]);
    assert.match(c.name, /^conv1d(_\d+)?$/);
    assert.equal(roundTrip(c).padding, 'causal');
  });
});

describe('DepthwiseConv2D and SeparableConv2D', () => {
  test('depthwise_kernel [kh, kw, in, multiplier] and per-channel values', () => {
    const d = new DepthwiseConv2D({ kernelSize: 1, depthMultiplier: 2 });
    d.apply(ones([1, 2, 2, 2]));
    assert.deepEqual(
      d.weights.map((w) => [w.name.split('/')[1], w.shape]),
      [
        ['depthwise_kernel', [1, 1, 2, 2]],
        ['bias', [4]],
      ],
    );
    d.setWeights([tensor([1, 2, 3, 4], [1, 1, 2, 2]), tensor([0, 0, 0, 1])]);
    const y = d.apply(tensor([1, 10, 1, 10, 1, 10, 1, 10], [1, 2, 2, 2])) as Tensor;
    assert.deepEqual(y.shape, [1, 2, 2, 4]);
    assertClose(Array.from(y.dataSync()).slice(0, 4), [1, 2, 30, 41]);
    assert.deepEqual(d.computeOutputShape([null, 5, 5, 2]), [null, 5, 5, 4]);
    assert.match(d.name, /^depthwise_conv2d(_\d+)?$/);
    assert.equal(roundTrip(d).depthMultiplier, 2);
  });

  test('separable: depthwise then pointwise; weight order and shapes like Keras', () => {
    const s = layers.separableConv2d({ filters: 3, kernelSize: 3, padding: 'same' });
    const y = s.apply(ones([1, 4, 4, 2])) as Tensor;
    assert.deepEqual(y.shape, [1, 4, 4, 3]);
    assert.deepEqual(
      s.weights.map((w) => [w.name.split('/')[1], w.shape]),
      [
        ['depthwise_kernel', [3, 3, 2, 1]],
        ['pointwise_kernel', [1, 1, 2, 3]],
        ['bias', [3]],
      ],
    );
    s.setWeights([ones([3, 3, 2, 1]), tensor([1, 0, 0, 0, 1, 0], [1, 1, 2, 3]), tensor([0, 0, 0.5])]);
    const z = (s.apply(ones([1, 3, 3, 2])) as Tensor).toArray() as number[][][][];
    // Centre pixel: each channel's 3x3 sum is 9; pointwise picks channel 0, channel 1, nothing.
    assertClose(z[0]![1]![1]!, [9, 9, 0.5]);
    assert.deepEqual(s.computeOutputShape([null, 4, 4, 2]), [null, 4, 4, 3]);
    const loss = sum(s.apply(ones([1, 3, 3, 2])) as Tensor);
    const grads = gradients(loss, s.trainableWeights);
    assert.ok(grads.every((g) => g !== null && Array.from(g.dataSync()).some((v) => v !== 0)));
    assert.match(s.name, /^separable_conv2d(_\d+)?$/);
    assert.equal(roundTrip(s).filters, 3);
  });

  test('symbolic shapes through a small conv stack', () => {
    const x = layers.input({ shape: [28, 28, 1] });
    const h = layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu' }).apply(x) as SymbolicTensor;
    assert.deepEqual(h.shape, [null, 26, 26, 8]);
    const p = layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }).apply(h) as SymbolicTensor;
    assert.deepEqual(p.shape, [null, 13, 13, 8]);
  });
});

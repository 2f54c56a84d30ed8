import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { add, gradients, mean, mul, randomNormal, rsqrt, sub, sum, type Tensor, tensor, variance } from 'tessera';
import { BatchNormalization, LayerNormalization, layerFromConfig, layers } from '../../src/layers/index.js';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

function roundTrip(layer: { className: string; getConfig(): Record<string, unknown> }): Record<string, unknown> {
  const config = JSON.parse(JSON.stringify(layer.getConfig()));
  const back = layerFromConfig(layer.className, { ...config, name: `${config.name}_copy` });
  assert.deepEqual({ ...back.getConfig(), name: config.name }, config);
  return config;
}

/** Reference normalisation from broadcast ops: (x - mean) * rsqrt(var + eps) * gamma + beta. */
function reference(x: Tensor, axes: number[], eps: number, gamma: Tensor, beta: Tensor, bshape: number[]): Tensor {
  const mu = mean(x, { axis: axes, keepDims: true });
  const v = variance(x, { axis: axes, keepDims: true });
  const xhat = mul(sub(x, mu), rsqrt(add(v, eps)));
  return add(mul(xhat, gamma.reshape(bshape)), beta.reshape(bshape));
}

describe('BatchNormalization', () => {
  test('weights gamma, beta, moving_mean, moving_variance in Keras order; moving stats non-trainable', () => {
    const bn = layers.batchNormalization();
    bn.apply(tensor([[1, 2, 3]]));
    assert.deepEqual(
      bn.weights.map((w) => w.name.split('/')[1]),
      ['gamma', 'beta', 'moving_mean', 'moving_variance'],
    );
    assert.deepEqual(
      bn.trainableWeights.map((w) => w.name.split('/')[1]),
      ['gamma', 'beta'],
    );
    assert.deepEqual(
      bn.nonTrainableWeights.map((w) => w.name.split('/')[1]),
      ['moving_mean', 'moving_variance'],
    );
    assert.equal(bn.momentum, 0.99);
    assert.equal(bn.epsilon, 1e-3);
    assert.match(bn.name, /^batch_normalization(_\d+)?$/);
  });

  test('training uses batch statistics and updates the moving ones; inference uses moving statistics', () => {
    const bn = new BatchNormalization({ momentum: 0.9, epsilon: 1e-3 });
    const x = tensor([
      [1, 10],
      [3, 20],
      [5, 60],
    ]);
    const y = bn.apply(x, { training: true }) as Tensor;
    // Column 0: mean 3, biased var 8/3; column 1: mean 30, var 1400/3.
    const r0 = 1 / Math.sqrt(8 / 3 + 1e-3);
    const r1 = 1 / Math.sqrt(1400 / 3 + 1e-3);
    assertClose(y.dataSync(), [-2 * r0, -20 * r1, 0, -10 * r1, 2 * r0, 30 * r1], 1e-5);
    assertClose(bn.movingMean!.dataSync(), [0.1 * 3, 0.1 * 30], 1e-5);
    assertClose(bn.movingVariance!.dataSync(), [0.9 + 0.1 * (8 / 3), 0.9 + 0.1 * (1400 / 3)], 1e-5);
    // Inference: (x - movingMean) / sqrt(movingVar + eps) * gamma + beta, and no stat update.
    bn.setWeights([tensor([2, 1]), tensor([1, 0]), tensor([1, 2]), tensor([3, 4])]);
    const z = bn.apply(tensor([[4, 6]])) as Tensor;
    assertClose(z.dataSync(), [(2 * 3) / Math.sqrt(3.001) + 1, 4 / Math.sqrt(4.001)], 1e-5);
    assertClose(bn.movingMean!.dataSync(), [1, 2]);
  });

  test('matches the broadcast-op reference on a 4-D input (axis -1) in value and gradient', () => {
    const bn = new BatchNormalization();
    const x = randomNormal([2, 3, 3, 4], { seed: 1, mean: 2, stddev: 3 });
    bn.apply(x);
    bn.setWeights([tensor([1, 2, 0.5, -1]), tensor([0, 1, -1, 0.5]), tensor([0, 0, 0, 0]), tensor([1, 1, 1, 1])]);
    const w = randomNormal([2, 3, 3, 4], { seed: 2 });
    const y = bn.apply(x, { training: true }) as Tensor;
    const g = bn.gamma!;
    const b = bn.beta!;
    const ref = reference(x, [0, 1, 2], 1e-3, g, b, [1, 1, 1, 4]);
    assertClose(y.dataSync(), ref.dataSync(), 1e-4);
    const [gg, gb] = gradients(sum(mul(y, w)), [g, b]);
    const [rg, rb] = gradients(sum(mul(ref, w)), [g, b]);
    assertClose(gg!.dataSync(), rg!.dataSync(), 1e-3);
    assertClose(gb!.dataSync(), rb!.dataSync(), 1e-4);
  });

  test('a frozen layer (trainable = false) uses the moving statistics even in training and does not update them', () => {
    const bn = new BatchNormalization();
    const x = tensor([
      [1, 2],
      [3, 6],
    ]);
    bn.apply(x);
    bn.trainable = false;
    const y = bn.apply(x, { training: true }) as Tensor;
    const r = 1 / Math.sqrt(1 + 1e-3);
    assertClose(y.dataSync(), [r, 2 * r, 3 * r, 6 * r], 1e-5);
    assertClose(bn.movingMean!.dataSync(), [0, 0]);
    assert.equal(bn.trainableWeights.length, 0);
  });

  test('finite-difference gradient w.r.t. the input (training and inference; axis 1 of NCHW-like input)', () => {
    const train = new BatchNormalization({ axis: 1 });
    const x = randomNormal([3, 2, 2], { seed: 3 });
    train.apply(x);
    train.setWeights([tensor([1.5, -0.5]), tensor([0.1, 0.2]), tensor([0.3, -0.2]), tensor([2, 0.5])]);
    gradCheck((t) => train.apply(t, { training: true }) as Tensor, [x]);
    gradCheck((t) => train.apply(t) as Tensor, [x]);
  });

  test('center / scale false drop beta / gamma; bad axis and shape errors name the layer', () => {
    const bn = new BatchNormalization({ center: false, scale: false });
    bn.apply(tensor([[1, 2]]));
    assert.deepEqual(
      bn.weights.map((w) => w.name.split('/')[1]),
      ['moving_mean', 'moving_variance'],
    );
    assert.throws(
      () => bn.apply(tensor([[1, 2, 3]])),
      new RegExp(`${bn.name} expected input of rank 2 with 2 channels on axis -1, got \\[1, 3\\]`),
    );
    assert.throws(() => new BatchNormalization({ axis: [1, 2] }), /supports a single integer axis/);
    const cfg = roundTrip(new BatchNormalization({ momentum: 0.9, axis: 1, gammaRegularizer: 'l2' }));
    assert.equal(cfg.momentum, 0.9);
    assert.equal(cfg.axis, 1);
    assert.deepEqual(cfg.movingVarianceInitializer, { className: 'Ones', config: {} });
  });
});

describe('LayerNormalization', () => {
  test('normalises each row over the last axis (hand-worked)', () => {
    const ln = new LayerNormalization({ epsilon: 1e-3 });
    const y = ln.apply(
      tensor([
        [1, 2, 3],
        [2, 2, 8],
      ]),
    ) as Tensor;
    const r0 = 1 / Math.sqrt(2 / 3 + 1e-3);
    const r1 = 1 / Math.sqrt(8 + 1e-3);
    assertClose(y.dataSync(), [-r0, 0, r0, -2 * r1, -2 * r1, 4 * r1], 1e-5);
    assert.deepEqual(ln.gamma!.shape, [3]);
    assert.deepEqual(
      ln.weights.map((w) => w.name.split('/')[1]),
      ['gamma', 'beta'],
    );
    assert.match(ln.name, /^layer_normalization(_\d+)?$/);
  });

  test('fused path matches the broadcast-op reference on [batch, time, features], values and gradients', () => {
    const ln = new LayerNormalization();
    const x = randomNormal([2, 3, 5], { seed: 4, mean: 1, stddev: 2 });
    ln.apply(x);
    ln.setWeights([tensor([1, 2, 0.5, -1, 3]), tensor([0, 1, -1, 0.5, 0.2])]);
    const w = randomNormal([2, 3, 5], { seed: 5 });
    const y = ln.apply(x) as Tensor;
    const ref = reference(x, [2], 1e-3, ln.gamma!, ln.beta!, [1, 1, 5]);
    assertClose(y.dataSync(), ref.dataSync(), 1e-4);
    const [gg, gb] = gradients(sum(mul(y, w)), [ln.gamma!, ln.beta!]);
    const [rg, rb] = gradients(sum(mul(ref, w)), [ln.gamma!, ln.beta!]);
    assertClose(gg!.dataSync(), rg!.dataSync(), 1e-4);
    assertClose(gb!.dataSync(), rb!.dataSync(), 1e-4);
    gradCheck((t) => ln.apply(t) as Tensor, [x]);
  });

  test('multiple trailing axes and a non-trailing axis (broadcast path) agree with the reference', () => {
    const x = randomNormal([2, 3, 4], { seed: 6 });
    const trailing = new LayerNormalization({ axis: [1, 2] });
    const y = trailing.apply(x) as Tensor;
    assert.deepEqual(trailing.gamma!.shape, [3, 4]);
    assertClose(y.dataSync(), reference(x, [1, 2], 1e-3, trailing.gamma!, trailing.beta!, [1, 3, 4]).dataSync(), 1e-4);
    const middle = new LayerNormalization({ axis: 1, epsilon: 1e-5 });
    const z = middle.apply(x) as Tensor;
    assertClose(z.dataSync(), reference(x, [1], 1e-5, middle.gamma!, middle.beta!, [1, 3, 1]).dataSync(), 1e-4);
    gradCheck((t) => middle.apply(t) as Tensor, [x]);
  });

  test('center / scale false; shape errors; config round-trip', () => {
    const ln = new LayerNormalization({ center: false, scale: false });
    const y = ln.apply(tensor([[0, 2]])) as Tensor;
    assertClose(y.dataSync(), [-1 / Math.sqrt(1 + 1e-3), 1 / Math.sqrt(1 + 1e-3)], 1e-5);
    assert.equal(ln.weights.length, 0);
    assert.throws(
      () => ln.apply(tensor([[0, 2, 3]])),
      new RegExp(`${ln.name} expected input of rank 2 with sizes \\[2\\] on axes \\[1\\], got \\[1, 3\\]`),
    );
    const cfg = roundTrip(new LayerNormalization({ axis: [1, 2], epsilon: 1e-6 }));
    assert.deepEqual(cfg.axis, [1, 2]);
    assert.equal(cfg.epsilon, 1e-6);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gradients, mean, ones, sum, type Tensor, tensor } from 'tessera';
import {
  Activation,
  Dense,
  Dropout,
  Flatten,
  getActivation,
  InputLayer,
  input,
  layerFromConfig,
  layers,
  Permute,
  RepeatVector,
  Reshape,
  SymbolicTensor,
} from '../../src/layers/index.js';
import { assertClose } from '../helpers/gradcheck.js';

function roundTrip<T extends { className: string; getConfig(): Record<string, unknown> }>(
  layer: T,
): Record<string, unknown> {
  const config = JSON.parse(JSON.stringify(layer.getConfig()));
  const back = layerFromConfig(layer.className, { ...config, name: `${config.name}_copy` });
  const again = back.getConfig();
  assert.deepEqual({ ...again, name: config.name }, config);
  return config;
}

function denseWithWeights(): Dense {
  const d = new Dense({ units: 2, inputShape: [3] });
  d.apply(ones([1, 3]));
  d.setWeights([
    tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]),
    tensor([0.5, -1]),
  ]);
  return d;
}

describe('Dense', () => {
  test('x·kernel + bias on hand-worked values; kernel [in, units], bias [units]', () => {
    const d = denseWithWeights();
    assert.deepEqual(d.kernel!.shape, [3, 2]);
    assert.deepEqual(d.bias!.shape, [2]);
    assert.equal(d.kernel!.name, `${d.name}/kernel`);
    assert.equal(d.bias!.name, `${d.name}/bias`);
    const y = d.apply(
      tensor([
        [1, 0, -1],
        [2, 1, 0],
      ]),
    ) as Tensor;
    assert.deepEqual(y.shape, [2, 2]);
    assertClose(y.dataSync(), [1 - 5 + 0.5, 2 - 6 - 1, 2 + 3 + 0.5, 4 + 4 - 1]);
    assert.equal(d.countParams(), 8);
  });

  test('activation is applied; any-rank input uses the last axis', () => {
    const d = new Dense({ units: 2, activation: 'relu', inputShape: [3] });
    d.apply(ones([1, 3]));
    d.setWeights([
      tensor([
        [1, -1],
        [1, -1],
        [1, -1],
      ]),
      tensor([0, 0]),
    ]);
    const y = d.apply(tensor([1, 2, 3, -1, -2, -3, 0, 1, 0, 4, 4, 4], [2, 2, 3])) as Tensor;
    assert.deepEqual(y.shape, [2, 2, 2]);
    assertClose(y.dataSync(), [6, 0, 0, 6, 1, 0, 12, 0]);
  });

  test('a wrong input size throws ShapeError naming the layer, built and received shapes', () => {
    const d = new Dense({ units: 4, inputShape: [100] });
    d.apply(ones([2, 100]));
    assert.throws(
      () => d.apply(ones([32, 99])),
      (e: Error) => e.name === 'ShapeError' && e.message === `${d.name} expected input [*, 100], got [32, 99]`,
    );
    assert.throws(() => new Dense({ units: 0 }), /expected units to be a positive integer, got 0/);
  });

  test('gradients flow to kernel and bias', () => {
    const d = denseWithWeights();
    const x = tensor([
      [1, 0, -1],
      [2, 1, 0],
    ]);
    const loss = sum(d.apply(x) as Tensor);
    const [gk, gb] = gradients(loss, [d.kernel!, d.bias!]);
    // d sum / d kernel[i, j] = sum_b x[b, i]; d / d bias = batch size.
    assertClose(gk!.dataSync(), [3, 3, 1, 1, -1, -1]);
    assertClose(gb!.dataSync(), [2, 2]);
  });

  test('useBias false, inputDim shortcut, activity regularizer recorded in training', () => {
    const d = new Dense({ units: 3, useBias: false, inputDim: 2, activityRegularizer: 'l1' });
    assert.deepEqual(d.batchInputShape, [null, 2]);
    d.apply(ones([1, 2]));
    assert.equal(d.weights.length, 1);
    d.setWeights([
      tensor([
        [1, 1, 1],
        [1, 1, 1],
      ]),
    ]);
    d.apply(ones([2, 2]), { training: true });
    assertClose([d.activityLoss!.item()], [0.01 * 12]);
  });

  test('config round-trips through layerFromConfig with Keras-like fields', () => {
    const d = new Dense({
      units: 5,
      activation: 'hardSigmoid',
      kernelInitializer: 'he_normal',
      kernelRegularizer: 'l2',
      inputShape: [4],
    });
    const c = roundTrip(d);
    assert.equal(c.units, 5);
    assert.equal(c.activation, 'hard_sigmoid');
    assert.equal(c.useBias, true);
    assert.deepEqual(c.kernelInitializer, { className: 'HeNormal', config: { seed: null } });
    assert.deepEqual(c.biasInitializer, { className: 'Zeros', config: {} });
    assert.deepEqual(c.kernelRegularizer, { className: 'L2', config: { l2: 0.01 } });
    assert.deepEqual(c.batchInputShape, [null, 4]);
  });

  test('default names are unique Keras-style', () => {
    const a = new Dense({ units: 1 });
    const b = new Dense({ units: 1 });
    const m = /^dense(?:_(\d+))?$/.exec(a.name);
    assert.ok(m, a.name);
    const n = m[1] === undefined ? 0 : Number(m[1]);
    assert.equal(b.name, `dense_${n + 1}`);
    assert.equal(new Dense({ units: 1, name: 'head' }).name, 'head');
  });
});

describe('input and InputLayer', () => {
  test('input() gives a symbolic tensor from an InputLayer; layers compute output shapes symbolically', () => {
    const x = input({ shape: [28, 28, 1], name: 'pixels' });
    assert.ok(x instanceof SymbolicTensor);
    assert.deepEqual(x.shape, [null, 28, 28, 1]);
    assert.ok(x.sourceLayer instanceof InputLayer);
    assert.equal(x.sourceLayer.name, 'pixels');
    const f = layers.flatten().apply(x) as SymbolicTensor;
    assert.deepEqual(f.shape, [null, 784]);
    const y = layers.dense({ units: 10 }).apply(f) as SymbolicTensor;
    assert.deepEqual(y.shape, [null, 10]);
    assert.equal(y.inputs[0], f);
    assert.deepEqual(input({ shape: [3], batchSize: 8 }).shape, [8, 3]);
  });

  test('InputLayer config round-trips; missing shape throws', () => {
    const l = new InputLayer({ inputShape: [5] });
    assert.match(l.name, /^input_layer/);
    const c = roundTrip(l);
    assert.deepEqual(c.batchInputShape, [null, 5]);
    assert.throws(() => new InputLayer({}), /expected inputShape, batchInputShape or batchShape/);
  });
});

describe('activations', () => {
  test('getActivation maps Keras names (and camelCase) to the ops', () => {
    const x = tensor([-2, 0, 3]);
    assertClose(getActivation('relu')(x).dataSync(), [0, 0, 3]);
    assertClose(getActivation('linear')(x).dataSync(), [-2, 0, 3]);
    assertClose(getActivation(null)(x).dataSync(), [-2, 0, 3]);
    assertClose(getActivation('relu6')(tensor([7])).dataSync(), [6]);
    assertClose(getActivation('sigmoid')(tensor([0])).dataSync(), [0.5]);
    assertClose(getActivation('tanh')(tensor([0.5])).dataSync(), [Math.tanh(0.5)]);
    assertClose(getActivation('softmax')(tensor([[0, Math.log(3)]])).dataSync(), [0.25, 0.75]);
    assertClose(getActivation('log_softmax')(tensor([[0, 0]])).dataSync(), [Math.log(0.5), Math.log(0.5)]);
    assertClose(getActivation('swish')(tensor([1])).dataSync(), [1 / (1 + Math.exp(-1))]);
    assertClose(getActivation('silu')(tensor([1])).dataSync(), [1 / (1 + Math.exp(-1))]);
    assertClose(getActivation('elu')(tensor([-1])).dataSync(), [Math.exp(-1) - 1]);
    assertClose(getActivation('softplus')(tensor([0])).dataSync(), [Math.log(2)]);
    assertClose(getActivation('softsign')(tensor([1])).dataSync(), [0.5]);
    assertClose(getActivation('hard_sigmoid')(tensor([0])).dataSync(), [0.5]);
    assertClose(getActivation('hardSigmoid')(tensor([6])).dataSync(), [1]);
    assertClose(getActivation('leaky_relu')(tensor([-1])).dataSync(), [-0.2]);
    assertClose(getActivation('gelu')(tensor([1])).dataSync(), [0.8413447], 1e-5);
    assertClose(getActivation('selu')(tensor([1])).dataSync(), [1.0507009873554805], 1e-5);
    assert.equal(getActivation('leakyRelu').activationName, 'leaky_relu');
    assert.throws(() => getActivation('relu7'), /unknown activation "relu7"/);
  });

  test('Activation layer applies it and round-trips', () => {
    const a = new Activation({ activation: 'relu' });
    assertClose((a.apply(tensor([[-1, 1]])) as Tensor).dataSync(), [0, 1]);
    assert.equal(roundTrip(a).activation, 'relu');
  });
});

describe('Dropout', () => {
  test('identity in inference; drops and rescales in training', () => {
    const d = new Dropout({ rate: 0.5, seed: 3 });
    const x = ones([1000]);
    assert.equal(d.apply(x), x);
    const y = (d.apply(x, { training: true }) as Tensor).dataSync();
    let zeros = 0;
    for (const v of y) {
      if (v === 0) zeros++;
      else assert.equal(v, 2);
    }
    assert.ok(zeros > 400 && zeros < 600, `${zeros} zeros`);
  });

  test('seeded: reproducible mask sequences that change from step to step', () => {
    const a = new Dropout({ rate: 0.3, seed: 11 });
    const b = new Dropout({ rate: 0.3, seed: 11 });
    const x = ones([64]);
    const a1 = Array.from((a.apply(x, { training: true }) as Tensor).dataSync());
    const a2 = Array.from((a.apply(x, { training: true }) as Tensor).dataSync());
    const b1 = Array.from((b.apply(x, { training: true }) as Tensor).dataSync());
    assert.deepEqual(a1, b1);
    assert.notDeepEqual(a1, a2);
  });

  test('noiseShape broadcasts the mask; rate is validated; config round-trips', () => {
    const d = new Dropout({ rate: 0.5, noiseShape: [null, 1], seed: 1 });
    const y = (d.apply(ones([8, 4]), { training: true }) as Tensor).toArray() as number[][];
    for (const row of y) assert.ok(row.every((v) => v === row[0]));
    assert.throws(() => new Dropout({ rate: 1 }), /expected rate in \[0, 1\), got 1/);
    const c = roundTrip(d);
    assert.deepEqual(c.noiseShape, [null, 1]);
    assert.equal(c.rate, 0.5);
  });

  test('gradient flows through the kept elements only', () => {
    const d = new Dropout({ rate: 0.5, seed: 5 });
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8]);
    x.requiresGrad = true;
    const y = d.apply(x, { training: true }) as Tensor;
    const [g] = gradients(sum(y), [x]);
    const yd = y.dataSync();
    const gd = g!.dataSync();
    for (let i = 0; i < 8; i++) assert.equal(gd[i], yd[i] === 0 ? 0 : 2);
  });
});

describe('Flatten, Reshape, Permute, RepeatVector', () => {
  test('Flatten keeps the batch dim', () => {
    const f = new Flatten();
    const y = f.apply(tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2])) as Tensor;
    assert.deepEqual(y.shape, [2, 4]);
    assertClose(y.dataSync(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(f.computeOutputShape([null, 3, 4, 5]), [null, 60]);
    assert.deepEqual(f.computeOutputShape([null, null, 5]), [null, null]);
  });

  test('Reshape infers -1, checks sizes, round-trips', () => {
    const r = new Reshape({ targetShape: [2, -1] });
    const y = r.apply(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 6])) as Tensor;
    assert.deepEqual(y.shape, [2, 2, 3]);
    assert.deepEqual(r.computeOutputShape([null, 6]), [null, 2, 3]);
    assert.throws(
      () => new Reshape({ targetShape: [4] }).apply(ones([2, 6])),
      /cannot reshape input \[2, 6\] \(6 values per sample\) to targetShape \[4\]/,
    );
    assert.throws(() => new Reshape({ targetShape: [-1, -1] }), /at most one -1/);
    assert.deepEqual(roundTrip(r).targetShape, [2, -1]);
  });

  test('Permute uses 1-based dims and moves values', () => {
    const p = new Permute({ dims: [2, 1] });
    const y = p.apply(tensor([1, 2, 3, 4, 5, 6], [1, 2, 3])) as Tensor;
    assert.deepEqual(y.shape, [1, 3, 2]);
    assertClose(y.dataSync(), [1, 4, 2, 5, 3, 6]);
    assert.deepEqual(p.computeOutputShape([null, 2, 3]), [null, 3, 2]);
    assert.throws(() => new Permute({ dims: [0, 1] }), /permutation of 1\.\.2/);
    assert.deepEqual(roundTrip(p).dims, [2, 1]);
  });

  test('RepeatVector repeats along a new time axis, gradient sums back', () => {
    const r = new RepeatVector({ n: 3 });
    const x = tensor([[1, 2]]);
    x.requiresGrad = true;
    const y = r.apply(x) as Tensor;
    assert.deepEqual(y.shape, [1, 3, 2]);
    assertClose(y.dataSync(), [1, 2, 1, 2, 1, 2]);
    const [g] = gradients(mean(y), [x]);
    assertClose(g!.dataSync(), [0.5, 0.5]);
    assert.equal(roundTrip(r).n, 3);
  });
});

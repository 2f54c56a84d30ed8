import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { arange, gradients, ones, reshape, sum, type Tensor, tensor } from 'tessera';
import {
  Add,
  Average,
  Concatenate,
  Cropping2D,
  layerFromConfig,
  layers,
  Maximum,
  Minimum,
  Multiply,
  Subtract,
  type SymbolicTensor,
  UpSampling2D,
  ZeroPadding2D,
} from '../../src/layers/index.js';
import { assertClose } from '../helpers/gradcheck.js';

function roundTrip(layer: { className: string; getConfig(): Record<string, unknown> }): Record<string, unknown> {
  const config = JSON.parse(JSON.stringify(layer.getConfig()));
  const back = layerFromConfig(layer.className, { ...config, name: `${config.name}_copy` });
  assert.deepEqual({ ...back.getConfig(), name: config.name }, config);
  return config;
}

describe('ZeroPadding2D', () => {
  test('int, [h, w] and [[t, b], [l, r]] paddings', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    const p1 = new ZeroPadding2D();
    assert.deepEqual((p1.apply(x) as Tensor).shape, [1, 4, 4, 1]);
    const p2 = new ZeroPadding2D({
      padding: [
        [1, 0],
        [0, 2],
      ],
    });
    const y = p2.apply(x) as Tensor;
    assert.deepEqual(y.shape, [1, 3, 4, 1]);
    assertClose(y.dataSync(), [0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0]);
    const p3 = new ZeroPadding2D({ padding: [2, 1] });
    assert.deepEqual(p3.computeOutputShape([null, 5, 6, 3]), [null, 9, 8, 3]);
    assert.deepEqual(roundTrip(p2).padding, [
      [1, 0],
      [0, 2],
    ]);
    assert.match(p1.name, /^zero_padding2d(_\d+)?$/);
    assert.throws(() => new ZeroPadding2D({ padding: -1 }), /expected padding to be a non-negative integer/);
  });
});

describe('UpSampling2D', () => {
  test('nearest-neighbour repeat of rows and columns; gradient sums over each block', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    x.requiresGrad = true;
    const u = new UpSampling2D({ size: [2, 3] });
    const y = u.apply(x) as Tensor;
    assert.deepEqual(y.shape, [1, 4, 6, 1]);
    const rows = y.toArray() as number[][][][];
    assert.deepEqual(
      rows[0]!.map((r) => r.map((c) => c[0])),
      [
        [1, 1, 1, 2, 2, 2],
        [1, 1, 1, 2, 2, 2],
        [3, 3, 3, 4, 4, 4],
        [3, 3, 3, 4, 4, 4],
      ],
    );
    const [g] = gradients(sum(y), [x]);
    assertClose(g!.dataSync(), [6, 6, 6, 6]);
    assert.deepEqual(u.computeOutputShape([null, 7, null, 2]), [null, 14, null, 2]);
    assert.deepEqual(roundTrip(u).size, [2, 3]);
    assert.throws(() => new UpSampling2D({ interpolation: 'bilinear' as never }), /expected interpolation 'nearest'/);
  });
});

describe('Cropping2D', () => {
  test('crops [[t, b], [l, r]] off the edges', () => {
    const x = reshape(arange(16), [1, 4, 4, 1]);
    const c = new Cropping2D({
      cropping: [
        [1, 0],
        [1, 2],
      ],
    });
    const y = c.apply(x) as Tensor;
    assert.deepEqual(y.shape, [1, 3, 1, 1]);
    assertClose(y.dataSync(), [5, 9, 13]);
    assert.deepEqual(c.computeOutputShape([null, 4, 4, 1]), [null, 3, 1, 1]);
    assert.throws(() => new Cropping2D({ cropping: 2 }).apply(x), /leaves nothing of input/);
  });
});

describe('merge layers', () => {
  const a = tensor([
    [1, -2],
    [3, 4],
  ]);
  const b = tensor([
    [5, 6],
    [-7, 8],
  ]);
  const c = tensor([
    [0, 1],
    [1, 0],
  ]);

  test('Add, Subtract, Multiply, Average, Maximum, Minimum values', () => {
    assertClose((new Add().apply([a, b, c]) as Tensor).dataSync(), [6, 5, -3, 12]);
    assertClose((new Subtract().apply([a, b]) as Tensor).dataSync(), [-4, -8, 10, -4]);
    assertClose((new Multiply().apply([a, b]) as Tensor).dataSync(), [5, -12, -21, 32]);
    assertClose((new Average().apply([a, b]) as Tensor).dataSync(), [3, 2, -2, 6]);
    assertClose((new Maximum().apply([a, b, c]) as Tensor).dataSync(), [5, 6, 3, 8]);
    assertClose((new Minimum().apply([a, b]) as Tensor).dataSync(), [1, -2, -7, 4]);
    assert.ok(new Add().multiInput);
  });

  test('input counts are validated; gradients flow to every input', () => {
    const s = new Subtract();
    assert.throws(() => s.apply([a, b, c]), new RegExp(`${s.name} expected 2 input tensors, got 3`));
    assert.throws(() => new Add().apply([a]), /expected at least 2 input tensors, got 1/);
    const x = tensor([1, 2]);
    const y = tensor([3, 4]);
    x.requiresGrad = true;
    y.requiresGrad = true;
    const [gx, gy] = gradients(sum(new Multiply().apply([x, y]) as Tensor), [x, y]);
    assertClose(gx!.dataSync(), [3, 4]);
    assertClose(gy!.dataSync(), [1, 2]);
  });

  test('Concatenate along the last axis (default) or a given one', () => {
    const y = new Concatenate().apply([a, ones([2, 1])]) as Tensor;
    assert.deepEqual(y.shape, [2, 3]);
    assertClose(y.dataSync(), [1, -2, 1, 3, 4, 1]);
    const z = layers.concatenate({ axis: 0 }).apply([a, b]) as Tensor;
    assert.deepEqual(z.shape, [4, 2]);
    const cat = new Concatenate({ axis: 1 });
    assert.throws(
      () => cat.apply([a, ones([3, 1])]),
      /expected inputs matching except on axis 1, got \[2, 2\], \[3, 1\]/,
    );
    assert.equal(roundTrip(cat).axis, 1);
  });

  test('symbolic shapes (broadcast with unknown batch; concatenation sums the axis)', () => {
    const x = layers.input({ shape: [4, 8] });
    const y = layers.input({ shape: [4, 3] });
    const cat = layers.concatenate().apply([x, y]) as SymbolicTensor;
    assert.deepEqual(cat.shape, [null, 4, 11]);
    const sumT = layers.add().apply([x, layers.input({ shape: [1, 8] })]) as SymbolicTensor;
    assert.deepEqual(sumT.shape, [null, 4, 8]);
    assert.equal(sumT.inputs.length, 2);
    assert.throws(() => layers.add().apply([x, y]), /incompatible shapes/);
    assert.match(new Concatenate().name, /^concatenate(_\d+)?$/);
  });
});

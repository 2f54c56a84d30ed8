import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  conv1d,
  conv2d,
  conv2dTranspose,
  convOutputLength,
  depthwiseConv2d,
  randomUniform,
  ShapeError,
  separableConv2d,
  type Tensor,
  tensor,
  ValueError,
} from 'tessera';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

/** x[0, i, j, 0] = 4i + j + 1 (1..16), filter [[1, 2], [3, 4]]: a valid output cell is 40i + 10j + 44. */
const x44 = () =>
  tensor(
    Array.from({ length: 16 }, (_, i) => i + 1),
    [1, 4, 4, 1],
  );
const w22 = () => tensor([1, 2, 3, 4], [2, 2, 1, 1]);
const rand = (shape: number[], seed: number) => randomUniform(shape, { minval: -1, maxval: 1, seed });

function dot(a: Tensor, b: Tensor): number {
  const ad = a.dataSync();
  const bd = b.dataSync();
  let s = 0;
  for (let i = 0; i < ad.length; i++) s += (ad[i] as number) * (bd[i] as number);
  return s;
}

describe('conv2d', () => {
  it('valid, stride 1 (hand-worked)', () => {
    const y = conv2d(x44(), w22());
    assert.deepEqual(y.shape, [1, 3, 3, 1]);
    assertClose(y.dataSync(), [44, 54, 64, 84, 94, 104, 124, 134, 144]);
  });

  it('same, stride 1 pads bottom/right (TF convention)', () => {
    const y = conv2d(x44(), w22(), { padding: 'same' });
    assert.deepEqual(y.shape, [1, 4, 4, 1]);
    assertClose(y.dataSync(), [44, 54, 64, 28, 84, 94, 104, 44, 124, 134, 144, 60, 41, 44, 47, 16]);
  });

  it('stride 2, valid and same', () => {
    assertClose(conv2d(x44(), w22(), { strides: 2 }).dataSync(), [44, 64, 124, 144]);
    assertClose(conv2d(x44(), w22(), { strides: [2, 2], padding: 'same' }).dataSync(), [44, 64, 124, 144]);
    const y = conv2d(x44(), w22(), { strides: [1, 2] });
    assert.deepEqual(y.shape, [1, 3, 2, 1]);
    assertClose(y.dataSync(), [44, 64, 84, 104, 124, 144]);
  });

  it('dilation 2 (and the Keras dilationRate spelling)', () => {
    const y = conv2d(x44(), w22(), { dilation: 2 });
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    assertClose(y.dataSync(), [78, 88, 118, 128]);
    assertClose(conv2d(x44(), w22(), { dilationRate: [2, 2] }).dataSync(), [78, 88, 118, 128]);
  });

  it('several channels in and out', () => {
    // x [1,1,1,2] = [1, 2]; w [1,1,2,3]: out[oc] = 1*w[0,oc] + 2*w[1,oc]
    const y = conv2d(tensor([1, 2], [1, 1, 1, 2]), tensor([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]));
    assert.deepEqual(y.shape, [1, 1, 1, 3]);
    assertClose(y.dataSync(), [9, 12, 15]);
  });

  it('rank-3 x is one image', () => {
    const y = conv2d(x44().view([4, 4, 1]), w22());
    assert.deepEqual(y.shape, [3, 3, 1]);
    assertClose(y.dataSync(), [44, 54, 64, 84, 94, 104, 124, 134, 144]);
  });

  it('output shapes for odd sizes', () => {
    const x = rand([2, 5, 7, 2], 1);
    const w = rand([3, 3, 2, 4], 2);
    assert.deepEqual(conv2d(x, w).shape, [2, 3, 5, 4]);
    assert.deepEqual(conv2d(x, w, { padding: 'same' }).shape, [2, 5, 7, 4]);
    assert.deepEqual(conv2d(x, w, { strides: 2 }).shape, [2, 2, 3, 4]);
    assert.deepEqual(conv2d(x, w, { strides: 2, padding: 'same' }).shape, [2, 3, 4, 4]);
    assert.deepEqual(conv2d(x, w, { dilation: 2 }).shape, [2, 1, 3, 4]);
    assert.deepEqual(conv2d(x, w, { strides: [2, 3], padding: 'same' }).shape, [2, 3, 3, 4]);
    assert.equal(convOutputLength(28, 3, { padding: 'same', stride: 2 }), 14);
    assert.equal(convOutputLength(28, 3), 26);
    assert.equal(convOutputLength(28, 3, { dilation: 2, stride: 2 }), 12);
  });

  it('chainable method', () => {
    assertClose(x44().conv2d(w22(), { strides: 2 }).dataSync(), [44, 64, 124, 144]);
  });

  it('validates shapes and options', () => {
    const x = rand([8, 28, 28, 1], 3);
    assert.throws(
      () => conv2d(x, rand([3, 3, 3, 32], 4)),
      (e: unknown) =>
        e instanceof ShapeError &&
        e.message ===
          'conv2d expected filter.shape[2] (3) to equal x channels (1), got filter [3, 3, 3, 32] for x [8, 28, 28, 1]',
    );
    assert.throws(() => conv2d(rand([28, 28], 5), w22()), {
      name: 'ShapeError',
      message: /conv2d expected x of rank 4.*\[28, 28\]/,
    });
    assert.throws(() => conv2d(x, rand([3, 3, 1], 5)), { name: 'ShapeError', message: /filter of rank 4/ });
    assert.throws(() => conv2d(x44(), w22(), { strides: 0 }), { name: 'ValueError', message: /strides.*got 0/ });
    assert.throws(() => conv2d(x44(), w22(), { strides: 1.5 }), ValueError);
    assert.throws(() => conv2d(x44(), w22(), { dilation: [1, -1] }), { name: 'ValueError', message: /dilation/ });
    assert.throws(() => conv2d(x44(), w22(), { padding: 'full' as 'same' }), {
      name: 'ValueError',
      message: /padding 'valid' or 'same', got "full"/,
    });
    assert.throws(() => conv2d(x44(), rand([5, 5, 1, 1], 6)), { name: 'ValueError', message: /empty output \[0, 0\]/ });
    assert.throws(() => conv2d(x44(), w22(), { dilation: 4 }), ValueError);
  });

  it('gradients: valid, stride 1', () => {
    gradCheck((x, w) => conv2d(x, w), [rand([2, 5, 5, 3], 10), rand([3, 3, 3, 2], 11)]);
  });

  it('gradients: same, stride 2', () => {
    gradCheck(
      (x, w) => conv2d(x, w, { strides: 2, padding: 'same' }),
      [rand([2, 5, 5, 3], 12), rand([3, 3, 3, 2], 13)],
    );
  });

  it('gradients: same, dilation 2, non-square', () => {
    gradCheck(
      (x, w) => conv2d(x, w, { dilation: [2, 1], padding: 'same', strides: [1, 2] }),
      [rand([1, 5, 6, 2], 14), rand([2, 3, 2, 3], 15)],
    );
  });

  it('only computes gradients for inputs that need them', () => {
    // a filter-only gradient (x a constant) and an x-only gradient both check out
    const x = rand([1, 4, 4, 2], 16);
    const w = rand([2, 2, 2, 2], 17);
    gradCheck((w2) => conv2d(x, w2, { padding: 'same' }), [w]);
    gradCheck((x2) => conv2d(x2, w, { padding: 'same' }), [x]);
  });
});

describe('conv1d', () => {
  const seq = () => tensor([1, 2, 3, 4], [1, 4, 1]);
  const k2 = () => tensor([1, 10], [2, 1, 1]);

  it('valid, same and causal (hand-worked)', () => {
    assertClose(conv1d(seq(), k2()).dataSync(), [21, 32, 43]);
    assertClose(conv1d(seq(), k2(), { padding: 'same' }).dataSync(), [21, 32, 43, 4]);
    const c = conv1d(seq(), k2(), { padding: 'causal' });
    assert.deepEqual(c.shape, [1, 4, 1]);
    assertClose(c.dataSync(), [10, 21, 32, 43]);
    assertClose(conv1d(seq(), k2(), { padding: 'causal', dilation: 2 }).dataSync(), [10, 20, 31, 42]);
  });

  it('same with stride 2 pads at the end (TF convention)', () => {
    const y = conv1d(tensor([1, 2, 3, 4, 5], [1, 5, 1]), k2(), { strides: 2, padding: 'same' });
    assert.deepEqual(y.shape, [1, 3, 1]);
    assertClose(y.dataSync(), [21, 43, 5]);
  });

  it('rank-2 x, shapes, errors', () => {
    assert.deepEqual(conv1d(tensor([1, 2, 3, 4], [4, 1]), k2()).shape, [3, 1]);
    assert.deepEqual(conv1d(rand([2, 9, 3], 1), rand([3, 3, 5], 2), { strides: 2 }).shape, [2, 4, 5]);
    assert.throws(() => conv1d(seq(), tensor([1, 2], [1, 2, 1])), {
      name: 'ShapeError',
      message: /filter.shape\[1\] \(2\)/,
    });
    assert.throws(() => conv1d(seq(), k2(), { strides: [1, 2] as unknown as number }), ValueError);
    assert.throws(() => conv1d(rand([1, 2, 3, 4], 3), k2()), ShapeError);
  });

  it('gradients (valid, causal dilated)', () => {
    gradCheck((x, w) => conv1d(x, w), [rand([2, 7, 3], 20), rand([3, 3, 2], 21)]);
    gradCheck(
      (x, w) => conv1d(x, w, { padding: 'causal', dilation: 2, strides: 2 }),
      [rand([2, 7, 3], 22), rand([2, 3, 2], 23)],
    );
  });
});

describe('depthwiseConv2d', () => {
  it('hand-worked, multiplier 2', () => {
    // x (NHWC): (0,0)=[1,10] (0,1)=[2,20] (1,0)=[3,30] (1,1)=[4,40]
    const x = tensor([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    // per tap [c0m0, c0m1, c1m0, c1m1]
    const w = tensor([1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1], [2, 2, 2, 2]);
    const y = depthwiseConv2d(x, w);
    assert.deepEqual(y.shape, [1, 1, 1, 4]);
    assertClose(y.dataSync(), [10, 1, 100, 40]);
  });

  it('equals conv2d per channel', () => {
    const x = rand([1, 4, 4, 1], 30);
    const w = rand([3, 3, 1, 1], 31);
    assertClose(
      depthwiseConv2d(x, w, { padding: 'same' }).dataSync(),
      conv2d(x, w, { padding: 'same' }).dataSync(),
      1e-5,
    );
  });

  it('shapes and errors', () => {
    assert.deepEqual(
      depthwiseConv2d(rand([2, 5, 5, 3], 1), rand([3, 3, 3, 2], 2), { strides: 2, padding: 'same' }).shape,
      [2, 3, 3, 6],
    );
    assert.throws(() => depthwiseConv2d(rand([2, 5, 5, 3], 1), rand([3, 3, 2, 2], 2)), {
      name: 'ShapeError',
      message: /depthwiseConv2d expected filter.shape\[2\] \(2\) to equal x channels \(3\)/,
    });
  });

  it('gradients', () => {
    gradCheck((x, w) => depthwiseConv2d(x, w), [rand([2, 5, 5, 3], 40), rand([3, 3, 3, 2], 41)]);
    gradCheck(
      (x, w) => depthwiseConv2d(x, w, { strides: 2, padding: 'same', dilation: 1 }),
      [rand([1, 5, 5, 2], 42), rand([2, 2, 2, 1], 43)],
    );
  });
});

describe('separableConv2d', () => {
  it('is depthwise then pointwise', () => {
    const x = rand([1, 5, 5, 2], 50);
    const dw = rand([3, 3, 2, 2], 51);
    const pw = rand([1, 1, 4, 3], 52);
    const y = separableConv2d(x, dw, pw, { padding: 'same' });
    assert.deepEqual(y.shape, [1, 5, 5, 3]);
    assertClose(y.dataSync(), conv2d(depthwiseConv2d(x, dw, { padding: 'same' }), pw).dataSync(), 1e-5);
    assert.throws(() => separableConv2d(x, dw, rand([1, 1, 3, 3], 53)), {
      name: 'ShapeError',
      message: /\[1, 1, 4, outChannels\]/,
    });
  });

  it('gradients', () => {
    gradCheck(
      (x, d, p) => separableConv2d(x, d, p),
      [rand([1, 4, 4, 2], 54), rand([2, 2, 2, 1], 55), rand([1, 1, 2, 2], 56)],
    );
  });
});

describe('conv2dTranspose', () => {
  it('stride 2, 2x2 ones filter spreads each input over a block', () => {
    const y = conv2dTranspose(tensor([1, 2, 3, 4], [1, 2, 2, 1]), tensor([1, 1, 1, 1], [2, 2, 1, 1]), { strides: 2 });
    assert.deepEqual(y.shape, [1, 4, 4, 1]);
    assertClose(y.dataSync(), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('output shapes (Keras lengths)', () => {
    const x = rand([2, 3, 4, 5], 60);
    const w = rand([3, 3, 2, 5], 61);
    assert.deepEqual(conv2dTranspose(x, w).shape, [2, 5, 6, 2]);
    assert.deepEqual(conv2dTranspose(x, w, { strides: 2 }).shape, [2, 7, 9, 2]);
    assert.deepEqual(conv2dTranspose(x, w, { strides: 2, padding: 'same' }).shape, [2, 6, 8, 2]);
    assert.deepEqual(conv2dTranspose(x, w, { strides: 2, padding: 'same', outputSize: [5, 7] }).shape, [2, 5, 7, 2]);
    assert.throws(() => conv2dTranspose(x, w, { strides: 2, padding: 'same', outputSize: [9, 9] }), ValueError);
    assert.throws(() => conv2dTranspose(x, rand([3, 3, 5, 2], 62)), {
      name: 'ShapeError',
      message: /filter.shape\[3\] \(2\)/,
    });
  });

  it('is the adjoint of conv2d', () => {
    const x = rand([2, 7, 6, 3], 63);
    const w = rand([3, 3, 3, 4], 64);
    for (const opts of [
      {},
      { strides: 2 },
      { strides: 2, padding: 'same' as const },
      { dilation: 2, padding: 'same' as const },
    ]) {
      const y = conv2d(x, w, opts);
      const v = rand([...y.shape], 65);
      const t = conv2dTranspose(v, w, { ...opts, outputSize: [7, 6] });
      assert.deepEqual(t.shape, x.shape);
      const lhs = dot(y, v);
      const rhs = dot(x, t);
      assert.ok(Math.abs(lhs - rhs) <= 1e-3 * Math.max(1, Math.abs(lhs)), `${JSON.stringify(opts)}: ${lhs} vs ${rhs}`);
    }
  });

  it('gradients', () => {
    gradCheck(
      (x, w) => conv2dTranspose(x, w, { strides: 2, padding: 'same' }),
      [rand([1, 3, 3, 2], 66), rand([3, 3, 2, 2], 67)],
    );
    gradCheck((x, w) => conv2dTranspose(x, w), [rand([2, 2, 3, 2], 68), rand([2, 2, 3, 2], 69)]);
  });
});

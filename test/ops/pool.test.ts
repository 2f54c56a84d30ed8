import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  avgPool1d,
  avgPool2d,
  grad,
  maxPool1d,
  maxPool2d,
  Random,
  sum,
  type Tensor,
  tensor,
  ValueError,
} from 'tessera';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

const x33 = () => tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);

/** Distinct values 0.1 apart in a seeded random order, so no window has a near-tie (finite differences stay valid). */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  new Random(seed).shuffle(v);
  return tensor(v, shape);
}

describe('maxPool2d', () => {
  it('valid and same (hand-worked)', () => {
    const v = maxPool2d(x33(), { poolSize: 2 });
    assert.deepEqual(v.shape, [1, 1, 1, 1]);
    assertClose(v.dataSync(), [5]);
    const s = maxPool2d(x33(), { poolSize: 2, padding: 'same' });
    assert.deepEqual(s.shape, [1, 2, 2, 1]);
    assertClose(s.dataSync(), [5, 6, 8, 9]);
    const s1 = maxPool2d(x33(), { poolSize: 2, strides: 1, padding: 'same' });
    assert.deepEqual(s1.shape, [1, 3, 3, 1]);
    assertClose(s1.dataSync(), [5, 6, 6, 8, 9, 9, 8, 9, 9]);
    assertClose(maxPool2d(x33(), { poolSize: 2, strides: 1 }).dataSync(), [5, 6, 8, 9]);
  });

  it('padding never wins a max of negative values', () => {
    const neg = tensor([-1, -2, -3, -4, -5, -6, -7, -8, -9], [1, 3, 3, 1]);
    assertClose(maxPool2d(neg, { poolSize: 2, padding: 'same' }).dataSync(), [-1, -3, -7, -9]);
  });

  it('channels pass through; [h, w] sizes; rank-3 x', () => {
    // two channels: c1 = -c0
    const x = tensor([1, -1, 2, -2, 3, -3, 4, -4], [1, 2, 2, 2]);
    assertClose(maxPool2d(x, { poolSize: 2 }).dataSync(), [4, -1]);
    const r = maxPool2d(tensor([1, 5, 2, 6, 3, 7, 4, 8], [2, 4, 1]), { poolSize: [1, 2] });
    assert.deepEqual(r.shape, [2, 2, 1]);
    assertClose(r.dataSync(), [5, 6, 7, 8]);
  });

  it('output shapes for odd sizes', () => {
    const x = distinct([2, 7, 5, 3], 1);
    assert.deepEqual(maxPool2d(x, { poolSize: 2 }).shape, [2, 3, 2, 3]);
    assert.deepEqual(maxPool2d(x, { poolSize: 2, padding: 'same' }).shape, [2, 4, 3, 3]);
    assert.deepEqual(maxPool2d(x, { poolSize: 3, strides: 2 }).shape, [2, 3, 2, 3]);
    assert.deepEqual(maxPool2d(x, { poolSize: [3, 2], strides: [1, 2], padding: 'same' }).shape, [2, 7, 3, 3]);
  });

  it('gradient goes to the argmax (first max on ties)', () => {
    const g = grad((x) => sum(maxPool2d(x, { poolSize: 2 })))(tensor([1, 2, 3, 4], [1, 2, 2, 1]));
    assertClose(g.dataSync(), [0, 0, 0, 1]);
    const tie = grad((x) => sum(maxPool2d(x, { poolSize: 2 })))(tensor([7, 7, 7, 7], [1, 2, 2, 1]));
    assertClose(tie.dataSync(), [1, 0, 0, 0]);
    // overlapping windows accumulate
    const over = grad((x) => sum(maxPool2d(x, { poolSize: 2, strides: 1, padding: 'same' })))(x33());
    assertClose(over.dataSync(), [0, 0, 0, 0, 1, 2, 0, 2, 4]);
  });

  it('validates options', () => {
    assert.throws(() => maxPool2d(tensor([1, 2, 3], [3]), { poolSize: 2 }), {
      name: 'ShapeError',
      message: /maxPool2d expected x of rank 4.*\[3\]/,
    });
    assert.throws(() => maxPool2d(x33(), { poolSize: 0 }), { name: 'ValueError', message: /poolSize.*got 0/ });
    assert.throws(() => maxPool2d(x33(), { poolSize: 2, strides: [1] as unknown as number }), ValueError);
    assert.throws(() => maxPool2d(x33(), { poolSize: 2, padding: 'causal' as 'same' }), {
      name: 'ValueError',
      message: /padding 'valid' or 'same'/,
    });
    assert.throws(() => maxPool2d(x33(), { poolSize: 4 }), { name: 'ValueError', message: /empty output/ });
    assert.throws(() => maxPool2d(x33(), undefined as never), { name: 'ValueError', message: /poolSize/ });
  });

  it('chainable', () => {
    assertClose(x33().maxPool2d({ poolSize: 2, padding: 'same' }).dataSync(), [5, 6, 8, 9]);
  });

  it('gradients (finite differences)', () => {
    gradCheck((x) => maxPool2d(x, { poolSize: 2 }), [distinct([2, 5, 5, 3], 2)]);
    gradCheck((x) => maxPool2d(x, { poolSize: 3, strides: 2, padding: 'same' }), [distinct([2, 5, 4, 2], 3)]);
  });
});

describe('avgPool2d', () => {
  it('valid and same divide by the valid cells only', () => {
    assertClose(avgPool2d(x33(), { poolSize: 2 }).dataSync(), [3]);
    assertClose(avgPool2d(x33(), { poolSize: 2, padding: 'same' }).dataSync(), [3, 4.5, 7.5, 9]);
    assertClose(
      avgPool2d(x33(), { poolSize: 3, strides: 1, padding: 'same' }).dataSync(),
      [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7],
    );
  });

  it('gradient spreads dy / count', () => {
    const g = grad((x) => sum(avgPool2d(x, { poolSize: 2, padding: 'same' })))(x33());
    assertClose(g.dataSync(), [0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
  });

  it('gradients (finite differences)', () => {
    gradCheck((x) => avgPool2d(x, { poolSize: 2 }), [distinct([2, 5, 5, 3], 4)]);
    gradCheck((x) => avgPool2d(x, { poolSize: [3, 2], strides: [2, 1], padding: 'same' }), [distinct([1, 5, 4, 2], 5)]);
  });
});

describe('maxPool1d / avgPool1d', () => {
  const seq = () => tensor([1, 3, 2, 5, 4], [1, 5, 1]);

  it('hand-worked valid and same', () => {
    assertClose(maxPool1d(seq(), { poolSize: 2 }).dataSync(), [3, 5]);
    assertClose(avgPool1d(seq(), { poolSize: 2 }).dataSync(), [2, 3.5]);
    const m = maxPool1d(seq(), { poolSize: 2, padding: 'same' });
    assert.deepEqual(m.shape, [1, 3, 1]);
    assertClose(m.dataSync(), [3, 5, 4]);
    assertClose(avgPool1d(seq(), { poolSize: 2, padding: 'same' }).dataSync(), [2, 3.5, 4]);
    assertClose(maxPool1d(seq(), { poolSize: 3, strides: 1 }).dataSync(), [3, 5, 5]);
    assert.deepEqual(maxPool1d(tensor([1, 3, 2, 5, 4], [5, 1]), { poolSize: 2 }).shape, [2, 1]);
  });

  it('validates', () => {
    assert.throws(() => maxPool1d(x33(), { poolSize: 2 }), {
      name: 'ShapeError',
      message: /maxPool1d expected x of rank 3/,
    });
    assert.throws(() => avgPool1d(seq(), { poolSize: [2, 2] as unknown as number }), {
      name: 'ValueError',
      message: /avgPool1d expected poolSize to be a positive integer/,
    });
  });

  it('gradients', () => {
    gradCheck((x) => maxPool1d(x, { poolSize: 2, padding: 'same' }), [distinct([2, 7, 3], 6)]);
    gradCheck((x) => avgPool1d(x, { poolSize: 3, strides: 2 }), [distinct([2, 7, 3], 7)]);
  });
});

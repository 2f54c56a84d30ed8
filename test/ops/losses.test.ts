import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DTypeError,
  grad,
  grads,
  randomUniform,
  ShapeError,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  sparseSoftmaxCrossEntropy,
  tensor,
  ValueError,
} from 'tessera';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

// logits [[1, 2, 3], [1, 1, 1]], labels [2, 0]
// row 0: lse = 3 + log(1 + e^-1 + e^-2), loss = lse - 3; row 1: loss = log 3
const L0 = Math.log(1 + Math.exp(-1) + Math.exp(-2));
const L1 = Math.log(3);
const logits23 = () => tensor([1, 2, 3, 1, 1, 1], [2, 3]);
const labels2 = () => tensor([2, 0], [2], 'int32');
const S0 = 1 + Math.exp(-1) + Math.exp(-2);
const softmax0 = [Math.exp(-2) / S0, Math.exp(-1) / S0, 1 / S0];

describe('sparseSoftmaxCrossEntropy', () => {
  it('mean over the batch (hand-worked 2x3)', () => {
    const loss = sparseSoftmaxCrossEntropy(labels2(), logits23());
    assert.deepEqual(loss.shape, []);
    assertClose([loss.item()], [(L0 + L1) / 2], 1e-6);
  });

  it("reductions 'none' and 'sum'", () => {
    const none = sparseSoftmaxCrossEntropy(labels2(), logits23(), { reduction: 'none' });
    assert.deepEqual(none.shape, [2]);
    assertClose(none.dataSync(), [L0, L1], 1e-6);
    assertClose([sparseSoftmaxCrossEntropy(labels2(), logits23(), { reduction: 'sum' }).item()], [L0 + L1], 1e-6);
    assert.throws(() => sparseSoftmaxCrossEntropy(labels2(), logits23(), { reduction: 'avg' as 'sum' }), {
      name: 'ValueError',
      message: /reduction 'none', 'mean' or 'sum', got "avg"/,
    });
  });

  it('gradient is (softmax - onehot) / N', () => {
    const g = grad((z) => sparseSoftmaxCrossEntropy(labels2(), z))(logits23());
    assert.deepEqual(g.shape, [2, 3]);
    const third = 1 / 3;
    assertClose(
      g.dataSync(),
      [softmax0[0]! / 2, softmax0[1]! / 2, (softmax0[2]! - 1) / 2, (third - 1) / 2, third / 2, third / 2],
      1e-6,
    );
  });

  it('labels [N, 1] and rank-3 logits [..., classes]', () => {
    const l = sparseSoftmaxCrossEntropy(tensor([2, 0], [2, 1], 'int32'), logits23());
    assertClose([l.item()], [(L0 + L1) / 2], 1e-6);
    const z = tensor([1, 2, 3, 1, 1, 1, 1, 2, 3, 1, 1, 1], [2, 2, 3]);
    const y = tensor([2, 0, 2, 0], [2, 2], 'int32');
    const none = sparseSoftmaxCrossEntropy(y, z, { reduction: 'none' });
    assert.deepEqual(none.shape, [2, 2]);
    assertClose(none.dataSync(), [L0, L1, L0, L1], 1e-6);
    assertClose([sparseSoftmaxCrossEntropy(y, z).item()], [(L0 + L1) / 2], 1e-6);
    assert.deepEqual(grad((t) => sparseSoftmaxCrossEntropy(y, t))(z).shape, [2, 2, 3]);
  });

  it('stable for huge logits', () => {
    const z = tensor([1e4, 0, -1e4, -1e4, 1e4, 0], [2, 3]);
    const y = tensor([0, 0], [2], 'int32');
    const none = sparseSoftmaxCrossEntropy(y, z, { reduction: 'none' });
    assertClose(none.dataSync(), [0, 2e4], 1e-6);
    const g = grad((t) => sparseSoftmaxCrossEntropy(y, t))(z);
    for (const v of g.dataSync()) assert.ok(Number.isFinite(v), `gradient ${v} is not finite`);
    assertClose(g.dataSync(), [0, 0, 0, -0.5, 0.5, 0], 1e-6);
  });

  it('validates labels', () => {
    assert.throws(() => sparseSoftmaxCrossEntropy(tensor([2, 0]), logits23()), {
      name: 'DTypeError',
      message: /sparseSoftmaxCrossEntropy expected int32 labels, got float32/,
    });
    assert.throws(
      () => sparseSoftmaxCrossEntropy(tensor([0, 3], [2], 'int32'), logits23()),
      (e: unknown) => e instanceof ValueError && /label 3 at index 1.*\[0, 3\)/.test(e.message),
    );
    assert.throws(() => sparseSoftmaxCrossEntropy(tensor([-1, 0], [2], 'int32'), logits23()), {
      name: 'ValueError',
      message: /label -1/,
    });
    assert.throws(() => sparseSoftmaxCrossEntropy(tensor([0, 1, 2], [3], 'int32'), logits23()), {
      name: 'ShapeError',
      message: /expected labels of shape \[2\].*got \[3\]/,
    });
    assert.throws(() => sparseSoftmaxCrossEntropy(tensor(0, [], 'int32'), tensor(1)), ShapeError);
  });

  it('gradients (finite differences), mean and none', () => {
    const z = randomUniform([4, 5], { minval: -2, maxval: 2, seed: 1 });
    const y = tensor([0, 4, 2, 2], [4], 'int32');
    gradCheck((t) => sparseSoftmaxCrossEntropy(y, t), [z]);
    gradCheck((t) => sparseSoftmaxCrossEntropy(y, t, { reduction: 'none' }), [z]);
    gradCheck((t) => sparseSoftmaxCrossEntropy(y, t, { reduction: 'sum' }), [z]);
  });
});

describe('softmaxCrossEntropy', () => {
  const onehot = () => tensor([0, 0, 1, 1, 0, 0], [2, 3]);

  it('one-hot labels match the sparse loss', () => {
    assertClose([softmaxCrossEntropy(onehot(), logits23()).item()], [(L0 + L1) / 2], 1e-6);
    const none = softmaxCrossEntropy(onehot(), logits23(), { reduction: 'none' });
    assert.deepEqual(none.shape, [2]);
    assertClose(none.dataSync(), [L0, L1], 1e-6);
    assertClose([softmaxCrossEntropy(onehot(), logits23(), { reduction: 'sum' }).item()], [L0 + L1], 1e-6);
  });

  it('probability labels (hand-worked)', () => {
    // row 1 logits equal: logSoftmax = -log 3 everywhere, so the loss is log 3 whatever the labels
    // row 0 with labels [0.5, 0.5, 0]: -(0.5 (1 - lse) + 0.5 (2 - lse)) = lse - 1.5
    const y = tensor([0.5, 0.5, 0, 0.2, 0.3, 0.5], [2, 3]);
    const none = softmaxCrossEntropy(y, logits23(), { reduction: 'none' });
    assertClose(none.dataSync(), [3 + L0 - 1.5, L1], 1e-6);
  });

  it('gradient is (softmax - labels) / N', () => {
    const g = grad((z) => softmaxCrossEntropy(onehot(), z))(logits23());
    const third = 1 / 3;
    assertClose(
      g.dataSync(),
      [softmax0[0]! / 2, softmax0[1]! / 2, (softmax0[2]! - 1) / 2, (third - 1) / 2, third / 2, third / 2],
      1e-6,
    );
  });

  it('stable for huge logits', () => {
    const z = tensor([1e4, 0, -1e4], [1, 3]);
    const y = tensor([0, 1, 0], [1, 3]);
    assertClose([softmaxCrossEntropy(y, z).item()], [1e4], 1e-6);
    const [, gz] = grads((a, b) => softmaxCrossEntropy(a, b))(y, z);
    assertClose(gz!.dataSync(), [1, -1, 0], 1e-6);
  });

  it('validates', () => {
    assert.throws(() => softmaxCrossEntropy(tensor([1, 0, 0]), logits23()), {
      name: 'ShapeError',
      message: /softmaxCrossEntropy expected labels of the same shape as logits \[2, 3\].*got \[3\]/,
    });
    assert.throws(() => softmaxCrossEntropy(tensor([true, false], [1, 2]), tensor([1, 2], [1, 2])), DTypeError);
  });

  it('gradients for logits and labels (finite differences)', () => {
    const z = randomUniform([3, 4], { minval: -2, maxval: 2, seed: 2 });
    const y = randomUniform([3, 4], { minval: 0, maxval: 1, seed: 3 });
    gradCheck((a, b) => softmaxCrossEntropy(a, b), [y, z]);
    gradCheck((a, b) => softmaxCrossEntropy(a, b, { reduction: 'none' }), [y, z]);
    gradCheck((a, b) => softmaxCrossEntropy(a, b, { reduction: 'sum' }), [y, z]);
  });
});

describe('sigmoidCrossEntropy', () => {
  const z = () => tensor([0, 2, -3, 1e4, -1e4]);
  const y = () => tensor([1, 0, 1, 1, 0]);
  // softplus(z) - z * y
  const expected = [Math.log(2), Math.log(1 + Math.exp(2)), Math.log(1 + Math.exp(-3)) + 3, 0, 0];

  it('elementwise, stable for huge logits (hand-worked)', () => {
    const none = sigmoidCrossEntropy(y(), z(), { reduction: 'none' });
    assert.deepEqual(none.shape, [5]);
    assertClose(none.dataSync(), expected, 1e-6);
    const total = expected.reduce((a, b) => a + b, 0);
    assertClose([sigmoidCrossEntropy(y(), z()).item()], [total / 5], 1e-6);
    assertClose([sigmoidCrossEntropy(y(), z(), { reduction: 'sum' }).item()], [total], 1e-6);
  });

  it('gradient is (sigmoid(z) - y) / n, also at z = 0', () => {
    const g = grad((t) => sigmoidCrossEntropy(y(), t))(z());
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    assertClose(g.dataSync(), [(0.5 - 1) / 5, s(2) / 5, (s(-3) - 1) / 5, 0, 0], 1e-6);
  });

  it('validates and checks gradients', () => {
    assert.throws(() => sigmoidCrossEntropy(tensor([1, 0]), z()), {
      name: 'ShapeError',
      message: /sigmoidCrossEntropy expected labels of the same shape as logits \[5\], got \[2\]/,
    });
    const logits = randomUniform([3, 4], { minval: -3, maxval: 3, seed: 4 });
    const labels = randomUniform([3, 4], { seed: 5 });
    gradCheck((a, b) => sigmoidCrossEntropy(a, b), [labels, logits]);
    gradCheck((a, b) => sigmoidCrossEntropy(a, b, { reduction: 'none' }), [labels, logits]);
  });
});

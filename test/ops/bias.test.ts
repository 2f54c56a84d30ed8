import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { add, biasAdd, grads, layers, matmul, relu, ShapeError, sum, type Tensor, tensor, ValueError } from 'tessera';
import { referenceBackend } from '../../src/backend/reference.js';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

describe('biasAdd', () => {
  it('adds the bias along the last axis, with and without relu', () => {
    const x = tensor([1, -2, 3, -4, 5, -6], [3, 2]);
    const b = tensor([0.5, 1]);
    assert.deepEqual(Array.from(biasAdd(x, b).dataSync()), [1.5, -1, 3.5, -3, 5.5, -5]);
    assert.deepEqual(Array.from(biasAdd(x, b, { activation: 'relu' }).dataSync()), [1.5, 0, 3.5, 0, 5.5, 0]);
    const y = biasAdd(tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]), tensor([-3, 10]), { activation: 'relu' });
    assert.deepEqual(y.shape, [2, 2, 1, 2]);
    assert.deepEqual(Array.from(y.dataSync()), [0, 12, 0, 14, 2, 16, 4, 18]);
  });

  it('relu keeps NaN forward and passes no gradient through it (like relu)', () => {
    const y = biasAdd(tensor([Number.NaN, -1, 2], [1, 3]), tensor([0, 0, 0]), { activation: 'relu' });
    const v = y.dataSync();
    assert.ok(Number.isNaN(v[0]!));
    assert.deepEqual([v[1], v[2]], [0, 2]);
  });

  it('gradients match finite differences (linear and relu)', () => {
    const x = tensor([0.3, -0.7, 1.2, -1.5, 0.9, 0.4, -0.2, 2.1, -0.8, 0.6, 1.7, -1.1], [2, 3, 2]);
    const b = tensor([0.15, -0.25]);
    gradCheck((a, c) => biasAdd(a, c), [x, b]);
    // values stay >= 0.05 from the relu kink, so the finite differences (eps 1e-2) are valid
    gradCheck((a, c) => biasAdd(a, c, { activation: 'relu' }), [x, b]);
  });

  it('gradients equal those of relu(add(x, b)), bias gradient is the column sum', () => {
    const x = tensor([0.5, -1, 2, -3, 4, 0.25], [3, 2]);
    const b = tensor([0.1, 0.2]);
    const w = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
    const [gx, gb] = grads((a, c) => sum(biasAdd(a, c, { activation: 'relu' }).mul(w)))(x, b);
    const [hx, hb] = grads((a, c) => sum(relu(add(a, c)).mul(w)))(x, b);
    assertClose(gx!.dataSync(), hx!.dataSync(), 0);
    assertClose(gb!.dataSync(), hb!.dataSync(), 0);
    assert.deepEqual(Array.from(gb!.dataSync()), [1 + 3 + 5, 6]);
  });

  it('reference kernel: relu mask from y, double column sums', () => {
    const y = Float32Array.from([1, 0, 2, 0]);
    const dy = Float32Array.from([3, 4, 5, 6]);
    const dx = new Float32Array(4);
    const db = new Float32Array(2);
    referenceBackend.biasAddGrad(y, dy, dx, db, 2, 2, 'relu');
    assert.deepEqual(Array.from(dx), [3, 0, 5, 0]);
    assert.deepEqual(Array.from(db), [8, 0]);
    referenceBackend.biasAddGrad(y, dy, dx, db, 2, 2, 'linear');
    assert.deepEqual(Array.from(db), [8, 10]);
  });

  it('names the shape or activation it rejects', () => {
    assert.throws(
      () => biasAdd(tensor([1, 2, 3], [1, 3]), tensor([1, 2])),
      (e: unknown) => {
        return e instanceof ShapeError && /biasAdd expected bias of shape \[3\].*got \[2\]/.test(e.message);
      },
    );
    assert.throws(
      () => biasAdd(tensor([1, 2], [1, 2]), tensor([1, 2]), { activation: 'tanh' as never }),
      (e: unknown) => e instanceof ValueError && /'linear' or 'relu', got 'tanh'/.test(e.message),
    );
  });

  it('Conv2D and Dense with relu give relu(conv + bias) / relu(xW + b)', () => {
    const d = layers.dense({ units: 3, activation: 'relu', biasInitializer: 'ones' });
    const x = tensor([1, -2, 0.5, 3, -1, 2], [2, 3]);
    const y = d.apply(x) as Tensor;
    const k = d.getWeights()[0]!;
    const manual = relu(add(matmul(x, k), tensor([1, 1, 1])));
    assertClose(y.dataSync(), manual.dataSync(), 1e-6);
    const c = layers.conv2d({ filters: 2, kernelSize: 2, activation: 'relu', biasInitializer: 'ones' });
    const xi = tensor(
      Array.from({ length: 18 }, (_, i) => (i % 5) - 2),
      [1, 3, 3, 2],
    );
    const yc = c.apply(xi) as Tensor;
    assert.deepEqual(yc.shape, [1, 2, 2, 2]);
    const v = yc.dataSync();
    for (const e of v) assert.ok(e >= 0);
    assert.ok(v.some((e) => e > 1));
  });
});

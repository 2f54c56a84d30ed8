import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  arange,
  broadcastShapes,
  DTypeError,
  eye,
  full,
  linspace,
  ones,
  randomNormal,
  randomUniform,
  ShapeError,
  scalar,
  setSeed,
  Tensor,
  tensor,
  truncatedNormal,
  variable,
  zeros,
} from 'tessera';

describe('tensor creation', () => {
  it('infers shape and dtype from nested arrays', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, 'float32');
    assert.equal(t.size, 6);
    assert.deepEqual(Array.from(t.dataSync()), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(t.toArray(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('takes an explicit shape and dtype', () => {
    const t = tensor([1, 2, 3, 4], [2, 2], 'int32');
    assert.ok(t.dataSync() instanceof Int32Array);
    assert.deepEqual(t.toArray(), [
      [1, 2],
      [3, 4],
    ]);
    const b = tensor([true, false]);
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.toArray(), [true, false]);
  });

  it('rejects ragged arrays and wrong sizes with ShapeError', () => {
    assert.throws(() => tensor([[1, 2], [3]]), ShapeError);
    assert.throws(() => tensor([1, 2, 3], [2, 2]), /cannot fill shape \[2, 2\]/);
    assert.throws(() => tensor([1], [1], 'float64' as never), DTypeError);
  });

  it('scalars have rank 0', () => {
    const s = scalar(3.5);
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 3.5);
    assert.equal(s.toArray(), 3.5);
  });

  it('fills, ranges and identity', () => {
    assert.deepEqual(Array.from(zeros([2, 2]).dataSync()), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(ones([3]).dataSync()), [1, 1, 1]);
    assert.deepEqual(Array.from(full([2], 7, 'int32').dataSync()), [7, 7]);
    assert.deepEqual(Array.from(arange(5).dataSync()), [0, 1, 2, 3, 4]);
    assert.deepEqual(Array.from(arange(1, 2, 0.25).dataSync()), [1, 1.25, 1.5, 1.75]);
    assert.deepEqual(Array.from(linspace(0, 1, 5).dataSync()), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(eye(2, 3).toArray(), [
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });

  it('toString is readable and elides long axes', () => {
    const s = tensor([
      [1, 2],
      [3, 4],
    ]).toString();
    assert.match(s, /Tensor\(float32, \[2, 2\]\)/);
    assert.match(s, /\[\[1, 2\],\n \[3, 4\]\]/);
    assert.match(arange(100).toString(), /0, 1, 2, \.\.\., 97, 98, 99/);
  });
});

describe('seeded random', () => {
  it('same seed gives the same values; different seeds differ', () => {
    const a = randomNormal([100], { seed: 42 }).dataSync();
    const b = randomNormal([100], { seed: 42 }).dataSync();
    const c = randomNormal([100], { seed: 43 }).dataSync();
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.notDeepEqual(Array.from(a), Array.from(c));
    setSeed(5);
    const d = randomUniform([10]).dataSync();
    setSeed(5);
    const e = randomUniform([10]).dataSync();
    assert.deepEqual(Array.from(d), Array.from(e));
  });

  it('distributions have the requested moments and bounds', () => {
    const n = Array.from(randomNormal([20000], { mean: 2, stddev: 3, seed: 1 }).dataSync());
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    assert.ok(Math.abs(mean - 2) < 0.1, `mean ${mean}`);
    assert.ok(Math.abs(sd - 3) < 0.1, `stddev ${sd}`);
    const u = Array.from(randomUniform([10000], { minval: -1, maxval: 1, seed: 2 }).dataSync());
    assert.ok(u.every((v) => v >= -1 && v < 1));
    const t = Array.from(truncatedNormal([10000], { stddev: 0.5, seed: 3 }).dataSync());
    assert.ok(t.every((v) => Math.abs(v) <= 1.0000001));
  });
});

describe('broadcasting', () => {
  it('follows NumPy rules', () => {
    assert.deepEqual(broadcastShapes([2, 1, 3], [4, 1]), [2, 4, 3]);
    assert.deepEqual(broadcastShapes([], [5]), [5]);
    assert.throws(() => broadcastShapes([2, 3], [4, 3]), /could not broadcast shapes \[2, 3\] and \[4, 3\]/);
  });

  it('applies to ops, with chainable methods', () => {
    const x = tensor([[1], [2]]);
    const y = tensor([10, 20, 30]);
    assert.deepEqual(x.add(y).toArray(), [
      [11, 21, 31],
      [12, 22, 32],
    ]);
    assert.deepEqual(x.mul(2).sub(1).toArray(), [[1], [3]]);
  });
});

describe('variables', () => {
  it('copy their initial value and assign in place', () => {
    const init = tensor([1, 2]);
    const v = variable(init, { name: 'w' });
    init.dataSync()[0] = 100;
    assert.deepEqual(Array.from(v.dataSync()), [1, 2]);
    v.assign(tensor([3, 4]));
    assert.deepEqual(Array.from(v.dataSync()), [3, 4]);
    assert.throws(() => v.assign(tensor([1, 2, 3])), /Variable 'w' assign expected float32 \[2\]/);
    assert.ok(v instanceof Tensor);
  });
});

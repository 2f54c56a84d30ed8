import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dot, matmul, ones, randomNormal, ShapeError, type Tensor, tensor } from 'tessera';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

/** Plain-loop reference: a [..., m, k] (broadcast batches already equal) times b. */
function naive(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, p) => s + v * b[p]![j]!, 0)));
}

function vals(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

const A = [
  [1, 2, 3],
  [4, 5, 6],
];
const B = [
  [7, 8],
  [9, 10],
  [11, 12],
];

describe('matmul', () => {
  test('2-D hand-worked', () => {
    const c = matmul(tensor(A), tensor(B));
    assert.deepEqual(c.shape, [2, 2]);
    assert.deepEqual(c.toArray(), [
      [58, 64],
      [139, 154],
    ]);
    assert.deepEqual(tensor(A).matmul(tensor(B)).toArray(), naive(A, B));
  });

  test('transpose flags', () => {
    const at = tensor([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const bt = tensor([
      [7, 9, 11],
      [8, 10, 12],
    ]);
    const want = naive(A, B);
    assert.deepEqual(matmul(at, tensor(B), { transposeA: true }).toArray(), want);
    assert.deepEqual(matmul(tensor(A), bt, { transposeB: true }).toArray(), want);
    assert.deepEqual(matmul(at, bt, { transposeA: true, transposeB: true }).toArray(), want);
  });

  test('1-D operands like NumPy', () => {
    const v = tensor([1, 1, 1]);
    assert.deepEqual(matmul(tensor(A), v).toArray(), [6, 15]);
    assert.deepEqual(matmul(tensor([1, 1]), tensor(A)).toArray(), [5, 7, 9]);
    const s = matmul(tensor([1, 2, 3]), tensor([4, 5, 6]));
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 32);
    // a batch times a vector: [2, 2, 3] x [3] -> [2, 2]
    const batch = tensor([A, A.map((r) => r.map((x) => -x))]);
    assert.deepEqual(matmul(batch, v).toArray(), [
      [6, 15],
      [-6, -15],
    ]);
  });

  test('batched, with broadcast batch dims', () => {
    const a = randomNormal([2, 3, 4], { seed: 1 });
    const b = randomNormal([2, 4, 5], { seed: 2 });
    const c = matmul(a, b);
    assert.deepEqual(c.shape, [2, 3, 5]);
    const ad = a.toArray() as number[][][];
    const bd = b.toArray() as number[][][];
    assertClose(vals(c), [...naive(ad[0]!, bd[0]!).flat(), ...naive(ad[1]!, bd[1]!).flat()], 1e-5);
    // shared 2-D right operand (stride 0 / folded)
    const w = randomNormal([4, 5], { seed: 3 });
    const wd = w.toArray() as number[][];
    assertClose(vals(matmul(a, w)), [...naive(ad[0]!, wd).flat(), ...naive(ad[1]!, wd).flat()], 1e-5);
    // shared 2-D left operand
    const m = randomNormal([3, 4], { seed: 4 });
    const md = m.toArray() as number[][];
    assertClose(vals(matmul(m, b)), [...naive(md, bd[0]!).flat(), ...naive(md, bd[1]!).flat()], 1e-5);
    // [2, 1, 3, 4] x [3, 4, 5] -> [2, 3, 3, 5] (general broadcast)
    const a4 = randomNormal([2, 1, 3, 4], { seed: 5 });
    const b3 = randomNormal([3, 4, 5], { seed: 6 });
    const c4 = matmul(a4, b3);
    assert.deepEqual(c4.shape, [2, 3, 3, 5]);
    const a4d = a4.toArray() as number[][][][];
    const b3d = b3.toArray() as number[][][];
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) want.push(...naive(a4d[i]![0]!, b3d[j]!).flat());
    assertClose(vals(c4), want, 1e-5);
    // batch of one on the left: [1, 3, 4] x [2, 4, 5]
    const a1 = randomNormal([1, 3, 4], { seed: 7 });
    const a1d = (a1.toArray() as number[][][])[0]!;
    assertClose(vals(matmul(a1, b)), [...naive(a1d, bd[0]!).flat(), ...naive(a1d, bd[1]!).flat()], 1e-5);
  });

  test('empty dims', () => {
    assert.deepEqual(matmul(ones([2, 0]), ones([0, 3])).toArray(), [
      [0, 0, 0],
      [0, 0, 0],
    ]);
    assert.deepEqual(matmul(ones([0, 2]), ones([2, 3])).shape, [0, 3]);
  });

  test('int inputs are promoted to float32', () => {
    const c = matmul(tensor([[1, 2]], [1, 2], 'int32'), tensor([[3], [4]], [2, 1], 'int32'));
    assert.equal(c.dtype, 'float32');
    assert.deepEqual(c.toArray(), [[11]]);
  });

  test('errors', () => {
    assert.throws(() => matmul(ones([2, 3]), ones([4, 5])), {
      name: 'ShapeError',
      message: /^matmul expected a\.shape\[-1\] \(3\) == b\.shape\[-2\] \(4\), got \[2, 3\] and \[4, 5\]$/,
    });
    assert.throws(() => matmul(ones([2, 3]), ones([2, 3]), { transposeB: true, transposeA: true }), {
      name: 'ShapeError',
      message: /a\.shape\[-2\] \(2\) == b\.shape\[-1\] \(3\)/,
    });
    assert.throws(() => matmul(ones([3]), ones([4])), {
      name: 'ShapeError',
      message: /a\.shape\[0\] \(3\) == b\.shape\[0\] \(4\)/,
    });
    assert.throws(() => matmul(ones([2, 2, 3]), ones([3, 3, 4])), {
      name: 'ShapeError',
      message: /matmul could not broadcast/,
    });
    assert.throws(() => matmul(tensor(1), ones([2])), ShapeError);
  });
});

describe('matmul gradients', () => {
  const r = (shape: number[], seed: number) => randomNormal(shape, { seed });
  test('2-D with every transpose combination', () => {
    gradCheck((a, b) => matmul(a, b), [r([2, 3], 1), r([3, 4], 2)]);
    gradCheck((a, b) => matmul(a, b, { transposeA: true }), [r([3, 2], 1), r([3, 4], 2)]);
    gradCheck((a, b) => matmul(a, b, { transposeB: true }), [r([2, 3], 1), r([4, 3], 2)]);
    gradCheck((a, b) => matmul(a, b, { transposeA: true, transposeB: true }), [r([3, 2], 1), r([4, 3], 2)]);
  });

  test('1-D operands', () => {
    gradCheck((a, b) => matmul(a, b), [r([3], 1), r([3, 4], 2)]);
    gradCheck((a, b) => matmul(a, b), [r([2, 3], 1), r([3], 2)]);
    gradCheck((a, b) => matmul(a, b), [r([3], 1), r([3], 2)]);
  });

  test('batched and broadcast batches (summed over broadcast dims)', () => {
    gradCheck((a, b) => matmul(a, b), [r([2, 2, 3], 1), r([2, 3, 2], 2)]);
    gradCheck((a, b) => matmul(a, b), [r([2, 2, 3], 1), r([3, 2], 2)]);
    gradCheck((a, b) => matmul(a, b, { transposeB: true }), [r([2, 2, 3], 1), r([2, 3], 2)]);
    gradCheck((a, b) => matmul(a, b, { transposeA: true }), [r([2, 3, 2], 1), r([3, 2], 2)]);
    gradCheck((a, b) => matmul(a, b, { transposeA: true, transposeB: true }), [r([2, 3, 2], 1), r([1, 2, 3], 2)]);
    gradCheck((a, b) => matmul(a, b), [r([2, 3], 1), r([2, 3, 2], 2)]);
    gradCheck((a, b) => matmul(a, b), [r([2, 1, 2, 3], 1), r([3, 3, 2], 2)]);
    gradCheck((a, b) => matmul(a, b), [r([2, 2, 3], 1), r([3], 2)]);
  });
});

describe('dot', () => {
  test('1-D, 2-D, N-D . 1-D, N-D . M-D, scalars', () => {
    assert.equal(dot(tensor([1, 2, 3]), tensor([4, 5, 6])).item(), 32);
    assert.deepEqual(dot(tensor(A), tensor(B)).toArray(), naive(A, B));
    assert.deepEqual(dot(tensor([A, A]), tensor([1, 0, 1])).toArray(), [
      [4, 10],
      [4, 10],
    ]);
    assert.deepEqual(dot(tensor(2), tensor([1, 2])).toArray(), [2, 4]);
    // [2, 3] . [2, 3, 2] -> [2, 2, 2]: dot(a, b)[i, j, k] = sum_p a[i, p] b[j, p, k]
    const b3 = [B, B.map((row) => row.map((v) => v * 2))];
    const d = dot(tensor(A), tensor(b3));
    assert.deepEqual(d.shape, [2, 2, 2]);
    assert.deepEqual(d.toArray(), [
      [
        [58, 64],
        [116, 128],
      ],
      [
        [139, 154],
        [278, 308],
      ],
    ]);
    const a3 = randomNormal([2, 2, 3], { seed: 1 });
    assert.deepEqual(dot(a3, tensor(b3)).shape, [2, 2, 2, 2]);
    assert.equal(
      tensor([1, 2])
        .dot(tensor([3, 4]))
        .item(),
      11,
    );
    assert.throws(() => dot(ones([2, 2, 3]), ones([2, 4, 2])), {
      name: 'ShapeError',
      message: /dot expected a\.shape\[-1\] \(3\)/,
    });
  });

  test('gradient', () => {
    gradCheck((a, b) => dot(a, b), [randomNormal([3], { seed: 1 }), randomNormal([3], { seed: 2 })]);
    gradCheck((a, b) => dot(a, b), [randomNormal([2, 3], { seed: 1 }), randomNormal([2, 3, 2], { seed: 2 })]);
  });
});

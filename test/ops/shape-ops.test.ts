import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  arange,
  broadcastTo,
  cast,
  concat,
  DTypeError,
  expandDims,
  gather,
  grad,
  mul,
  oneHot,
  ones,
  pad,
  randomNormal,
  reshape,
  reverse,
  ShapeError,
  slice,
  split,
  squeeze,
  stack,
  stridedSlice,
  sum,
  type Tensor,
  tensor,
  tile,
  transpose,
  unstack,
  ValueError,
} from 'tessera';
import { gradCheck } from '../helpers/gradcheck.js';

const x23 = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const r = (shape: number[], seed = 1) => randomNormal(shape, { seed });
const int = (values: number[], shape = [values.length]) => tensor(values, shape, 'int32');

describe('reshape / expandDims / squeeze', () => {
  test('reshape infers one -1 and shares the buffer', () => {
    const x = arange(6);
    const y = reshape(x, [2, -1]);
    assert.deepEqual(y.toArray(), [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    assert.equal(y.dataSync(), x.dataSync());
    assert.deepEqual(x.reshape([-1, 1, 2]).shape, [3, 1, 2]);
    assert.deepEqual(reshape(tensor(5), [1, 1]).shape, [1, 1]);
    assert.throws(() => reshape(x, [4, -1]), {
      name: 'ShapeError',
      message: /reshape of \[6\] cannot reshape 6 elements/,
    });
    assert.throws(() => reshape(x, [-1, -1]), { name: 'ShapeError', message: /more than one -1/ });
    assert.throws(() => reshape(x, [7]), ShapeError);
    gradCheck((a) => reshape(a, [3, 2]), [r([2, 3])]);
  });

  test('expandDims', () => {
    const x = x23();
    assert.deepEqual(expandDims(x, 0).shape, [1, 2, 3]);
    assert.deepEqual(expandDims(x, -1).shape, [2, 3, 1]);
    assert.deepEqual(expandDims(x, 1).shape, [2, 1, 3]);
    assert.deepEqual(expandDims(x, [0, -1]).shape, [1, 2, 3, 1]);
    assert.deepEqual(x.expandDims(2).toArray(), [
      [[1], [2], [3]],
      [[4], [5], [6]],
    ]);
    assert.throws(() => expandDims(x, 4), {
      name: 'ValueError',
      message: /expandDims got axis 4, expected an integer in \[-3, 2\]/,
    });
    gradCheck((a) => expandDims(a, 1), [r([2, 3])]);
  });

  test('squeeze', () => {
    const x = ones([1, 2, 1, 3]);
    assert.deepEqual(squeeze(x).shape, [2, 3]);
    assert.deepEqual(squeeze(x, 0).shape, [2, 1, 3]);
    assert.deepEqual(squeeze(x, [-2, 0]).shape, [2, 3]);
    assert.deepEqual(x.squeeze(2).shape, [1, 2, 3]);
    assert.throws(() => squeeze(x, 1), {
      name: 'ShapeError',
      message: /squeeze expected axis 1 of \[1, 2, 1, 3\] to have size 1, got 2/,
    });
    assert.throws(() => squeeze(x, 4), ValueError);
    gradCheck((a) => squeeze(a), [r([1, 3, 1])]);
  });
});

describe('transpose', () => {
  test('default reverses; perms; negative entries', () => {
    const x = x23();
    assert.deepEqual(transpose(x).toArray(), [
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const y = arange(24).reshape([2, 3, 4]);
    const t = transpose(y, [1, 0, 2]);
    assert.deepEqual(t.shape, [3, 2, 4]);
    assert.deepEqual((t.toArray() as number[][][])[2]![1], [20, 21, 22, 23]);
    assert.deepEqual(transpose(y, [0, -1, 1]).shape, [2, 4, 3]);
    assert.equal((transpose(y, [2, 0, 1]).toArray() as number[][][])[3]![1]![2], 23);
    // moving only a size-1 dim is a view
    const z = ones([2, 1, 3]);
    assert.equal(transpose(z, [1, 0, 2]).dataSync(), z.dataSync());
    assert.deepEqual(tensor([true, false]).reshape([1, 2]).transpose().toArray(), [[true], [false]]);
    assert.deepEqual(transpose(int([1, 2, 3, 4], [2, 2])).toArray(), [
      [1, 3],
      [2, 4],
    ]);
  });

  test('errors and gradient', () => {
    assert.throws(() => transpose(x23(), [0, 0]), {
      name: 'ValueError',
      message: /transpose expected perm to be a permutation of \[0, 1\]/,
    });
    assert.throws(() => transpose(x23(), [0]), ValueError);
    gradCheck((a) => transpose(a), [r([2, 3])]);
    gradCheck((a) => transpose(a, [2, 0, 1]), [r([2, 3, 4])]);
  });
});

describe('slice', () => {
  test('values, -1 sizes, defaults', () => {
    const x = x23();
    assert.deepEqual(slice(x, [0, 1], [2, -1]).toArray(), [
      [2, 3],
      [5, 6],
    ]);
    assert.deepEqual(slice(x, [1, 0], [1, 2]).toArray(), [[4, 5]]);
    assert.deepEqual(slice(x, [0, 3], [-1, -1]).shape, [2, 0]);
    assert.deepEqual(slice(arange(5), 2).toArray(), [2, 3, 4]);
    assert.deepEqual(x.slice([1, 1]).toArray(), [[5, 6]]);
    const y = arange(60).reshape([3, 4, 5]);
    assert.deepEqual(slice(y, [1, 1, 1], [1, 2, 2]).toArray(), [
      [
        [26, 27],
        [31, 32],
      ],
    ]);
  });

  test('errors', () => {
    assert.throws(() => slice(x23(), [0], [1]), {
      name: 'ValueError',
      message: /slice expected begin to be 2 integers/,
    });
    assert.throws(() => slice(x23(), [0, 2], [1, 2]), {
      name: 'ValueError',
      message: /slice got size 2 at begin 2 on axis 1 of \[2, 3\], expected -1 or an integer in \[0, 1\]/,
    });
    assert.throws(() => slice(x23(), [-1, 0], [1, 1]), { name: 'ValueError', message: /slice got begin -1 on axis 0/ });
  });

  test('gradient', () => {
    assert.deepEqual(grad((a) => sum(slice(a, [0, 1], [1, 2])))(x23()).toArray(), [
      [0, 1, 1],
      [0, 0, 0],
    ]);
    gradCheck((a) => slice(a, [1, 0, 2], [2, -1, 2]), [r([3, 2, 4])]);
  });
});

describe('stridedSlice', () => {
  test('like Python slicing: negative indices and strides, clamping, masks', () => {
    const x = arange(6);
    assert.deepEqual(stridedSlice(x, [-1], [0], [-2]).toArray(), [5, 3, 1]);
    assert.deepEqual(stridedSlice(x, [1], [5], [2]).toArray(), [1, 3]);
    assert.deepEqual(stridedSlice(x, [-100], [100], [1]).toArray(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(stridedSlice(x, [0], [0], [-1], { beginMask: 1, endMask: 1 }).toArray(), [5, 4, 3, 2, 1, 0]);
    assert.deepEqual(stridedSlice(x, [4], [2], [1]).toArray(), []);
    const y = arange(60).reshape([3, 4, 5]);
    // y[1, ::-2, 1:4] -> shape [2, 3]
    const s = stridedSlice(y, [1, 0, 1], [2, 0, 4], [1, -2, 1], { shrinkAxisMask: 1, beginMask: 2, endMask: 2 });
    assert.deepEqual(s.toArray(), [
      [36, 37, 38],
      [26, 27, 28],
    ]);
    // fewer entries than the rank: the rest are whole; y[-1] with shrink
    assert.deepEqual(stridedSlice(y, [-1], [0], [1], { shrinkAxisMask: 1 }).shape, [4, 5]);
    assert.deepEqual(y.stridedSlice([0, 1], [3, 2], [2, 1]).shape, [2, 1, 5]);
  });

  test('errors', () => {
    assert.throws(() => stridedSlice(arange(6), [0], [1], [0]), {
      name: 'ValueError',
      message: /stridedSlice got stride 0 on axis 0/,
    });
    assert.throws(() => stridedSlice(arange(6), [6], [7], [1], { shrinkAxisMask: 1 }), {
      name: 'ValueError',
      message: /stridedSlice got index 6 on shrunk axis 0 of \[6\], expected an integer in \[-6, 5\]/,
    });
    assert.throws(() => stridedSlice(arange(6), [0, 0], [1], [1]), ValueError);
  });

  test('gradient', () => {
    gradCheck((a) => stridedSlice(a, [2, 0], [0, 3], [-1, 2]), [r([3, 4])]);
    gradCheck((a) => stridedSlice(a, [1, -1], [0, 0], [1, -1], { shrinkAxisMask: 1, endMask: 2 }), [r([3, 4])]);
  });
});

describe('concat / stack / split / unstack', () => {
  test('concat values, axes, dtype promotion', () => {
    const a = x23();
    const b = tensor([[7], [8]]);
    assert.deepEqual(concat([a, b], 1).toArray(), [
      [1, 2, 3, 7],
      [4, 5, 6, 8],
    ]);
    assert.deepEqual(concat([a, a], -2).shape, [4, 3]);
    assert.deepEqual(concat([a], 0).toArray(), a.toArray());
    const mixed = concat([int([1, 2]), tensor([0.5])]);
    assert.equal(mixed.dtype, 'float32');
    assert.deepEqual(mixed.toArray(), [1, 2, 0.5]);
    const big = concat([ones([2, 40]), randomNormal([2, 50], { seed: 1 })], 1);
    assert.deepEqual(big.shape, [2, 90]);
    assert.equal((big.toArray() as number[][])[1]![39], 1);
  });

  test('concat errors', () => {
    assert.throws(() => concat([x23(), ones([3, 3])], 1), {
      name: 'ShapeError',
      message: /concat expected every tensor to match \[2, 3\] except on axis 1, got \[3, 3\] at position 1/,
    });
    assert.throws(() => concat([]), { name: 'ValueError', message: /non-empty/ });
    assert.throws(() => concat([tensor(1), tensor(2)]), { name: 'ShapeError', message: /scalars/ });
    assert.throws(() => concat([x23()], 2), ValueError);
  });

  test('stack', () => {
    assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])]).toArray(), [
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])], 1).toArray(), [
      [1, 3],
      [2, 4],
    ]);
    assert.deepEqual(stack([tensor(1), tensor(2)]).toArray(), [1, 2]);
    assert.deepEqual(stack([x23(), x23()], -1).shape, [2, 3, 2]);
    assert.throws(() => stack([tensor([1]), tensor([1, 2])]), {
      name: 'ShapeError',
      message: /stack expected every tensor to have shape \[1\], got \[2\] at position 1/,
    });
  });

  test('split and unstack', () => {
    const x = arange(12).reshape([2, 6]);
    const parts = split(x, 3, 1);
    assert.equal(parts.length, 3);
    assert.deepEqual(parts[1]!.toArray(), [
      [2, 3],
      [8, 9],
    ]);
    const sized = split(x, [1, -1, 2], -1);
    assert.deepEqual(
      sized.map((t) => t.shape),
      [
        [2, 1],
        [2, 3],
        [2, 2],
      ],
    );
    assert.deepEqual(sized[2]!.toArray(), [
      [4, 5],
      [10, 11],
    ]);
    assert.deepEqual(split(x, [2, 0])[1]!.shape, [0, 6]);
    const rows = unstack(x);
    assert.deepEqual(rows[1]!.toArray(), [6, 7, 8, 9, 10, 11]);
    assert.deepEqual(unstack(x, 1)[5]!.toArray(), [5, 11]);
    assert.equal(x.split(2)[0]!.shape[0], 1);
    assert.throws(() => split(x, 4, 1), {
      name: 'ValueError',
      message: /split cannot divide axis 1 of \[2, 6\] \(size 6\) into 4 equal parts/,
    });
    assert.throws(() => split(x, [1, 2], 1), { name: 'ValueError', message: /split sizes \[1,2\] must sum to 6/ });
    assert.throws(() => split(x, [-1, -1], 1), ValueError);
  });

  test('gradients (unused pieces get zero; repeated backward passes stay independent)', () => {
    gradCheck((a, b) => concat([a, b], 1), [r([2, 3], 1), r([2, 2], 2)]);
    gradCheck((a, b) => stack([a, b], 1), [r([2, 3], 1), r([2, 3], 2)]);
    const f = (a: Tensor) => {
      const [p, , q] = split(a, [1, 2, 1], 1);
      return sum(mul(p!, 2)).add(sum(mul(q!, 3)));
    };
    const g = grad(f);
    const x = r([2, 4]);
    const want = [
      [2, 0, 0, 3],
      [2, 0, 0, 3],
    ];
    assert.deepEqual(g(x).toArray(), want);
    assert.deepEqual(g(x).toArray(), want);
    // x also used directly: the split gradient and the direct one add up
    assert.deepEqual(grad((a) => f(a).add(sum(a)))(x).toArray(), [
      [3, 1, 1, 4],
      [3, 1, 1, 4],
    ]);
    gradCheck((a) => concat(split(a, 3, 0).reverse(), 0), [r([3, 2])]);
    gradCheck((a) => stack(unstack(a, 1).slice(1), 0), [r([2, 3])]);
  });
});

describe('tile / broadcastTo / pad', () => {
  test('tile', () => {
    assert.deepEqual(tile(tensor([1, 2]), [2]).toArray(), [1, 2, 1, 2]);
    assert.deepEqual(tile(tensor([[1, 2]]), [2, 2]).toArray(), [
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ]);
    assert.deepEqual(tile(tensor([1, 2]), [2, 1]).shape, [2, 2]);
    assert.deepEqual(tile(x23(), [2]).shape, [2, 6]);
    assert.deepEqual(tile(x23(), [1, 0]).shape, [2, 0]);
    assert.throws(() => tile(x23(), [1, -1]), {
      name: 'ValueError',
      message: /tile expected reps of non-negative integers/,
    });
    gradCheck((a) => tile(a, [2, 1, 3]), [r([2, 3])]);
  });

  test('broadcastTo', () => {
    assert.deepEqual(broadcastTo(tensor([1, 2]), [2, 2]).toArray(), [
      [1, 2],
      [1, 2],
    ]);
    assert.deepEqual(broadcastTo(tensor([[1], [2]]), [2, 3]).toArray(), [
      [1, 1, 1],
      [2, 2, 2],
    ]);
    assert.deepEqual(broadcastTo(tensor(3), [2]).toArray(), [3, 3]);
    assert.deepEqual(tensor([1]).broadcastTo([1, 2, 1]).shape, [1, 2, 1]);
    assert.throws(() => broadcastTo(x23(), [4, 3]), {
      name: 'ShapeError',
      message: /broadcastTo cannot broadcast \[2, 3\] to \[4, 3\]/,
    });
    assert.throws(() => broadcastTo(x23(), [3]), ShapeError);
    assert.throws(() => broadcastTo(ones([1, 3]), [2, 1]), ShapeError);
    gradCheck((a) => broadcastTo(a, [2, 3, 3]), [r([3, 1])]);
  });

  test('pad: constant, reflect, symmetric, edge', () => {
    assert.deepEqual(pad(tensor([1, 2]), [[1, 2]]).toArray(), [0, 1, 2, 0, 0]);
    assert.deepEqual(pad(tensor([1, 2]), [[1, 0]], 9).toArray(), [9, 1, 2]);
    assert.deepEqual(
      pad(tensor([[1, 2]]), [
        [1, 0],
        [0, 1],
      ]).toArray(),
      [
        [0, 0, 0],
        [1, 2, 0],
      ],
    );
    assert.deepEqual(pad(tensor([1, 2, 3]), [[2, 2]], { mode: 'reflect' }).toArray(), [3, 2, 1, 2, 3, 2, 1]);
    assert.deepEqual(pad(tensor([1, 2, 3]), [[2, 3]], { mode: 'symmetric' }).toArray(), [2, 1, 1, 2, 3, 3, 2, 1]);
    assert.deepEqual(pad(tensor([1, 2]), [[2, 1]], { mode: 'edge' }).toArray(), [1, 1, 1, 2, 2]);
    assert.deepEqual(
      pad(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        [
          [1, 0],
          [1, 0],
        ],
        { mode: 'reflect' },
      ).toArray(),
      [
        [4, 3, 4],
        [2, 1, 2],
        [4, 3, 4],
      ],
    );
    assert.equal(pad(int([1]), [[1, 1]]).dtype, 'int32');
  });

  test('pad errors and gradients', () => {
    assert.throws(() => pad(x23(), [[1, 1]]), { name: 'ValueError', message: /pad expected paddings to be 2 pairs/ });
    assert.throws(() => pad(tensor([1, 2]), [[-1, 0]]), ValueError);
    assert.throws(() => pad(tensor([1, 2]), [[2, 0]], { mode: 'reflect' }), {
      name: 'ValueError',
      message: /pad mode 'reflect' needs paddings of at most 1 on axis 0/,
    });
    assert.throws(() => pad(tensor([1]), [[0, 0]], { mode: 'wrap' as 'edge' }), {
      name: 'ValueError',
      message: /pad got mode 'wrap'/,
    });
    gradCheck(
      (a) =>
        pad(a, [
          [1, 0],
          [2, 1],
        ]),
      [r([2, 3])],
    );
    gradCheck(
      (a) =>
        pad(
          a,
          [
            [1, 1],
            [2, 1],
          ],
          { mode: 'reflect' },
        ),
      [r([2, 3])],
    );
    gradCheck((a) => pad(a, [[3, 2]], { mode: 'symmetric' }), [r([3])]);
    gradCheck(
      (a) =>
        pad(
          a,
          [
            [0, 1],
            [2, 0],
          ],
          { mode: 'edge' },
        ),
      [r([2, 2])],
    );
  });
});

describe('gather / oneHot', () => {
  test('gather along axes, negative indices, batchDims', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    assert.deepEqual(gather(x, int([2, 0])).toArray(), [
      [5, 6],
      [1, 2],
    ]);
    assert.deepEqual(gather(x, int([1, 1, 0], [3]), { axis: 1 }).toArray(), [
      [2, 2, 1],
      [4, 4, 3],
      [6, 6, 5],
    ]);
    assert.deepEqual(gather(x, int([0, 2, 1, 0], [2, 2])).shape, [2, 2, 2]);
    assert.deepEqual(gather(x, int([-1])).toArray(), [[5, 6]]);
    assert.deepEqual(gather(x, tensor(1, [], 'int32')).toArray(), [3, 4]);
    assert.deepEqual(gather(x, [2]).toArray(), [[5, 6]]);
    assert.deepEqual(x.gather(int([0]), { axis: -1 }).toArray(), [[1], [3], [5]]);
    // batchDims 1: out[b, j] = x[b, idx[b, j]]
    const bx = tensor([
      [10, 11, 12],
      [20, 21, 22],
    ]);
    assert.deepEqual(gather(bx, int([2, 0, 1, 1], [2, 2]), { axis: 1, batchDims: 1 }).toArray(), [
      [12, 10],
      [21, 21],
    ]);
    const wide = randomNormal([4, 40], { seed: 1 });
    assert.deepEqual(gather(wide, int([3])).toArray(), [(wide.toArray() as number[][])[3]]);
  });

  test('gather errors', () => {
    const x = ones([3, 2]);
    assert.throws(() => gather(x, int([0, 3])), {
      name: 'ValueError',
      message:
        /gather got index 3 \(at flat position 1 of indices \[2\]\) for axis 0 of size 3, expected an integer in \[-3, 2\]/,
    });
    assert.throws(() => gather(x, tensor([0.5])), {
      name: 'DTypeError',
      message: /gather expected int32 indices, got float32 \[1\]/,
    });
    assert.throws(() => gather(x, tensor([0])), DTypeError);
    assert.throws(() => gather(x, int([0]), { axis: 2 }), ValueError);
    assert.throws(() => gather(x, int([0, 0], [2]), { axis: 1, batchDims: 1 }), ShapeError);
    assert.throws(() => gather(x, int([0]), { axis: 0, batchDims: 1 }), ValueError);
  });

  test('gather gradient scatter-adds repeated indices', () => {
    const g = grad((a) => sum(gather(a, int([0, 2, 0]))))(
      tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    );
    assert.deepEqual(g.toArray(), [
      [2, 2],
      [0, 0],
      [1, 1],
    ]);
    gradCheck((a) => gather(a, int([1, 0, 1, 2], [2, 2]), { axis: 1 }), [r([2, 3, 2])]);
    gradCheck((a) => gather(a, int([2, 0, 1, 1], [2, 2]), { axis: 1, batchDims: 1 }), [r([2, 3])]);
  });

  test('oneHot', () => {
    assert.deepEqual(oneHot(int([0, 2]), 3).toArray(), [
      [1, 0, 0],
      [0, 0, 1],
    ]);
    assert.deepEqual(oneHot(int([1, 5, -1]), 2, { onValue: 5, offValue: -1 }).toArray(), [
      [-1, 5],
      [-1, -1],
      [-1, -1],
    ]);
    assert.deepEqual(oneHot(int([0, 1, 1, 0], [2, 2]), 2).shape, [2, 2, 2]);
    assert.equal(oneHot(int([0]), 2, { dtype: 'int32' }).dtype, 'int32');
    assert.throws(() => oneHot(int([0]), -1), { name: 'ValueError', message: /oneHot got depth -1/ });
    assert.throws(() => oneHot(tensor([0.5]), 2), DTypeError);
  });
});

describe('cast / reverse', () => {
  test('cast', () => {
    const x = tensor([-1.7, 0, 2.9]);
    const i = cast(x, 'int32');
    assert.equal(i.dtype, 'int32');
    assert.deepEqual(i.toArray(), [-1, 0, 2]);
    assert.deepEqual(cast(x, 'bool').toArray(), [true, false, true]);
    assert.deepEqual(cast(int([1, 2]), 'float32').toArray(), [1, 2]);
    assert.equal(cast(x, 'float32'), x);
    assert.equal(x.cast('int32').dtype, 'int32');
    assert.throws(() => cast(x, 'float64' as 'float32'), { name: 'DTypeError', message: /cast expected dtype/ });
    assert.deepEqual(grad((a) => sum(cast(cast(a, 'int32'), 'float32')))(x).toArray(), [1, 1, 1]);
  });

  test('reverse', () => {
    const x = x23();
    assert.deepEqual(reverse(x, 1).toArray(), [
      [3, 2, 1],
      [6, 5, 4],
    ]);
    assert.deepEqual(reverse(x, 0).toArray(), [
      [4, 5, 6],
      [1, 2, 3],
    ]);
    assert.deepEqual(reverse(x).toArray(), [
      [6, 5, 4],
      [3, 2, 1],
    ]);
    assert.deepEqual(x.reverse([-1, -2]).toArray(), reverse(x).toArray());
    assert.throws(() => reverse(x, 2), ValueError);
    gradCheck((a) => reverse(a, [0, 2]), [r([2, 3, 2])]);
  });
});

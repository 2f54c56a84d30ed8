import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  argMax,
  argMin,
  grad,
  logSumExp,
  max,
  mean,
  min,
  prod,
  randomNormal,
  std,
  sum,
  type Tensor,
  tensor,
  ValueError,
  variance,
} from 'tessera';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

const x23 = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const x234 = () => randomNormal([2, 3, 4], { seed: 11 });

function vals(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('sum', () => {
  test('all axes, one axis, several axes, negative axes, keepDims', () => {
    const x = x23();
    assert.deepEqual(sum(x).shape, []);
    assert.equal(sum(x).item(), 21);
    assert.deepEqual(sum(x, { axis: 0 }).toArray(), [5, 7, 9]);
    assert.deepEqual(sum(x, { axis: -1 }).toArray(), [6, 15]);
    assert.deepEqual(sum(x, { axis: 1, keepDims: true }).toArray(), [[6], [15]]);
    assert.deepEqual(sum(x, { keepDims: true }).shape, [1, 1]);
    assert.deepEqual(sum(x, { axis: [0, 1] }).toArray(), 21);
    assert.deepEqual(sum(x, { axis: [] }).toArray(), x.toArray());
    const y = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    assert.deepEqual(sum(y, { axis: [0, 2] }).toArray(), [1 + 2 + 5 + 6, 3 + 4 + 7 + 8]);
    assert.deepEqual(sum(y, { axis: [-1, 0], keepDims: true }).shape, [1, 2, 1]);
    assert.equal(x.sum({ axis: 0 }).shape[0], 3);
  });

  test('dtypes: int32 stays int32, bool sums to int32, scalar input', () => {
    const i = tensor([1, 2, 3], [3], 'int32');
    assert.equal(sum(i).dtype, 'int32');
    assert.equal(sum(i).item(), 6);
    const b = tensor([true, false, true]);
    assert.equal(sum(b).dtype, 'int32');
    assert.equal(sum(b).item(), 2);
    assert.equal(sum(tensor(5)).item(), 5);
    assert.equal(sum(tensor([], [0])).item(), 0);
  });

  test('errors', () => {
    assert.throws(() => sum(x23(), { axis: 2 }), {
      name: 'ValueError',
      message: /sum got axis 2, expected an integer in \[-2, 1\]/,
    });
    assert.throws(() => sum(x23(), { axis: [0, -2] }), { name: 'ValueError', message: /sum got axis -2 twice/ });
    assert.throws(() => sum(x23(), { axis: 0.5 }), ValueError);
  });

  test('gradient', () => {
    gradCheck((a) => sum(a), [x234()]);
    gradCheck((a) => sum(a, { axis: 1 }), [x234()]);
    gradCheck((a) => sum(a, { axis: [0, 2], keepDims: true }), [x234()]);
    gradCheck((a) => sum(a, { axis: -1 }), [x234()]);
    assert.deepEqual(grad((a) => sum(a))(x23()).toArray(), [
      [1, 1, 1],
      [1, 1, 1],
    ]);
  });
});

describe('mean', () => {
  test('values', () => {
    const x = x23();
    assert.equal(mean(x).item(), 3.5);
    assert.deepEqual(mean(x, { axis: 0 }).toArray(), [2.5, 3.5, 4.5]);
    assert.deepEqual(mean(x, { axis: -1, keepDims: true }).toArray(), [[2], [5]]);
    assert.equal(mean(tensor([1, 2], [2], 'int32')).dtype, 'float32');
    assert.equal(mean(tensor([1, 2], [2], 'int32')).item(), 1.5);
    assert.ok(Number.isNaN(mean(tensor([], [0])).item()));
    // does not alias its input when no axes are reduced
    const m = mean(x, { axis: [] });
    assert.notEqual(m.dataSync(), x.dataSync());
    assert.deepEqual(m.toArray(), x.toArray());
  });

  test('gradient', () => {
    assert.deepEqual(vals(grad((a) => mean(a))(tensor([1, 2, 3, 4]))), [0.25, 0.25, 0.25, 0.25]);
    gradCheck((a) => mean(a, { axis: [0, 2] }), [x234()]);
    gradCheck((a) => mean(a, { axis: 1, keepDims: true }), [x234()]);
  });
});

describe('max / min', () => {
  test('values', () => {
    const x = tensor([
      [1, 5, 2],
      [7, 0, 7],
    ]);
    assert.equal(max(x).item(), 7);
    assert.equal(min(x).item(), 0);
    assert.deepEqual(max(x, { axis: 0 }).toArray(), [7, 5, 7]);
    assert.deepEqual(min(x, { axis: -1 }).toArray(), [1, 0]);
    assert.deepEqual(max(x, { axis: 1, keepDims: true }).toArray(), [[5], [7]]);
    assert.equal(max(tensor([3, -1], [2], 'int32')).dtype, 'int32');
    assert.ok(Number.isNaN(max(tensor([1, Number.NaN, 3])).item()));
    assert.equal(x.max({ axis: 0 }).size, 3);
  });

  test('empty axis is an error', () => {
    assert.throws(() => max(tensor([], [0])), { name: 'ValueError', message: /max of an empty axis/ });
  });

  test('gradient goes to the extreme, split evenly among ties', () => {
    const x = tensor([
      [1, 5, 2],
      [7, 0, 7],
    ]);
    assert.deepEqual(grad((a) => sum(max(a, { axis: 1 })))(x).toArray(), [
      [0, 1, 0],
      [0.5, 0, 0.5],
    ]);
    assert.deepEqual(grad((a) => min(a))(x).toArray(), [
      [0, 0, 0],
      [0, 1, 0],
    ]);
    gradCheck((a) => max(a, { axis: 1 }), [x234()]);
    gradCheck((a) => min(a, { axis: [0, 2] }), [x234()]);
  });
});

describe('prod', () => {
  test('values', () => {
    const x = x23();
    assert.equal(prod(x).item(), 720);
    assert.deepEqual(prod(x, { axis: 0 }).toArray(), [4, 10, 18]);
    assert.deepEqual(prod(x, { axis: -1, keepDims: true }).toArray(), [[6], [120]]);
    assert.equal(prod(tensor([true, true])).dtype, 'int32');
    assert.equal(prod(tensor([], [0])).item(), 1);
  });

  test('gradient, including one and two zeros in a group', () => {
    const g = grad((a) => sum(prod(a, { axis: 1 })));
    assert.deepEqual(g(tensor([[2, 3, 4]])).toArray(), [[12, 8, 6]]);
    assert.deepEqual(g(tensor([[2, 0, 4]])).toArray(), [[0, 8, 0]]);
    assert.deepEqual(g(tensor([[0, 3, 0]])).toArray(), [[0, 0, 0]]);
    gradCheck(
      (a) => prod(a, { axis: 1 }),
      [
        tensor([
          [0.5, 1.5, -2],
          [1.2, 0, 0.7],
        ]),
      ],
    );
    gradCheck((a) => prod(a), [tensor([0.9, -1.1, 1.3, 0.8])]);
  });
});

describe('variance / std', () => {
  test('population variance (ddof 0)', () => {
    assertClose(vals(variance(tensor([1, 2, 3, 4]))), [1.25]);
    assertClose(vals(variance(x23(), { axis: 0 })), [2.25, 2.25, 2.25]);
    assertClose(vals(variance(x23(), { axis: -1, keepDims: true })), [2 / 3, 2 / 3]);
    assert.deepEqual(variance(x23(), { axis: 1, keepDims: true }).shape, [2, 1]);
    assertClose(vals(std(tensor([1, 2, 3, 4]))), [Math.sqrt(1.25)]);
  });

  test('gradient', () => {
    gradCheck((a) => variance(a, { axis: 1 }), [x234()]);
    gradCheck((a) => variance(a), [x234()]);
    gradCheck((a) => std(a, { axis: -1 }), [x234()]);
  });
});

describe('logSumExp', () => {
  test('values, stable for large inputs, infinities', () => {
    assertClose(vals(logSumExp(tensor([0, 0]))), [Math.log(2)]);
    assertClose(
      vals(
        logSumExp(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          { axis: 1 },
        ),
      ),
      [2 + Math.log(1 + Math.exp(-1)), 4 + Math.log(1 + Math.exp(-1))],
    );
    assertClose(vals(logSumExp(tensor([1000, 1000]))), [1000 + Math.log(2)]);
    assertClose(vals(logSumExp(tensor([-1000, -1000]))), [-1000 + Math.log(2)]);
    assert.equal(
      logSumExp(tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])).item(),
      Number.NEGATIVE_INFINITY,
    );
    assert.equal(logSumExp(tensor([Number.POSITIVE_INFINITY, 1])).item(), Number.POSITIVE_INFINITY);
    assert.deepEqual(logSumExp(x23(), { axis: 0, keepDims: true }).shape, [1, 3]);
  });

  test('gradient is softmax', () => {
    const g = grad((a) => logSumExp(a))(tensor([1, 2, 3]));
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    assertClose(
      vals(g),
      e.map((v) => v / s),
    );
    gradCheck((a) => logSumExp(a, { axis: 1 }), [x234()]);
    gradCheck((a) => logSumExp(a, { axis: [0, 2], keepDims: true }), [x234()]);
  });
});

describe('argMax / argMin', () => {
  test('values, int32, first among ties, flattening without an axis', () => {
    const x = tensor([
      [1, 9, 9],
      [7, 0, 3],
    ]);
    const a = argMax(x, { axis: 1 });
    assert.equal(a.dtype, 'int32');
    assert.deepEqual(a.toArray(), [1, 0]);
    assert.deepEqual(argMax(x, { axis: 0 }).toArray(), [1, 0, 0]);
    assert.deepEqual(argMin(x, { axis: -1 }).toArray(), [0, 1]);
    assert.equal(argMax(x).item(), 1);
    assert.deepEqual(argMax(x).shape, []);
    assert.equal(argMin(x).item(), 4);
    assert.deepEqual(argMax(x, { axis: 1, keepDims: true }).shape, [2, 1]);
    assert.deepEqual(argMax(x, { keepDims: true }).shape, [1, 1]);
    assert.equal(argMax(tensor([1, Number.NaN, 5])).item(), 1);
    assert.equal(x.argMax({ axis: 1 }).size, 2);
  });

  test('errors', () => {
    assert.throws(() => argMax(tensor([], [0])), { name: 'ValueError', message: /argMax of an empty sequence/ });
    assert.throws(() => argMax(x23(), { axis: 2 }), { name: 'ValueError', message: /argMax got axis 2/ });
    assert.throws(() => argMin(x23(), { axis: [0] as unknown as number }), {
      name: 'ValueError',
      message: /argMin expected a single integer axis/,
    });
  });
});

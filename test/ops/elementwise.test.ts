import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  abs,
  add,
  ceil,
  clip,
  cos,
  DTypeError,
  div,
  elu,
  equal,
  exp,
  expm1,
  floor,
  floorDiv,
  gelu,
  grad,
  greater,
  greaterEqual,
  hardSigmoid,
  leakyRelu,
  less,
  lessEqual,
  log,
  log1p,
  logicalAnd,
  logicalNot,
  logicalOr,
  logSoftmax,
  maximum,
  minimum,
  mod,
  mul,
  neg,
  notEqual,
  pow,
  randomNormal,
  reciprocal,
  relu,
  relu6,
  round,
  rsqrt,
  ShapeError,
  selu,
  sigmoid,
  sign,
  sin,
  softmax,
  softplus,
  softsign,
  sqrt,
  square,
  squaredDifference,
  sub,
  sum,
  swish,
  type Tensor,
  tanh,
  tensor,
  ValueError,
  where,
} from 'tessera';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

const vals = (t: Tensor): number[] => Array.from(t.dataSync());
const int = (values: number[], shape = [values.length]) => tensor(values, shape, 'int32');
/** Inputs away from the kinks at 0, +-3 and 6, where finite differences are meaningless. */
const smooth = () =>
  tensor([
    [-2.6, -1.3, -0.4],
    [0.6, 1.7, 2.2],
  ]);
const positive = () =>
  tensor([
    [0.4, 1.3, 2.5],
    [0.7, 3.1, 1.9],
  ]);
const rn = (shape: number[], seed: number) => randomNormal(shape, { seed });

describe('arithmetic', () => {
  test('hand-worked values and scalar operands', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([4, 5, 6]);
    assert.deepEqual(add(a, b).toArray(), [5, 7, 9]);
    assert.deepEqual(sub(a, b).toArray(), [-3, -3, -3]);
    assert.deepEqual(mul(a, b).toArray(), [4, 10, 18]);
    assertClose(vals(div(a, b)), [0.25, 0.4, 0.5]);
    assert.deepEqual(neg(a).toArray(), [-1, -2, -3]);
    assert.deepEqual(pow(a, 2).toArray(), [1, 4, 9]);
    assert.deepEqual(pow(2, a).toArray(), [2, 4, 8]);
    assert.deepEqual(maximum(a, 2).toArray(), [2, 2, 3]);
    assert.deepEqual(minimum(a, 2).toArray(), [1, 2, 2]);
    assert.deepEqual(squaredDifference(a, b).toArray(), [9, 9, 9]);
    assert.deepEqual(add(a, 10).toArray(), [11, 12, 13]);
    assert.deepEqual(sub(10, a).toArray(), [9, 8, 7]);
    assert.deepEqual(a.add(1).mul(2).toArray(), [4, 6, 8]);
    assert.deepEqual(add([1, 2], a.slice([1])).toArray(), [3, 5]);
  });

  test('floorDiv and mod follow Python signs', () => {
    const a = tensor([7, -7, 7, -7]);
    const b = tensor([2, 2, -2, -2]);
    assert.deepEqual(floorDiv(a, b).toArray(), [3, -4, -4, 3]);
    assert.deepEqual(mod(a, b).toArray(), [1, 1, -1, -1]);
    assert.deepEqual(mod(int([7, -7]), int([3, 3])).toArray(), [1, 2]);
    assert.equal(floorDiv(int([7]), int([2])).dtype, 'int32');
  });

  test('broadcasting [2, 1, 3] + [4, 1] -> [2, 4, 3]', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 1, 3]);
    const b = tensor([10, 20, 30, 40], [4, 1]);
    const c = add(a, b);
    assert.deepEqual(c.shape, [2, 4, 3]);
    const ad = a.toArray() as number[][][];
    const bd = b.toArray() as number[][];
    const want: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) want.push(ad[i]![0]![k]! + bd[j]![0]!);
    assert.deepEqual(vals(c), want);
    assert.deepEqual(mul(tensor([[1], [2]]), tensor([3, 4])).toArray(), [
      [3, 4],
      [6, 8],
    ]);
    assert.deepEqual(add(tensor(1), tensor([[1, 2]])).shape, [1, 2]);
    assert.throws(() => add(tensor([1, 2]), tensor([1, 2, 3])), {
      name: 'ShapeError',
      message: /add could not broadcast shapes \[2\] and \[3\]/,
    });
    assert.throws(() => mul(randomNormal([2, 3]), randomNormal([3, 2])), ShapeError);
  });

  test('dtype promotion', () => {
    const i = int([1, 2, 3]);
    const f = tensor([0.5, 0.5, 0.5]);
    const bl = tensor([true, false, true]);
    assert.equal(add(i, i).dtype, 'int32');
    assert.equal(add(i, f).dtype, 'float32');
    assert.deepEqual(add(i, f).toArray(), [1.5, 2.5, 3.5]);
    assert.equal(add(i, 1).dtype, 'int32');
    assert.equal(add(i, 1.5).dtype, 'float32');
    assert.deepEqual(add(i, 1.5).toArray(), [2.5, 3.5, 4.5]);
    assert.equal(add(bl, i).dtype, 'int32');
    assert.deepEqual(add(bl, i).toArray(), [2, 2, 4]);
    assert.equal(div(i, int([2, 2, 2])).dtype, 'float32');
    assert.deepEqual(div(i, int([2, 2, 2])).toArray(), [0.5, 1, 1.5]);
    assert.equal(neg(bl).dtype, 'int32');
    // bool + bool is a logical or (NumPy); bool - bool promotes to int32
    const sumB = add(bl, tensor([true, true, false]));
    assert.equal(sumB.dtype, 'bool');
    assert.deepEqual(vals(sumB), [1, 1, 1]);
    const diffB = sub(bl, tensor([true, true, false]));
    assert.equal(diffB.dtype, 'int32');
    assert.deepEqual(diffB.toArray(), [0, -1, 1]);
    assert.equal(mul(bl, bl).dtype, 'bool');
  });

  test('division edge cases', () => {
    assert.deepEqual(vals(div(tensor([1, -1, 0]), tensor([0, 0, 0]))).map(String), ['Infinity', '-Infinity', 'NaN']);
  });

  test('gradients', () => {
    const a = rn([2, 3], 1);
    const b = rn([2, 3], 2);
    gradCheck((x, y) => add(x, y), [a, b]);
    gradCheck((x, y) => sub(x, y), [a, b]);
    gradCheck((x, y) => mul(x, y), [a, b]);
    gradCheck((x, y) => div(x, y), [a, positive()]);
    gradCheck((x) => neg(x), [a]);
    gradCheck((x, y) => pow(x, y), [positive(), a]);
    gradCheck((x) => pow(x, 3), [a]);
    gradCheck((x, y) => maximum(x, y), [a, b]);
    gradCheck((x, y) => minimum(x, y), [a, b]);
    gradCheck((x, y) => squaredDifference(x, y), [a, b]);
    gradCheck((x) => mod(x, 10), [positive()]);
    // broadcast gradients are summed back to each operand's shape
    gradCheck((x, y) => mul(x, y), [rn([2, 1, 3], 3), rn([4, 1], 4)]);
    gradCheck((x, y) => div(x, y), [rn([2, 3], 3), tensor([[1.5], [2.5]])]);
    gradCheck((x, y) => sub(x, y), [rn([3], 3), rn([2, 3], 4)]);
    assert.deepEqual(grad((x) => sum(mul(x, x)))(tensor([1, 2])).toArray(), [2, 4]);
  });
});

describe('math', () => {
  test('values', () => {
    const x = tensor([0.25, 1, 4]);
    assertClose(vals(exp(tensor([0, 1]))), [1, Math.E]);
    assertClose(vals(log(x)), [Math.log(0.25), 0, Math.log(4)]);
    assertClose(vals(sqrt(x)), [0.5, 1, 2]);
    assertClose(vals(rsqrt(x)), [2, 1, 0.5]);
    assertClose(vals(reciprocal(x)), [4, 1, 0.25]);
    assertClose(vals(log1p(tensor([1e-7, 1]))), [1e-7, Math.log(2)], 1e-6);
    assertClose(vals(expm1(tensor([1e-7, 1]))), [1e-7, Math.E - 1], 1e-6);
    assert.deepEqual(abs(tensor([-2, 0, 3])).toArray(), [2, 0, 3]);
    assert.equal(abs(int([-2])).dtype, 'int32');
    assert.deepEqual(square(tensor([-3, 2])).toArray(), [9, 4]);
    assert.equal(square(int([3])).dtype, 'int32');
    assert.deepEqual(sign(tensor([-2, 0, 3])).toArray(), [-1, 0, 1]);
    assert.deepEqual(floor(tensor([-1.5, 1.5])).toArray(), [-2, 1]);
    assert.deepEqual(ceil(tensor([-1.5, 1.5])).toArray(), [-1, 2]);
    assert.deepEqual(round(tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.6])).toArray(), [0, 2, 2, -0, -2, 3]);
    assertClose(vals(sin(tensor([0, Math.PI / 2]))), [0, 1]);
    assertClose(vals(cos(tensor([0, Math.PI]))), [1, -1]);
    assert.deepEqual(clip(tensor([-2, 0.5, 3]), 0, 1).toArray(), [0, 0.5, 1]);
    assert.equal(exp(int([0])).dtype, 'float32');
    assert.deepEqual(x.sqrt().square().toArray(), [0.25, 1, 4]);
  });

  test('NaN / Inf edge cases', () => {
    assert.deepEqual(vals(log(tensor([0, -1, Number.POSITIVE_INFINITY]))).map(String), [
      '-Infinity',
      'NaN',
      'Infinity',
    ]);
    assert.deepEqual(vals(exp(tensor([-1000, 1000]))).map(String), ['0', 'Infinity']);
    assert.ok(Number.isNaN(sqrt(tensor([-1])).item()));
    assert.equal(reciprocal(tensor([0])).item(), Number.POSITIVE_INFINITY);
    assert.equal(log1p(tensor([-1])).item(), Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(clip(tensor([Number.NaN]), 0, 1).item()));
    assert.throws(() => clip(tensor([1]), 2, 1), { name: 'ValueError', message: /clip got min 2 > max 1/ });
  });

  test('gradients', () => {
    const p = positive();
    const s = smooth();
    gradCheck((x) => exp(x), [s]);
    gradCheck((x) => log(x), [p]);
    gradCheck((x) => log1p(x), [p]);
    gradCheck((x) => expm1(x), [s]);
    gradCheck((x) => sqrt(x), [p]);
    gradCheck((x) => rsqrt(x), [p]);
    gradCheck((x) => abs(x), [s]);
    gradCheck((x) => square(x), [s]);
    gradCheck((x) => reciprocal(x), [p]);
    gradCheck((x) => sin(x), [s]);
    gradCheck((x) => cos(x), [s]);
    gradCheck((x) => clip(x, -1, 1), [s]);
    assert.deepEqual(grad((x) => sum(clip(x, 0, 1)))(tensor([-1, 0.5, 2])).toArray(), [0, 1, 0]);
  });
});

describe('compare and logic', () => {
  test('comparisons give bool and broadcast', () => {
    const a = tensor([1, 2, 3]);
    const e = equal(a, 2);
    assert.equal(e.dtype, 'bool');
    assert.deepEqual(e.toArray(), [false, true, false]);
    assert.deepEqual(notEqual(a, 2).toArray(), [true, false, true]);
    assert.deepEqual(greater(a, 2).toArray(), [false, false, true]);
    assert.deepEqual(greaterEqual(a, 2).toArray(), [false, true, true]);
    assert.deepEqual(less(a, 2).toArray(), [true, false, false]);
    assert.deepEqual(lessEqual(a, 2).toArray(), [true, true, false]);
    assert.deepEqual(greater(tensor([[1], [3]]), tensor([2, 0])).toArray(), [
      [false, true],
      [true, true],
    ]);
    assert.deepEqual(equal(tensor([Number.NaN]), tensor([Number.NaN])).toArray(), [false]);
    assert.deepEqual(equal(int([2]), tensor([2])).toArray(), [true]);
    assert.deepEqual(a.greater(1).toArray(), [false, true, true]);
  });

  test('logical ops require bool', () => {
    const t = tensor([true, true, false, false]);
    const u = tensor([true, false, true, false]);
    assert.deepEqual(logicalAnd(t, u).toArray(), [true, false, false, false]);
    assert.deepEqual(logicalOr(t, u).toArray(), [true, true, true, false]);
    assert.deepEqual(logicalNot(t).toArray(), [false, false, true, true]);
    assert.throws(() => logicalAnd(tensor([1]), t), {
      name: 'DTypeError',
      message: /logicalAnd expected bool tensors, got float32/,
    });
    assert.throws(() => logicalNot(tensor([1])), DTypeError);
  });

  test('where selects (no NaN leak from the other branch) and broadcasts', () => {
    const c = tensor([true, false, true]);
    assert.deepEqual(where(c, tensor([1, 2, 3]), 0).toArray(), [1, 0, 3]);
    assert.deepEqual(where(c, tensor([Number.POSITIVE_INFINITY, 1, 1]), tensor([1, Number.NaN, 1])).toArray(), [
      Number.POSITIVE_INFINITY,
      Number.NaN,
      1,
    ]);
    assert.deepEqual(where(tensor([[true], [false]]), tensor([1, 2]), tensor(9)).toArray(), [
      [1, 2],
      [9, 9],
    ]);
    assert.throws(() => where(tensor([1, 0]), 1, 2), { name: 'DTypeError', message: /where expected bool tensors/ });
    assert.throws(() => where(c, tensor([1, 2]), 0), ShapeError);
    gradCheck((x, y) => where(tensor([[true, false, true]]), x, y), [rn([2, 3], 1), rn([2, 1], 2)]);
  });
});

describe('activations', () => {
  test('values', () => {
    const x = tensor([-2, -0.5, 0, 0.5, 2, 7]);
    assert.deepEqual(relu(x).toArray(), [0, 0, 0, 0.5, 2, 7]);
    assert.deepEqual(relu6(x).toArray(), [0, 0, 0, 0.5, 2, 6]);
    assertClose(vals(leakyRelu(x)), [-0.4, -0.1, 0, 0.5, 2, 7]);
    assertClose(vals(leakyRelu(x, { alpha: 0.5 })), [-1, -0.25, 0, 0.5, 2, 7]);
    assertClose(vals(elu(x)), [Math.expm1(-2), Math.expm1(-0.5), 0, 0.5, 2, 7]);
    const a = 1.6732632423543772;
    const l = 1.0507009873554805;
    assertClose(vals(selu(tensor([-1, 1]))), [l * a * Math.expm1(-1), l]);
    const sg = (v: number) => 1 / (1 + Math.exp(-v));
    assertClose(vals(sigmoid(x)), [-2, -0.5, 0, 0.5, 2, 7].map(sg));
    assertClose(vals(hardSigmoid(tensor([-4, -3, 0, 1.5, 3, 4]))), [0, 0, 0.5, 0.75, 1, 1]);
    assertClose(vals(tanh(tensor([0, 1]))), [0, Math.tanh(1)]);
    assertClose(vals(softplus(tensor([0, 1]))), [Math.log(2), Math.log(1 + Math.E)]);
    assertClose(vals(softsign(tensor([-3, 1]))), [-0.75, 0.5]);
    assertClose(vals(swish(tensor([-1, 2]))), [-sg(-1), 2 * sg(2)]);
    // gelu exact: x * Phi(x); Phi(1) = 0.8413447460685429
    assertClose(vals(gelu(tensor([0, 1, -1]))), [0, 0.8413447460685429, -(1 - 0.8413447460685429)], 1e-5);
    assert.equal(relu(int([-1, 2])).dtype, 'float32');
    assert.deepEqual(x.relu().toArray(), relu(x).toArray());
  });

  test('NaN / Inf edge cases for sigmoid and softplus', () => {
    const inf = Number.POSITIVE_INFINITY;
    assert.deepEqual(vals(sigmoid(tensor([-inf, -1000, 1000, inf]))), [0, 0, 1, 1]);
    assert.ok(Number.isNaN(sigmoid(tensor([Number.NaN])).item()));
    assert.deepEqual(vals(softplus(tensor([-inf, -1000, 1000, inf]))), [0, 0, 1000, inf]);
    assert.ok(Number.isNaN(softplus(tensor([Number.NaN])).item()));
    assertClose(vals(softplus(tensor([-20]))), [Math.exp(-20)], 1e-5);
    assert.deepEqual(vals(tanh(tensor([-inf, inf]))), [-1, 1]);
    // gradients stay finite at the extremes
    const gs = grad((x) => sum(sigmoid(x)))(tensor([-1000, 1000]));
    assert.deepEqual(vals(gs), [0, 0]);
    const gp = grad((x) => sum(softplus(x)))(tensor([-1000, 1000]));
    assert.deepEqual(vals(gp), [0, 1]);
  });

  test('gradients', () => {
    const s = smooth();
    for (const f of [relu, relu6, selu, gelu, sigmoid, hardSigmoid, tanh, softplus, softsign, swish]) {
      gradCheck((x) => f(x), [s]);
    }
    gradCheck((x) => leakyRelu(x, { alpha: 0.3 }), [s]);
    gradCheck((x) => elu(x, { alpha: 0.7 }), [s]);
    gradCheck((x) => relu6(x), [tensor([5.5, 6.5, -0.5, 0.5])]);
  });

  test('softmax / logSoftmax on axis -1 and 0', () => {
    const x = tensor([
      [1, 2, 3],
      [1, 1, 1],
    ]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const z = e[0]! + e[1]! + e[2]!;
    const row0 = e.map((v) => v / z);
    assertClose(vals(softmax(x)), [...row0, 1 / 3, 1 / 3, 1 / 3]);
    assertClose(vals(logSoftmax(x)), [...row0.map(Math.log), ...[1, 1, 1].map(() => -Math.log(3))]);
    // axis 0: columns sum to 1
    const s0 = softmax(x, { axis: 0 });
    const s1 = 1 / (1 + Math.exp(-1));
    const s2 = 1 / (1 + Math.exp(-2));
    assertClose(vals(s0), [0.5, s1, s2, 0.5, 1 - s1, 1 - s2]);
    assertClose(vals(logSoftmax(x, { axis: 0 })), [0.5, s1, s2, 0.5, 1 - s1, 1 - s2].map(Math.log), 1e-5);
    // stable for large logits, and -inf entries give 0
    assertClose(vals(softmax(tensor([1000, 1000]))), [0.5, 0.5]);
    assertClose(vals(softmax(tensor([0, Number.NEGATIVE_INFINITY]))), [1, 0]);
    assertClose(vals(logSoftmax(tensor([1000, 0]))), [0, -1000]);
    const r3 = rn([2, 3, 4], 5);
    assertClose(vals(sum(softmax(r3, { axis: 1 }), { axis: 1 })), new Array(8).fill(1), 1e-6);
    assert.throws(() => softmax(x, { axis: 2 }), ValueError);
  });

  test('softmax / logSoftmax gradients', () => {
    const r3 = rn([2, 3, 4], 6);
    gradCheck((x) => softmax(x), [r3]);
    gradCheck((x) => softmax(x, { axis: 0 }), [r3]);
    gradCheck((x) => softmax(x, { axis: 1 }), [r3]);
    gradCheck((x) => logSoftmax(x), [r3]);
    gradCheck((x) => logSoftmax(x, { axis: 0 }), [r3]);
  });
});

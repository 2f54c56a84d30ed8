import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  exp,
  grad,
  gradients,
  log,
  matmul,
  mean,
  mul,
  noGrad,
  ShapeError,
  sigmoid,
  square,
  sum,
  tensor,
  valueAndGrad,
  variable,
  variableGrads,
} from 'tessera';
import { assertClose } from '../helpers/gradcheck.js';

describe('autograd', () => {
  it('grad of sum(x^2) is 2x', () => {
    const g = grad((x) => sum(square(x)))(tensor([1, -2, 3]));
    assertClose(g.dataSync(), [2, -4, 6]);
  });

  it('valueAndGrad returns the value and one gradient per input', () => {
    const a = tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = tensor([
      [5, 6],
      [7, 8],
    ]);
    const { value, grads } = valueAndGrad((x, y) => sum(matmul(x, y)))(a, b);
    // sum(A B) = sum_ij sum_k A_ik B_kj; d/dA_ik = sum_j B_kj; d/dB_kj = sum_i A_ik
    assert.equal(value.item(), 1 * 5 + 2 * 7 + 1 * 6 + 2 * 8 + 3 * 5 + 4 * 7 + 3 * 6 + 4 * 8);
    assertClose(grads[0]!.dataSync(), [11, 15, 11, 15]);
    assertClose(grads[1]!.dataSync(), [4, 4, 6, 6]);
  });

  it('accumulates gradients across uses of a tensor', () => {
    // f(x) = x*x + x*3  => f'(x) = 2x + 3
    const g = grad((x) => sum(mul(x, x).add(mul(x, 3))))(tensor([2, 5]));
    assertClose(g.dataSync(), [7, 13]);
  });

  it('chains through nonlinear ops', () => {
    // d/dx log(sigmoid(x)) = 1 - sigmoid(x)
    const x = tensor([0, 1, -2]);
    const g = grad((t) => sum(log(sigmoid(t))))(x);
    const expected = [0, 1, -2].map((v) => 1 - 1 / (1 + Math.exp(-v)));
    assertClose(g.dataSync(), expected, 1e-5);
  });

  it('backward from a non-scalar without a seed is a clear error', () => {
    assert.throws(() => valueAndGrad((x) => exp(x))(tensor([1, 2])), ShapeError);
    const v = variable(tensor([1, 2]));
    const y = mul(v, 2);
    assert.throws(() => gradients(y, [v]), /needs a seed gradient of that shape/);
    const [g] = gradients(y, [v], tensor([1, 10]));
    assertClose(g!.dataSync(), [2, 20]);
  });

  it('noGrad records nothing', () => {
    const v = variable(tensor([1, 2]));
    const y = noGrad(() => sum(mul(v, v)));
    assert.equal(y.node, null);
    assert.equal(y.requiresGrad, false);
  });

  it('variableGrads gives gradients for variables, null for unused', () => {
    const w = variable(tensor([1, 2, 3]), { name: 'w' });
    const unused = variable(tensor([0]), { name: 'u' });
    const { value, grads } = variableGrads(() => mean(square(w)), [w, unused]);
    assertClose([value.item()], [14 / 3]);
    assertClose(grads.get(w)!.dataSync(), [2 / 3, 4 / 3, 2]);
    assert.equal(grads.get(unused), null);
  });

  it('handles deep graphs without stack overflow', () => {
    const v = variable(tensor([1]));
    let y = v as ReturnType<typeof tensor>;
    for (let i = 0; i < 20000; i++) y = mul(y, 1);
    const [g] = gradients(sum(y), [v]);
    assertClose(g!.dataSync(), [1]);
  });
});

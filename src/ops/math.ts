/** Unary math: exp, log, sqrt, abs, square, ... and clip. */

import { record } from '../autograd/tape.js';
import type { UnaryOp } from '../backend/backend.js';
import { backend } from '../backend/index.js';
import { ValueError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { div, mul, neg, sub } from './arithmetic.js';
import { binaryKernel, castData, toFloat } from './util.js';

/** Run a unary kernel (float ops promote ints to float32). */
export function unaryKernel(op: UnaryOp, x: Tensor, alpha = 0, keepDtype = false): Tensor {
  const input = keepDtype ? x : toFloat(x);
  const out = Tensor.empty(input.shape, input.dtype);
  backend().unary(op, input.data, out.data, alpha);
  return out;
}

/** e^x. */
export function exp(x: Tensor): Tensor {
  const out = unaryKernel('exp', x);
  return record(out, 'exp', [x], (g) => [mul(g, out)]);
}

/** Natural log. */
export function log(x: Tensor): Tensor {
  const out = unaryKernel('log', x);
  return record(out, 'log', [x], (g) => [div(g, x)]);
}

/** log(1 + x), accurate near 0. */
export function log1p(x: Tensor): Tensor {
  const out = unaryKernel('log1p', x);
  return record(out, 'log1p', [x], (g) => [div(g, binaryKernel('add', x, one(), 'float32', 'log1p'))]);
}

/** e^x - 1, accurate near 0. */
export function expm1(x: Tensor): Tensor {
  const out = unaryKernel('expm1', x);
  return record(out, 'expm1', [x], (g) => [mul(g, binaryKernel('add', out, one(), 'float32', 'expm1'))]);
}

/** Square root. */
export function sqrt(x: Tensor): Tensor {
  const out = unaryKernel('sqrt', x);
  return record(out, 'sqrt', [x], (g) => [div(mul(g, 0.5), out)]);
}

/** 1 / sqrt(x). */
export function rsqrt(x: Tensor): Tensor {
  const out = unaryKernel('rsqrt', x);
  // d/dx x^(-1/2) = -1/2 x^(-3/2) = -0.5 * out^3
  return record(out, 'rsqrt', [x], (g) => [mul(g, mul(mul(out, mul(out, out)), -0.5))]);
}

/** |x|; the gradient at 0 is 0. */
export function abs(x: Tensor): Tensor {
  const out = unaryKernel('abs', x, 0, true);
  return record(out, 'abs', [x], (g) => [mul(g, unaryKernel('sign', x))]);
}

/** x^2. */
export function square(x: Tensor): Tensor {
  const out = binaryKernel('mul', x, x, x.dtype === 'bool' ? 'int32' : x.dtype, 'square');
  return record(out, 'square', [x], (g) => [mul(g, mul(x, 2))]);
}

/** 1 / x. */
export function reciprocal(x: Tensor): Tensor {
  const out = unaryKernel('reciprocal', x);
  return record(out, 'reciprocal', [x], (g) => [neg(mul(g, mul(out, out)))]);
}

/** -1, 0 or 1; no gradient. */
export function sign(x: Tensor): Tensor {
  return unaryKernel('sign', x, 0, true);
}

/** Rounding ops have zero gradient almost everywhere; Tessera gives none. */
export function floor(x: Tensor): Tensor {
  return unaryKernel('floor', x, 0, true);
}
export function ceil(x: Tensor): Tensor {
  return unaryKernel('ceil', x, 0, true);
}
/** Round half to even, like NumPy and TF. */
export function round(x: Tensor): Tensor {
  return unaryKernel('round', x, 0, true);
}

export function sin(x: Tensor): Tensor {
  const out = unaryKernel('sin', x);
  return record(out, 'sin', [x], (g) => [mul(g, unaryKernel('cos', x))]);
}

export function cos(x: Tensor): Tensor {
  const out = unaryKernel('cos', x);
  return record(out, 'cos', [x], (g) => [neg(mul(g, unaryKernel('sin', x)))]);
}

/** Clamp to [min, max]; the gradient flows only where x is inside the range. */
export function clip(x: Tensor, min: number, max: number): Tensor {
  if (!(min <= max)) throw new ValueError(`clip got min ${min} > max ${max}, expected min <= max`);
  const lo = Tensor.empty([], x.dtype === 'bool' ? 'int32' : x.dtype);
  lo.data[0] = min;
  const hi = Tensor.empty([], lo.dtype);
  hi.data[0] = max;
  const out = binaryKernel('minimum', binaryKernel('maximum', x, lo, lo.dtype, 'clip'), hi, lo.dtype, 'clip');
  return record(out, 'clip', [x], (g) => {
    const inside = binaryKernel(
      'logicalAnd',
      binaryKernel('greaterEqual', x, lo, 'bool', 'clip'),
      binaryKernel('lessEqual', x, hi, 'bool', 'clip'),
      'bool',
      'clip',
    );
    return [mul(g, castData(inside, 'float32'))];
  });
}

function one(): Tensor {
  const t = Tensor.empty([], 'float32');
  t.data[0] = 1;
  return t;
}

/** 1 - x, used by a few gradients. */
export function oneMinus(x: Tensor): Tensor {
  return sub(1, x);
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    expm1(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    abs(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    sign(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    clip(min: number, max: number): Tensor;
  }
}

const methods = { exp, log, log1p, expm1, sqrt, rsqrt, abs, square, reciprocal, sign, floor, ceil, round, sin, cos };
for (const [name, fn] of Object.entries(methods)) {
  (Tensor.prototype as unknown as Record<string, unknown>)[name] = function (this: Tensor) {
    return fn(this);
  };
}
Tensor.prototype.clip = function (min, max) {
  return clip(this, min, max);
};

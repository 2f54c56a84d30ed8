/** Arithmetic: add, sub, mul, div, pow, maximum, minimum, ... with NumPy broadcasting. */
import { record } from '../autograd/tape.js';
import { upcast } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { binaryKernel, type Operand, operands, unbroadcast } from './util.js';

/** a + b. @example add(tensor([1, 2]), 10) // [11, 12] */
export function add(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  // bool + bool is a logical or (NumPy); a plain add would store 2 in a bool tensor.
  const both = x.dtype === 'bool' && y.dtype === 'bool';
  const out = binaryKernel(both ? 'logicalOr' : 'add', x, y, upcast(x.dtype, y.dtype), 'add');
  return record(out, 'add', [x, y], (g) => [unbroadcast(g, x.shape), unbroadcast(g, y.shape)]);
}

/** a - b. */
export function sub(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  // bool - bool gives int32 (-1 must not wrap to 255 in a bool tensor).
  const dtype = x.dtype === 'bool' && y.dtype === 'bool' ? 'int32' : upcast(x.dtype, y.dtype);
  const out = binaryKernel('sub', x, y, dtype, 'sub');
  return record(out, 'sub', [x, y], (g) => [
    unbroadcast(g, x.shape),
    y.requiresGrad ? unbroadcast(neg(g), y.shape) : null,
  ]);
}

/** a * b (elementwise). */
export function mul(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  const out = binaryKernel('mul', x, y, upcast(x.dtype, y.dtype), 'mul');
  return record(out, 'mul', [x, y], (g) => [
    x.requiresGrad ? unbroadcast(mul(g, y), x.shape) : null,
    y.requiresGrad ? unbroadcast(mul(g, x), y.shape) : null,
  ]);
}

/** a / b (true division: ints give float32). */
export function div(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  const out = binaryKernel('div', x, y, 'float32', 'div');
  return record(out, 'div', [x, y], (g) => [
    x.requiresGrad ? unbroadcast(div(g, y), x.shape) : null,
    // d(x/y)/dy = -x / y^2 = -out / y
    y.requiresGrad ? unbroadcast(neg(div(mul(g, out), y)), y.shape) : null,
  ]);
}

/** -x. */
export function neg(x: Tensor): Tensor {
  const out = binaryKernel('sub', zeroLike(x), x, x.dtype === 'bool' ? 'int32' : x.dtype, 'neg');
  return record(out, 'neg', [x], (g) => [neg(g)]);
}

function zeroLike(x: Tensor): Tensor {
  const z = Tensor.empty([], x.dtype === 'bool' ? 'int32' : x.dtype);
  z.data[0] = 0;
  return z;
}

/** a ** b. */
export function pow(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  const out = binaryKernel('pow', x, y, upcast(x.dtype, y.dtype), 'pow');
  return record(out, 'pow', [x, y], (g) => [
    // d/dx x^y = y x^(y-1)
    x.requiresGrad ? unbroadcast(mul(g, mul(y, pow(x, sub(y, 1)))), x.shape) : null,
    // d/dy x^y = x^y ln x (taken as 0 where x <= 0, like TF)
    y.requiresGrad ? unbroadcast(mul(g, mul(out, safeLog(x))), y.shape) : null,
  ]);
}

function safeLog(x: Tensor): Tensor {
  const out = Tensor.empty(x.shape, 'float32');
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    out.data[i] = v > 0 ? Math.log(v) : 0;
  }
  return out;
}

/** Elementwise max; the gradient goes to a where a >= b, else to b. */
export function maximum(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  const out = binaryKernel('maximum', x, y, upcast(x.dtype, y.dtype), 'maximum');
  return record(out, 'maximum', [x, y], (g) => {
    const pick = binaryKernel('greaterEqual', x, y, 'float32', 'maximum');
    return [
      x.requiresGrad ? unbroadcast(mul(g, pick), x.shape) : null,
      y.requiresGrad ? unbroadcast(mul(g, sub(1, pick)), y.shape) : null,
    ];
  });
}

/** Elementwise min; the gradient goes to a where a <= b, else to b. */
export function minimum(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  const out = binaryKernel('minimum', x, y, upcast(x.dtype, y.dtype), 'minimum');
  return record(out, 'minimum', [x, y], (g) => {
    const pick = binaryKernel('lessEqual', x, y, 'float32', 'minimum');
    return [
      x.requiresGrad ? unbroadcast(mul(g, pick), x.shape) : null,
      y.requiresGrad ? unbroadcast(mul(g, sub(1, pick)), y.shape) : null,
    ];
  });
}

/** (a - b)^2. */
export function squaredDifference(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  const out = binaryKernel('squaredDifference', x, y, upcast(x.dtype, y.dtype), 'squaredDifference');
  return record(out, 'squaredDifference', [x, y], (g) => {
    const d = mul(mul(g, sub(x, y)), 2);
    return [x.requiresGrad ? unbroadcast(d, x.shape) : null, y.requiresGrad ? unbroadcast(neg(d), y.shape) : null];
  });
}

/** floor(a / b); no gradient. */
export function floorDiv(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  return binaryKernel('floorDiv', x, y, upcast(x.dtype, y.dtype), 'floorDiv');
}

/** a mod b with the sign of b (Python / NumPy); gradient 1 for a. */
export function mod(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  const out = binaryKernel('mod', x, y, upcast(x.dtype, y.dtype), 'mod');
  return record(out, 'mod', [x, y], (g) => [unbroadcast(g, x.shape), null]);
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(b: Operand): Tensor;
    sub(b: Operand): Tensor;
    mul(b: Operand): Tensor;
    div(b: Operand): Tensor;
    neg(): Tensor;
    pow(b: Operand): Tensor;
    maximum(b: Operand): Tensor;
    minimum(b: Operand): Tensor;
    squaredDifference(b: Operand): Tensor;
  }
}

Tensor.prototype.add = function (b) {
  return add(this, b);
};
Tensor.prototype.sub = function (b) {
  return sub(this, b);
};
Tensor.prototype.mul = function (b) {
  return mul(this, b);
};
Tensor.prototype.div = function (b) {
  return div(this, b);
};
Tensor.prototype.neg = function () {
  return neg(this);
};
Tensor.prototype.pow = function (b) {
  return pow(this, b);
};
Tensor.prototype.maximum = function (b) {
  return maximum(this, b);
};
Tensor.prototype.minimum = function (b) {
  return minimum(this, b);
};
Tensor.prototype.squaredDifference = function (b) {
  return squaredDifference(this, b);
};

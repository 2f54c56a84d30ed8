/** Comparisons and logic (bool results, no gradient) and where(). */

import { record } from '../autograd/tape.js';
import type { BinaryOp } from '../backend/backend.js';
import { DTypeError, fmtShape } from '../tensor/errors.js';
import { broadcastShapes } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { mul } from './arithmetic.js';
import { binaryKernel, castData, type Operand, operands, unbroadcast } from './util.js';

function compare(op: BinaryOp, a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  return binaryKernel(op, x, y, 'bool', op);
}

export const equal = (a: Operand, b: Operand): Tensor => compare('equal', a, b);
export const notEqual = (a: Operand, b: Operand): Tensor => compare('notEqual', a, b);
export const greater = (a: Operand, b: Operand): Tensor => compare('greater', a, b);
export const greaterEqual = (a: Operand, b: Operand): Tensor => compare('greaterEqual', a, b);
export const less = (a: Operand, b: Operand): Tensor => compare('less', a, b);
export const lessEqual = (a: Operand, b: Operand): Tensor => compare('lessEqual', a, b);

function asBool(x: Tensor, op: string): Tensor {
  if (x.dtype === 'bool') return x;
  throw new DTypeError(`${op} expected bool tensors, got ${x.dtype} ${fmtShape(x.shape)}`);
}

export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  return binaryKernel('logicalAnd', asBool(a, 'logicalAnd'), asBool(b, 'logicalAnd'), 'bool', 'logicalAnd');
}

export function logicalOr(a: Tensor, b: Tensor): Tensor {
  return binaryKernel('logicalOr', asBool(a, 'logicalOr'), asBool(b, 'logicalOr'), 'bool', 'logicalOr');
}

export function logicalNot(x: Tensor): Tensor {
  const b = asBool(x, 'logicalNot');
  const out = Tensor.empty(b.shape, 'bool');
  for (let i = 0; i < b.size; i++) out.data[i] = b.data[i] ? 0 : 1;
  return out;
}

/**
 * Pick from a where condition is true, else from b (all three broadcast).
 * @example where(greater(x, 0), x, 0)
 */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  const cond = asBool(condition, 'where');
  const [x, y] = operands(a, b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, x.shape, 'where'), y.shape, 'where');
  const mask = castData(cond, 'float32');
  // Select rather than blend, so that Infinity/NaN in the unpicked branch do not leak (0 * inf = NaN).
  const out = Tensor.empty(shape, x.dtype === y.dtype ? x.dtype : 'float32');
  const m = broadcastTo(mask, shape).data;
  const pa = broadcastTo(x, shape).data;
  const pb = broadcastTo(y, shape).data;
  for (let i = 0; i < out.size; i++) out.data[i] = (m[i] ? pa[i] : pb[i]) as number;
  return record(out, 'where', [x, y], (g) => {
    const full = broadcastTo(mask, shape);
    const fullNot = binaryKernel('sub', one(), full, 'float32', 'where');
    return [
      x.requiresGrad ? unbroadcast(mul(g, full), x.shape) : null,
      y.requiresGrad ? unbroadcast(mul(g, fullNot), y.shape) : null,
    ];
  });
}

function one(): Tensor {
  const t = Tensor.empty([], 'float32');
  t.data[0] = 1;
  return t;
}

/** Materialise x broadcast to shape (no gradient; internal). */
function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const zero = Tensor.empty(shape, x.dtype === 'bool' ? 'int32' : x.dtype, true);
  return binaryKernel('add', x.dtype === 'bool' ? castData(x, 'int32') : x, zero, zero.dtype, 'where');
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    equal(b: Operand): Tensor;
    notEqual(b: Operand): Tensor;
    greater(b: Operand): Tensor;
    greaterEqual(b: Operand): Tensor;
    less(b: Operand): Tensor;
    lessEqual(b: Operand): Tensor;
    logicalAnd(b: Tensor): Tensor;
    logicalOr(b: Tensor): Tensor;
    logicalNot(): Tensor;
  }
}

Tensor.prototype.equal = function (b) {
  return equal(this, b);
};
Tensor.prototype.notEqual = function (b) {
  return notEqual(this, b);
};
Tensor.prototype.greater = function (b) {
  return greater(this, b);
};
Tensor.prototype.greaterEqual = function (b) {
  return greaterEqual(this, b);
};
Tensor.prototype.less = function (b) {
  return less(this, b);
};
Tensor.prototype.lessEqual = function (b) {
  return lessEqual(this, b);
};
Tensor.prototype.logicalAnd = function (b) {
  return logicalAnd(this, b);
};
Tensor.prototype.logicalOr = function (b) {
  return logicalOr(this, b);
};
Tensor.prototype.logicalNot = function () {
  return logicalNot(this);
};

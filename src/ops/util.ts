/** Helpers shared by the op families: broadcasting binary kernels and gradient un-broadcasting. */

import type { BinaryOp, ReduceOp } from '../backend/backend.js';
import { backend } from '../backend/index.js';
import { asTensor, type TensorLike } from '../tensor/creation.js';
import { type DType, upcast } from '../tensor/dtype.js';
import { DTypeError, fmtShape } from '../tensor/errors.js';
import { broadcastShapes, broadcastStrides, sameShape, stridesOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export type Operand = Tensor | TensorLike | number;

/** Both operands as tensors; a bare number takes the dtype of the other operand. */
export function operands(a: Operand, b: Operand): [Tensor, Tensor] {
  const ta = a instanceof Tensor ? a : undefined;
  const tb = b instanceof Tensor ? b : undefined;
  return [asTensor(a as TensorLike, tb), asTensor(b as TensorLike, ta)];
}

/** Run a broadcasting binary kernel: out has the broadcast shape and the given dtype. */
export function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor, outDtype: DType, where: string): Tensor {
  const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(a.shape, b.shape, where);
  let x = a;
  let y = b;
  // Kernels see one dtype per call: promote mixed inputs (bool < int32 < float32).
  const common = upcast(a.dtype, b.dtype);
  if (x.dtype !== common) x = castData(x, common);
  if (y.dtype !== common) y = castData(y, common);
  const out = Tensor.empty(shape, outDtype);
  const outStrides = stridesOf(shape);
  const aStrides = sameShape(x.shape, shape) ? outStrides : broadcastStrides(x.shape, shape);
  const bStrides = sameShape(y.shape, shape) ? outStrides : broadcastStrides(y.shape, shape);
  backend().binary(op, x.data, aStrides, y.data, bStrides, out.data, shape);
  return out;
}

/** A plain dtype conversion with no gradient (the differentiable one is ops cast()). */
export function castData(x: Tensor, dtype: DType): Tensor {
  const out = Tensor.empty(x.shape, dtype);
  const src = x.data;
  const dst = out.data;
  if (dtype === 'bool') for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < src.length; i++) dst[i] = Math.trunc(src[i] as number);
  else dst.set(src);
  return out;
}

/** Reduce x with `op` over the given sorted axes, keeping them as size-1 dims. */
export function reduceKeepDims(op: ReduceOp, x: Tensor, axes: readonly number[]): Tensor {
  let cur = x;
  let shape = [...x.shape];
  // Merge runs of adjacent axes into one [outer, len, inner] pass each.
  let i = 0;
  while (i < axes.length) {
    let j = i;
    while (j + 1 < axes.length && (axes[j + 1] as number) === (axes[j] as number) + 1) j++;
    const first = axes[i] as number;
    const last = axes[j] as number;
    let outer = 1;
    let len = 1;
    let inner = 1;
    for (let d = 0; d < first; d++) outer *= shape[d] as number;
    for (let d = first; d <= last; d++) len *= shape[d] as number;
    for (let d = last + 1; d < shape.length; d++) inner *= shape[d] as number;
    const nextShape = shape.map((d, k) => (k >= first && k <= last ? 1 : d));
    const out = Tensor.empty(nextShape, cur.dtype);
    backend().reduce(op, cur.data, out.data, outer, len, inner);
    cur = out;
    shape = nextShape;
    i = j + 1;
  }
  return cur === x ? x.view(x.shape) : cur;
}

/** Sum a broadcast gradient back down to `shape` (undoing NumPy broadcasting). */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const offset = g.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    const target = i < offset ? 1 : (shape[i - offset] as number);
    if (target === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const reduced = axes.length > 0 ? reduceKeepDims('sum', g, axes) : g;
  return reduced.view(shape);
}

export function assertFloat(x: Tensor, op: string): void {
  if (x.dtype !== 'float32') {
    throw new DTypeError(`${op} expected a float32 tensor, got ${x.dtype} ${fmtShape(x.shape)}`);
  }
}

/** float32 version of x for ops that only make sense on floats (exp, log, ...). */
export function toFloat(x: Tensor): Tensor {
  return x.dtype === 'float32' ? x : castData(x, 'float32');
}

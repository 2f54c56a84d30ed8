/**
 * Reductions: sum, mean, max, min, prod, variance, std, logSumExp, argMax, argMin.
 * `axis` undefined (or null) reduces every axis; `keepDims` keeps reduced axes as size 1.
 */
import { record } from '../autograd/tape.js';
import type { ReduceOp } from '../backend/backend.js';
import { backend } from '../backend/index.js';
import { fmtShape, ValueError } from '../tensor/errors.js';
import { normAxes, normAxis } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { mul, sub } from './arithmetic.js';
import { sqrt, square } from './math.js';
import { broadcastTo } from './shape-ops.js';
import { binaryKernel, castData, reduceKeepDims, toFloat } from './util.js';

export interface ReduceOptions {
  /** Axis or axes to reduce (negative counts from the end); undefined or null = all. */
  axis?: number | readonly number[] | null;
  /** Keep reduced axes as size-1 dims (default false). */
  keepDims?: boolean;
}

interface Plan {
  axes: number[];
  /** x.shape with reduced axes set to 1. */
  kept: number[];
  /** The output shape (kept, or with reduced axes removed). */
  outShape: number[];
  /** Number of elements folded into each output. */
  count: number;
}

function plan(x: Tensor, options: ReduceOptions, op: string): Plan {
  const axes = normAxes(options.axis, x.rank, op);
  const set = new Set(axes);
  const kept = x.shape.map((d, i) => (set.has(i) ? 1 : d));
  const outShape = options.keepDims ? kept : x.shape.filter((_, i) => !set.has(i));
  let count = 1;
  for (const a of axes) count *= x.shape[a] as number;
  return { axes, kept, outShape, count };
}

/** Reduce into a fresh buffer (never a view of x), shaped as the kept shape. */
function reduceFresh(op: ReduceOp, x: Tensor, axes: readonly number[]): Tensor {
  if (axes.length === 0) return castData(x, x.dtype);
  return reduceKeepDims(op, x, axes);
}

/** g (the output's gradient) broadcast back to x's shape. */
function spread(g: Tensor, p: Plan, x: Tensor): Tensor {
  return broadcastTo(g.view(p.kept), x.shape);
}

/**
 * Sum of elements. bool sums to int32; int32 stays int32.
 * @example sum(tensor([[1, 2], [3, 4]]), { axis: 0 }) // [4, 6]
 */
export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  const p = plan(x, options, 'sum');
  const input = x.dtype === 'bool' ? castData(x, 'int32') : x;
  const out = reduceFresh('sum', input, p.axes).view(p.outShape);
  return record(out, 'sum', [x], (g) => [spread(g, p, x)]);
}

/** Arithmetic mean (float32; ints are promoted). The mean of no elements is NaN. */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  const p = plan(x, options, 'mean');
  const s = reduceFresh('sum', toFloat(x), p.axes);
  const d = s.data;
  const inv = 1 / p.count;
  for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) * inv;
  if (p.count === 0) d.fill(Number.NaN);
  const out = s.view(p.outShape);
  return record(out, 'mean', [x], (g) => [mul(spread(g, p, x), inv)]);
}

/**
 * Max / min: the gradient goes to the elements equal to the extreme, split evenly among ties
 * (like TensorFlow's reduce_max gradient).
 */
function extreme(op: 'max' | 'min', x: Tensor, options: ReduceOptions): Tensor {
  const p = plan(x, options, op);
  if (p.count === 0) {
    throw new ValueError(
      `${op} of an empty axis has no identity: got shape ${fmtShape(x.shape)} reducing axes ${fmtShape(p.axes)}`,
    );
  }
  const kept = reduceFresh(op, x, p.axes);
  const out = kept.view(p.outShape);
  return record(out, op, [x], (g) => {
    const hit = binaryKernel('equal', x, kept, 'float32', op);
    const ties = reduceFresh('sum', hit, p.axes);
    const share = binaryKernel('div', g.view(p.kept), ties, 'float32', op);
    return [binaryKernel('mul', hit, share, 'float32', op)];
  });
}

/** Largest element. @example max(tensor([[1, 5], [3, 2]]), { axis: 1 }) // [5, 3] */
export function max(x: Tensor, options: ReduceOptions = {}): Tensor {
  return extreme('max', x, options);
}

/** Smallest element. */
export function min(x: Tensor, options: ReduceOptions = {}): Tensor {
  return extreme('min', x, options);
}

/**
 * Product of elements (bool gives int32). The gradient is prod / x, computed without dividing by
 * zero: with one zero in a group only that element gets a gradient (the product of the others);
 * with two or more, every gradient in the group is 0.
 */
export function prod(x: Tensor, options: ReduceOptions = {}): Tensor {
  const p = plan(x, options, 'prod');
  const input = x.dtype === 'bool' ? castData(x, 'int32') : x;
  const out = reduceFresh('prod', input, p.axes).view(p.outShape);
  return record(out, 'prod', [x], (g) => {
    const xd = x.data;
    const isZero = Tensor.empty(x.shape, 'float32');
    const nonZero = Tensor.empty(x.shape, 'float32');
    for (let i = 0; i < xd.length; i++) {
      const v = xd[i] as number;
      isZero.data[i] = v === 0 ? 1 : 0;
      nonZero.data[i] = v === 0 ? 1 : v;
    }
    const zeros = broadcastTo(reduceFresh('sum', isZero, p.axes), x.shape).data;
    const prodNZ = broadcastTo(reduceFresh('prod', nonZero, p.axes), x.shape).data;
    const gb = spread(g, p, x).data;
    const dx = Tensor.empty(x.shape, 'float32');
    const dd = dx.data;
    for (let i = 0; i < dd.length; i++) {
      const z = zeros[i] as number;
      const v = xd[i] as number;
      const pn = prodNZ[i] as number;
      dd[i] = z === 0 ? ((gb[i] as number) * pn) / v : z === 1 && v === 0 ? (gb[i] as number) * pn : 0;
    }
    return [dx];
  });
}

/**
 * Population variance (ddof = 0, like NumPy and Keras): mean((x - mean(x))^2).
 * @example variance(tensor([1, 2, 3, 4])) // 1.25
 */
export function variance(x: Tensor, options: ReduceOptions = {}): Tensor {
  const m = mean(x, { axis: options.axis, keepDims: true });
  return mean(square(sub(x, m)), options);
}

/** Population standard deviation: sqrt(variance). */
export function std(x: Tensor, options: ReduceOptions = {}): Tensor {
  return sqrt(variance(x, options));
}

/**
 * log(sum(exp(x))) computed stably (the max is subtracted first); its gradient is softmax(x) * g.
 * @example logSumExp(tensor([0, 0])) // log(2)
 */
export function logSumExp(x: Tensor, options: ReduceOptions = {}): Tensor {
  const p = plan(x, options, 'logSumExp');
  const input = toFloat(x);
  const out = Tensor.empty(p.kept, 'float32');
  if (p.count === 0) out.data.fill(Number.NEGATIVE_INFINITY);
  else {
    const m = reduceFresh('max', input, p.axes);
    const md = m.data;
    // An infinite max would give inf - inf = NaN: shift by 0 there instead (like TF).
    for (let i = 0; i < md.length; i++) if (!Number.isFinite(md[i] as number)) md[i] = 0;
    const shifted = binaryKernel('sub', input, m, 'float32', 'logSumExp');
    backend().unary('exp', shifted.data, shifted.data, 0);
    const s = reduceFresh('sum', shifted, p.axes);
    const sd = s.data;
    const od = out.data;
    for (let i = 0; i < od.length; i++) od[i] = Math.log(sd[i] as number) + (md[i] as number);
  }
  const result = out.view(p.outShape);
  return record(result, 'logSumExp', [x], (g) => {
    const e = binaryKernel('sub', input, out, 'float32', 'logSumExp');
    backend().unary('exp', e.data, e.data, 0);
    return [binaryKernel('mul', e, g.view(p.kept), 'float32', 'logSumExp')];
  });
}

export interface ArgReduceOptions {
  /** The axis to reduce; undefined or null flattens x first (like NumPy / Keras ops argmax). */
  axis?: number | null;
  keepDims?: boolean;
}

function argReduce(op: 'argMax' | 'argMin', x: Tensor, options: ArgReduceOptions): Tensor {
  const { axis, keepDims = false } = options;
  let outer: number;
  let len: number;
  let inner: number;
  let outShape: number[];
  if (axis === undefined || axis === null) {
    outer = 1;
    len = x.size;
    inner = 1;
    outShape = keepDims ? x.shape.map(() => 1) : [];
  } else {
    if (typeof axis !== 'number') {
      throw new ValueError(`${op} expected a single integer axis (or none), got ${JSON.stringify(axis)}`);
    }
    const a = normAxis(axis, Math.max(x.rank, 1), op);
    const shape = x.rank === 0 ? [1] : x.shape;
    len = shape[a] as number;
    outer = 1;
    for (let d = 0; d < a; d++) outer *= shape[d] as number;
    inner = 1;
    for (let d = a + 1; d < shape.length; d++) inner *= shape[d] as number;
    outShape =
      x.rank === 0 ? [] : keepDims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  }
  if (len === 0) {
    throw new ValueError(
      `${op} of an empty sequence: got shape ${fmtShape(x.shape)}${axis == null ? '' : ` on axis ${axis}`}`,
    );
  }
  const out = Tensor.empty(outShape, 'int32');
  backend().argReduce(op, x.data, out.data as Int32Array, outer, len, inner);
  return out;
}

/** Index (int32) of the largest element along `axis`, the first among ties; no gradient. */
export function argMax(x: Tensor, options: ArgReduceOptions = {}): Tensor {
  return argReduce('argMax', x, options);
}

/** Index (int32) of the smallest element along `axis`, the first among ties; no gradient. */
export function argMin(x: Tensor, options: ArgReduceOptions = {}): Tensor {
  return argReduce('argMin', x, options);
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    sum(options?: ReduceOptions): Tensor;
    mean(options?: ReduceOptions): Tensor;
    max(options?: ReduceOptions): Tensor;
    min(options?: ReduceOptions): Tensor;
    prod(options?: ReduceOptions): Tensor;
    variance(options?: ReduceOptions): Tensor;
    std(options?: ReduceOptions): Tensor;
    logSumExp(options?: ReduceOptions): Tensor;
    argMax(options?: ArgReduceOptions): Tensor;
    argMin(options?: ArgReduceOptions): Tensor;
  }
}

const methods = { sum, mean, max, min, prod, variance, std, logSumExp, argMax, argMin };
for (const [name, fn] of Object.entries(methods)) {
  (Tensor.prototype as unknown as Record<string, unknown>)[name] = function (this: Tensor, o?: ReduceOptions) {
    return (fn as (x: Tensor, o?: ReduceOptions) => Tensor)(this, o);
  };
}

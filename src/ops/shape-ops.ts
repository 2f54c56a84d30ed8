/**
 * Shape ops and data movement: reshape, transpose, expandDims, squeeze, slice, stridedSlice,
 * concat, stack, unstack, split, tile, pad, gather, oneHot, cast, reverse, broadcastTo.
 * Pure data movement is written here in TypeScript over precomputed strides, copying the
 * innermost contiguous runs with TypedArray.set / fill.
 */
import { record } from '../autograd/tape.js';
import { backend } from '../backend/index.js';
import { asTensor, type TensorLike } from '../tensor/creation.js';
import { assertDType, type DType, type TypedArray, upcast } from '../tensor/dtype.js';
import { isGradEnabled } from '../tensor/engine.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import {
  assertValidShape,
  broadcastShapes,
  broadcastStrides,
  inferReshape,
  normAxes,
  normAxis,
  sameShape,
  sizeOf,
  stridesOf,
} from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { castData, reduceKeepDims, unbroadcast } from './util.js';

// ---------------------------------------------------------------------------------------
// Strided copy: the one loop behind slice, stridedSlice, tile, pad, reverse, broadcastTo
// ---------------------------------------------------------------------------------------

/**
 * dst[dstOff + sum(i * dstStrides)] = src[srcOff + sum(i * srcStrides)] over every index i of
 * `shape`. Size-1 dims are dropped and dims contiguous in both arrays are merged first, so the
 * inner loop is one long run (TypedArray.set) in the common cases.
 */
function copyStrided(
  src: TypedArray,
  srcOff: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstOff: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const sh: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d] as number;
    if (n === 0) return;
    if (n === 1) continue;
    const s = srcStrides[d] as number;
    const t = dstStrides[d] as number;
    const k = sh.length - 1;
    if (k >= 0 && ss[k] === s * n && ds[k] === t * n) {
      sh[k] = (sh[k] as number) * n;
      ss[k] = s;
      ds[k] = t;
    } else {
      sh.push(n);
      ss.push(s);
      ds.push(t);
    }
  }
  const rank = sh.length;
  if (rank === 0) {
    dst[dstOff] = src[srcOff] as number;
    return;
  }
  const last = rank - 1;
  const n = sh[last] as number;
  const s = ss[last] as number;
  const t = ds[last] as number;
  let outer = 1;
  for (let d = 0; d < last; d++) outer *= sh[d] as number;
  const idx = new Array<number>(last).fill(0);
  let so = srcOff;
  let dO = dstOff;
  for (let c = 0; c < outer; c++) {
    if (s === 1 && t === 1) {
      if (n >= 32) dst.set(src.subarray(so, so + n), dO);
      else for (let i = 0; i < n; i++) dst[dO + i] = src[so + i] as number;
    } else if (s === 0 && t === 1) {
      dst.fill(src[so] as number, dO, dO + n);
    } else {
      for (let i = 0, a = so, b = dO; i < n; i++, a += s, b += t) dst[b] = src[a] as number;
    }
    for (let d = last - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      so += ss[d] as number;
      dO += ds[d] as number;
      if ((idx[d] as number) < (sh[d] as number)) break;
      so -= (sh[d] as number) * (ss[d] as number);
      dO -= (sh[d] as number) * (ds[d] as number);
      idx[d] = 0;
    }
  }
}

function product(shape: readonly number[], from: number, to: number): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= shape[i] as number;
  return p;
}

function isIntArray(v: unknown): v is readonly number[] {
  return Array.isArray(v) && v.every((d) => Number.isInteger(d));
}

/** An output that is a view of x with another shape; the gradient is g viewed back. */
function viewOp(x: Tensor, shape: readonly number[], op: string): Tensor {
  const out = x.view(shape);
  return record(out, op, [x], (g) => [g.view(x.shape)]);
}

// ---------------------------------------------------------------------------------------
// Views: reshape, expandDims, squeeze
// ---------------------------------------------------------------------------------------

/**
 * The same values with another shape (one dim may be -1: inferred). Shares x's buffer.
 * @example reshape(arange(6), [2, -1]) // [[0, 1, 2], [3, 4, 5]]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (!Array.isArray(shape)) throw new ValueError(`reshape expected a shape array, got ${String(shape)}`);
  const target = inferReshape(x.size, shape, () => `reshape of ${fmtShape(x.shape)}`);
  return viewOp(x, target, 'reshape');
}

/** Insert size-1 dims at `axis` (positions in the output; negative counts from its end). */
export function expandDims(x: Tensor, axis: number | readonly number[]): Tensor {
  const list = typeof axis === 'number' ? [axis] : axis;
  const outRank = x.rank + list.length;
  const axes = new Set(normAxes(list, outRank, 'expandDims'));
  const shape: number[] = [];
  let k = 0;
  for (let d = 0; d < outRank; d++) shape.push(axes.has(d) ? 1 : (x.shape[k++] as number));
  return viewOp(x, shape, 'expandDims');
}

/** Remove size-1 dims: all of them, or those in `axis` (which must have size 1). */
export function squeeze(x: Tensor, axis?: number | readonly number[] | null): Tensor {
  let drop: Set<number>;
  if (axis === undefined || axis === null) {
    drop = new Set(x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0));
  } else {
    drop = new Set(normAxes(axis, x.rank, 'squeeze'));
    for (const a of drop) {
      if (x.shape[a] !== 1) {
        throw new ShapeError(`squeeze expected axis ${a} of ${fmtShape(x.shape)} to have size 1, got ${x.shape[a]}`);
      }
    }
  }
  return viewOp(
    x,
    x.shape.filter((_, i) => !drop.has(i)),
    'squeeze',
  );
}

// ---------------------------------------------------------------------------------------
// transpose, broadcastTo, cast, reverse
// ---------------------------------------------------------------------------------------

function resolvePerm(perm: readonly number[] | undefined, rank: number): number[] {
  if (perm === undefined) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const p = perm.map((a) => (a < 0 ? a + rank : a));
  const seen = new Set(p);
  if (perm.length !== rank || seen.size !== rank || p.some((a) => !Number.isInteger(a) || a < 0 || a >= rank)) {
    throw new ValueError(
      `transpose expected perm to be a permutation of ${fmtShape(Array.from({ length: rank }, (_, i) => i))} for a rank-${rank} tensor, got ${fmtShape(perm)}`,
    );
  }
  return p;
}

/** Raw transpose (no gradient): out.shape[i] = x.shape[perm[i]]. */
function transposeData(x: Tensor, perm: readonly number[]): Tensor {
  const out = Tensor.empty(
    perm.map((p) => x.shape[p] as number),
    x.dtype,
  );
  backend().transpose(x.data, out.data, x.shape, perm);
  return out;
}

/**
 * Permute the axes (default: reverse them). The gradient is the inverse permutation.
 * @example transpose(ones([2, 3, 4]), [0, 2, 1]).shape // [2, 4, 3]
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = resolvePerm(perm, x.rank);
  // Moving only size-1 dims (or the identity) keeps the memory order: a view.
  const moved = p.filter((a) => x.shape[a] !== 1);
  if (moved.every((a, i) => i === 0 || a > (moved[i - 1] as number))) {
    return viewOp(
      x,
      p.map((a) => x.shape[a] as number),
      'transpose',
    );
  }
  const out = transposeData(x, p);
  return record(out, 'transpose', [x], (g) => {
    const inv = new Array<number>(p.length);
    for (let i = 0; i < p.length; i++) inv[p[i] as number] = i;
    return [transposeData(g, inv)];
  });
}

/** Raw broadcast copy of x to `shape` (which must be a broadcast of x.shape). */
function broadcastData(x: Tensor, shape: readonly number[]): Tensor {
  const out = Tensor.empty(shape, x.dtype);
  copyStrided(x.data, 0, broadcastStrides(x.shape, shape), out.data, 0, stridesOf(shape), shape);
  return out;
}

/**
 * x repeated along broadcast dims to `shape` (NumPy rules). The gradient sums back down.
 * @example broadcastTo(tensor([1, 2]), [2, 2]) // [[1, 2], [1, 2]]
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  assertValidShape(shape, 'broadcastTo');
  const ok =
    shape.length >= x.rank &&
    (() => {
      try {
        return sameShape(broadcastShapes(x.shape, shape), shape);
      } catch {
        return false;
      }
    })();
  if (!ok) {
    throw new ShapeError(
      `broadcastTo cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}: aligned from the right, each dim must equal the target's or be 1`,
    );
  }
  if (sameShape(x.shape, shape)) return viewOp(x, [...shape], 'broadcastTo');
  const out = broadcastData(x, [...shape]);
  return record(out, 'broadcastTo', [x], (g) => [unbroadcast(g, x.shape)]);
}

/**
 * Convert to `dtype`. float -> int truncates toward zero; anything -> bool is `!= 0`.
 * The gradient passes straight through to float32 inputs (so float -> int -> float round trips
 * have gradient 1, a straight-through estimator).
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  assertDType(dtype, 'cast');
  if (x.dtype === dtype) return x;
  const out = castData(x, dtype);
  // Straight through: a float input (or an int one that came from a float by cast) gets g as is.
  if (x.dtype !== 'float32' && !x.requiresGrad) return out;
  return record(out, 'cast', [x], (g) => [g.dtype === 'float32' ? g : castData(g, 'float32')]);
}

/** Reverse the order of elements along `axis` (default every axis), like NumPy flip. */
export function reverse(x: Tensor, axis?: number | readonly number[] | null): Tensor {
  const axes = normAxes(axis, x.rank, 'reverse');
  const flip = (t: Tensor): Tensor => {
    const strides = stridesOf(t.shape);
    let off = 0;
    const src = strides.slice();
    for (const a of axes) {
      off += ((t.shape[a] as number) - 1) * (strides[a] as number);
      src[a] = -(strides[a] as number);
    }
    const out = Tensor.empty(t.shape, t.dtype);
    if (t.size > 0) copyStrided(t.data, off, src, out.data, 0, strides, t.shape);
    return out;
  };
  const out = flip(x);
  return record(out, 'reverse', [x], (g) => [flip(g)]);
}

// ---------------------------------------------------------------------------------------
// slice, stridedSlice
// ---------------------------------------------------------------------------------------

/**
 * The block starting at `begin` with `size` (size -1 = to the end of that dim), like tf.slice.
 * @example slice(tensor([[1, 2, 3], [4, 5, 6]]), [0, 1], [2, -1]) // [[2, 3], [5, 6]]
 */
export function slice(x: Tensor, begin: number | readonly number[], size?: number | readonly number[]): Tensor {
  const b = typeof begin === 'number' ? [begin] : [...begin];
  const s = size === undefined ? b.map(() => -1) : typeof size === 'number' ? [size] : [...size];
  if (!isIntArray(b) || b.length !== x.rank) {
    throw new ValueError(
      `slice expected begin to be ${x.rank} integers (the rank of ${fmtShape(x.shape)}), got ${JSON.stringify(begin)}`,
    );
  }
  if (!isIntArray(s) || s.length !== x.rank) {
    throw new ValueError(
      `slice expected size to be ${x.rank} integers (the rank of ${fmtShape(x.shape)}), got ${JSON.stringify(size)}`,
    );
  }
  const sizes = new Array<number>(x.rank);
  for (let d = 0; d < x.rank; d++) {
    const n = x.shape[d] as number;
    const bd = b[d] as number;
    if (bd < 0 || bd > n) {
      throw new ValueError(
        `slice got begin ${bd} on axis ${d} of ${fmtShape(x.shape)}, expected an integer in [0, ${n}]`,
      );
    }
    const sd = (s[d] as number) === -1 ? n - bd : (s[d] as number);
    if (sd < 0 || bd + sd > n) {
      throw new ValueError(
        `slice got size ${s[d]} at begin ${bd} on axis ${d} of ${fmtShape(x.shape)}, expected -1 or an integer in [0, ${n - bd}]`,
      );
    }
    sizes[d] = sd;
  }
  const xStrides = stridesOf(x.shape);
  let off = 0;
  for (let d = 0; d < x.rank; d++) off += (b[d] as number) * (xStrides[d] as number);
  const outStrides = stridesOf(sizes);
  const out = Tensor.empty(sizes, x.dtype);
  copyStrided(x.data, off, xStrides, out.data, 0, outStrides, sizes);
  return record(out, 'slice', [x], (g) => {
    const dx = Tensor.empty(x.shape, 'float32', true);
    copyStrided(g.data, 0, outStrides, dx.data, off, xStrides, sizes);
    return [dx];
  });
}

export interface StridedSliceOptions {
  /** Bit i set: ignore begin[i] and start from the first element in the stride's direction. */
  beginMask?: number;
  /** Bit i set: ignore end[i] and run to the last element in the stride's direction. */
  endMask?: number;
  /** Bit i set: take only begin[i] on axis i and drop the axis. */
  shrinkAxisMask?: number;
}

/**
 * x[begin:end:strides] per axis with TensorFlow semantics: negative begin/end count from the end,
 * out-of-range bounds are clamped, negative strides walk backwards, masks are bit fields.
 * Axes beyond begin.length are taken whole.
 * @example stridedSlice(arange(6), [-1], [0], [-2]) // [5, 3, 1]
 */
export function stridedSlice(
  x: Tensor,
  begin: readonly number[],
  end: readonly number[],
  strides?: readonly number[],
  options: StridedSliceOptions = {},
): Tensor {
  const st = strides ?? begin.map(() => 1);
  const { beginMask = 0, endMask = 0, shrinkAxisMask = 0 } = options;
  if (!isIntArray(begin) || !isIntArray(end) || !isIntArray(st)) {
    throw new ValueError(
      `stridedSlice expected integer arrays for begin, end and strides, got ${JSON.stringify(begin)}, ${JSON.stringify(end)}, ${JSON.stringify(st)}`,
    );
  }
  if (begin.length !== end.length || begin.length !== st.length || begin.length > x.rank) {
    throw new ValueError(
      `stridedSlice expected begin, end and strides of one length <= rank ${x.rank} of ${fmtShape(x.shape)}, got lengths ${begin.length}, ${end.length}, ${st.length}`,
    );
  }
  const xStrides = stridesOf(x.shape);
  const full: number[] = []; // the sliced shape, with shrunk axes as size 1
  const srcStrides: number[] = [];
  const outShape: number[] = [];
  let off = 0;
  for (let d = 0; d < x.rank; d++) {
    const n = x.shape[d] as number;
    if (d >= begin.length) {
      full.push(n);
      srcStrides.push(xStrides[d] as number);
      outShape.push(n);
      continue;
    }
    const bit = 1 << d;
    if (shrinkAxisMask & bit) {
      let b = begin[d] as number;
      if (b < 0) b += n;
      if (b < 0 || b >= n) {
        throw new ValueError(
          `stridedSlice got index ${begin[d]} on shrunk axis ${d} of ${fmtShape(x.shape)}, expected an integer in [${-n}, ${n - 1}]`,
        );
      }
      off += b * (xStrides[d] as number);
      full.push(1);
      srcStrides.push(xStrides[d] as number);
      continue;
    }
    const s = st[d] as number;
    if (s === 0) throw new ValueError(`stridedSlice got stride 0 on axis ${d}, expected a non-zero integer`);
    const lo = s > 0 ? 0 : -1;
    const hi = s > 0 ? n : n - 1;
    const clamp = (v: number): number => Math.min(hi, Math.max(lo, v < 0 ? v + n : v));
    const b = beginMask & bit ? (s > 0 ? 0 : n - 1) : clamp(begin[d] as number);
    const e = endMask & bit ? (s > 0 ? n : -1) : clamp(end[d] as number);
    const len = s > 0 ? Math.max(0, Math.ceil((e - b) / s)) : Math.max(0, Math.ceil((b - e) / -s));
    if (len > 0) off += b * (xStrides[d] as number);
    full.push(len);
    srcStrides.push(s * (xStrides[d] as number));
    outShape.push(len);
  }
  const fullStrides = stridesOf(full);
  const out = Tensor.empty(outShape, x.dtype);
  copyStrided(x.data, off, srcStrides, out.data, 0, fullStrides, full);
  return record(out, 'stridedSlice', [x], (g) => {
    const dx = Tensor.empty(x.shape, 'float32', true);
    copyStrided(g.data, 0, fullStrides, dx.data, off, srcStrides, full);
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------
// concat, stack, split, unstack
// ---------------------------------------------------------------------------------------

/** Copy the [outer, width*inner] blocks of `src` into a [outer, total*inner] tensor at column `at`. */
function copyBlocks(
  src: TypedArray,
  dst: TypedArray,
  outer: number,
  srcRow: number,
  dstRow: number,
  srcAt: number,
  dstAt: number,
  len: number,
): void {
  if (len === 0) return;
  for (let o = 0; o < outer; o++) {
    const so = o * srcRow + srcAt;
    const dO = o * dstRow + dstAt;
    if (len >= 32) dst.set(src.subarray(so, so + len), dO);
    else for (let i = 0; i < len; i++) dst[dO + i] = src[so + i] as number;
  }
}

/**
 * Join tensors along an existing axis. Mixed dtypes are promoted (bool < int32 < float32).
 * @example concat([ones([2, 1]), zeros([2, 2])], 1).shape // [2, 3]
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new ValueError('concat expected a non-empty array of tensors');
  }
  const first = tensors[0] as Tensor;
  if (first.rank === 0) throw new ShapeError('concat cannot join scalars (rank 0); use stack');
  const a = normAxis(axis, first.rank, 'concat');
  let dtype = first.dtype;
  let total = 0;
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ValueError(`concat expected tensors, got ${typeof t} at position ${i}`);
    const ok = t.rank === first.rank && t.shape.every((d, k) => k === a || d === first.shape[k]);
    if (!ok) {
      throw new ShapeError(
        `concat expected every tensor to match ${fmtShape(first.shape)} except on axis ${a}, got ${fmtShape(t.shape)} at position ${i}`,
      );
    }
    dtype = upcast(dtype, t.dtype);
    total += t.shape[a] as number;
  });
  const outShape = [...first.shape];
  outShape[a] = total;
  const outer = product(first.shape, 0, a);
  const inner = product(first.shape, a + 1, first.rank);
  const out = Tensor.empty(outShape, dtype);
  const dstRow = total * inner;
  let at = 0;
  for (const t of tensors) {
    const src = t.dtype === dtype ? t : castData(t, dtype);
    const len = (t.shape[a] as number) * inner;
    copyBlocks(src.data, out.data, outer, len, dstRow, 0, at, len);
    at += len;
  }
  return record(out, 'concat', tensors, (g) => {
    let pos = 0;
    return tensors.map((t) => {
      const len = (t.shape[a] as number) * inner;
      const at0 = pos;
      pos += len;
      if (!t.requiresGrad) return null;
      const dx = Tensor.empty(t.shape, 'float32');
      copyBlocks(g.data, dx.data, outer, dstRow, len, at0, 0, len);
      return dx;
    });
  });
}

/**
 * Join same-shape tensors along a new axis.
 * @example stack([tensor([1, 2]), tensor([3, 4])], 1) // [[1, 3], [2, 4]]
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new ValueError('stack expected a non-empty array of tensors');
  }
  const first = tensors[0] as Tensor;
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor) || !sameShape(t.shape, first.shape)) {
      throw new ShapeError(
        `stack expected every tensor to have shape ${fmtShape(first.shape)}, got ${t instanceof Tensor ? fmtShape(t.shape) : typeof t} at position ${i}`,
      );
    }
  });
  const a = normAxis(axis, first.rank + 1, 'stack');
  return concat(
    tensors.map((t) => expandDims(t, a)),
    a,
  );
}

/**
 * Split along `axis` into `numOrSizes` equal parts, or parts of the given sizes (one may be -1).
 * Gradient: the pieces' gradients are written into one buffer (zero where a piece is unused).
 * @example split(arange(6), [1, -1]).map((t) => t.shape) // [[1], [5]]
 */
export function split(x: Tensor, numOrSizes: number | readonly number[], axis = 0): Tensor[] {
  if (x.rank === 0) throw new ShapeError('split cannot split a scalar (rank 0)');
  const a = normAxis(axis, x.rank, 'split');
  const n = x.shape[a] as number;
  let sizes: number[];
  if (typeof numOrSizes === 'number') {
    if (!Number.isInteger(numOrSizes) || numOrSizes <= 0 || n % numOrSizes !== 0) {
      throw new ValueError(
        `split cannot divide axis ${a} of ${fmtShape(x.shape)} (size ${n}) into ${numOrSizes} equal parts`,
      );
    }
    sizes = new Array<number>(numOrSizes).fill(n / numOrSizes);
  } else {
    sizes = [...numOrSizes];
    const unknown = sizes.filter((s) => s === -1).length;
    if (!isIntArray(sizes) || unknown > 1 || sizes.some((s) => s < -1) || sizes.length === 0) {
      throw new ValueError(
        `split expected sizes of non-negative integers (at most one -1), got ${JSON.stringify(numOrSizes)}`,
      );
    }
    const known = sizes.reduce((p, s) => (s === -1 ? p : p + s), 0);
    if (unknown === 1 && known <= n) sizes[sizes.indexOf(-1)] = n - known;
    else if (known !== n) {
      throw new ValueError(
        `split sizes ${JSON.stringify(numOrSizes)} must sum to ${n} (axis ${a} of ${fmtShape(x.shape)}), got ${known}`,
      );
    }
  }
  const outer = product(x.shape, 0, a);
  const inner = product(x.shape, a + 1, x.rank);
  const srcRow = n * inner;
  const starts: number[] = [];
  let at = 0;
  const pieces = sizes.map((s) => {
    const shape = [...x.shape];
    shape[a] = s;
    const p = Tensor.empty(shape, x.dtype);
    copyBlocks(x.data, p.data, outer, srcRow, s * inner, at, 0, s * inner);
    starts.push(at);
    at += s * inner;
    return p;
  });
  if (!x.requiresGrad || !isGradEnabled()) return pieces;
  // One x-shaped gradient per backward pass: the first piece to run allocates it (zeroed), every
  // piece writes its block, and `hub` (which only the pieces consume, so the tape runs it after all
  // of them) hands it to x.
  let pending: Tensor | null = null;
  const hub = record(x.view(x.shape), 'split', [x], (g) => {
    const acc = pending ?? g;
    pending = null;
    return [acc];
  });
  return pieces.map((p, i) =>
    record(p, 'split', [hub], (g) => {
      const firstHere = pending === null;
      if (pending === null) pending = Tensor.empty(x.shape, 'float32', true);
      const len = (sizes[i] as number) * inner;
      copyBlocks(g.data, pending.data, outer, len, srcRow, 0, starts[i] as number, len);
      return [firstHere ? pending : null];
    }),
  );
}

/** The slices along `axis`, with that axis removed. */
export function unstack(x: Tensor, axis = 0): Tensor[] {
  if (x.rank === 0) throw new ShapeError('unstack cannot unstack a scalar (rank 0)');
  const a = normAxis(axis, x.rank, 'unstack');
  const n = x.shape[a] as number;
  if (n === 0) return [];
  return split(x, n, a).map((t) => squeeze(t, a));
}

// ---------------------------------------------------------------------------------------
// tile, pad
// ---------------------------------------------------------------------------------------

/**
 * Repeat x `reps[i]` times along axis i (NumPy tile: a shorter reps or x is padded with leading 1s).
 * @example tile(tensor([1, 2]), [2]) // [1, 2, 1, 2]
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  if (!isIntArray(reps) || reps.some((r) => r < 0)) {
    throw new ValueError(`tile expected reps of non-negative integers, got ${JSON.stringify(reps)}`);
  }
  const rank = Math.max(reps.length, x.rank);
  const xs = [...new Array<number>(rank - x.rank).fill(1), ...x.shape];
  const rs = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  const xStrides = stridesOf(xs);
  const expShape: number[] = [];
  const expStrides: number[] = [];
  const repAxes: number[] = [];
  for (let d = 0; d < rank; d++) {
    if ((rs[d] as number) !== 1) repAxes.push(expShape.length);
    expShape.push(rs[d] as number, xs[d] as number);
    expStrides.push(0, xStrides[d] as number);
  }
  const outShape = xs.map((n, d) => n * (rs[d] as number));
  const out = Tensor.empty(outShape, x.dtype);
  copyStrided(x.data, 0, expStrides, out.data, 0, stridesOf(expShape), expShape);
  return record(out, 'tile', [x], (g) => {
    if (repAxes.length === 0) return [g.view(x.shape)];
    return [reduceKeepDims('sum', g.view(expShape), repAxes).view(x.shape)];
  });
}

export type PadMode = 'constant' | 'reflect' | 'symmetric' | 'edge';

export interface PadOptions {
  /** 'constant' (default), 'reflect' (mirror without the edge), 'symmetric' (with it), 'edge' (repeat it). */
  mode?: PadMode;
  /** The fill value for mode 'constant' (default 0). */
  constantValue?: number;
}

/**
 * Pad each axis with paddings[i] = [before, after] elements.
 * @example pad(tensor([1, 2]), [[1, 2]]) // [0, 1, 2, 0, 0]
 * @example pad(tensor([1, 2, 3]), [[2, 0]], { mode: 'reflect' }) // [3, 2, 1, 2, 3]
 */
export function pad(
  x: Tensor,
  paddings: readonly (readonly [number, number] | readonly number[])[],
  options: number | PadOptions = {},
): Tensor {
  const opts = typeof options === 'number' ? { constantValue: options } : options;
  const mode = opts.mode ?? 'constant';
  const value = opts.constantValue ?? 0;
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'symmetric' && mode !== 'edge') {
    throw new ValueError(`pad got mode '${String(mode)}', expected 'constant', 'reflect', 'symmetric' or 'edge'`);
  }
  const bad = () =>
    new ValueError(
      `pad expected paddings to be ${x.rank} pairs [before, after] of non-negative integers (one per axis of ${fmtShape(x.shape)}), got ${JSON.stringify(paddings)}`,
    );
  if (!Array.isArray(paddings) || paddings.length !== x.rank) throw bad();
  for (const p of paddings) if (!isIntArray(p) || p.length !== 2 || p[0]! < 0 || p[1]! < 0) throw bad();
  const outShape = x.shape.map((n, d) => n + (paddings[d]![0] as number) + (paddings[d]![1] as number));
  const xStrides = stridesOf(x.shape);
  const outStrides = stridesOf(outShape);
  if (mode === 'constant') {
    let off = 0;
    for (let d = 0; d < x.rank; d++) off += (paddings[d]![0] as number) * (outStrides[d] as number);
    const out = Tensor.empty(outShape, x.dtype);
    out.data.fill(value);
    copyStrided(x.data, 0, xStrides, out.data, off, outStrides, x.shape);
    return record(out, 'pad', [x], (g) => {
      const dx = Tensor.empty(x.shape, 'float32');
      copyStrided(g.data, off, outStrides, dx.data, 0, xStrides, x.shape);
      return [dx];
    });
  }
  // Index maps: output position i on axis d reads input position maps[d][i].
  const maps = x.shape.map((n, d) => {
    const [before, after] = paddings[d] as [number, number];
    const limit = mode === 'reflect' ? n - 1 : mode === 'symmetric' ? n : Number.POSITIVE_INFINITY;
    if ((before > 0 || after > 0) && (n === 0 || before > limit || after > limit)) {
      const most = n === 0 ? 'an axis of size > 0' : `paddings of at most ${limit}`;
      throw new ValueError(
        `pad mode '${mode}' needs ${most} on axis ${d} of ${fmtShape(x.shape)}, got [${before}, ${after}]`,
      );
    }
    const m = new Int32Array(n + before + after);
    for (let i = 0; i < m.length; i++) {
      let j = i - before;
      if (mode === 'edge') j = Math.min(n - 1, Math.max(0, j));
      else if (mode === 'reflect') j = j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
      else j = j < 0 ? -j - 1 : j >= n ? 2 * n - 1 - j : j;
      m[i] = j;
    }
    return m;
  });
  const walk = (visit: (outIdx: number, inIdx: number) => void): void => {
    if (sizeOf(outShape) === 0) return;
    const rec = (d: number, o: number, s: number): void => {
      const m = maps[d] as Int32Array;
      const os = outStrides[d] as number;
      const xs = xStrides[d] as number;
      if (d === x.rank - 1) {
        for (let i = 0; i < m.length; i++) visit(o + i * os, s + (m[i] as number) * xs);
        return;
      }
      for (let i = 0; i < m.length; i++) rec(d + 1, o + i * os, s + (m[i] as number) * xs);
    };
    if (x.rank === 0) visit(0, 0);
    else rec(0, 0, 0);
  };
  const out = Tensor.empty(outShape, x.dtype);
  const src = x.data;
  const dst = out.data;
  walk((o, s) => {
    dst[o] = src[s] as number;
  });
  return record(out, 'pad', [x], (g) => {
    const dx = Tensor.empty(x.shape, 'float32', true);
    const gd = g.data;
    const dd = dx.data;
    walk((o, s) => {
      dd[s] = (dd[s] as number) + (gd[o] as number);
    });
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------
// gather, oneHot
// ---------------------------------------------------------------------------------------

function asIndices(indices: Tensor | TensorLike, op: string): Tensor {
  const t = indices instanceof Tensor ? indices : asTensor(indices as TensorLike);
  if (t.dtype === 'int32') return t;
  if (!(indices instanceof Tensor)) {
    const ok = Array.from(t.data as ArrayLike<number>).every((v) => Number.isInteger(v));
    if (ok) return castData(t, 'int32');
  }
  throw new DTypeError(`${op} expected int32 indices, got ${t.dtype} ${fmtShape(t.shape)}`);
}

export interface GatherOptions {
  /** The axis of x to gather along (default 0). */
  axis?: number;
  /** Leading dims shared by x and indices, gathered per batch (default 0). */
  batchDims?: number;
}

/**
 * Slices of x along `axis` at `indices` (int32; negative ones count from the end):
 * out.shape = x.shape[:axis] + indices.shape[batchDims:] + x.shape[axis+1:]. The gradient scatter-adds.
 * @example gather(tensor([[1, 2], [3, 4], [5, 6]]), tensor([2, 0], [2], 'int32')) // [[5, 6], [1, 2]]
 */
export function gather(x: Tensor, indices: Tensor | TensorLike, options: GatherOptions = {}): Tensor {
  const idx = asIndices(indices, 'gather');
  if (x.rank === 0) throw new ShapeError('gather expected x of rank >= 1, got a scalar');
  const a = normAxis(options.axis ?? 0, x.rank, 'gather');
  let bd = options.batchDims ?? 0;
  if (!Number.isInteger(bd)) throw new ValueError(`gather got batchDims ${bd}, expected an integer`);
  if (bd < 0) bd += idx.rank;
  if (bd < 0 || bd > idx.rank || bd > a) {
    throw new ValueError(
      `gather got batchDims ${options.batchDims}, expected an integer in [0, min(axis ${a}, indices rank ${idx.rank})]`,
    );
  }
  for (let d = 0; d < bd; d++) {
    if (x.shape[d] !== idx.shape[d]) {
      throw new ShapeError(
        `gather with batchDims ${bd} expected x.shape ${fmtShape(x.shape)} and indices.shape ${fmtShape(idx.shape)} to agree on their first ${bd} dims`,
      );
    }
  }
  const n = x.shape[a] as number;
  const id = idx.data as Int32Array;
  for (let i = 0; i < id.length; i++) {
    const v = id[i] as number;
    if (v < -n || v >= n) {
      throw new ValueError(
        `gather got index ${v} (at flat position ${i} of indices ${fmtShape(idx.shape)}) for axis ${a} of size ${n}, expected an integer in [${-n}, ${n - 1}]`,
      );
    }
  }
  const batch = product(x.shape, 0, bd);
  const outer = product(x.shape, bd, a);
  const inner = product(x.shape, a + 1, x.rank);
  const per = product(idx.shape, bd, idx.rank);
  const outShape = [...x.shape.slice(0, a), ...idx.shape.slice(bd), ...x.shape.slice(a + 1)];
  const out = Tensor.empty(outShape, x.dtype);
  // out[b, o, j, :] = x[b, o, idx[b, j], :]
  const forEach = (visit: (src: number, dst: number) => void): void => {
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < outer; o++) {
        const row = (b * outer + o) * n;
        for (let j = 0; j < per; j++) {
          let v = id[b * per + j] as number;
          if (v < 0) v += n;
          visit((row + v) * inner, ((b * outer + o) * per + j) * inner);
        }
      }
    }
  };
  const xd = x.data;
  const od = out.data;
  if (inner >= 32) forEach((s, d) => od.set(xd.subarray(s, s + inner), d));
  else
    forEach((s, d) => {
      for (let i = 0; i < inner; i++) od[d + i] = xd[s + i] as number;
    });
  return record(out, 'gather', [x], (g) => {
    const dx = Tensor.empty(x.shape, 'float32', true);
    const gd = g.data;
    const dd = dx.data;
    forEach((s, d) => {
      for (let i = 0; i < inner; i++) dd[s + i] = (dd[s + i] as number) + (gd[d + i] as number);
    });
    return [dx];
  });
}

export interface OneHotOptions {
  onValue?: number;
  offValue?: number;
  dtype?: DType;
}

/**
 * A new last axis of length `depth`: onValue at each index, offValue elsewhere. Indices outside
 * [0, depth) give an all-off row (like tf.oneHot). No gradient.
 * @example oneHot(tensor([0, 2], [2], 'int32'), 3) // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(indices: Tensor | TensorLike, depth: number, options: OneHotOptions = {}): Tensor {
  const idx = asIndices(indices, 'oneHot');
  if (!Number.isInteger(depth) || depth < 0) {
    throw new ValueError(`oneHot got depth ${depth}, expected a non-negative integer`);
  }
  const { onValue = 1, offValue = 0, dtype = 'float32' } = options;
  assertDType(dtype, 'oneHot');
  const out = Tensor.empty([...idx.shape, depth], dtype);
  const od = out.data;
  od.fill(offValue);
  const id = idx.data;
  for (let i = 0; i < id.length; i++) {
    const v = id[i] as number;
    if (v >= 0 && v < depth) od[i * depth + v] = onValue;
  }
  return out;
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    reshape(shape: readonly number[]): Tensor;
    transpose(perm?: readonly number[]): Tensor;
    expandDims(axis: number | readonly number[]): Tensor;
    squeeze(axis?: number | readonly number[] | null): Tensor;
    slice(begin: number | readonly number[], size?: number | readonly number[]): Tensor;
    stridedSlice(
      begin: readonly number[],
      end: readonly number[],
      strides?: readonly number[],
      options?: StridedSliceOptions,
    ): Tensor;
    split(numOrSizes: number | readonly number[], axis?: number): Tensor[];
    unstack(axis?: number): Tensor[];
    tile(reps: readonly number[]): Tensor;
    pad(paddings: readonly (readonly [number, number] | readonly number[])[], options?: number | PadOptions): Tensor;
    gather(indices: Tensor | TensorLike, options?: GatherOptions): Tensor;
    cast(dtype: DType): Tensor;
    reverse(axis?: number | readonly number[] | null): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
  }
}

Tensor.prototype.reshape = function (shape) {
  return reshape(this, shape);
};
Tensor.prototype.transpose = function (perm) {
  return transpose(this, perm);
};
Tensor.prototype.expandDims = function (axis) {
  return expandDims(this, axis);
};
Tensor.prototype.squeeze = function (axis) {
  return squeeze(this, axis);
};
Tensor.prototype.slice = function (begin, size) {
  return slice(this, begin, size);
};
Tensor.prototype.stridedSlice = function (begin, end, strides, options) {
  return stridedSlice(this, begin, end, strides, options);
};
Tensor.prototype.split = function (numOrSizes, axis) {
  return split(this, numOrSizes, axis);
};
Tensor.prototype.unstack = function (axis) {
  return unstack(this, axis);
};
Tensor.prototype.tile = function (reps) {
  return tile(this, reps);
};
Tensor.prototype.pad = function (paddings, options) {
  return pad(this, paddings, options);
};
Tensor.prototype.gather = function (indices, options) {
  return gather(this, indices, options);
};
Tensor.prototype.cast = function (dtype) {
  return cast(this, dtype);
};
Tensor.prototype.reverse = function (axis) {
  return reverse(this, axis);
};
Tensor.prototype.broadcastTo = function (shape) {
  return broadcastTo(this, shape);
};

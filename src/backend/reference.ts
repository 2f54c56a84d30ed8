/**
 * The reference backend: every kernel of `Backend` as plain TypeScript loops. This is the
 * definition the native backend is tested against, and the fallback when the addon is not
 * built, so it aims to be obviously correct first and reasonably fast second (index
 * arithmetic hoisted out of inner loops, contiguous innermost loops, float64 accumulators).
 *
 * Kernels trust their arguments (the op layer validated shapes, dtypes and sizes).
 */
import type { TypedArray } from '../tensor/dtype.js';
import type {
  ActivationOp,
  AdamParams,
  ArgReduceOp,
  Backend,
  BiasActivation,
  BinaryOp,
  Conv2dGeometry,
  DepthwiseGeometry,
  Pool2dGeometry,
  ReduceOp,
  UnaryOp,
} from './backend.js';

// ---------------------------------------------------------------------------------------
// Scalar helpers
// ---------------------------------------------------------------------------------------

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;
const SQRT1_2 = Math.SQRT1_2;
const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2 / sqrt(pi)
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1 / sqrt(pi)
const ONE_OVER_SQRT_2PI = 0.3989422804014327; // 1 / sqrt(2 pi)

/**
 * erf(z) for 0 <= z < 3 by the all-positive series
 *   erf(z) = 2/sqrt(pi) * exp(-z^2) * sum_{n>=0} (2z^2)^n z / (1*3*...*(2n+1)),
 * which has no cancellation; summed until the terms stop mattering in float64.
 */
function erfSeries(z: number): number {
  const z2 = z * z;
  let term = z;
  let sum = z;
  for (let n = 1; n < 200; n++) {
    term *= (2 * z2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-z2) * sum;
}

/**
 * erfc(z) for z >= 3 by the continued fraction
 *   erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...))))),
 * evaluated bottom-up with a fixed depth (ample for z >= 3: relative error ~1e-16).
 */
function erfcContinuedFraction(z: number): number {
  let f = z;
  for (let n = 60; n >= 1; n--) f = z + n / 2 / f;
  return (ONE_OVER_SQRT_PI * Math.exp(-z * z)) / f;
}

/** The complementary error function, accurate (relative) over the whole real line. */
export function erfc(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z < 0) return 2 - erfc(-z);
  if (z < 3) return 1 - erfSeries(z);
  if (z > 27) return 0; // exp(-z^2) underflows
  return erfcContinuedFraction(z);
}

/** The error function (relative error ~1e-15). */
export function erf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const a = Math.abs(z);
  const r = a < 3 ? erfSeries(a) : a > 6 ? 1 : 1 - erfcContinuedFraction(a);
  return z < 0 ? -r : r;
}

/** Numerically stable logistic sigmoid. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Round half to even (numpy / tf.round). */
function roundHalfEven(x: number): number {
  let r = Math.round(x); // rounds half up
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  return r;
}

/** gelu(x) = x * Phi(x) = 0.5 x erfc(-x/sqrt2) (the erfc form avoids cancellation for x < 0). */
function gelu(x: number): number {
  return 0.5 * x * erfc(-x * SQRT1_2);
}

/** Python-style modulo: the result has the sign of the divisor. */
function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

// ---------------------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------------------

// x: [n] -> out: [n]
function unary(op: UnaryOp, x: TypedArray, out: TypedArray, alpha: number): void {
  const n = x.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i]!;
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
      return;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!);
      return;
    case 'rsqrt':
      for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(x[i]!);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]!);
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = x[i]! * x[i]!;
      return;
    case 'reciprocal':
      for (let i = 0; i < n; i++) out[i] = 1 / x[i]!;
      return;
    case 'sign':
      for (let i = 0; i < n; i++) out[i] = Math.sign(x[i]!);
      return;
    case 'floor':
      for (let i = 0; i < n; i++) out[i] = Math.floor(x[i]!);
      return;
    case 'ceil':
      for (let i = 0; i < n; i++) out[i] = Math.ceil(x[i]!);
      return;
    case 'round':
      for (let i = 0; i < n; i++) out[i] = roundHalfEven(x[i]!);
      return;
    case 'sin':
      for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]!);
      return;
    case 'cos':
      for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]!);
      return;
    case 'log1p':
      for (let i = 0; i < n; i++) out[i] = Math.log1p(x[i]!);
      return;
    case 'expm1':
      for (let i = 0; i < n; i++) out[i] = Math.expm1(x[i]!);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) {
        out[i] = Math.max(x[i]!, 0);
      }
      return;
    case 'relu6':
      for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(x[i]!, 0), 6);
      return;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = v > 0 ? v : alpha * v;
      }
      return;
    case 'elu':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = v > 0 ? v : alpha * Math.expm1(v);
      }
      return;
    case 'selu':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = v > 0 ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * Math.expm1(v);
      }
      return;
    case 'gelu':
      for (let i = 0; i < n; i++) out[i] = gelu(x[i]!);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = sigmoid(x[i]!);
      return;
    case 'hardSigmoid':
      for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(x[i]! + 3, 0), 6) / 6;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!);
      return;
    case 'softplus':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
      }
      return;
    case 'softsign':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = v / (1 + Math.abs(v));
      }
      return;
    case 'swish':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = v * sigmoid(v);
      }
      return;
  }
}

// out[r, c] = f(x[r, c] + bias[c])
function biasAdd(
  x: Float32Array,
  bias: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
  activation: BiasActivation,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = Math.fround(x[o + c]! + bias[c]!);
      out[o + c] = activation === 'relu' && v <= 0 ? 0 : v;
    }
  }
}

// dx = dy * f' (relu: where y > 0), dbias = column sums of dx (in double)
function biasAddGrad(
  y: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  dbias: Float32Array,
  rows: number,
  cols: number,
  activation: BiasActivation,
): void {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = activation === 'relu' && !(y[o + c]! > 0) ? 0 : dy[o + c]!;
      dx[o + c] = v;
      acc[c] += v;
    }
  }
  for (let c = 0; c < cols; c++) dbias[c] = acc[c]!;
}

// x, y = f(x), dy: [n] -> dx: [n] = dy * f'(x) (overwrite)
function activationGrad(
  op: ActivationOp,
  x: Float32Array,
  y: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  alpha: number,
): void {
  const n = x.length;
  switch (op) {
    case 'relu':
      for (let i = 0; i < n; i++) dx[i] = x[i]! > 0 ? dy[i]! : 0;
      return;
    case 'relu6':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        dx[i] = v > 0 && v < 6 ? dy[i]! : 0;
      }
      return;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) dx[i] = x[i]! > 0 ? dy[i]! : alpha * dy[i]!;
      return;
    case 'elu':
      // d/dx alpha*(e^x - 1) = alpha*e^x = y + alpha
      for (let i = 0; i < n; i++) dx[i] = x[i]! > 0 ? dy[i]! : dy[i]! * (y[i]! + alpha);
      return;
    case 'selu':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        dx[i] = dy[i]! * (v > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(v));
      }
      return;
    case 'gelu':
      // d/dx x*Phi(x) = Phi(x) + x*phi(x)
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        const cdf = 0.5 * erfc(-v * SQRT1_2);
        const pdf = ONE_OVER_SQRT_2PI * Math.exp(-0.5 * v * v);
        dx[i] = dy[i]! * (cdf + v * pdf);
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const s = y[i]!;
        dx[i] = dy[i]! * s * (1 - s);
      }
      return;
    case 'hardSigmoid':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        dx[i] = v > -3 && v < 3 ? dy[i]! / 6 : 0;
      }
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) {
        const t = y[i]!;
        dx[i] = dy[i]! * (1 - t * t);
      }
      return;
    case 'softplus':
      for (let i = 0; i < n; i++) dx[i] = dy[i]! * sigmoid(x[i]!);
      return;
    case 'softsign':
      for (let i = 0; i < n; i++) {
        const d = 1 + Math.abs(x[i]!);
        dx[i] = dy[i]! / (d * d);
      }
      return;
    case 'swish':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        const s = sigmoid(v);
        dx[i] = dy[i]! * (s + v * s * (1 - s));
      }
      return;
  }
}

/**
 * One strided run of a binary op: out[o + t] = a[ai + t*sa] op b[bi + t*sb] for t < n.
 * The switch sits outside the loops so each loop is monomorphic.
 */
function binaryRun(
  op: BinaryOp,
  a: TypedArray,
  ai: number,
  sa: number,
  b: TypedArray,
  bi: number,
  sb: number,
  out: TypedArray,
  o: number,
  n: number,
): void {
  const end = o + n;
  switch (op) {
    case 'add':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! + b[bi]!;
      return;
    case 'sub':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! - b[bi]!;
      return;
    case 'mul':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! * b[bi]!;
      return;
    case 'div':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! / b[bi]!;
      return;
    case 'pow':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! ** b[bi]!;
      return;
    case 'maximum':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = Math.max(a[ai]!, b[bi]!);
      return;
    case 'minimum':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = Math.min(a[ai]!, b[bi]!);
      return;
    case 'squaredDifference':
      for (; o < end; o++, ai += sa, bi += sb) {
        const d = a[ai]! - b[bi]!;
        out[o] = d * d;
      }
      return;
    case 'floorDiv':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = Math.floor(a[ai]! / b[bi]!);
      return;
    case 'mod':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = pyMod(a[ai]!, b[bi]!);
      return;
    case 'atan2':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = Math.atan2(a[ai]!, b[bi]!);
      return;
    case 'equal':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! === b[bi]! ? 1 : 0;
      return;
    case 'notEqual':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! !== b[bi]! ? 1 : 0;
      return;
    case 'greater':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! > b[bi]! ? 1 : 0;
      return;
    case 'greaterEqual':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! >= b[bi]! ? 1 : 0;
      return;
    case 'less':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! < b[bi]! ? 1 : 0;
      return;
    case 'lessEqual':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! <= b[bi]! ? 1 : 0;
      return;
    case 'logicalAnd':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! !== 0 && b[bi]! !== 0 ? 1 : 0;
      return;
    case 'logicalOr':
      for (; o < end; o++, ai += sa, bi += sb) out[o] = a[ai]! !== 0 || b[bi]! !== 0 ? 1 : 0;
      return;
  }
}

// a (strides aStrides), b (strides bStrides) -> out: outShape; strides are per out dim, 0 = broadcast
function binary(
  op: BinaryOp,
  a: TypedArray,
  aStrides: readonly number[],
  b: TypedArray,
  bStrides: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  const rank = outShape.length;
  let size = 1;
  for (let d = 0; d < rank; d++) size *= outShape[d]!;
  if (size === 0) return;
  if (rank === 0) {
    binaryRun(op, a, 0, 0, b, 0, 0, out, 0, 1);
    return;
  }
  // Fast path: each operand is either contiguous with out's layout or a single broadcast scalar.
  let aContig = true;
  let bContig = true;
  let aScalar = true;
  let bScalar = true;
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    const dim = outShape[d]!;
    if (dim !== 1) {
      if (aStrides[d] !== s) aContig = false;
      if (bStrides[d] !== s) bContig = false;
      if (aStrides[d] !== 0) aScalar = false;
      if (bStrides[d] !== 0) bScalar = false;
    }
    s *= dim;
  }
  if ((aContig || aScalar) && (bContig || bScalar)) {
    binaryRun(op, a, 0, aContig ? 1 : 0, b, 0, bContig ? 1 : 0, out, 0, size);
    return;
  }
  // General path: odometer over all dims but the last; the last dim is one strided run.
  const last = rank - 1;
  const runLen = outShape[last]!;
  const saLast = aStrides[last]!;
  const sbLast = bStrides[last]!;
  const idx = new Array<number>(rank).fill(0);
  let ai = 0;
  let bi = 0;
  for (let o = 0; o < size; o += runLen) {
    binaryRun(op, a, ai, saLast, b, bi, sbLast, out, o, runLen);
    // advance the odometer over dims [0, last)
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      ai += aStrides[d]!;
      bi += bStrides[d]!;
      if (idx[d]! < outShape[d]!) break;
      ai -= idx[d]! * aStrides[d]!;
      bi -= idx[d]! * bStrides[d]!;
      idx[d] = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Reductions, transpose
// ---------------------------------------------------------------------------------------

// x: [outer, len, inner] -> out: [outer, inner]
function reduce(op: ReduceOp, x: TypedArray, out: TypedArray, outer: number, len: number, inner: number): void {
  const rowStride = len * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * rowStride;
    for (let i = 0; i < inner; i++) {
      const start = base + i;
      const end = start + rowStride;
      let acc: number;
      switch (op) {
        case 'sum':
          acc = 0;
          for (let p = start; p < end; p += inner) acc += x[p]!;
          break;
        case 'prod':
          acc = 1;
          for (let p = start; p < end; p += inner) acc *= x[p]!;
          break;
        case 'max':
          acc = -Infinity;
          for (let p = start; p < end; p += inner) {
            const v = x[p]!;
            if (v > acc || Number.isNaN(v)) acc = v; // NaN sticks: nothing compares greater than NaN
          }
          break;
        case 'min':
          acc = Infinity;
          for (let p = start; p < end; p += inner) {
            const v = x[p]!;
            if (v < acc || Number.isNaN(v)) acc = v;
          }
          break;
      }
      out[o * inner + i] = acc;
    }
  }
}

// x: [outer, len, inner] -> out: [outer, inner], int32 index in [0, len) of the first extreme (NaN counts as max)
function argReduce(op: ArgReduceOp, x: TypedArray, out: Int32Array, outer: number, len: number, inner: number): void {
  const rowStride = len * inner;
  const isMax = op === 'argMax';
  for (let o = 0; o < outer; o++) {
    const base = o * rowStride;
    for (let i = 0; i < inner; i++) {
      let bestIdx = 0;
      if (len > 0) {
        let best = x[base + i]!;
        for (let l = 1, p = base + i + inner; l < len; l++, p += inner) {
          const v = x[p]!;
          if (isMax) {
            if (Number.isNaN(best)) break; // first NaN is the max
            if (v > best || Number.isNaN(v)) {
              best = v;
              bestIdx = l;
            }
          } else if (v < best || (Number.isNaN(best) && !Number.isNaN(v))) {
            // NaN counts as max, so any number beats a NaN for the min
            best = v;
            bestIdx = l;
          }
        }
      }
      out[o * inner + i] = bestIdx;
    }
  }
}

// x: shape -> out: [shape[perm[0]], shape[perm[1]], ...]
function transpose(x: TypedArray, out: TypedArray, shape: readonly number[], perm: readonly number[]): void {
  const rank = shape.length;
  let size = 1;
  for (let d = 0; d < rank; d++) size *= shape[d]!;
  if (size === 0) return;
  if (rank === 0) {
    out[0] = x[0]!;
    return;
  }
  const inStrides = new Array<number>(rank);
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d]!;
  }
  // out dim d walks the input with stride inStrides[perm[d]]
  const outShape = perm.map((p) => shape[p]!);
  const srcStrides = perm.map((p) => inStrides[p]!);
  const last = rank - 1;
  const runLen = outShape[last]!;
  const sLast = srcStrides[last]!;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < size; o += runLen) {
    for (let t = 0, s = src; t < runLen; t++, s += sLast) out[o + t] = x[s]!;
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      src += srcStrides[d]!;
      if (idx[d]! < outShape[d]!) break;
      src -= idx[d]! * srcStrides[d]!;
      idx[d] = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Matmul, softmax, cross-entropy
// ---------------------------------------------------------------------------------------

// a: [batch, m, k] ([batch, k, m] if transA), b: [batch, k, n] ([batch, n, k] if transB) -> out: [batch, m, n]
function matmul(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  aBatchStride: number,
  bBatchStride: number,
): void {
  // A(i, p) = a[aOff + i*aRow + p*aCol]
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const acc = new Float64Array(n);
  for (let bt = 0; bt < batch; bt++) {
    const aOff = bt * aBatchStride;
    const bOff = bt * bBatchStride;
    const oOff = bt * m * n;
    for (let i = 0; i < m; i++) {
      const aI = aOff + i * aRow;
      const oI = oOff + i * n;
      if (!transB) {
        // i-k-j: out row i += A(i,p) * B row p (B rows contiguous)
        acc.fill(0);
        for (let p = 0; p < k; p++) {
          const aip = a[aI + p * aCol]!;
          const bP = bOff + p * n;
          for (let j = 0; j < n; j++) acc[j]! += aip * b[bP + j]!;
        }
        for (let j = 0; j < n; j++) out[oI + j] = acc[j]!;
      } else {
        // B(p, j) = b[bOff + j*k + p]: out(i,j) is a dot of A row i and b row j
        for (let j = 0; j < n; j++) {
          const bJ = bOff + j * k;
          let s = 0;
          for (let p = 0; p < k; p++) s += a[aI + p * aCol]! * b[bJ + p]!;
          out[oI + j] = s;
        }
      }
    }
  }
}

// x: [rows, cols] -> out: [rows, cols], softmax over the last axis
function softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (x[base + c]! > max) max = x[base + c]!;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(x[base + c]! - max);
    for (let c = 0; c < cols; c++) out[base + c] = Math.exp(x[base + c]! - max) / sum;
  }
}

// x: [rows, cols] -> out: [rows, cols], log-softmax over the last axis
function logSoftmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (x[base + c]! > max) max = x[base + c]!;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(x[base + c]! - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < cols; c++) out[base + c] = x[base + c]! - lse;
  }
}

// logits: [rows, cols], labels: [rows] -> loss: [rows]; dlogits: [rows, cols] = softmax - onehot (unscaled)
function sparseSoftmaxCrossEntropy(
  logits: Float32Array,
  labels: Int32Array,
  loss: Float32Array,
  dlogits: Float32Array | null,
  rows: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const label = labels[r]!;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (logits[base + c]! > max) max = logits[base + c]!;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(logits[base + c]! - max);
    const lse = max + Math.log(sum);
    loss[r] = lse - logits[base + label]!;
    if (dlogits) {
      for (let c = 0; c < cols; c++) dlogits[base + c] = Math.exp(logits[base + c]! - lse) - (c === label ? 1 : 0);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Convolutions (NHWC). Input row iy = oy*strideH - padTop + ky*dilationH, likewise columns;
// out-of-range input cells are zero.
// ---------------------------------------------------------------------------------------

/** The output coordinate o with o*stride - pad + k*dilation == i, or -1 if none in [0, outLen). */
function outCoord(i: number, k: number, stride: number, pad: number, dilation: number, outLen: number): number {
  const t = i + pad - k * dilation;
  if (t < 0 || t % stride !== 0) return -1;
  const o = t / stride;
  return o < outLen ? o : -1;
}

// x [N,H,W,C], w [kH,kW,C,OC] -> out [N,OH,OW,OC]
function conv2d(x: Float32Array, w: Float32Array, out: Float32Array, g: Conv2dGeometry): void {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const acc = new Float64Array(outC);
  for (let nb = 0; nb < batch; nb++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        acc.fill(0);
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * strideH - padTop + ky * dilationH;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * strideW - padLeft + kx * dilationW;
            if (ix < 0 || ix >= inW) continue;
            const xOff = ((nb * inH + iy) * inW + ix) * inC;
            const wOff = (ky * kW + kx) * inC * outC;
            for (let c = 0; c < inC; c++) {
              const xv = x[xOff + c]!;
              const wRow = wOff + c * outC;
              for (let oc = 0; oc < outC; oc++) acc[oc]! += xv * w[wRow + oc]!;
            }
          }
        }
        const oOff = ((nb * outH + oy) * outW + ox) * outC;
        for (let oc = 0; oc < outC; oc++) out[oOff + oc] = acc[oc]!;
      }
    }
  }
}

// dy [N,OH,OW,OC], w [kH,kW,C,OC] -> dx [N,H,W,C] (overwrite): dx[n,iy,ix,c] = sum dy[n,oy,ox,oc] * w[ky,kx,c,oc]
// over the (ky,kx,oy,ox) that read input cell (iy,ix). Written as a gather so each dx cell is computed once.
function conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Conv2dGeometry): void {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const acc = new Float64Array(inC);
  for (let nb = 0; nb < batch; nb++) {
    for (let iy = 0; iy < inH; iy++) {
      for (let ix = 0; ix < inW; ix++) {
        acc.fill(0);
        for (let ky = 0; ky < kH; ky++) {
          const oy = outCoord(iy, ky, strideH, padTop, dilationH, outH);
          if (oy < 0) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ox = outCoord(ix, kx, strideW, padLeft, dilationW, outW);
            if (ox < 0) continue;
            const dyOff = ((nb * outH + oy) * outW + ox) * outC;
            const wOff = (ky * kW + kx) * inC * outC;
            for (let c = 0; c < inC; c++) {
              const wRow = wOff + c * outC;
              let s = 0;
              for (let oc = 0; oc < outC; oc++) s += dy[dyOff + oc]! * w[wRow + oc]!;
              acc[c]! += s;
            }
          }
        }
        const xOff = ((nb * inH + iy) * inW + ix) * inC;
        for (let c = 0; c < inC; c++) dx[xOff + c] = acc[c]!;
      }
    }
  }
}

// x [N,H,W,C], dy [N,OH,OW,OC] -> dw [kH,kW,C,OC] (overwrite): dw[ky,kx,c,oc] = sum_{n,oy,ox} x[n,iy,ix,c] * dy[n,oy,ox,oc]
function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const acc = new Float64Array(kH * kW * inC * outC);
  for (let nb = 0; nb < batch; nb++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const dyOff = ((nb * outH + oy) * outW + ox) * outC;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * strideH - padTop + ky * dilationH;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * strideW - padLeft + kx * dilationW;
            if (ix < 0 || ix >= inW) continue;
            const xOff = ((nb * inH + iy) * inW + ix) * inC;
            const wOff = (ky * kW + kx) * inC * outC;
            for (let c = 0; c < inC; c++) {
              const xv = x[xOff + c]!;
              const wRow = wOff + c * outC;
              for (let oc = 0; oc < outC; oc++) acc[wRow + oc]! += xv * dy[dyOff + oc]!;
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) dw[i] = acc[i]!;
}

// Depthwise: x [N,H,W,C], w [kH,kW,C,M] -> out [N,OH,OW,C*M]; out channel c*M+m reads input channel c only.
// Note w[ky,kx,c,m] sits at (ky*kW+kx)*outC + c*M + m, i.e. a filter tap is a row indexed by out channel.
function depthwiseConv2d(x: Float32Array, w: Float32Array, out: Float32Array, g: DepthwiseGeometry): void {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const M = g.multiplier;
  const acc = new Float64Array(outC);
  for (let nb = 0; nb < batch; nb++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        acc.fill(0);
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * strideH - padTop + ky * dilationH;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * strideW - padLeft + kx * dilationW;
            if (ix < 0 || ix >= inW) continue;
            const xOff = ((nb * inH + iy) * inW + ix) * inC;
            const wOff = (ky * kW + kx) * outC;
            for (let c = 0; c < inC; c++) {
              const xv = x[xOff + c]!;
              const oc0 = c * M;
              for (let mm = 0; mm < M; mm++) acc[oc0 + mm]! += xv * w[wOff + oc0 + mm]!;
            }
          }
        }
        const oOff = ((nb * outH + oy) * outW + ox) * outC;
        for (let oc = 0; oc < outC; oc++) out[oOff + oc] = acc[oc]!;
      }
    }
  }
}

// dy [N,OH,OW,C*M], w [kH,kW,C,M] -> dx [N,H,W,C] (overwrite): dx[n,iy,ix,c] = sum dy[n,oy,ox,c*M+m] * w[ky,kx,c,m]
function depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: DepthwiseGeometry): void {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const M = g.multiplier;
  const acc = new Float64Array(inC);
  for (let nb = 0; nb < batch; nb++) {
    for (let iy = 0; iy < inH; iy++) {
      for (let ix = 0; ix < inW; ix++) {
        acc.fill(0);
        for (let ky = 0; ky < kH; ky++) {
          const oy = outCoord(iy, ky, strideH, padTop, dilationH, outH);
          if (oy < 0) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ox = outCoord(ix, kx, strideW, padLeft, dilationW, outW);
            if (ox < 0) continue;
            const dyOff = ((nb * outH + oy) * outW + ox) * outC;
            const wOff = (ky * kW + kx) * outC;
            for (let c = 0; c < inC; c++) {
              const oc0 = c * M;
              let s = 0;
              for (let mm = 0; mm < M; mm++) s += dy[dyOff + oc0 + mm]! * w[wOff + oc0 + mm]!;
              acc[c]! += s;
            }
          }
        }
        const xOff = ((nb * inH + iy) * inW + ix) * inC;
        for (let c = 0; c < inC; c++) dx[xOff + c] = acc[c]!;
      }
    }
  }
}

// x [N,H,W,C], dy [N,OH,OW,C*M] -> dw [kH,kW,C,M] (overwrite): dw[ky,kx,c,m] = sum x[n,iy,ix,c] * dy[n,oy,ox,c*M+m]
function depthwiseConv2dBackpropFilter(
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  g: DepthwiseGeometry,
): void {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  const M = g.multiplier;
  const acc = new Float64Array(kH * kW * outC);
  for (let nb = 0; nb < batch; nb++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const dyOff = ((nb * outH + oy) * outW + ox) * outC;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * strideH - padTop + ky * dilationH;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * strideW - padLeft + kx * dilationW;
            if (ix < 0 || ix >= inW) continue;
            const xOff = ((nb * inH + iy) * inW + ix) * inC;
            const wOff = (ky * kW + kx) * outC;
            for (let c = 0; c < inC; c++) {
              const xv = x[xOff + c]!;
              const oc0 = c * M;
              for (let mm = 0; mm < M; mm++) acc[wOff + oc0 + mm]! += xv * dy[dyOff + oc0 + mm]!;
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) dw[i] = acc[i]!;
}

// ---------------------------------------------------------------------------------------
// Pooling (NHWC). Window rows oy*strideH - padTop .. + poolH, clipped to the input; padding
// cells never take part.
// ---------------------------------------------------------------------------------------

// x [N,H,W,C] -> out [N,OH,OW,C], argmax [N,OH,OW,C] = flat index into x of the first max (-1, out 0 if no valid cell)
function maxPool2d(x: Float32Array, out: Float32Array, argmaxOut: Int32Array | null, g: Pool2dGeometry): void {
  // without argmax (inference) a scratch array plays its part: the result is the same
  const argmax = argmaxOut ?? new Int32Array(out.length);
  const { batch, inH, inW, channels: C, outH, outW, poolH, poolW, strideH, strideW, padTop, padLeft } = g;
  for (let nb = 0; nb < batch; nb++) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padTop, 0);
      const y1 = Math.min(oy * strideH - padTop + poolH, inH);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = Math.max(ox * strideW - padLeft, 0);
        const x1 = Math.min(ox * strideW - padLeft + poolW, inW);
        const oOff = ((nb * outH + oy) * outW + ox) * C;
        for (let c = 0; c < C; c++) {
          out[oOff + c] = 0;
          argmax[oOff + c] = -1;
        }
        // out/argmax double as the running max; argmax < 0 means "no cell seen yet"
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const xOff = ((nb * inH + iy) * inW + ix) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xOff + c]!;
              const best = out[oOff + c]!;
              // strict > keeps the first max on ties; the first NaN wins and sticks
              if (argmax[oOff + c]! < 0 || (!Number.isNaN(best) && (v > best || Number.isNaN(v)))) {
                out[oOff + c] = v;
                argmax[oOff + c] = xOff + c;
              }
            }
          }
        }
      }
    }
  }
}

// dy [N,OH,OW,C], argmax -> dx [N,H,W,C] (overwrite): dx[argmax[i]] += dy[i]
function maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, _g: Pool2dGeometry): void {
  dx.fill(0);
  const n = dy.length;
  for (let i = 0; i < n; i++) {
    const a = argmax[i]!;
    if (a >= 0) dx[a]! += dy[i]!;
  }
}

// x [N,H,W,C] -> out [N,OH,OW,C] = mean over the window's valid cells (0 if none)
function avgPool2d(x: Float32Array, out: Float32Array, g: Pool2dGeometry): void {
  const { batch, inH, inW, channels: C, outH, outW, poolH, poolW, strideH, strideW, padTop, padLeft } = g;
  const acc = new Float64Array(C);
  for (let nb = 0; nb < batch; nb++) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padTop, 0);
      const y1 = Math.min(oy * strideH - padTop + poolH, inH);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = Math.max(ox * strideW - padLeft, 0);
        const x1 = Math.min(ox * strideW - padLeft + poolW, inW);
        const count = Math.max(y1 - y0, 0) * Math.max(x1 - x0, 0);
        acc.fill(0);
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const xOff = ((nb * inH + iy) * inW + ix) * C;
            for (let c = 0; c < C; c++) acc[c]! += x[xOff + c]!;
          }
        }
        const oOff = ((nb * outH + oy) * outW + ox) * C;
        for (let c = 0; c < C; c++) out[oOff + c] = count > 0 ? acc[c]! / count : 0;
      }
    }
  }
}

// dy [N,OH,OW,C] -> dx [N,H,W,C] (overwrite): each valid window cell receives dy / count
function avgPool2dBackward(dy: Float32Array, dx: Float32Array, g: Pool2dGeometry): void {
  const { batch, inH, inW, channels: C, outH, outW, poolH, poolW, strideH, strideW, padTop, padLeft } = g;
  dx.fill(0);
  for (let nb = 0; nb < batch; nb++) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padTop, 0);
      const y1 = Math.min(oy * strideH - padTop + poolH, inH);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = Math.max(ox * strideW - padLeft, 0);
        const x1 = Math.min(ox * strideW - padLeft + poolW, inW);
        const count = Math.max(y1 - y0, 0) * Math.max(x1 - x0, 0);
        if (count === 0) continue;
        const dyOff = ((nb * outH + oy) * outW + ox) * C;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const xOff = ((nb * inH + iy) * inW + ix) * C;
            for (let c = 0; c < C; c++) dx[xOff + c]! += dy[dyOff + c]! / count;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Optimizers (in place over [n], Keras semantics)
// ---------------------------------------------------------------------------------------

// param, grad, velocity?: [n]. plain: p -= lr*g; momentum: v = mu*v - lr*g; p += v (nesterov: p += mu*v - lr*g)
function sgdUpdate(
  param: Float32Array,
  grad: Float32Array,
  velocity: Float32Array | null,
  lr: number,
  momentum: number,
  nesterov: boolean,
): void {
  const n = param.length;
  if (!velocity) {
    for (let i = 0; i < n; i++) param[i]! -= lr * grad[i]!;
    return;
  }
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    const v = momentum * velocity[i]! - lr * g;
    velocity[i] = v;
    param[i]! += nesterov ? momentum * v - lr * g : v;
  }
}

// param, grad, m, v: [n]. Keras Adam/AdamW: decoupled decay, then bias-corrected step size alpha.
function adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, p: AdamParams): void {
  const { lr, beta1, beta2, epsilon, step, weightDecay } = p;
  const n = param.length;
  const alpha = (lr * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  const decay = weightDecay * lr;
  for (let i = 0; i < n; i++) {
    let w = param[i]!;
    if (weightDecay !== 0) w -= w * decay;
    const g = grad[i]!;
    const mi = m[i]! + (g - m[i]!) * (1 - beta1);
    const vi = v[i]! + (g * g - v[i]!) * (1 - beta2);
    m[i] = mi;
    v[i] = vi;
    param[i] = w - (alpha * mi) / (Math.sqrt(vi) + epsilon);
  }
}

export const referenceBackend: Backend = {
  name: 'reference',
  numThreads: () => 1,
  unary,
  activationGrad,
  biasAdd,
  biasAddGrad,
  binary,
  reduce,
  argReduce,
  transpose,
  matmul,
  softmax,
  logSoftmax,
  sparseSoftmaxCrossEntropy,
  conv2d,
  conv2dBackpropInput,
  conv2dBackpropFilter,
  depthwiseConv2d,
  depthwiseConv2dBackpropInput,
  depthwiseConv2dBackpropFilter,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  sgdUpdate,
  adamUpdate,
};

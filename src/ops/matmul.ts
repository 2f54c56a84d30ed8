/** Matrix products: matmul (2-D, batched with NumPy batch broadcasting, 1-D like NumPy) and dot. */
import { record } from '../autograd/tape.js';
import { backend } from '../backend/index.js';
import { fmtShape, ShapeError } from '../tensor/errors.js';
import { broadcastShapes, sameShape, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { mul } from './arithmetic.js';
import { broadcastTo, reshape, transpose } from './shape-ops.js';
import { toFloat, unbroadcast } from './util.js';

export interface MatmulOptions {
  /** Use the transpose of a's last two dims. Ignored for a 1-D a. */
  transposeA?: boolean;
  /** Use the transpose of b's last two dims. Ignored for a 1-D b. */
  transposeB?: boolean;
}

/** One operand laid out as [batch, rows, cols] with a batch stride (0 = shared by every batch). */
interface Operand3 {
  data: Float32Array;
  stride: number;
}

/** Run the backend kernel into a fresh [batch, m, n] buffer. */
function gemm(
  a: Operand3,
  b: Operand3,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  outShape: readonly number[],
): Tensor {
  const out = Tensor.empty(outShape, 'float32');
  if (m * n === 0 || batch === 0) return out;
  if (k === 0) {
    out.data.fill(0);
    return out;
  }
  backend().matmul(a.data, b.data, out.data as Float32Array, batch, m, n, k, transA, transB, a.stride, b.stride);
  return out;
}

/**
 * Matrix product of the last two dims, with NumPy broadcasting of the leading (batch) dims.
 * A 1-D a is treated as [1, k] and a 1-D b as [k, 1]; the added dim is removed from the result.
 * @example matmul(ones([2, 3]), ones([3, 4])).shape // [2, 4]
 * @example matmul(ones([5, 2, 3]), ones([3, 4])).shape // [5, 2, 4]
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) {
    throw new ShapeError(`matmul expected two tensors, got ${typeof a} and ${typeof b}`);
  }
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError(
      `matmul expected operands of rank >= 1, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)} (use mul for scalars)`,
    );
  }
  const tA = a.rank > 1 && options.transposeA === true;
  const tB = b.rank > 1 && options.transposeB === true;
  const aShape = a.rank === 1 ? [1, a.shape[0] as number] : [...a.shape];
  const bShape = b.rank === 1 ? [b.shape[0] as number, 1] : [...b.shape];
  const ar = aShape.length;
  const br = bShape.length;
  const m = aShape[tA ? ar - 1 : ar - 2] as number;
  const ka = aShape[tA ? ar - 2 : ar - 1] as number;
  const kb = bShape[tB ? br - 1 : br - 2] as number;
  const n = bShape[tB ? br - 2 : br - 1] as number;
  if (ka !== kb) {
    const an = a.rank === 1 ? 'a.shape[0]' : tA ? 'a.shape[-2]' : 'a.shape[-1]';
    const bn = b.rank === 1 ? 'b.shape[0]' : tB ? 'b.shape[-1]' : 'b.shape[-2]';
    throw new ShapeError(
      `matmul expected ${an} (${ka}) == ${bn} (${kb}), got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}${tA || tB ? ` (transposeA ${tA}, transposeB ${tB})` : ''}`,
    );
  }
  const k = ka;
  const aBatch = aShape.slice(0, ar - 2);
  const bBatch = bShape.slice(0, br - 2);
  const batchShape = broadcastShapes(aBatch, bBatch, 'matmul');
  const batch = sizeOf(batchShape);
  // Each operand as [batch, rows, cols]: its own layout when its batch dims match, stride 0 when it
  // has a single batch, else materialised at the broadcast batch shape.
  const prepare = (x: Tensor, xShape: number[], xBatch: number[]): Operand3 => {
    const mat = (xShape[xShape.length - 2] as number) * (xShape[xShape.length - 1] as number);
    const input = toFloat(x);
    if (sizeOf(xBatch) === 1 && batch !== 1) return { data: input.data as Float32Array, stride: 0 };
    if (sizeOf(xBatch) === batch) return { data: input.data as Float32Array, stride: mat };
    const full = broadcastTo(input.view(xShape), [...batchShape, ...xShape.slice(-2)]);
    return { data: full.data as Float32Array, stride: mat };
  };
  const A = prepare(a, aShape, aBatch);
  const B = prepare(b, bShape, bBatch);
  const outFull = [...batchShape, m, n];
  // A shared b with an untransposed a: fold a's batch into its rows, one big GEMM.
  const fold = B.stride === 0 && A.stride !== 0 && !tA;
  const outT = fold
    ? gemm(A, { data: B.data, stride: 0 }, 1, batch * m, n, k, false, tB, outFull)
    : gemm(A, B, batch, m, n, k, tA, tB, outFull);
  const outShape = [...batchShape];
  if (a.rank > 1) outShape.push(m);
  if (b.rank > 1) outShape.push(n);
  const out = sameShape(outShape, outFull) ? outT : outT.view(outShape);
  return record(out, 'matmul', [a, b], (g) => {
    const G: Operand3 = { data: toFloat(g).data as Float32Array, stride: m * n };
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      const shape = [...batchShape, ...aShape.slice(-2)];
      let full: Tensor;
      if (!tA) {
        // dA = G op(B)^T
        full = fold ? gemm(G, B, 1, batch * m, k, n, false, !tB, shape) : gemm(G, B, batch, m, k, n, false, !tB, shape);
      } else {
        // A stored [k, m]: dA = op(B) G^T
        full = gemm(B, G, batch, k, m, n, tB, true, shape);
      }
      da = unbroadcast(full, aShape).view(a.shape);
    }
    if (b.requiresGrad) {
      const shape = [...batchShape, ...bShape.slice(-2)];
      let full: Tensor;
      if (fold) {
        // b shared by every batch: contract over all batch * m rows at once, no batch sum needed.
        const flatA = { data: A.data, stride: 0 };
        const flatG = { data: G.data, stride: 0 };
        full = !tB
          ? gemm(flatA, flatG, 1, k, n, batch * m, true, false, bShape.slice(-2))
          : gemm(flatG, flatA, 1, n, k, batch * m, true, false, bShape.slice(-2));
      } else if (!tB) {
        // dB = op(A)^T G
        full = gemm(A, G, batch, k, n, m, !tA, false, shape);
      } else {
        // B stored [n, k]: dB = G^T op(A)
        full = gemm(G, A, batch, n, k, m, true, tA, shape);
      }
      db = fold ? full.view(b.shape) : unbroadcast(full, bShape).view(b.shape);
    }
    return [da, db];
  });
}

/**
 * NumPy / Keras-ops dot: 1-D . 1-D is the inner product (a scalar), 2-D . 2-D is matmul, N-D . 1-D
 * sums over the last axes, N-D . M-D sums a's last axis against b's second-to-last. A scalar
 * operand multiplies.
 * @example dot(tensor([1, 2, 3]), tensor([4, 5, 6])) // 32
 */
export function dot(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) return mul(a, b);
  if (a.rank <= 2 && b.rank <= 2) return matmul(a, b);
  if (b.rank === 1) return matmul(a, b);
  if (a.rank === 1) return matmul(a, b);
  // a [..., k] . b [..., k, n] -> a[:-1] + b[:-2] + [n]
  const k = a.shape[a.rank - 1] as number;
  const kb = b.shape[b.rank - 2] as number;
  if (k !== kb) {
    throw new ShapeError(
      `dot expected a.shape[-1] (${k}) == b.shape[-2] (${kb}), got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  const n = b.shape[b.rank - 1] as number;
  const a2 = reshape(a, [-1, k]);
  const perm = [b.rank - 2, ...Array.from({ length: b.rank - 2 }, (_, i) => i), b.rank - 1];
  const b2 = reshape(transpose(b, perm), [k, -1]);
  return reshape(matmul(a2, b2), [...a.shape.slice(0, -1), ...b.shape.slice(0, -2), n]);
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    matmul(b: Tensor, options?: MatmulOptions): Tensor;
    dot(b: Tensor): Tensor;
  }
}

Tensor.prototype.matmul = function (b, options) {
  return matmul(this, b, options);
};
Tensor.prototype.dot = function (b) {
  return dot(this, b);
};

/** Activations: relu ... swish with fused backward kernels, and softmax / logSoftmax. */

import { record } from '../autograd/tape.js';
import type { ActivationOp } from '../backend/backend.js';
import { backend } from '../backend/index.js';
import { normAxis } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { mul, sub } from './arithmetic.js';
import { reduceKeepDims, toFloat } from './util.js';

function activation(op: ActivationOp, x: Tensor, alpha = 0): Tensor {
  const input = toFloat(x);
  const out = Tensor.empty(input.shape, 'float32');
  backend().unary(op, input.data, out.data, alpha);
  return record(out, op, [x], (g) => {
    const dx = Tensor.empty(input.shape, 'float32');
    backend().activationGrad(
      op,
      input.data as Float32Array,
      out.data as Float32Array,
      toFloat(g).data as Float32Array,
      dx.data as Float32Array,
      alpha,
    );
    return [dx];
  });
}

/** max(x, 0). */
export const relu = (x: Tensor): Tensor => activation('relu', x);
/** min(max(x, 0), 6). */
export const relu6 = (x: Tensor): Tensor => activation('relu6', x);
/** x for x > 0, alpha * x otherwise (alpha defaults to 0.2, as in Keras 3 ops). */
export const leakyRelu = (x: Tensor, options: { alpha?: number } = {}): Tensor =>
  activation('leakyRelu', x, options.alpha ?? 0.2);
/** x for x > 0, alpha * (e^x - 1) otherwise. */
export const elu = (x: Tensor, options: { alpha?: number } = {}): Tensor => activation('elu', x, options.alpha ?? 1);
/** Scaled ELU (self-normalising). */
export const selu = (x: Tensor): Tensor => activation('selu', x);
/** Gaussian error linear unit, exact (erf) form. */
export const gelu = (x: Tensor): Tensor => activation('gelu', x);
/** 1 / (1 + e^-x). */
export const sigmoid = (x: Tensor): Tensor => activation('sigmoid', x);
/** relu6(x + 3) / 6 (Keras 3). */
export const hardSigmoid = (x: Tensor): Tensor => activation('hardSigmoid', x);
export const tanh = (x: Tensor): Tensor => activation('tanh', x);
/** log(1 + e^x), computed stably. */
export const softplus = (x: Tensor): Tensor => activation('softplus', x);
/** x / (1 + |x|). */
export const softsign = (x: Tensor): Tensor => activation('softsign', x);
/** x * sigmoid(x) (a.k.a. SiLU). */
export const swish = (x: Tensor): Tensor => activation('swish', x);

/** Move `axis` to the end (a transpose), run fn on [rows, cols], move it back. */
function overAxis(x: Tensor, axis: number, fn: (t: Tensor, rows: number, cols: number) => Tensor): Tensor {
  const rank = x.rank;
  const a = normAxis(axis, Math.max(rank, 1), 'softmax');
  if (rank === 0 || a === rank - 1) {
    const cols = rank === 0 ? 1 : (x.shape[rank - 1] as number);
    return fn(x, cols === 0 ? 0 : x.size / cols, cols);
  }
  const perm = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== a);
  perm.push(a);
  const moved = transposeData(x, perm);
  const cols = x.shape[a] as number;
  const y = fn(moved, x.size / cols, cols);
  const inverse = new Array<number>(rank);
  for (let i = 0; i < rank; i++) inverse[perm[i] as number] = i;
  return transposeData(y, inverse);
}

function transposeData(x: Tensor, perm: number[]): Tensor {
  const shape = perm.map((p) => x.shape[p] as number);
  const out = Tensor.empty(shape, x.dtype);
  backend().transpose(x.data, out.data, x.shape, perm);
  return out;
}

/**
 * softmax along `axis` (default the last).
 * @example softmax(tensor([[1, 2, 3]])) // [[0.090, 0.245, 0.665]]
 */
export function softmax(x: Tensor, options: { axis?: number } = {}): Tensor {
  const axis = options.axis ?? -1;
  const input = toFloat(x);
  const out = overAxis(input, axis, (t, rows, cols) => {
    const o = Tensor.empty(t.shape, 'float32');
    backend().softmax(t.data as Float32Array, o.data as Float32Array, rows, cols);
    return o;
  });
  return record(out, 'softmax', [x], (g) => {
    // dx = y * (g - sum(g * y, axis))
    const a = normAxis(axis, Math.max(out.rank, 1), 'softmax');
    const gy = mul(g, out);
    const s = out.rank === 0 ? gy : reduceKeepDims('sum', gy, [a]);
    return [mul(out, sub(g, s))];
  });
}

/** log(softmax(x)) along `axis`, computed stably. */
export function logSoftmax(x: Tensor, options: { axis?: number } = {}): Tensor {
  const axis = options.axis ?? -1;
  const input = toFloat(x);
  const out = overAxis(input, axis, (t, rows, cols) => {
    const o = Tensor.empty(t.shape, 'float32');
    backend().logSoftmax(t.data as Float32Array, o.data as Float32Array, rows, cols);
    return o;
  });
  return record(out, 'logSoftmax', [x], (g) => {
    // dx = g - softmax(x) * sum(g, axis)
    const a = normAxis(axis, Math.max(out.rank, 1), 'logSoftmax');
    const s = out.rank === 0 ? g : reduceKeepDims('sum', g, [a]);
    const sm = Tensor.empty(out.shape, 'float32');
    backend().unary('exp', out.data, sm.data, 0);
    return [sub(g, mul(sm, s))];
  });
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    relu(): Tensor;
    relu6(): Tensor;
    leakyRelu(options?: { alpha?: number }): Tensor;
    elu(options?: { alpha?: number }): Tensor;
    selu(): Tensor;
    gelu(): Tensor;
    sigmoid(): Tensor;
    hardSigmoid(): Tensor;
    tanh(): Tensor;
    softplus(): Tensor;
    softsign(): Tensor;
    swish(): Tensor;
    softmax(options?: { axis?: number }): Tensor;
    logSoftmax(options?: { axis?: number }): Tensor;
  }
}

const methods: Record<string, (x: Tensor, o?: never) => Tensor> = {
  relu,
  relu6,
  leakyRelu,
  elu,
  selu,
  gelu,
  sigmoid,
  hardSigmoid,
  tanh,
  softplus,
  softsign,
  swish,
  softmax,
  logSoftmax,
};
for (const [name, fn] of Object.entries(methods)) {
  (Tensor.prototype as unknown as Record<string, unknown>)[name] = function (this: Tensor, o?: never) {
    return fn(this, o);
  };
}

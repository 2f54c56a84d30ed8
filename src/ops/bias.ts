/** biasAdd: x + bias over the last axis with an optional fused activation, one pass each way. */

import { record } from '../autograd/tape.js';
import type { BiasActivation } from '../backend/backend.js';
import { backend } from '../backend/index.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { toFloat } from './util.js';

export type { BiasActivation };

export interface BiasAddOptions {
  /** Applied after the add, in the same pass: 'linear' (default) or 'relu'. */
  activation?: BiasActivation;
}

/**
 * `activation(x + bias)` with `bias` ([channels]) broadcast over the last axis of `x` ([..., channels]):
 * one kernel forward (no broadcast add then a separate activation) and one backward (activation
 * gradient and the bias gradient, a column sum, together). Differentiable in both inputs.
 *
 * @example
 * const y = biasAdd(conv2d(x, w), b, { activation: 'relu' }); // x [n, h, w, c], b [c]
 */
export function biasAdd(x: Tensor, bias: Tensor, options: BiasAddOptions = {}): Tensor {
  const activation = options.activation ?? 'linear';
  if (activation !== 'linear' && activation !== 'relu') {
    throw new ValueError(`biasAdd expected activation 'linear' or 'relu', got '${String(activation)}'`);
  }
  if (x.rank < 1) throw new ShapeError(`biasAdd expected x of rank >= 1, got shape ${fmtShape(x.shape)}`);
  const cols = x.shape[x.rank - 1] as number;
  if (bias.rank !== 1 || bias.shape[0] !== cols) {
    throw new ShapeError(
      `biasAdd expected bias of shape [${cols}] (the last axis of x ${fmtShape(x.shape)}), got ${fmtShape(bias.shape)}`,
    );
  }
  const xf = toFloat(x);
  const bf = toFloat(bias);
  const rows = cols === 0 ? 0 : x.size / cols;
  const out = Tensor.empty(x.shape, 'float32');
  backend().biasAdd(xf.data as Float32Array, bf.data as Float32Array, out.data as Float32Array, rows, cols, activation);
  return record(out, 'biasAdd', [x, bias], (g) => {
    const dx = Tensor.empty(x.shape, 'float32');
    const db = Tensor.empty([cols], 'float32');
    backend().biasAddGrad(
      out.data as Float32Array,
      toFloat(g).data as Float32Array,
      dx.data as Float32Array,
      db.data as Float32Array,
      rows,
      cols,
      activation,
    );
    return [dx, db];
  });
}

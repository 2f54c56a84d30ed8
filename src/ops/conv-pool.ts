/**
 * Inference-only fusion of conv2d -> maxPool2d -> bias + relu/linear (the order
 * src/model/conv-pool.ts rewrites a Conv2D + MaxPooling2D pair into) as one backend call, when the
 * backend has it and no gradient can follow. The result is bit-identical to the three ops (unless
 * Winograd convolutions are enabled, see setWinogradInference).
 */
import type { BiasActivation } from '../backend/backend.js';
import { backend } from '../backend/index.js';
import { isGradEnabled } from '../tensor/engine.js';
import { fmtShape, ShapeError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { type Conv2dOptions, conv2dPlan } from './conv.js';
import { type Pool2dOptions, pool2dPlan } from './pool.js';
import { toFloat } from './util.js';

let winograd = false;

/**
 * Let inference run 3x3, stride-1 convolutions (of at least 8 channels in and out) that feed a
 * max-pool as Winograd F(4x4, 3x3) or F(5x5, 3x3) (F(2x2, 3x3) for outputs under 4 rows or
 * columns), over the conv outputs the pool reads: 4-4.6x fewer multiplies, about 2.4x faster than
 * direct on the seed CNN's second layer at batch 22, agreeing with the direct convolution to ~4e-6
 * of the outputs' scale (images holding NaN or infinity run direct), and still independent of the
 * batch an image comes in. Off by default, so that predictions equal the
 * training forward pass bit for bit; the model server turns it on (config.json "convolution").
 * @example setWinogradInference(true); model.predict(images);
 */
export function setWinogradInference(enabled: boolean): void {
  winograd = enabled;
}

/** Whether inference may use Winograd convolutions (see setWinogradInference). */
export function winogradInference(): boolean {
  return winograd;
}

/**
 * `act(maxPool2d(conv2d(x, filter, conv), pool) + bias)` in one pass, or null when the backend has
 * no fused kernel or a gradient could flow through one of the inputs (the caller then runs the ops).
 */
export function conv2dMaxPoolInference(
  x: Tensor,
  filter: Tensor,
  bias: Tensor | null,
  act: BiasActivation,
  conv: Conv2dOptions,
  pool: Pool2dOptions,
): Tensor | null {
  const b = backend();
  if (!b.conv2dMaxPool) return null;
  if (isGradEnabled() && (x.requiresGrad || filter.requiresGrad || (bias?.requiresGrad ?? false))) return null;
  const cp = conv2dPlan(x, filter, conv);
  const pp = pool2dPlan('maxPool2d', cp.outShape, pool);
  const channels = cp.g.outC;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== channels)) {
    throw new ShapeError(`biasAdd expected bias of shape [${channels}], got ${fmtShape(bias.shape)}`);
  }
  const out = Tensor.empty(pp.outShape, 'float32');
  b.conv2dMaxPool(
    toFloat(x).data as Float32Array,
    toFloat(filter).data as Float32Array,
    bias ? (toFloat(bias).data as Float32Array) : null,
    out.data as Float32Array,
    cp.g,
    pp.g,
    act,
    winograd,
  );
  return out;
}

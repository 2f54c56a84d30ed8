/**
 * Internal: the pre-activation output (logits) of a Dense layer whose activation is softmax, so
 * the loss can use the fused softmax cross-entropy op (one op, an exact gradient) instead of
 * softmax followed by a clipped log.
 */
import type { Layer } from '../layers/layer.js';
import { add } from '../ops/arithmetic.js';
import { matmul } from '../ops/matmul.js';
import { reshape } from '../ops/shape-ops.js';
import type { Tensor } from '../tensor/tensor.js';

const useBiasCache = new WeakMap<Layer, boolean>();

export function denseLogits(layer: Layer, h: Tensor): Tensor {
  let useBias = useBiasCache.get(layer);
  if (useBias === undefined) {
    useBias = layer.getConfig().useBias !== false;
    useBiasCache.set(layer, useBias);
  }
  const w = layer.weights;
  const kernel = w[0] as Tensor;
  let z: Tensor;
  if (h.rank === 2) z = matmul(h, kernel);
  else {
    const lead = h.shape.slice(0, -1);
    z = reshape(matmul(reshape(h, [-1, h.shape[h.rank - 1] as number]), kernel), [...lead, kernel.shape[1] as number]);
  }
  return useBias && w[1] ? add(z, w[1]) : z;
}

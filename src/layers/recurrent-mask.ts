/**
 * Keras-style mask propagation: a layer that makes a mask (embedding with maskZero, masking)
 * attaches it to its output tensor, and layers that consume masks (recurrent layers, attention,
 * masked pooling) read it from their input when the call context carries none.
 * The mask is a [batch, time] bool tensor; held weakly, so it goes with its tensor.
 */
import type { Tensor } from '../tensor/tensor.js';

const masks = new WeakMap<Tensor, Tensor>();

/** Attach `mask` ([batch, time] bool) to `t` (null removes it). Returns t. */
export function setMask(t: Tensor, mask: Tensor | null): Tensor {
  if (mask) masks.set(t, mask);
  else masks.delete(t);
  return t;
}

/**
 * The mask attached to a tensor by the layer that produced it, if any.
 * @example const e = layers.embedding({ inputDim: 10, outputDim: 4, maskZero: true }); getMask(e.apply(ids)) // [batch, time] bool
 */
export function getMask(t: Tensor): Tensor | null {
  return masks.get(t) ?? null;
}

/** computeMask of a layer that passes its (first) input's mask through unchanged. */
export function passThroughMask(inputs: Tensor | Tensor[], mask: Tensor | null): Tensor | null {
  return mask ?? getMask(Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs);
}

/**
 * Internal: a Conv2D whose output only feeds a MaxPooling2D (adjacent layers of a Sequential) runs
 * as conv -> max-pool -> bias + relu, instead of conv -> bias + relu -> max-pool.
 *
 * The rewrite is exact. Per channel, `z -> relu(z + b)` is monotone non-decreasing and float
 * addition rounds monotonically, so max over a window commutes with it: the pooled values are
 * bit-identical. Gradients are equal too: where the window max of z + b is positive both orders
 * route the gradient to the same (first) argmax, and where it is not both give zero. What changes
 * is the work: the bias/relu passes, forward and backward, run on the pooled tensor (a quarter of
 * the conv output for 2x2 pooling) instead of the full one.
 */
import { Conv2D } from '../layers/conv.js';
import type { CallContext, Layer } from '../layers/layer.js';
import { MaxPooling2D } from '../layers/pooling.js';
import { relu } from '../ops/activations.js';
import { biasAdd } from '../ops/bias.js';
import { conv2dMaxPoolInference } from '../ops/conv-pool.js';
import type { Tensor } from '../tensor/tensor.js';

/** Whether a and b are exactly a built Conv2D and MaxPooling2D (not subclasses, whose call may differ). */
export function isConvPoolPair(a: Layer, b: Layer | undefined): boolean {
  if (b === undefined || !a.built || !b.built) return false;
  return (a.constructor as unknown) === Conv2D && (b.constructor as unknown) === MaxPooling2D;
}

/** `pool(conv(h))`, reordered as above when conv's epilogue allows; null when it does not. */
export function convThenMaxPool(conv: Conv2D, pool: MaxPooling2D, h: Tensor, ctx: CallContext): Tensor | null {
  const act = conv.poolableEpilogue(ctx);
  if (act === null) return null;
  // No backward to follow: the three steps in one kernel pass where the backend has one.
  const fused = conv2dMaxPoolInference(
    conv.checkedInput(h),
    conv.kernel as Tensor,
    conv.bias,
    act,
    conv.conv2dOptions(),
    pool.options2d(),
  );
  if (fused) return fused;
  const pooled = pool.call(conv.convolve(h));
  if (conv.bias) return biasAdd(pooled, conv.bias, { activation: act });
  return relu(pooled);
}

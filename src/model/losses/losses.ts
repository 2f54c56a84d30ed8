/**
 * Keras losses: each returns per-sample losses (the mean over the last axis where Keras takes
 * one, so [batch, d] -> [batch]; [batch, t, d] -> [batch, t]; rank-1 inputs are one value per
 * sample, [batch] -> [batch]). Built from differentiable ops, so gradients flow to yPred.
 */

import { softplus } from '../../ops/activations.js';
import { add, div, maximum, mul, neg, sub } from '../../ops/arithmetic.js';
import { lessEqual, where } from '../../ops/compare.js';
import { softmaxCrossEntropy, sparseSoftmaxCrossEntropy } from '../../ops/losses.js';
import { abs, clip, log, log1p, sqrt, square } from '../../ops/math.js';
import { max, mean, sum } from '../../ops/reduce.js';
import { cast, oneHot, reshape } from '../../ops/shape-ops.js';
import { fmtShape, ShapeError, ValueError } from '../../tensor/errors.js';
import { sameShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';

/** Keras's fuzz factor (keras.config.epsilon()). */
export const EPSILON = 1e-7;

/** A loss: (yTrue, yPred) -> per-sample losses, with a name and a config for model.json. */
export interface LossFunction {
  (yTrue: Tensor, yPred: Tensor): Tensor;
  /** The Keras name, e.g. 'sparse_categorical_crossentropy'. */
  readonly name: string;
  /** The Keras class name, e.g. 'SparseCategoricalCrossentropy' ('Custom' for wrapped functions); the getLoss key. */
  readonly className?: string;
  readonly fromLogits?: boolean;
  getConfig(): Record<string, unknown>;
}

export function makeLoss(
  name: string,
  className: string,
  config: Record<string, unknown>,
  fn: (yTrue: Tensor, yPred: Tensor) => Tensor,
): LossFunction {
  const f = ((yTrue: Tensor, yPred: Tensor) => {
    if (!(yTrue instanceof Tensor) || !(yPred instanceof Tensor)) {
      throw new ValueError(`loss '${name}' expected (yTrue, yPred) tensors, got ${typeof yTrue} and ${typeof yPred}`);
    }
    return fn(yTrue, yPred);
  }) as LossFunction;
  Object.defineProperty(f, 'name', { value: name });
  Object.defineProperty(f, 'className', { value: className, enumerable: true });
  if ('fromLogits' in config) Object.defineProperty(f, 'fromLogits', { value: config.fromLogits, enumerable: true });
  Object.defineProperty(f, 'getConfig', { value: () => ({ ...config }) });
  return f;
}

/**
 * yTrue as float32 with yPred's shape: [batch] vs [batch, 1] either way round is reshaped
 * (Keras squeeze_or_expand_to_same_rank); any other mismatch is a ShapeError naming the loss.
 */
function align(yTrue: Tensor, yPred: Tensor, name: string): Tensor {
  let t = yTrue.dtype === 'float32' ? yTrue : cast(yTrue, 'float32');
  if (!sameShape(t.shape, yPred.shape)) {
    const dr = t.rank - yPred.rank;
    const squeezable = (dr === 1 && t.shape[t.rank - 1] === 1) || (dr === -1 && yPred.shape[yPred.rank - 1] === 1);
    if (!squeezable || t.size !== yPred.size) {
      throw new ShapeError(
        `loss '${name}' expected yTrue of the same shape as yPred ${fmtShape(yPred.shape)}, got ${fmtShape(yTrue.shape)}`,
      );
    }
    t = reshape(t, yPred.shape);
  }
  return t;
}

/** The mean over the last axis (rank >= 2); rank 0-1 inputs are already per sample. */
function perSample(e: Tensor): Tensor {
  if (e.rank === 0) return reshape(e, [1]);
  return e.rank === 1 ? e : mean(e, { axis: -1 });
}

function sumLast(e: Tensor): Tensor {
  if (e.rank === 0) return reshape(e, [1]);
  return e.rank === 1 ? e : sum(e, { axis: -1 });
}

function checkSmoothing(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ValueError(`${name} expected labelSmoothing in [0, 1], got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * mean((yPred - yTrue)^2) over the last axis.
 * @example losses.meanSquaredError()(tensor([[0, 1]]), tensor([[1, 1]])) // [0.5]
 */
export function meanSquaredError(): LossFunction {
  const name = 'mean_squared_error';
  return makeLoss(name, 'MeanSquaredError', {}, (yTrue, yPred) =>
    perSample(square(sub(yPred, align(yTrue, yPred, name)))),
  );
}

/**
 * mean(|yPred - yTrue|) over the last axis.
 * @example losses.meanAbsoluteError()(tensor([[0, 1]]), tensor([[1, 1]])) // [0.5]
 */
export function meanAbsoluteError(): LossFunction {
  const name = 'mean_absolute_error';
  return makeLoss(name, 'MeanAbsoluteError', {}, (yTrue, yPred) =>
    perSample(abs(sub(yPred, align(yTrue, yPred, name)))),
  );
}

/**
 * 100 * mean(|yTrue - yPred| / max(|yTrue|, 1e-7)) over the last axis.
 * @example losses.meanAbsolutePercentageError()(tensor([[2]]), tensor([[1]])) // [50]
 */
export function meanAbsolutePercentageError(): LossFunction {
  const name = 'mean_absolute_percentage_error';
  return makeLoss(name, 'MeanAbsolutePercentageError', {}, (yTrue, yPred) => {
    const t = align(yTrue, yPred, name);
    return mul(perSample(abs(div(sub(t, yPred), maximum(abs(t), EPSILON)))), 100);
  });
}

/**
 * mean((log(max(yPred, eps) + 1) - log(max(yTrue, eps) + 1))^2) over the last axis.
 * @example losses.meanSquaredLogarithmicError()(tensor([[0]]), tensor([[Math.E - 1]])) // [1]
 */
export function meanSquaredLogarithmicError(): LossFunction {
  const name = 'mean_squared_logarithmic_error';
  return makeLoss(name, 'MeanSquaredLogarithmicError', {}, (yTrue, yPred) => {
    const t = align(yTrue, yPred, name);
    return perSample(square(sub(log1p(maximum(yPred, EPSILON)), log1p(maximum(t, EPSILON)))));
  });
}

/**
 * Huber: 0.5 e^2 where |e| <= delta, else delta (|e| - 0.5 delta); mean over the last axis.
 * @example losses.huber({ delta: 1 })(tensor([[0, 0]]), tensor([[0.5, 3]])) // [(0.125 + 2.5) / 2]
 */
export function huber(options: { delta?: number } = {}): LossFunction {
  const name = 'huber_loss';
  const delta = options.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0))
    throw new ValueError(`huber expected delta > 0, got ${JSON.stringify(delta)}`);
  return makeLoss(name, 'Huber', { delta }, (yTrue, yPred) => {
    const err = sub(yPred, align(yTrue, yPred, name));
    const a = abs(err);
    const quadratic = mul(square(err), 0.5);
    const linear = sub(mul(a, delta), 0.5 * delta * delta);
    return perSample(where(lessEqual(a, delta), quadratic, linear));
  });
}

/**
 * mean(log(cosh(yPred - yTrue))) over the last axis, computed stably as x + softplus(-2x) - log 2.
 * @example losses.logCosh()(tensor([[0]]), tensor([[1]])) // [log(cosh(1))] = [0.4338]
 */
export function logCosh(): LossFunction {
  const name = 'log_cosh';
  return makeLoss(name, 'LogCosh', {}, (yTrue, yPred) => {
    const x = sub(yPred, align(yTrue, yPred, name));
    return perSample(sub(add(x, softplus(mul(x, -2))), Math.LN2));
  });
}

/**
 * Kullback-Leibler divergence: sum(yTrue * log(yTrue / yPred)) over the last axis, both clipped to [1e-7, 1].
 * @example losses.kld()(tensor([[0.5, 0.5]]), tensor([[0.25, 0.75]]))
 */
export function kullbackLeiblerDivergence(): LossFunction {
  const name = 'kl_divergence';
  return makeLoss(name, 'KLDivergence', {}, (yTrue, yPred) => {
    const t = clip(align(yTrue, yPred, name), EPSILON, 1);
    const p = clip(yPred, EPSILON, 1);
    return sumLast(mul(t, log(div(t, p))));
  });
}

/** Labels of 0/1 become -1/+1 (Keras convert_binary_labels_to_hinge); -1/+1 labels pass through. */
function hingeLabels(t: Tensor): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0 && d[i] !== 1) return t;
  return sub(mul(t, 2), 1);
}

/**
 * mean(max(1 - yTrue * yPred, 0)) over the last axis; yTrue in {-1, 1} (0/1 labels are converted).
 * @example losses.hinge()(tensor([[1, -1]]), tensor([[0.5, 0.5]])) // [(0.5 + 1.5) / 2]
 */
export function hinge(): LossFunction {
  const name = 'hinge';
  return makeLoss(name, 'Hinge', {}, (yTrue, yPred) => {
    const t = hingeLabels(align(yTrue, yPred, name));
    return perSample(maximum(sub(1, mul(t, yPred)), 0));
  });
}

/**
 * mean(max(1 - yTrue * yPred, 0)^2) over the last axis; yTrue in {-1, 1} (0/1 labels are converted).
 * @example losses.squaredHinge()(tensor([[1, -1]]), tensor([[0.5, 0.5]])) // [(0.25 + 2.25) / 2]
 */
export function squaredHinge(): LossFunction {
  const name = 'squared_hinge';
  return makeLoss(name, 'SquaredHinge', {}, (yTrue, yPred) => {
    const t = hingeLabels(align(yTrue, yPred, name));
    return perSample(square(maximum(sub(1, mul(t, yPred)), 0)));
  });
}

/**
 * max(max((1 - yTrue) * yPred) - sum(yTrue * yPred) + 1, 0) over the last axis (one-hot yTrue).
 * @example losses.categoricalHinge()(tensor([[0, 1]]), tensor([[0.3, 0.6]])) // [0.7]
 */
export function categoricalHinge(): LossFunction {
  const name = 'categorical_hinge';
  return makeLoss(name, 'CategoricalHinge', {}, (yTrue, yPred) => {
    const t = align(yTrue, yPred, name);
    const pos = sum(mul(t, yPred), { axis: -1 });
    const negative = max(mul(sub(1, t), yPred), { axis: -1 });
    return maximum(add(sub(negative, pos), 1), 0);
  });
}

/**
 * Negative cosine similarity along `axis` (default -1): -sum(l2norm(yTrue) * l2norm(yPred)).
 * Keras sign: perfectly aligned vectors give -1, so minimising it aligns them.
 * @example losses.cosineSimilarity()(tensor([[1, 0]]), tensor([[2, 0]])) // [-1]
 */
export function cosineSimilarity(options: { axis?: number } = {}): LossFunction {
  const name = 'cosine_similarity';
  const axis = options.axis ?? -1;
  const normalize = (x: Tensor) => div(x, sqrt(maximum(sum(square(x), { axis, keepDims: true }), 1e-12)));
  return makeLoss(name, 'CosineSimilarity', { axis }, (yTrue, yPred) => {
    const t = align(yTrue, yPred, name);
    const s = neg(sum(mul(normalize(t), normalize(yPred)), { axis }));
    return s.rank === 0 ? reshape(s, [1]) : s;
  });
}

/**
 * mean(yPred - yTrue * log(yPred + 1e-7)) over the last axis.
 * @example losses.poisson()(tensor([[1]]), tensor([[1]])) // [1]
 */
export function poisson(): LossFunction {
  const name = 'poisson';
  return makeLoss(name, 'Poisson', {}, (yTrue, yPred) => {
    const t = align(yTrue, yPred, name);
    return perSample(sub(yPred, mul(t, log(add(yPred, EPSILON)))));
  });
}

export interface CrossentropyOptions {
  /** yPred are logits (unnormalised scores) rather than probabilities. Default false. */
  fromLogits?: boolean;
  /** Blend labels towards uniform: y (1 - s) + s / classes (binary: + s / 2). Default 0. */
  labelSmoothing?: number;
}

/**
 * Binary cross-entropy, the mean over the last axis. Probabilities are clipped to [1e-7, 1 - 1e-7];
 * with fromLogits it is computed stably as max(x, 0) - x z + log(1 + exp(-|x|)).
 * @example losses.binaryCrossentropy()(tensor([[1], [0]]), tensor([[0.9], [0.2]])) // [0.105, 0.223]
 */
export function binaryCrossentropy(options: CrossentropyOptions = {}): LossFunction {
  const name = 'binary_crossentropy';
  const fromLogits = options.fromLogits ?? false;
  const labelSmoothing = checkSmoothing(options.labelSmoothing ?? 0, 'binaryCrossentropy');
  return makeLoss(name, 'BinaryCrossentropy', { fromLogits, labelSmoothing }, (yTrue, yPred) => {
    let z = align(yTrue, yPred, name);
    if (labelSmoothing > 0) z = add(mul(z, 1 - labelSmoothing), 0.5 * labelSmoothing);
    if (fromLogits) return perSample(sub(softplus(yPred), mul(yPred, z)));
    const p = clip(yPred, EPSILON, 1 - EPSILON);
    return perSample(neg(add(mul(z, log(p)), mul(sub(1, z), log(sub(1, p))))));
  });
}

function checkClasses(yPred: Tensor, name: string): number {
  if (yPred.rank < 1 || (yPred.shape[yPred.rank - 1] as number) < 1) {
    throw new ShapeError(`loss '${name}' expected yPred of shape [..., classes], got ${fmtShape(yPred.shape)}`);
  }
  return yPred.shape[yPred.rank - 1] as number;
}

/** -sum(target * log(clip(p / sum(p), eps, 1 - eps))) over the last axis (Keras, probabilities). */
function probabilityCrossentropy(target: Tensor, probs: Tensor): Tensor {
  const p = clip(div(probs, sum(probs, { axis: -1, keepDims: true })), EPSILON, 1 - EPSILON);
  return neg(sum(mul(target, log(p)), { axis: -1 }));
}

/**
 * Categorical cross-entropy between one-hot (or probability) labels and predictions over the
 * last axis; per sample [batch]. fromLogits uses the fused stable softmaxCrossEntropy op.
 * @example losses.categoricalCrossentropy()(tensor([[0, 1]]), tensor([[0.2, 0.8]])) // [0.223]
 */
export function categoricalCrossentropy(options: CrossentropyOptions = {}): LossFunction {
  const name = 'categorical_crossentropy';
  const fromLogits = options.fromLogits ?? false;
  const labelSmoothing = checkSmoothing(options.labelSmoothing ?? 0, 'categoricalCrossentropy');
  return makeLoss(name, 'CategoricalCrossentropy', { fromLogits, labelSmoothing }, (yTrue, yPred) => {
    const classes = checkClasses(yPred, name);
    let t = align(yTrue, yPred, name);
    if (labelSmoothing > 0) t = add(mul(t, 1 - labelSmoothing), labelSmoothing / classes);
    if (fromLogits) return softmaxCrossEntropy(t, yPred, { reduction: 'none' });
    return probabilityCrossentropy(t, yPred);
  });
}

/** Integer class labels: int32 as is, float labels truncated; [batch, 1] becomes [batch]. */
function sparseLabels(yTrue: Tensor, yPred: Tensor, name: string): Tensor {
  const lead = yPred.shape.slice(0, -1);
  let labels = yTrue.dtype === 'int32' ? yTrue : cast(yTrue, 'int32');
  if (!sameShape(labels.shape, lead)) {
    if (labels.size !== (lead.length === 0 ? 1 : lead.reduce((a, b) => a * b, 1)) || labels.shape.at(-1) !== 1) {
      throw new ShapeError(
        `loss '${name}' expected integer labels of shape ${fmtShape(lead)} (or with a trailing 1) for yPred ${fmtShape(yPred.shape)}, got ${fmtShape(yTrue.shape)}`,
      );
    }
    labels = labels.view(lead);
  }
  const classes = yPred.shape[yPred.rank - 1] as number;
  const d = labels.data;
  for (let i = 0; i < d.length; i++) {
    const l = d[i] as number;
    if (l < 0 || l >= classes) {
      throw new ValueError(`loss '${name}' got label ${l} at index ${i}, expected class indices in [0, ${classes})`);
    }
  }
  return labels;
}

/**
 * Cross-entropy between integer labels ([batch] or [batch, 1], int32 or float) and class
 * probabilities or logits [batch, classes]; per sample [batch]. fromLogits uses the fused
 * sparseSoftmaxCrossEntropy kernel; probabilities are normalised and clipped to [1e-7, 1 - 1e-7].
 * @example losses.sparseCategoricalCrossentropy({ fromLogits: true })(tensor([1], [1], 'int32'), logits)
 */
export function sparseCategoricalCrossentropy(options: { fromLogits?: boolean } = {}): LossFunction {
  const name = 'sparse_categorical_crossentropy';
  const fromLogits = options.fromLogits ?? false;
  return makeLoss(name, 'SparseCategoricalCrossentropy', { fromLogits }, (yTrue, yPred) => {
    const classes = checkClasses(yPred, name);
    const labels = sparseLabels(yTrue, yPred, name);
    if (fromLogits) return sparseSoftmaxCrossEntropy(labels, yPred, { reduction: 'none' });
    return probabilityCrossentropy(oneHot(labels, classes), yPred);
  });
}

export { kullbackLeiblerDivergence as kld };

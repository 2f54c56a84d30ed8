/**
 * Cross-entropy losses computed from logits, stably (max-shifted log-sum-exp):
 * sparseSoftmaxCrossEntropy (integer class labels, fused kernel) and softmaxCrossEntropy
 * (one-hot / probability labels) treat the last axis of logits as the classes and
 * every leading position as one example; sigmoidCrossEntropy is elementwise (binary / multi-label).
 */

import { record } from '../autograd/tape.js';
import { backend } from '../backend/index.js';
import { isGradEnabled } from '../tensor/engine.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { mul, neg, sub } from './arithmetic.js';
import { unaryKernel } from './math.js';
import { binaryKernel, reduceKeepDims, toFloat } from './util.js';

export type LossReduction = 'none' | 'mean' | 'sum';

export interface CrossEntropyOptions {
  /**
   * 'mean' (default): a scalar, the mean over examples; 'sum': a scalar sum;
   * 'none': one loss per example, shaped like logits without its last axis.
   */
  reduction?: LossReduction;
}

function checkReduction(reduction: unknown, op: string): asserts reduction is LossReduction {
  if (reduction !== 'none' && reduction !== 'mean' && reduction !== 'sum') {
    throw new ValueError(`${op} expected reduction 'none', 'mean' or 'sum', got ${JSON.stringify(reduction)}`);
  }
}

function checkLogits(logits: Tensor, op: string): { rows: number; cols: number } {
  if (logits.rank < 1) {
    throw new ShapeError(`${op} expected logits of rank >= 1 [..., classes], got ${fmtShape(logits.shape)}`);
  }
  if (logits.dtype === 'bool')
    throw new DTypeError(`${op} expected float32 logits, got bool ${fmtShape(logits.shape)}`);
  const cols = logits.shape[logits.rank - 1] as number;
  if (cols === 0) throw new ShapeError(`${op} expected at least one class, got logits ${fmtShape(logits.shape)}`);
  return { rows: logits.size / cols, cols };
}

/** Sum / mean of per-example losses as a scalar tensor (no gradient: callers record their own). */
function reduceLoss(perExample: Tensor, rows: number, reduction: LossReduction, sign: number): Tensor {
  const total = Tensor.empty([], 'float32');
  if (rows === 0) {
    total.data[0] = reduction === 'mean' ? Number.NaN : 0;
    return total;
  }
  const s = reduceKeepDims('sum', perExample.view([rows]), [0]);
  total.data[0] = (sign * (s.data[0] as number)) / (reduction === 'mean' ? rows : 1);
  return total;
}

/** How much each example's gradient is scaled by: a number (mean / sum) or a [rows, 1] tensor (none). */
function rowScale(g: Tensor, rows: number, reduction: LossReduction): number | Tensor {
  if (reduction === 'none') return toFloat(g).view([rows, 1]);
  return (g.item() as number) / (reduction === 'mean' ? rows : 1);
}

/**
 * Cross-entropy between integer class labels and logits: -log softmax(logits)[label].
 * labels int32, shaped like logits without the last axis (a trailing 1 is also accepted);
 * logits [..., classes]. Returns the mean over examples (see `reduction`).
 * @example sparseSoftmaxCrossEntropy(tensor([2, 0], [2], 'int32'), logits) // scalar
 */
export function sparseSoftmaxCrossEntropy(labels: Tensor, logits: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'sparseSoftmaxCrossEntropy';
  const reduction = options.reduction ?? 'mean';
  checkReduction(reduction, op);
  if (labels.dtype !== 'int32') {
    throw new DTypeError(
      `${op} expected int32 labels, got ${labels.dtype} ${fmtShape(labels.shape)} (cast class indices to int32)`,
    );
  }
  const { rows, cols } = checkLogits(logits, op);
  const lead = logits.shape.slice(0, -1);
  if (!sameShape(labels.shape, lead) && !sameShape(labels.shape, [...lead, 1])) {
    throw new ShapeError(
      `${op} expected labels of shape ${fmtShape(lead)} (logits without the class axis) for logits ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}`,
    );
  }
  const ld = labels.data as Int32Array;
  for (let i = 0; i < ld.length; i++) {
    const l = ld[i] as number;
    if (l < 0 || l >= cols) {
      throw new ValueError(
        `${op} got label ${l} at index ${i}, expected class indices in [0, ${cols}) for ${cols} classes`,
      );
    }
  }
  const input = toFloat(logits);
  const perExample = Tensor.empty(lead, 'float32');
  const needGrad = isGradEnabled() && logits.requiresGrad;
  const dlogits = needGrad ? Tensor.empty([rows, cols], 'float32') : null;
  backend().sparseSoftmaxCrossEntropy(
    input.data as Float32Array,
    ld,
    perExample.data as Float32Array,
    dlogits ? (dlogits.data as Float32Array) : null,
    rows,
    cols,
  );
  const out = reduction === 'none' ? perExample : reduceLoss(perExample, rows, reduction, 1);
  return record(out, op, [labels, logits], (g) => {
    if (!dlogits) return [null, null];
    // d loss_r / d logits_r = softmax_r - onehot_r, scaled by the upstream gradient of loss_r.
    return [null, mul(dlogits, rowScale(g, rows, reduction)).view(logits.shape)];
  });
}

/**
 * Cross-entropy between probability (e.g. one-hot) labels and logits over the last axis:
 * -sum(labels * logSoftmax(logits)). labels float32, the same shape as logits.
 * Returns the mean over examples (see `reduction`).
 */
export function softmaxCrossEntropy(labels: Tensor, logits: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'softmaxCrossEntropy';
  const reduction = options.reduction ?? 'mean';
  checkReduction(reduction, op);
  const { rows, cols } = checkLogits(logits, op);
  if (labels.dtype === 'bool')
    throw new DTypeError(`${op} expected float32 labels, got bool ${fmtShape(labels.shape)}`);
  if (!sameShape(labels.shape, logits.shape)) {
    throw new ShapeError(
      `${op} expected labels of the same shape as logits ${fmtShape(logits.shape)} (one-hot or probabilities), got ${fmtShape(labels.shape)}`,
    );
  }
  const input = toFloat(logits);
  const y = toFloat(labels).view([rows, cols]);
  const ls = Tensor.empty([rows, cols], 'float32');
  backend().logSoftmax(input.data as Float32Array, ls.data as Float32Array, rows, cols);
  // sum_c labels * logSoftmax, per example (negated below)
  const rowDot =
    rows === 0
      ? Tensor.empty([0, 1], 'float32')
      : reduceKeepDims('sum', binaryKernel('mul', y, ls, 'float32', op), [1]);
  const lead = logits.shape.slice(0, -1);
  let out: Tensor;
  if (reduction === 'none') {
    out = Tensor.empty(lead, 'float32');
    backend().unary('neg', rowDot.data, out.data, 0);
  } else {
    out = reduceLoss(rowDot, rows, reduction, -1);
  }
  return record(out, op, [labels, logits], (g) => {
    const scale = rowScale(g, rows, reduction);
    let dLabels: Tensor | null = null;
    let dLogits: Tensor | null = null;
    if (logits.requiresGrad) {
      // d/dz_j = softmax_j * sum_c labels_c - labels_j
      const sm = Tensor.empty([rows, cols], 'float32');
      backend().unary('exp', ls.data, sm.data, 0);
      const ySum = reduceKeepDims('sum', y, [1]);
      dLogits = mul(sub(mul(sm, ySum), y), scale).view(logits.shape);
    }
    if (labels.requiresGrad) dLabels = mul(neg(ls), scale).view(labels.shape);
    return [dLabels, dLogits];
  });
}

/**
 * Elementwise binary cross-entropy between labels in [0, 1] and logits, computed stably as
 * softplus(logits) - logits * labels (TensorFlow's sigmoid_cross_entropy_with_logits).
 * labels and logits have the same shape; 'mean' (default) averages over every element,
 * 'none' returns the elementwise losses.
 */
export function sigmoidCrossEntropy(labels: Tensor, logits: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'sigmoidCrossEntropy';
  const reduction = options.reduction ?? 'mean';
  checkReduction(reduction, op);
  if (logits.dtype === 'bool')
    throw new DTypeError(`${op} expected float32 logits, got bool ${fmtShape(logits.shape)}`);
  if (labels.dtype === 'bool')
    throw new DTypeError(`${op} expected float32 labels, got bool ${fmtShape(labels.shape)}`);
  if (!sameShape(labels.shape, logits.shape)) {
    throw new ShapeError(
      `${op} expected labels of the same shape as logits ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}`,
    );
  }
  const z = toFloat(logits);
  const y = toFloat(labels);
  const perElement = binaryKernel(
    'sub',
    unaryKernel('softplus', z),
    binaryKernel('mul', z, y, 'float32', op),
    'float32',
    op,
  );
  const n = perElement.size;
  const out = reduction === 'none' ? perElement : reduceLoss(perElement, n, reduction, 1);
  return record(out, op, [labels, logits], (g) => {
    const scale = reduction === 'none' ? toFloat(g).view(logits.shape) : g.item() / (reduction === 'mean' ? n : 1);
    // d/dz = sigmoid(z) - y; d/dy = -z
    const dLogits = logits.requiresGrad ? mul(sub(unaryKernel('sigmoid', z), y), scale) : null;
    const dLabels = labels.requiresGrad ? mul(neg(z), scale) : null;
    return [dLabels, dLogits];
  });
}

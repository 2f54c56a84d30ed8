/**
 * Keras metrics: stateful, streaming over batches (updateState per batch, result() at any
 * time, resetState() per epoch). Computed with plain TypedArray loops without gradients,
 * so they cost almost nothing next to a training step.
 */

import { noGrad } from '../../tensor/engine.js';
import { fmtShape, ShapeError, ValueError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LossFunction } from '../losses/losses.js';

/** A streaming metric. */
export interface Metric {
  /** The name shown in logs and history ('accuracy', 'val_auc' is built from it). */
  readonly name: string;
  /** Accumulate one batch. sampleWeight: one weight per sample ([batch] or [batch, 1]), or a scalar. */
  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor | null): void;
  /** The value over everything accumulated since the last reset (0 when nothing was). */
  result(): number;
  resetState(): void;
  getConfig?(): Record<string, unknown>;
}

type Values = ArrayLike<number>;

/** weight(i) for the i-th of `count` values: sample weights broadcast over trailing positions. */
function weightFn(sw: Tensor | null | undefined, count: number, where: string): (i: number) => number {
  if (!sw) return () => 1;
  const w = sw.data;
  if (sw.size === 1) {
    const c = w[0] as number;
    return () => c;
  }
  if (sw.size === 0 || count % sw.size !== 0) {
    throw new ShapeError(
      `metric '${where}' expected sampleWeight with one weight per sample (${count} values), got shape ${fmtShape(sw.shape)}`,
    );
  }
  const per = count / sw.size;
  return per === 1 ? (i) => w[i] as number : (i) => w[Math.floor(i / per)] as number;
}

/** Rows of the last axis: yTrue and yPred aligned ([batch] vs [batch, 1] either way). */
function checkSame(yTrue: Tensor, yPred: Tensor, where: string): void {
  if (yTrue.size !== yPred.size) {
    throw new ShapeError(
      `metric '${where}' expected yTrue with the shape of yPred ${fmtShape(yPred.shape)}, got ${fmtShape(yTrue.shape)}`,
    );
  }
}

function lastDim(t: Tensor): number {
  return t.rank === 0 ? 1 : (t.shape[t.rank - 1] as number);
}

/** A running weighted mean (Keras Mean): what Model uses to average the loss over batches. */
export class Mean implements Metric {
  readonly name: string;
  private total = 0;
  private count = 0;

  constructor(options: { name?: string } = {}) {
    this.name = options.name ?? 'mean';
  }

  /**
   * Add values (a number or any tensor, every element counted) with optional weights
   * (a number, or a tensor broadcast over the values' trailing dims).
   */
  updateState(values: Tensor | number, sampleWeight?: Tensor | number | null): void {
    if (typeof values === 'number') {
      const w = typeof sampleWeight === 'number' ? sampleWeight : sampleWeight ? (sampleWeight.data[0] as number) : 1;
      this.total += values * w;
      this.count += w;
      return;
    }
    const v = values.data;
    const wf =
      typeof sampleWeight === 'number' ? () => sampleWeight : weightFn(sampleWeight ?? null, values.size, this.name);
    for (let i = 0; i < v.length; i++) {
      const w = wf(i);
      this.total += (v[i] as number) * w;
      this.count += w;
    }
  }

  result(): number {
    return this.count === 0 ? 0 : this.total / this.count;
  }

  resetState(): void {
    this.total = 0;
    this.count = 0;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name };
  }
}

/** Per-value function -> weighted running mean (Keras MeanMetricWrapper). */
class MeanWrapper implements Metric {
  readonly name: string;
  private total = 0;
  private count = 0;

  constructor(
    name: string,
    private readonly values: (yTrue: Tensor, yPred: Tensor) => Values,
    private readonly config: Record<string, unknown> = {},
    private readonly post: (mean: number) => number = (m) => m,
  ) {
    this.name = name;
  }

  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor | null): void {
    const vals = noGrad(() => this.values(yTrue, yPred));
    const wf = weightFn(sampleWeight, vals.length, this.name);
    for (let i = 0; i < vals.length; i++) {
      const w = wf(i);
      this.total += (vals[i] as number) * w;
      this.count += w;
    }
  }

  result(): number {
    return this.count === 0 ? 0 : this.post(this.total / this.count);
  }

  resetState(): void {
    this.total = 0;
    this.count = 0;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, ...this.config };
  }
}

/** Mean over the last axis of an elementwise function of (yTrue, yPred): one value per sample. */
function elementwiseMean(
  yTrue: Tensor,
  yPred: Tensor,
  where: string,
  f: (t: number, p: number) => number,
): Float64Array {
  checkSame(yTrue, yPred, where);
  const t = yTrue.data;
  const p = yPred.data;
  const d = yPred.rank <= 1 ? 1 : lastDim(yPred);
  const rows = d === 0 ? 0 : yPred.size / d;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = r * d; j < (r + 1) * d; j++) s += f(t[j] as number, p[j] as number);
    out[r] = s / d;
  }
  return out;
}

function argMaxRow(x: Values, start: number, d: number): number {
  let best = start;
  for (let j = start + 1; j < start + d; j++) if ((x[j] as number) > (x[best] as number)) best = j;
  return best - start;
}

/** Integer labels, one per row of yPred. */
function sparseLabels(yTrue: Tensor, yPred: Tensor, where: string): Values {
  const rows = yPred.size / lastDim(yPred);
  if (yTrue.size !== rows) {
    throw new ShapeError(
      `metric '${where}' expected one integer label per row of yPred ${fmtShape(yPred.shape)} (${rows}), got yTrue ${fmtShape(yTrue.shape)}`,
    );
  }
  return yTrue.data;
}

/** Whether class `label` is among the k highest scores of the row (ties count as in, like in_top_k). */
function inTopK(p: Values, start: number, d: number, label: number, k: number): boolean {
  if (label < 0 || label >= d) return false;
  const target = p[start + label] as number;
  let greater = 0;
  for (let j = start; j < start + d; j++) if ((p[j] as number) > target) greater++;
  return greater < k;
}

export interface NameOption {
  name?: string;
}

/**
 * Fraction of values where (yPred > threshold) equals yTrue (0/1 labels).
 * @example const m = metrics.binaryAccuracy(); m.updateState(tensor([1, 0]), tensor([0.8, 0.6])); m.result() // 0.5
 */
export function binaryAccuracy(options: NameOption & { threshold?: number } = {}): Metric {
  const threshold = options.threshold ?? 0.5;
  const name = options.name ?? 'binary_accuracy';
  return new MeanWrapper(
    name,
    (yTrue, yPred) => elementwiseMean(yTrue, yPred, name, (t, p) => ((p > threshold ? 1 : 0) === t ? 1 : 0)),
    { threshold },
  );
}

/**
 * Fraction of rows where argmax(yPred) equals argmax(yTrue) (one-hot labels).
 * @example metrics.categoricalAccuracy().updateState(tensor([[0, 1]]), tensor([[0.3, 0.7]])) // result 1
 */
export function categoricalAccuracy(options: NameOption = {}): Metric {
  const name = options.name ?? 'categorical_accuracy';
  return new MeanWrapper(name, (yTrue, yPred) => {
    checkSame(yTrue, yPred, name);
    const d = lastDim(yPred);
    const rows = yPred.size / d;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) out[r] = argMaxRow(yTrue.data, r * d, d) === argMaxRow(yPred.data, r * d, d) ? 1 : 0;
    return out;
  });
}

/**
 * Fraction of rows where argmax(yPred) equals the integer label ([batch] or [batch, 1]).
 * @example metrics.sparseCategoricalAccuracy().updateState(tensor([1], [1], 'int32'), tensor([[0.3, 0.7]]))
 */
export function sparseCategoricalAccuracy(options: NameOption = {}): Metric {
  const name = options.name ?? 'sparse_categorical_accuracy';
  return new MeanWrapper(name, (yTrue, yPred) => {
    const d = lastDim(yPred);
    const labels = sparseLabels(yTrue, yPred, name);
    const out = new Float64Array(labels.length);
    for (let r = 0; r < labels.length; r++) out[r] = argMaxRow(yPred.data, r * d, d) === (labels[r] as number) ? 1 : 0;
    return out;
  });
}

function checkK(k: unknown, where: string): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new ValueError(`${where} expected k to be a positive integer, got ${JSON.stringify(k)}`);
  }
  return k;
}

/**
 * Fraction of rows whose true class (argmax of one-hot yTrue) is among the k highest scores. Default k 5.
 * @example metrics.topKCategoricalAccuracy({ k: 2 })
 */
export function topKCategoricalAccuracy(options: NameOption & { k?: number } = {}): Metric {
  const k = checkK(options.k ?? 5, 'topKCategoricalAccuracy');
  const name = options.name ?? 'top_k_categorical_accuracy';
  return new MeanWrapper(
    name,
    (yTrue, yPred) => {
      checkSame(yTrue, yPred, name);
      const d = lastDim(yPred);
      const rows = yPred.size / d;
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) out[r] = inTopK(yPred.data, r * d, d, argMaxRow(yTrue.data, r * d, d), k) ? 1 : 0;
      return out;
    },
    { k },
  );
}

/**
 * Fraction of rows whose integer label is among the k highest scores. Default k 5.
 * @example metrics.sparseTopKCategoricalAccuracy({ k: 3 })
 */
export function sparseTopKCategoricalAccuracy(options: NameOption & { k?: number } = {}): Metric {
  const k = checkK(options.k ?? 5, 'sparseTopKCategoricalAccuracy');
  const name = options.name ?? 'sparse_top_k_categorical_accuracy';
  return new MeanWrapper(
    name,
    (yTrue, yPred) => {
      const d = lastDim(yPred);
      const labels = sparseLabels(yTrue, yPred, name);
      const out = new Float64Array(labels.length);
      for (let r = 0; r < labels.length; r++) out[r] = inTopK(yPred.data, r * d, d, labels[r] as number, k) ? 1 : 0;
      return out;
    },
    { k },
  );
}

/**
 * Mean squared error, averaged over samples.
 * @example metrics.meanSquaredError({ name: 'mse' })
 */
export function meanSquaredError(options: NameOption = {}): Metric {
  const name = options.name ?? 'mean_squared_error';
  return new MeanWrapper(name, (t, p) => elementwiseMean(t, p, name, (a, b) => (a - b) * (a - b)));
}

/**
 * Mean absolute error, averaged over samples.
 * @example metrics.meanAbsoluteError({ name: 'mae' })
 */
export function meanAbsoluteError(options: NameOption = {}): Metric {
  const name = options.name ?? 'mean_absolute_error';
  return new MeanWrapper(name, (t, p) => elementwiseMean(t, p, name, (a, b) => Math.abs(a - b)));
}

/**
 * Mean absolute percentage error (100 * |t - p| / max(|t|, 1e-7)), averaged over samples.
 * @example metrics.meanAbsolutePercentageError()
 */
export function meanAbsolutePercentageError(options: NameOption = {}): Metric {
  const name = options.name ?? 'mean_absolute_percentage_error';
  return new MeanWrapper(name, (t, p) =>
    elementwiseMean(t, p, name, (a, b) => (100 * Math.abs(a - b)) / Math.max(Math.abs(a), 1e-7)),
  );
}

/**
 * sqrt of the weighted mean squared error over everything seen.
 * @example metrics.rootMeanSquaredError()
 */
export function rootMeanSquaredError(options: NameOption = {}): Metric {
  const name = options.name ?? 'root_mean_squared_error';
  return new MeanWrapper(name, (t, p) => elementwiseMean(t, p, name, (a, b) => (a - b) * (a - b)), {}, Math.sqrt);
}

/**
 * A metric averaging a loss function's per-sample values (e.g. crossentropy as a metric).
 * @example metrics.fromLoss(losses.binaryCrossentropy(), 'binary_crossentropy')
 */
export function fromLoss(loss: LossFunction | ((yTrue: Tensor, yPred: Tensor) => Tensor), name?: string): Metric {
  const n = name ?? loss.name;
  return new MeanWrapper(n, (t, p) => loss(t, p).data);
}

/** One threshold (Keras allows a list; this port takes one and reports a number). */
function checkThreshold(value: unknown, where: string): number {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new ValueError(`${where} expected thresholds to be one number in [0, 1], got ${JSON.stringify(value)}`);
  }
  return v;
}

interface ConfusionOptions extends NameOption {
  /** Prediction > threshold counts as positive. Default 0.5. */
  thresholds?: number | readonly number[];
  /** Only look at this class column of [batch, classes] inputs. */
  classId?: number;
}

/** Streaming tp / fp / fn / tn at one threshold, weighted per sample. */
class Confusion implements Metric {
  readonly name: string;
  protected tp = 0;
  protected fp = 0;
  protected fn = 0;
  protected tn = 0;
  readonly threshold: number;
  readonly classId?: number;

  constructor(
    options: ConfusionOptions,
    defaultName: string,
    private readonly compute: (c: { tp: number; fp: number; fn: number; tn: number }) => number,
  ) {
    this.name = options.name ?? defaultName;
    this.threshold = checkThreshold(options.thresholds ?? 0.5, defaultName);
    if (options.classId !== undefined) {
      if (!Number.isInteger(options.classId) || options.classId < 0) {
        throw new ValueError(`${defaultName} expected classId to be a non-negative integer, got ${options.classId}`);
      }
      this.classId = options.classId;
    }
  }

  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor | null): void {
    checkSame(yTrue, yPred, this.name);
    const t = yTrue.data;
    const p = yPred.data;
    const d = lastDim(yPred);
    const cid = this.classId;
    if (cid !== undefined && cid >= d) {
      throw new ValueError(
        `metric '${this.name}' has classId ${cid}, but yPred ${fmtShape(yPred.shape)} has ${d} classes`,
      );
    }
    const rows = d === 0 ? 0 : yPred.size / d;
    const count = cid === undefined ? yPred.size : rows;
    const wf = weightFn(sampleWeight, count, this.name);
    for (let i = 0; i < count; i++) {
      const j = cid === undefined ? i : i * d + cid;
      const w = wf(i);
      const pos = (p[j] as number) > this.threshold;
      const truth = (t[j] as number) > 0.5;
      if (pos && truth) this.tp += w;
      else if (pos) this.fp += w;
      else if (truth) this.fn += w;
      else this.tn += w;
    }
  }

  result(): number {
    return this.compute({ tp: this.tp, fp: this.fp, fn: this.fn, tn: this.tn });
  }

  resetState(): void {
    this.tp = this.fp = this.fn = this.tn = 0;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, thresholds: this.threshold, classId: this.classId ?? null };
  }
}

const safeDiv = (a: number, b: number) => (b === 0 ? 0 : a / b);

/**
 * Precision tp / (tp + fp), a prediction > threshold (default 0.5) counting as positive.
 * @example const m = metrics.precision(); m.updateState(tensor([1, 0, 1]), tensor([0.9, 0.8, 0.1])); m.result() // 0.5
 */
export function precision(options: ConfusionOptions = {}): Metric {
  return new Confusion(options, 'precision', (c) => safeDiv(c.tp, c.tp + c.fp));
}

/**
 * Recall tp / (tp + fn), a prediction > threshold (default 0.5) counting as positive.
 * @example metrics.recall({ thresholds: 0.3 })
 */
export function recall(options: ConfusionOptions = {}): Metric {
  return new Confusion(options, 'recall', (c) => safeDiv(c.tp, c.tp + c.fn));
}

/**
 * Binary F1 = 2 tp / (2 tp + fp + fn) at one threshold (default 0.5), over all values or one classId
 * (micro-averaged; Keras F1Score's per-class / macro averaging is not provided).
 * @example metrics.f1Score()
 */
export function f1Score(options: ConfusionOptions = {}): Metric {
  return new Confusion(options, 'f1_score', (c) => safeDiv(2 * c.tp, 2 * c.tp + c.fp + c.fn));
}

export interface AUCOptions extends NameOption {
  /** Default 200. */
  numThresholds?: number;
  /** Default 'ROC'. */
  curve?: 'ROC' | 'PR';
}

/**
 * Area under the ROC or precision-recall curve, from confusion counts at numThresholds thresholds
 * spread over [0, 1] (Keras: -eps, 1/(n-1), ..., (n-2)/(n-1), 1+eps). ROC: trapezoidal Riemann sum
 * of TPR over FPR (Keras summation 'interpolation'); PR: Keras's interpolation of Davis & Goadrich (2006).
 * Labels > 0.5 are positives; predictions are probabilities.
 */
export class AUC implements Metric {
  readonly name: string;
  readonly numThresholds: number;
  readonly curve: 'ROC' | 'PR';
  private readonly thresholds: Float64Array;
  private readonly tp: Float64Array;
  private readonly fp: Float64Array;
  private readonly fn: Float64Array;
  private readonly tn: Float64Array;

  constructor(options: AUCOptions = {}) {
    this.name = options.name ?? 'auc';
    const n = options.numThresholds ?? 200;
    if (!Number.isInteger(n) || n < 2)
      throw new ValueError(`auc expected numThresholds to be an integer > 1, got ${n}`);
    const curve = options.curve ?? 'ROC';
    if (curve !== 'ROC' && curve !== 'PR')
      throw new ValueError(`auc expected curve 'ROC' or 'PR', got ${JSON.stringify(curve)}`);
    this.numThresholds = n;
    this.curve = curve;
    const eps = 1e-7;
    this.thresholds = new Float64Array(n);
    this.thresholds[0] = -eps;
    for (let i = 1; i < n - 1; i++) this.thresholds[i] = i / (n - 1);
    this.thresholds[n - 1] = 1 + eps;
    this.tp = new Float64Array(n);
    this.fp = new Float64Array(n);
    this.fn = new Float64Array(n);
    this.tn = new Float64Array(n);
  }

  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor | null): void {
    checkSame(yTrue, yPred, this.name);
    const t = yTrue.data;
    const p = yPred.data;
    const wf = weightFn(sampleWeight, yPred.size, this.name);
    const n = this.numThresholds;
    const th = this.thresholds;
    for (let i = 0; i < p.length; i++) {
      const w = wf(i);
      const v = p[i] as number;
      const pos = (t[i] as number) > 0.5;
      // thresholds are increasing: v > th[k] for k < m, where m is found by binary search
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v > (th[mid] as number)) lo = mid + 1;
        else hi = mid;
      }
      const [above, below] = pos ? [this.tp, this.fn] : [this.fp, this.tn];
      for (let k = 0; k < lo; k++) above[k]! += w;
      for (let k = lo; k < n; k++) below[k]! += w;
    }
  }

  result(): number {
    const n = this.numThresholds;
    const { tp, fp, fn, tn } = this;
    if (this.curve === 'PR') {
      let auc = 0;
      for (let i = 0; i < n - 1; i++) {
        const dtp = tp[i]! - tp[i + 1]!;
        const p0 = tp[i]! + fp[i]!;
        const p1 = tp[i + 1]! + fp[i + 1]!;
        const dp = p0 - p1;
        const slope = safeDiv(dtp, Math.max(dp, 0));
        const intercept = tp[i + 1]! - slope * p1;
        const ratio = p0 > 0 && p1 > 0 ? safeDiv(p0, Math.max(p1, 0)) : 1;
        auc += safeDiv(slope * (dtp + intercept * Math.log(ratio)), Math.max(tp[i + 1]! + fn[i + 1]!, 0));
      }
      return auc;
    }
    let auc = 0;
    for (let i = 0; i < n - 1; i++) {
      const tpr0 = safeDiv(tp[i]!, tp[i]! + fn[i]!);
      const tpr1 = safeDiv(tp[i + 1]!, tp[i + 1]! + fn[i + 1]!);
      const fpr0 = safeDiv(fp[i]!, fp[i]! + tn[i]!);
      const fpr1 = safeDiv(fp[i + 1]!, fp[i + 1]! + tn[i + 1]!);
      auc += ((fpr0 - fpr1) * (tpr0 + tpr1)) / 2;
    }
    return auc;
  }

  resetState(): void {
    for (const a of [this.tp, this.fp, this.fn, this.tn]) a.fill(0);
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, numThresholds: this.numThresholds, curve: this.curve };
  }
}

/**
 * AUC of ROC (default) or PR.
 * @example model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: [metrics.auc()] })
 */
export function auc(options: AUCOptions = {}): AUC {
  return new AUC(options);
}

/**
 * A running (weighted) mean of values, e.g. the loss over an epoch.
 * @example const m = metrics.mean({ name: 'loss' }); m.updateState(0.5); m.updateState(1.5); m.result() // 1
 */
export function mean(options: NameOption = {}): Mean {
  return new Mean(options);
}

export function isMetric(value: unknown): value is Metric {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Metric).updateState === 'function' &&
    typeof (value as Metric).result === 'function' &&
    typeof (value as Metric).resetState === 'function'
  );
}

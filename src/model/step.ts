/**
 * Internal: the training / evaluation step, the hot path of fit. Callers run each step inside
 * `scope()` so every temporary's buffer is recycled: forward (training=true), per-sample
 * losses x sample weights, mean, + regularization, gradients of the trainable variables,
 * optimizer.applyGradients, constraints, then metrics without gradients. Only plain numbers
 * leave the step.
 */
import { gradients } from '../autograd/tape.js';
import type { CallContext, Layer } from '../layers/layer.js';
import { softmax } from '../ops/activations.js';
import { add, mul } from '../ops/arithmetic.js';
import { softmaxCrossEntropy, sparseSoftmaxCrossEntropy } from '../ops/losses.js';
import { mean } from '../ops/reduce.js';
import { noGrad } from '../tensor/engine.js';
import { fmtShape, ShapeError } from '../tensor/errors.js';
import { Tensor, type Variable } from '../tensor/tensor.js';
import type { Logs } from './callbacks/callback.js';
import type { Compiled } from './compile.js';
import type { Model } from './model.js';

const TRAIN_CTX: CallContext = { training: true, mask: null };
const TEST_CTX: CallContext = { training: false, mask: null };

export class StepRunner {
  private vars: Variable[] | null = null;
  private pairs: [Variable, Tensor][] = [];
  private readonly fused: boolean[];
  private readonly anyFused: boolean;
  private readonly outLoss: Float64Array;
  private lossSum = 0;
  private count = 0;
  private readonly sampleShape: number[] = [0];
  /** Layers (nested models included) with an activity regularizer: their penalty joins the loss. */
  private readonly activityLayers: { activityLoss: Tensor | null }[];

  constructor(
    private readonly model: Model,
    private readonly compiled: Compiled,
  ) {
    this.fused = compiled.outputs.map((o) => o.fusion !== null);
    this.anyFused = this.fused.some(Boolean);
    this.outLoss = new Float64Array(compiled.outputs.length);
    this.activityLayers = [];
    const visit = (ls: readonly Layer[]) => {
      for (const l of ls) {
        const inner = (l as { layers?: Layer[] }).layers;
        if (Array.isArray(inner) && l !== (model as Layer)) visit(inner);
        else if ((l as { activityRegularizer?: unknown }).activityRegularizer)
          this.activityLayers.push(l as unknown as { activityLoss: Tensor | null });
      }
    };
    visit(model.layers);
  }

  /** Whether output losses are computed from logits by the fused softmax cross-entropy op. */
  get fusion(): readonly boolean[] {
    return this.fused;
  }

  /** Forget the cached trainable-variable list (after `trainable` changes). */
  invalidate(): void {
    this.vars = null;
  }

  private trainableVars(): Variable[] {
    if (!this.vars) {
      this.vars = this.model.trainableWeights;
      this.pairs = [];
    }
    return this.vars;
  }

  resetMetrics(): void {
    for (const o of this.compiled.outputs) for (const m of o.metrics ?? []) m.resetState();
  }

  resetLoss(): void {
    this.lossSum = 0;
    this.count = 0;
    this.outLoss.fill(0);
  }

  /** The running `{ loss, <output>_loss..., metrics... }` since the last resets. */
  logs(prefix = ''): Logs {
    const logs: Logs = {};
    const c = this.count || 1;
    logs[`${prefix}loss`] = this.lossSum / c;
    const outs = this.compiled.outputs;
    if (outs.length > 1) {
      for (let i = 0; i < outs.length; i++)
        logs[`${prefix}${(outs[i] as (typeof outs)[number]).lossKey}`] = (this.outLoss[i] as number) / c;
    }
    for (const o of outs) {
      const ms = o.metrics ?? [];
      for (let k = 0; k < ms.length; k++)
        logs[`${prefix}${o.metricKeys[k]}`] = (ms[k] as { result(): number }).result();
    }
    return logs;
  }

  /** One optimizer step. Must run inside scope(). */
  train(xs: Tensor[], ys: Tensor[], sw: Tensor | null): void {
    const vars = this.trainableVars();
    const outs = this.model.forward(xs, TRAIN_CTX, this.anyFused ? this.fused : null);
    let total = this.loss(ys, outs, sw);
    for (const l of this.activityLayers) {
      const a = l.activityLoss;
      if (a && !a.isDisposed) total = add(total, a);
    }
    const grads = gradients(total, vars);
    const pairs = this.pairs;
    let n = 0;
    for (let i = 0; i < vars.length; i++) {
      const g = grads[i];
      if (!g) continue;
      const slot = pairs[n];
      if (slot) {
        slot[0] = vars[i] as Variable;
        slot[1] = g;
      } else pairs.push([vars[i] as Variable, g]);
      n++;
    }
    pairs.length = n;
    this.compiled.optimizer.applyGradients(pairs);
    this.model.applyConstraints();
    this.track(total, ys, outs, sw);
  }

  /** Loss and metrics of one batch without training. Must run inside scope() and noGrad(). */
  test(xs: Tensor[], ys: Tensor[], sw: Tensor | null): void {
    const outs = this.model.forward(xs, TEST_CTX, this.anyFused ? this.fused : null);
    this.track(this.loss(ys, outs, sw), ys, outs, sw);
  }

  private track(total: Tensor, ys: Tensor[], outs: Tensor[], sw: Tensor | null): void {
    const n = (ys[0] as Tensor).shape[0] as number;
    this.lossSum += total.item() * n;
    this.count += n;
    const o = this.compiled.outputs;
    noGrad(() => {
      for (let i = 0; i < o.length; i++) {
        const ms = (o[i] as (typeof o)[number]).metrics;
        if (!ms || ms.length === 0) continue;
        const pred = this.fused[i] ? softmax(outs[i] as Tensor) : (outs[i] as Tensor);
        for (const m of ms) m.updateState(ys[i] as Tensor, pred, sw);
      }
    });
  }

  /** The weighted total loss (a scalar) for the outputs (logits where fused), + regularization. */
  private loss(ys: Tensor[], outs: Tensor[], sw: Tensor | null): Tensor {
    const o = this.compiled.outputs;
    let total: Tensor | null = null;
    for (let i = 0; i < o.length; i++) {
      const spec = o[i] as (typeof o)[number];
      const y = ys[i] as Tensor;
      const pred = outs[i] as Tensor;
      let perSample: Tensor;
      if (spec.fusion === 'sparse')
        perSample = sparseSoftmaxCrossEntropy(intLabels(y, pred, spec.name), pred, { reduction: 'none' });
      else if (spec.fusion === 'categorical') perSample = softmaxCrossEntropy(y, pred, { reduction: 'none' });
      else perSample = spec.loss(y, pred);
      let l = mean(sw ? mul(perSample, this.weightsFor(perSample, sw)) : perSample);
      if (o.length > 1) this.outLoss[i] = (this.outLoss[i] as number) + l.item() * (y.shape[0] as number);
      if (spec.lossWeight !== 1) l = mul(l, spec.lossWeight);
      total = total ? add(total, l) : l;
    }
    const reg = this.model.regularizationLoss();
    return reg ? add(total as Tensor, reg) : (total as Tensor);
  }

  /** Sample weights [batch] shaped to broadcast against per-sample losses of rank > 1. */
  private weightsFor(perSample: Tensor, sw: Tensor): Tensor {
    if (perSample.rank <= 1) return sw;
    const shape = [sw.size, ...new Array<number>(perSample.rank - 1).fill(1)];
    return sw.view(shape);
  }

  /**
   * The sample weights of a batch: `sampleWeight` rows times `classWeight[class of y]`, or null.
   * Runs inside the step's scope (a pooled buffer).
   */
  sampleWeights(ys: Tensor[], sw: Tensor | null, classWeight: Record<number, number> | null, n: number): Tensor | null {
    if (!classWeight) {
      if (sw && sw.size !== n) {
        throw new ShapeError(`fit: sampleWeight expected one weight per sample [${n}], got ${fmtShape(sw.shape)}`);
      }
      return sw;
    }
    if (ys.length !== 1) throw new ShapeError('fit: classWeight is only supported for models with one output');
    const y = ys[0] as Tensor;
    this.sampleShape[0] = n;
    const out = Tensor.empty(this.sampleShape, 'float32');
    const od = out.data;
    const yd = y.data;
    const last = y.rank >= 2 ? (y.shape[y.rank - 1] as number) : 1;
    const rowSize = y.size / Math.max(1, n);
    for (let i = 0; i < n; i++) {
      let cls: number;
      if (last > 1 && rowSize === last) {
        let best = 0;
        for (let k = 1; k < last; k++) if ((yd[i * last + k] as number) > (yd[i * last + best] as number)) best = k;
        cls = best;
      } else cls = Math.round(yd[i * rowSize] as number);
      const w = classWeight[cls];
      od[i] = (w ?? 1) * (sw ? (sw.data[i] as number) : 1);
    }
    return out;
  }
}

/** Class-index labels as int32 shaped like the logits without the class axis. */
function intLabels(y: Tensor, logits: Tensor, output: string): Tensor {
  const rows = logits.size / (logits.shape[logits.rank - 1] as number);
  if (y.size !== rows) {
    throw new ShapeError(
      `loss for output '${output}': sparse categorical labels need one class index per sample (${rows}), got y of shape ${fmtShape(y.shape)} for predictions ${fmtShape(logits.shape)}`,
    );
  }
  if (y.dtype === 'int32') return y;
  const out = Tensor.empty(logits.shape.slice(0, -1), 'int32');
  const od = out.data;
  const yd = y.data;
  for (let i = 0; i < od.length; i++) od[i] = Math.round(yd[i] as number);
  return out;
}

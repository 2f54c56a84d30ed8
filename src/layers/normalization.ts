/**
 * BatchNormalization and LayerNormalization with fused forward / backward passes (one layer,
 * one autograd node: no chain of broadcast ops in the training hot path).
 *
 * BatchNormalization (Keras defaults axis -1, momentum 0.99, epsilon 1e-3): in training it
 * normalises with the batch mean and (biased) variance and updates moving_mean / moving_variance
 * in place (moving = moving * momentum + batch * (1 - momentum)); in inference it uses the moving
 * statistics. Weight order gamma, beta, moving_mean, moving_variance as in Keras.
 *
 * LayerNormalization (axis -1, epsilon 1e-3): normalises each sample over the given axes.
 */
import { record } from '../autograd/tape.js';
import { add, mul, sub } from '../ops/arithmetic.js';
import { rsqrt } from '../ops/math.js';
import { mean, variance } from '../ops/reduce.js';
import { reshape } from '../ops/shape-ops.js';
import { toFloat } from '../ops/util.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Tensor, type Variable } from '../tensor/tensor.js';
import type { ConstraintIdentifier } from './constraints.js';
import type { InitializerIdentifier } from './initializers.js';
import {
  type CallContext,
  type Constraint,
  type Initializer,
  Layer,
  type LayerArgs,
  type Regularizer,
  registerLayer,
  type ShapeLike,
} from './layer.js';
import type { RegularizerIdentifier } from './regularizers.js';
import { conOf, fmtShapeLike, initOf, regOf, ser, single, singleShape } from './utils.js';

function normAxisOf(axis: number, rank: number, layer: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new ValueError(
      `${layer} got axis ${axis} for an input of rank ${rank}; expected an integer in [-${rank}, ${rank - 1}]`,
    );
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// BatchNormalization

export interface BatchNormalizationArgs extends LayerArgs {
  /** The channel axis (default -1). A one-element array is accepted. */
  axis?: number | readonly number[];
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier;
  movingVarianceInitializer?: InitializerIdentifier;
  betaRegularizer?: RegularizerIdentifier | null;
  gammaRegularizer?: RegularizerIdentifier | null;
  betaConstraint?: ConstraintIdentifier | null;
  gammaConstraint?: ConstraintIdentifier | null;
}

/**
 * Batch normalisation over all axes but `axis`.
 * @example new BatchNormalization({ momentum: 0.9 })
 */
export class BatchNormalization extends Layer {
  readonly className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;
  readonly betaRegularizer: Regularizer | null;
  readonly gammaRegularizer: Regularizer | null;
  readonly betaConstraint: Constraint | null;
  readonly gammaConstraint: Constraint | null;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean: Variable | null = null;
  movingVariance: Variable | null = null;
  private builtAxis = -1;
  private builtRank = -1;
  private channels = -1;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    const axis = args.axis ?? -1;
    const a = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : Number.NaN) : axis;
    if (typeof a !== 'number' || !Number.isInteger(a)) {
      throw new ValueError(`${this.name} supports a single integer axis, got ${JSON.stringify(args.axis)}`);
    }
    this.axis = a;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1))
      throw new ValueError(`${this.name} expected momentum in [0, 1], got ${args.momentum}`);
    if (!(this.epsilon > 0)) throw new ValueError(`${this.name} expected epsilon > 0, got ${args.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = initOf(args.betaInitializer, 'zeros');
    this.gammaInitializer = initOf(args.gammaInitializer, 'ones');
    this.movingMeanInitializer = initOf(args.movingMeanInitializer, 'zeros');
    this.movingVarianceInitializer = initOf(args.movingVarianceInitializer, 'ones');
    this.betaRegularizer = regOf(args.betaRegularizer);
    this.gammaRegularizer = regOf(args.gammaRegularizer);
    this.betaConstraint = conOf(args.betaConstraint);
    this.gammaConstraint = conOf(args.gammaConstraint);
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const s = singleShape(inputShape, this.name);
    const a = normAxisOf(this.axis, s.length, this.name);
    const c = s[a];
    if (c === null || c === undefined) {
      throw new ShapeError(`${this.name} expected a known size on axis ${this.axis}, got input ${fmtShapeLike(s)}`);
    }
    this.builtAxis = a;
    this.builtRank = s.length;
    this.channels = c;
    if (this.scale) {
      this.gamma = this.addWeight('gamma', [c], {
        initializer: this.gammaInitializer,
        regularizer: this.gammaRegularizer,
        constraint: this.gammaConstraint,
      });
    }
    if (this.center) {
      this.beta = this.addWeight('beta', [c], {
        initializer: this.betaInitializer,
        regularizer: this.betaRegularizer,
        constraint: this.betaConstraint,
      });
    }
    this.movingMean = this.addWeight('moving_mean', [c], { initializer: this.movingMeanInitializer, trainable: false });
    this.movingVariance = this.addWeight('moving_variance', [c], {
      initializer: this.movingVarianceInitializer,
      trainable: false,
    });
    super.build(inputShape);
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this.name);
    const a = this.builtAxis;
    if (x.rank !== this.builtRank || x.shape[a] !== this.channels) {
      throw new ShapeError(
        `${this.name} expected input of rank ${this.builtRank} with ${this.channels} channels on axis ${this.axis}, got ${fmtShape(x.shape)}`,
      );
    }
    let outer = 1;
    let inner = 1;
    for (let i = 0; i < a; i++) outer *= x.shape[i] as number;
    for (let i = a + 1; i < x.rank; i++) inner *= x.shape[i] as number;
    // Keras: a frozen (trainable = false) BatchNormalization runs in inference mode even when training.
    return ctx.training && this.trainable
      ? this.trainingForward(x, outer, inner)
      : this.inferenceForward(x, outer, inner);
  }

  /** Differentiable inputs and their data, in record order [x, gamma?, beta?]. */
  private recordInputs(x: Tensor): Tensor[] {
    const list = [x];
    if (this.gamma) list.push(this.gamma);
    if (this.beta) list.push(this.beta);
    return list;
  }

  private trainingForward(x: Tensor, outer: number, inner: number): Tensor {
    const C = this.channels;
    const input = toFloat(x);
    const xd = input.data as Float32Array;
    const m = outer * inner;
    const meanC = new Float64Array(C);
    const varC = new Float64Array(C);
    // One pass: per-channel sum and sum of squares (double accumulators).
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        const base = o * C;
        for (let c = 0; c < C; c++) {
          const v = xd[base + c] as number;
          meanC[c] = (meanC[c] as number) + v;
          varC[c] = (varC[c] as number) + v * v;
        }
      }
    } else {
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < C; c++) {
          const base = (o * C + c) * inner;
          let s = 0;
          let ss = 0;
          for (let i = 0; i < inner; i++) {
            const v = xd[base + i] as number;
            s += v;
            ss += v * v;
          }
          meanC[c] = (meanC[c] as number) + s;
          varC[c] = (varC[c] as number) + ss;
        }
      }
    }
    for (let c = 0; c < C; c++) {
      const mu = m > 0 ? (meanC[c] as number) / m : 0;
      meanC[c] = mu;
      varC[c] = m > 0 ? Math.max((varC[c] as number) / m - mu * mu, 0) : 0;
    }
    const rstd = new Float32Array(C);
    const scaleC = new Float32Array(C);
    const shiftC = new Float32Array(C);
    const gd = this.gamma?.data as Float32Array | undefined;
    const bd = this.beta?.data as Float32Array | undefined;
    for (let c = 0; c < C; c++) {
      const r = 1 / Math.sqrt((varC[c] as number) + this.epsilon);
      rstd[c] = r;
      const g = gd ? (gd[c] as number) : 1;
      scaleC[c] = g * r;
      shiftC[c] = (bd ? (bd[c] as number) : 0) - (meanC[c] as number) * g * r;
    }
    const out = affine(xd, x.shape, outer, C, inner, scaleC, shiftC);
    this.updateMovingStats(meanC, varC);

    const inputs = this.recordInputs(x);
    const gamma = this.gamma;
    const beta = this.beta;
    return record(out, 'batchNormalization', inputs, (dy) => {
      const g = toFloat(dy).data as Float32Array;
      const sumDy = new Float64Array(C);
      const sumDyXhat = new Float64Array(C);
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < C; c++) {
          const base = (o * C + c) * inner;
          const mu = meanC[c] as number;
          const r = rstd[c] as number;
          let s1 = 0;
          let s2 = 0;
          for (let i = 0; i < inner; i++) {
            const gi = g[base + i] as number;
            s1 += gi;
            s2 += gi * ((xd[base + i] as number) - mu) * r;
          }
          sumDy[c] = (sumDy[c] as number) + s1;
          sumDyXhat[c] = (sumDyXhat[c] as number) + s2;
        }
      }
      const grads: (Tensor | null)[] = [null];
      if (x.requiresGrad) {
        const dx = Tensor.empty(x.shape, 'float32');
        const dxd = dx.data as Float32Array;
        for (let o = 0; o < outer; o++) {
          for (let c = 0; c < C; c++) {
            const base = (o * C + c) * inner;
            const mu = meanC[c] as number;
            const r = rstd[c] as number;
            const k = (gd ? (gd[c] as number) : 1) * r;
            const a1 = (sumDy[c] as number) / m;
            const a2 = (sumDyXhat[c] as number) / m;
            for (let i = 0; i < inner; i++) {
              const xhat = ((xd[base + i] as number) - mu) * r;
              dxd[base + i] = k * ((g[base + i] as number) - a1 - xhat * a2);
            }
          }
        }
        grads[0] = dx;
      }
      if (gamma) grads.push(gamma.requiresGrad ? channelTensor(sumDyXhat) : null);
      if (beta) grads.push(beta.requiresGrad ? channelTensor(sumDy) : null);
      return grads;
    });
  }

  private updateMovingStats(meanC: Float64Array, varC: Float64Array): void {
    const mm = this.movingMean as Variable;
    const mv = this.movingVariance as Variable;
    const k = this.momentum;
    const C = this.channels;
    const newMean = new Float32Array(C);
    const newVar = new Float32Array(C);
    const mmd = mm.data as Float32Array;
    const mvd = mv.data as Float32Array;
    for (let c = 0; c < C; c++) {
      newMean[c] = (mmd[c] as number) * k + (meanC[c] as number) * (1 - k);
      newVar[c] = (mvd[c] as number) * k + (varC[c] as number) * (1 - k);
    }
    mm.assign(new Tensor(newMean, [C], 'float32'));
    mv.assign(new Tensor(newVar, [C], 'float32'));
  }

  private inferenceForward(x: Tensor, outer: number, inner: number): Tensor {
    const C = this.channels;
    const input = toFloat(x);
    const xd = input.data as Float32Array;
    const mmd = (this.movingMean as Variable).data as Float32Array;
    const mvd = (this.movingVariance as Variable).data as Float32Array;
    const gd = this.gamma?.data as Float32Array | undefined;
    const bd = this.beta?.data as Float32Array | undefined;
    const rstd = new Float32Array(C);
    const mu = Float32Array.from(mmd);
    const scaleC = new Float32Array(C);
    const shiftC = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const r = 1 / Math.sqrt((mvd[c] as number) + this.epsilon);
      rstd[c] = r;
      const g = gd ? (gd[c] as number) : 1;
      scaleC[c] = g * r;
      shiftC[c] = (bd ? (bd[c] as number) : 0) - (mmd[c] as number) * g * r;
    }
    const out = affine(xd, x.shape, outer, C, inner, scaleC, shiftC);
    const gamma = this.gamma;
    const beta = this.beta;
    return record(out, 'batchNormalization', this.recordInputs(x), (dy) => {
      const g = toFloat(dy).data as Float32Array;
      const grads: (Tensor | null)[] = [null];
      if (x.requiresGrad) {
        const zero = new Float32Array(C);
        grads[0] = affine(g, x.shape, outer, C, inner, scaleC, zero);
      }
      const sumDy = new Float64Array(C);
      const sumDyXhat = new Float64Array(C);
      if (gamma || beta) {
        for (let o = 0; o < outer; o++) {
          for (let c = 0; c < C; c++) {
            const base = (o * C + c) * inner;
            let s1 = 0;
            let s2 = 0;
            for (let i = 0; i < inner; i++) {
              const gi = g[base + i] as number;
              s1 += gi;
              s2 += gi * ((xd[base + i] as number) - (mu[c] as number)) * (rstd[c] as number);
            }
            sumDy[c] = (sumDy[c] as number) + s1;
            sumDyXhat[c] = (sumDyXhat[c] as number) + s2;
          }
        }
      }
      if (gamma) grads.push(gamma.requiresGrad ? channelTensor(sumDyXhat) : null);
      if (beta) grads.push(beta.requiresGrad ? channelTensor(sumDy) : null);
      return grads;
    });
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return singleShape(inputShape, this.name);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: ser(this.betaInitializer),
      gammaInitializer: ser(this.gammaInitializer),
      movingMeanInitializer: ser(this.movingMeanInitializer),
      movingVarianceInitializer: ser(this.movingVarianceInitializer),
      betaRegularizer: ser(this.betaRegularizer),
      gammaRegularizer: ser(this.gammaRegularizer),
      betaConstraint: ser(this.betaConstraint),
      gammaConstraint: ser(this.gammaConstraint),
    };
  }
}

/** out[o, c, i] = x[o, c, i] * scale[c] + shift[c]. */
function affine(
  xd: Float32Array,
  shape: readonly number[],
  outer: number,
  C: number,
  inner: number,
  scaleC: Float32Array,
  shiftC: Float32Array,
): Tensor {
  const out = Tensor.empty(shape, 'float32');
  const od = out.data as Float32Array;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * C;
      for (let c = 0; c < C; c++)
        od[base + c] = (xd[base + c] as number) * (scaleC[c] as number) + (shiftC[c] as number);
    }
    return out;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const base = (o * C + c) * inner;
      const s = scaleC[c] as number;
      const t = shiftC[c] as number;
      for (let i = 0; i < inner; i++) od[base + i] = (xd[base + i] as number) * s + t;
    }
  }
  return out;
}

function channelTensor(values: Float64Array): Tensor {
  const t = Tensor.empty([values.length], 'float32');
  (t.data as Float32Array).set(values);
  return t;
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization

export interface LayerNormalizationArgs extends LayerArgs {
  /** Axis or axes normalised over (default -1). */
  axis?: number | readonly number[];
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  betaRegularizer?: RegularizerIdentifier | null;
  gammaRegularizer?: RegularizerIdentifier | null;
  betaConstraint?: ConstraintIdentifier | null;
  gammaConstraint?: ConstraintIdentifier | null;
}

/**
 * Layer normalisation: each sample normalised over `axis` (mean 0, variance 1), then * gamma + beta.
 * gamma / beta have the shape of the normalised dims ([features] for axis -1).
 * @example new LayerNormalization({ epsilon: 1e-6 })
 */
export class LayerNormalization extends Layer {
  readonly className = 'LayerNormalization';
  readonly axis: number | number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly betaRegularizer: Regularizer | null;
  readonly gammaRegularizer: Regularizer | null;
  readonly betaConstraint: Constraint | null;
  readonly gammaConstraint: Constraint | null;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  private axes: number[] = [];
  private builtRank = -1;
  /** Whether the axes are the trailing dims (the fused path); else broadcast ops. */
  private trailing = true;
  private paramShape: number[] = [];
  private cols = 1;

  constructor(args: LayerNormalizationArgs = {}) {
    super(args);
    const axis = args.axis ?? -1;
    const list = Array.isArray(axis) ? [...axis] : [axis as number];
    if (list.length === 0 || !list.every((a) => Number.isInteger(a))) {
      throw new ValueError(
        `${this.name} expected axis to be an integer or a non-empty array of integers, got ${JSON.stringify(args.axis)}`,
      );
    }
    this.axis = Array.isArray(axis) ? list : (axis as number);
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.epsilon > 0)) throw new ValueError(`${this.name} expected epsilon > 0, got ${args.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = initOf(args.betaInitializer, 'zeros');
    this.gammaInitializer = initOf(args.gammaInitializer, 'ones');
    this.betaRegularizer = regOf(args.betaRegularizer);
    this.gammaRegularizer = regOf(args.gammaRegularizer);
    this.betaConstraint = conOf(args.betaConstraint);
    this.gammaConstraint = conOf(args.gammaConstraint);
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const s = singleShape(inputShape, this.name);
    const list = Array.isArray(this.axis) ? this.axis : [this.axis];
    const axes = [...new Set(list.map((a) => normAxisOf(a, s.length, this.name)))].sort((a, b) => a - b);
    const dims = axes.map((a) => s[a]);
    if (dims.some((d) => d === null || d === undefined)) {
      throw new ShapeError(`${this.name} expected known sizes on axes ${fmtShape(axes)}, got input ${fmtShapeLike(s)}`);
    }
    this.axes = axes;
    this.builtRank = s.length;
    this.paramShape = dims as number[];
    this.cols = this.paramShape.reduce((p, d) => p * d, 1);
    this.trailing = axes.every((a, i) => a === s.length - axes.length + i);
    if (this.scale) {
      this.gamma = this.addWeight('gamma', this.paramShape, {
        initializer: this.gammaInitializer,
        regularizer: this.gammaRegularizer,
        constraint: this.gammaConstraint,
      });
    }
    if (this.center) {
      this.beta = this.addWeight('beta', this.paramShape, {
        initializer: this.betaInitializer,
        regularizer: this.betaRegularizer,
        constraint: this.betaConstraint,
      });
    }
    super.build(inputShape);
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    if (x.rank !== this.builtRank || this.axes.some((a, i) => x.shape[a] !== this.paramShape[i])) {
      throw new ShapeError(
        `${this.name} expected input of rank ${this.builtRank} with sizes ${fmtShape(this.paramShape)} on axes ${fmtShape(this.axes)}, got ${fmtShape(x.shape)}`,
      );
    }
    return this.trailing ? this.fused(x) : this.composed(x);
  }

  /** Normalised axes are the trailing dims: rows x cols, one pass per row forward and backward. */
  private fused(x: Tensor): Tensor {
    const cols = this.cols;
    const rows = cols === 0 ? 0 : x.size / cols;
    const input = toFloat(x);
    const xd = input.data as Float32Array;
    // Missing gamma / beta act as ones / zeros, so the loops have no branches.
    const gd = (this.gamma?.data as Float32Array | undefined) ?? new Float32Array(cols).fill(1);
    const bd = (this.beta?.data as Float32Array | undefined) ?? new Float32Array(cols);
    const means = new Float32Array(rows);
    const rstds = new Float32Array(rows);
    const out = Tensor.empty(x.shape, 'float32');
    const od = out.data as Float32Array;
    const eps = this.epsilon;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      // One pass for sum and sum of squares (double accumulators), one for the output.
      let s = 0;
      let ss = 0;
      for (let j = 0; j < cols; j++) {
        const v = xd[base + j] as number;
        s += v;
        ss += v * v;
      }
      const mu = s / cols;
      const rs = 1 / Math.sqrt(Math.max(ss / cols - mu * mu, 0) + eps);
      means[r] = mu;
      rstds[r] = rs;
      for (let j = 0; j < cols; j++)
        od[base + j] = ((xd[base + j] as number) - mu) * rs * (gd[j] as number) + (bd[j] as number);
    }
    const gamma = this.gamma;
    const beta = this.beta;
    const inputs: Tensor[] = [x];
    if (gamma) inputs.push(gamma);
    if (beta) inputs.push(beta);
    return record(out, 'layerNormalization', inputs, (dy) => {
      const g = toFloat(dy).data as Float32Array;
      const needDx = x.requiresGrad;
      const dgamma = gamma?.requiresGrad ? new Float64Array(cols) : null;
      const dbeta = beta?.requiresGrad ? new Float64Array(cols) : null;
      const dx = needDx ? Tensor.empty(x.shape, 'float32') : null;
      const dxd = dx?.data as Float32Array | undefined;
      const dg = dgamma ?? new Float64Array(cols);
      const db = dbeta ?? new Float64Array(cols);
      for (let r = 0; r < rows; r++) {
        const base = r * cols;
        const mu = means[r] as number;
        const rs = rstds[r] as number;
        // Pass 1: the row sums of dxhat and dxhat * xhat, and the gamma / beta gradient terms.
        let a = 0;
        let b = 0;
        for (let j = 0; j < cols; j++) {
          const gj = g[base + j] as number;
          const xhat = ((xd[base + j] as number) - mu) * rs;
          const dxhat = gj * (gd[j] as number);
          a += dxhat;
          b += dxhat * xhat;
          dg[j] = (dg[j] as number) + gj * xhat;
          db[j] = (db[j] as number) + gj;
        }
        if (!dxd) continue;
        a /= cols;
        b /= cols;
        // Pass 2: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
        for (let j = 0; j < cols; j++) {
          const xhat = ((xd[base + j] as number) - mu) * rs;
          dxd[base + j] = rs * ((g[base + j] as number) * (gd[j] as number) - a - xhat * b);
        }
      }
      const grads: (Tensor | null)[] = [dx];
      if (gamma) grads.push(dgamma ? paramTensor(dgamma, gamma.shape) : null);
      if (beta) grads.push(dbeta ? paramTensor(dbeta, beta.shape) : null);
      return grads;
    });
  }

  /** Non-trailing axes: broadcast ops (rare in practice). */
  private composed(x: Tensor): Tensor {
    const opts = { axis: this.axes, keepDims: true };
    const mu = mean(x, opts);
    const v = variance(x, opts);
    let y = mul(sub(x, mu), rsqrt(add(v, this.epsilon)));
    const bshape = x.shape.map((d, i) => (this.axes.includes(i) ? d : 1));
    if (this.gamma) y = mul(y, reshape(this.gamma, bshape));
    if (this.beta) y = add(y, reshape(this.beta, bshape));
    return y;
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return singleShape(inputShape, this.name);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: ser(this.betaInitializer),
      gammaInitializer: ser(this.gammaInitializer),
      betaRegularizer: ser(this.betaRegularizer),
      gammaRegularizer: ser(this.gammaRegularizer),
      betaConstraint: ser(this.betaConstraint),
      gammaConstraint: ser(this.gammaConstraint),
    };
  }
}

function paramTensor(values: Float64Array, shape: readonly number[]): Tensor {
  const t = Tensor.empty(shape, 'float32');
  (t.data as Float32Array).set(values);
  return t;
}

registerLayer('BatchNormalization', (c) => new BatchNormalization(c as BatchNormalizationArgs));
registerLayer('LayerNormalization', (c) => new LayerNormalization(c as LayerNormalizationArgs));

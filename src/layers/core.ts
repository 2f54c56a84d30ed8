/**
 * Core layers: InputLayer (+ `input()`), Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector.
 */
import { add } from '../ops/arithmetic.js';
import { biasAdd } from '../ops/bias.js';
import { matmul } from '../ops/matmul.js';
import { dropout } from '../ops/random-ops.js';
import { broadcastTo, reshape, transpose } from '../ops/shape-ops.js';
import type { DType } from '../tensor/dtype.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Random } from '../tensor/random.js';
import type { Tensor, Variable } from '../tensor/tensor.js';
import { type ActivationFn, getActivation, isLinear, isRelu } from './activations.js';
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
import { SymbolicTensor } from './symbolic.js';
import { conOf, fmtShapeLike, initOf, positiveInt, product, regOf, ser, single, singleShape } from './utils.js';

// ---------------------------------------------------------------------------------------------
// InputLayer

export interface InputLayerArgs extends LayerArgs {
  /** Keras 3 name of batchInputShape (the full shape, batch first). */
  batchShape?: ShapeLike;
  sparse?: boolean;
}

/** The source of a functional model: passes its input through unchanged. */
export class InputLayer extends Layer {
  readonly className = 'InputLayer';
  /** The symbolic tensor this layer feeds into the graph. */
  readonly output: SymbolicTensor;

  constructor(args: InputLayerArgs = {}) {
    const batchInputShape = args.batchInputShape ?? args.batchShape;
    super(batchInputShape ? { ...args, batchInputShape } : args);
    if (!this.batchInputShape) {
      throw new ValueError(`InputLayer ${this.name} expected inputShape, batchInputShape or batchShape, got none`);
    }
    this.built = true;
    this.output = new SymbolicTensor(this.batchInputShape, this.dtype, this, [], 0);
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    return single(inputs, this.name);
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return singleShape(inputShape, this.name);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), sparse: false };
  }
}

export interface InputArgs {
  /** Shape of one sample, without the batch dim; null for unknown dims. */
  shape?: readonly (number | null)[];
  batchShape?: ShapeLike;
  batchSize?: number;
  name?: string;
  dtype?: DType;
}

/**
 * A symbolic model input (functional API); its sourceLayer is an InputLayer.
 * @example const x = input({ shape: [784] }); const y = layers.dense({ units: 10 }).apply(x)
 */
export function input(args: InputArgs): SymbolicTensor {
  if (!args.shape && !args.batchShape) throw new ValueError('input expected shape or batchShape, got neither');
  const layer = new InputLayer({
    name: args.name,
    dtype: args.dtype,
    batchInputShape: args.batchShape ?? [args.batchSize ?? null, ...(args.shape ?? [])],
  });
  return layer.output;
}

// ---------------------------------------------------------------------------------------------
// Dense

export interface DenseArgs extends LayerArgs {
  units: number;
  activation?: string | null;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
  activityRegularizer?: RegularizerIdentifier | null;
  kernelConstraint?: ConstraintIdentifier | null;
  biasConstraint?: ConstraintIdentifier | null;
  /** Shortcut for inputShape [inputDim]. */
  inputDim?: number;
}

/**
 * Activation penalty of the last training call, for layers with an activityRegularizer
 * (the model adds it to the loss). Keras 3: the regularizer applied to the output, not divided by batch.
 */
export interface HasActivityLoss {
  activityLoss: Tensor | null;
}

/**
 * Densely connected layer: activation(x · kernel + bias) over the last axis of any-rank input.
 * kernel [inputDim, units], bias [units] (Keras layout).
 * @example const d = new Dense({ units: 64, activation: 'relu', inputShape: [100] })
 */
export class Dense extends Layer implements HasActivityLoss {
  readonly className = 'Dense';
  readonly units: number;
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly activityRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  readonly biasConstraint: Constraint | null;
  kernel: Variable | null = null;
  bias: Variable | null = null;
  activityLoss: Tensor | null = null;
  private inputDim = -1;

  constructor(args: DenseArgs) {
    super(
      args.inputDim !== undefined && !args.inputShape && !args.batchInputShape
        ? { ...args, inputShape: [args.inputDim] }
        : args,
    );
    this.units = positiveInt(args.units, this.name, 'units');
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = initOf(args.kernelInitializer, 'glorotUniform');
    this.biasInitializer = initOf(args.biasInitializer, 'zeros');
    this.kernelRegularizer = regOf(args.kernelRegularizer);
    this.biasRegularizer = regOf(args.biasRegularizer);
    this.activityRegularizer = regOf(args.activityRegularizer);
    this.kernelConstraint = conOf(args.kernelConstraint);
    this.biasConstraint = conOf(args.biasConstraint);
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const s = singleShape(inputShape, this.name);
    const last = s[s.length - 1];
    if (s.length < 2 || last === null || last === undefined) {
      throw new ShapeError(
        `${this.name} expected input of rank >= 2 with a known last dim [batch, ..., features], got ${fmtShapeLike(s)}`,
      );
    }
    this.inputDim = last;
    this.kernel = this.addWeight('kernel', [last, this.units], {
      initializer: this.kernelInitializer,
      regularizer: this.kernelRegularizer,
      constraint: this.kernelConstraint,
    });
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.units], {
        initializer: this.biasInitializer,
        regularizer: this.biasRegularizer,
        constraint: this.biasConstraint,
      });
    }
    super.build(inputShape);
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this.name);
    const r = x.rank;
    if (r < 2 || x.shape[r - 1] !== this.inputDim) {
      throw new ShapeError(`${this.name} expected input [*, ${this.inputDim}], got ${fmtShape(x.shape)}`);
    }
    const kernel = this.kernel as Variable;
    let y =
      r === 2
        ? matmul(x, kernel)
        : reshape(matmul(reshape(x, [-1, this.inputDim]), kernel), [...x.shape.slice(0, -1), this.units]);
    if (this.bias && (isLinear(this.activation) || isRelu(this.activation))) {
      // bias add and relu in one pass each way (the fused kernel); other activations run after a plain add
      y = biasAdd(y, this.bias, { activation: isLinear(this.activation) ? 'linear' : 'relu' });
    } else {
      if (this.bias) y = add(y, this.bias);
      if (!isLinear(this.activation)) y = this.activation(y);
    }
    if (this.activityRegularizer && ctx.training) this.activityLoss = this.activityRegularizer.loss(y);
    return y;
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    return [...s.slice(0, -1), this.units];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation.activationName,
      useBias: this.useBias,
      kernelInitializer: ser(this.kernelInitializer),
      biasInitializer: ser(this.biasInitializer),
      kernelRegularizer: ser(this.kernelRegularizer),
      biasRegularizer: ser(this.biasRegularizer),
      activityRegularizer: ser(this.activityRegularizer),
      kernelConstraint: ser(this.kernelConstraint),
      biasConstraint: ser(this.biasConstraint),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Activation

export interface ActivationArgs extends LayerArgs {
  activation: string;
}

/**
 * Applies an activation function.
 * @example new Activation({ activation: 'softmax' })
 */
export class Activation extends Layer {
  readonly className = 'Activation';
  readonly activation: ActivationFn;
  constructor(args: ActivationArgs) {
    super(args);
    this.activation = getActivation(args.activation);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    return this.activation(single(inputs, this.name));
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return singleShape(inputShape, this.name);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: this.activation.activationName };
  }
}

// ---------------------------------------------------------------------------------------------
// Dropout

export interface DropoutArgs extends LayerArgs {
  rate: number;
  /** Mask shape broadcast over the input (null = the input's dim), e.g. [null, 1, 1, null]. */
  noiseShape?: readonly (number | null)[] | null;
  seed?: number | null;
}

/**
 * Inverted dropout, active only in training (ctx.training). With a seed, the sequence of masks is reproducible.
 * @example new Dropout({ rate: 0.5 })
 */
export class Dropout extends Layer {
  readonly className = 'Dropout';
  readonly rate: number;
  readonly noiseShape: readonly (number | null)[] | null;
  readonly seed: number | null;
  private readonly random: Random | null;

  constructor(args: DropoutArgs) {
    super(args);
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) {
      throw new ValueError(`${this.name} expected rate in [0, 1), got ${JSON.stringify(args.rate)}`);
    }
    this.rate = args.rate;
    this.noiseShape = args.noiseShape ?? null;
    this.seed = args.seed ?? null;
    this.random = this.seed === null ? null : new Random(this.seed);
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this.name);
    if (!ctx.training || this.rate === 0) return x;
    // A fresh mask each step; seeded layers draw each step's seed from their own generator.
    const seed = this.random ? this.random.nextUint32() : undefined;
    return dropout(x, this.rate, { seed, noiseShape: this.noiseShape ?? undefined });
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return singleShape(inputShape, this.name);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape, seed: this.seed };
  }
}

// ---------------------------------------------------------------------------------------------
// Flatten, Reshape, Permute, RepeatVector

/**
 * Flattens each sample: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...].
 * @example new Flatten()
 */
export class Flatten extends Layer {
  readonly className = 'Flatten';
  constructor(args: LayerArgs & { dataFormat?: string } = {}) {
    super(args);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    if (x.rank < 1)
      throw new ShapeError(`${this.name} expected input of rank >= 1 [batch, ...], got ${fmtShape(x.shape)}`);
    const b = x.shape[0] as number;
    if (x.rank === 2) return x;
    return reshape(x, [b, b === 0 ? 0 : x.size / b]);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    return [s[0] ?? null, product(s.slice(1))];
  }
}

export interface ReshapeArgs extends LayerArgs {
  /** Shape of one sample (no batch dim); at most one -1, inferred. */
  targetShape: readonly number[];
}

/**
 * Reshapes each sample to targetShape (batch dim kept).
 * @example new Reshape({ targetShape: [7, 7, -1] })
 */
export class Reshape extends Layer {
  readonly className = 'Reshape';
  readonly targetShape: number[];
  constructor(args: ReshapeArgs) {
    super(args);
    const t = args.targetShape;
    if (
      !Array.isArray(t) ||
      !t.every((d) => Number.isInteger(d) && (d > 0 || d === -1)) ||
      t.filter((d) => d === -1).length > 1
    ) {
      throw new ValueError(
        `${this.name} expected targetShape of positive integers with at most one -1, got ${JSON.stringify(t)}`,
      );
    }
    this.targetShape = [...t];
  }

  private resolve(features: number | null, where: readonly (number | null)[]): (number | null)[] {
    const known = this.targetShape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (features === null) return this.targetShape.map((d) => (d === -1 ? null : d));
    const hasFree = this.targetShape.includes(-1);
    if (hasFree ? features % known !== 0 : features !== known) {
      throw new ShapeError(
        `${this.name} cannot reshape input ${fmtShapeLike(where)} (${features} values per sample) to targetShape ${fmtShape(this.targetShape)}`,
      );
    }
    return this.targetShape.map((d) => (d === -1 ? features / known : d));
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    const b = x.shape[0] as number;
    const shape = this.resolve(b === 0 ? 0 : x.size / b, x.shape) as number[];
    return reshape(x, [b, ...shape]);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    return [s[0] ?? null, ...this.resolve(product(s.slice(1)), s)];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), targetShape: this.targetShape };
  }
}

export interface PermuteArgs extends LayerArgs {
  /** A permutation of 1..rank-1 (1-based like Keras; the batch dim stays first). */
  dims: readonly number[];
}

/**
 * Permutes the non-batch dims: dims [2, 1] swaps the two feature axes.
 * @example new Permute({ dims: [2, 1] })
 */
export class Permute extends Layer {
  readonly className = 'Permute';
  readonly dims: number[];
  private readonly perm: number[];
  constructor(args: PermuteArgs) {
    super(args);
    const d = args.dims;
    const ok = Array.isArray(d) && [...d].sort((a, b) => a - b).every((v, i) => v === i + 1);
    if (!ok)
      throw new ValueError(
        `${this.name} expected dims to be a permutation of 1..${d?.length ?? 'n'}, got ${JSON.stringify(d)}`,
      );
    this.dims = [...d];
    this.perm = [0, ...d];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    if (x.rank !== this.perm.length) {
      throw new ShapeError(
        `${this.name} expected input of rank ${this.perm.length} for dims ${fmtShape(this.dims)}, got ${fmtShape(x.shape)}`,
      );
    }
    return transpose(x, this.perm);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    if (s.length !== this.perm.length) {
      throw new ShapeError(
        `${this.name} expected input of rank ${this.perm.length} for dims ${fmtShape(this.dims)}, got ${fmtShapeLike(s)}`,
      );
    }
    return this.perm.map((p) => s[p] ?? null);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dims: this.dims };
  }
}

/**
 * Repeats a [batch, features] input n times: -> [batch, n, features].
 * @example new RepeatVector({ n: 3 })
 */
export class RepeatVector extends Layer {
  readonly className = 'RepeatVector';
  readonly n: number;
  constructor(args: LayerArgs & { n: number }) {
    super(args);
    this.n = positiveInt(args.n, this.name, 'n');
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    if (x.rank !== 2)
      throw new ShapeError(`${this.name} expected input of rank 2 [batch, features], got ${fmtShape(x.shape)}`);
    const [b, f] = x.shape as [number, number];
    return broadcastTo(reshape(x, [b, 1, f]), [b, this.n, f]);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    return [s[0] ?? null, this.n, s[1] ?? null];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), n: this.n };
  }
}

registerLayer('InputLayer', (c) => new InputLayer(c as InputLayerArgs));
registerLayer('Dense', (c) => new Dense(c as unknown as DenseArgs));
registerLayer('Activation', (c) => new Activation(c as unknown as ActivationArgs));
registerLayer('Dropout', (c) => new Dropout(c as unknown as DropoutArgs));
registerLayer('Flatten', (c) => new Flatten(c));
registerLayer('Reshape', (c) => new Reshape(c as unknown as ReshapeArgs));
registerLayer('Permute', (c) => new Permute(c as unknown as PermuteArgs));
registerLayer('RepeatVector', (c) => new RepeatVector(c as unknown as LayerArgs & { n: number }));

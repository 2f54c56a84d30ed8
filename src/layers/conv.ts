/**
 * Convolution layers over channels-last input: Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D.
 * Keras weight layouts: kernel [k, in, filters] / [kh, kw, in, filters], depthwise_kernel
 * [kh, kw, in, depthMultiplier], pointwise_kernel [1, 1, in * depthMultiplier, filters], bias [filters].
 */
import { add } from '../ops/arithmetic.js';
import { type BiasActivation, biasAdd } from '../ops/bias.js';
import { type Conv2dOptions, conv1d, conv2d, convOutputLength, depthwiseConv2d, separableConv2d } from '../ops/conv.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import type { Tensor, Variable } from '../tensor/tensor.js';
import { type ActivationFn, getActivation, isLinear, isRelu } from './activations.js';
import type { ConstraintIdentifier } from './constraints.js';
import type { HasActivityLoss } from './core.js';
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
import {
  checkDataFormat,
  checkFeatureDims,
  conOf,
  fmtShapeLike,
  initOf,
  oneOf,
  positiveInt,
  regOf,
  ser,
  single,
  singleShape,
  tuple,
} from './utils.js';

export type ConvLayerPadding = 'valid' | 'same' | 'causal';

export interface BaseConvArgs extends LayerArgs {
  kernelSize: number | readonly number[];
  strides?: number | readonly number[];
  padding?: ConvLayerPadding;
  dataFormat?: 'channels_last' | 'channelsLast';
  dilationRate?: number | readonly number[];
  activation?: string | null;
  useBias?: boolean;
  biasInitializer?: InitializerIdentifier;
  biasRegularizer?: RegularizerIdentifier | null;
  activityRegularizer?: RegularizerIdentifier | null;
  biasConstraint?: ConstraintIdentifier | null;
}

export interface ConvArgs extends BaseConvArgs {
  filters: number;
  kernelInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  kernelConstraint?: ConstraintIdentifier | null;
  /** Only 1 is supported. */
  groups?: number;
}

/** Shared geometry, activation, bias and config of the conv layers. */
abstract class BaseConv extends Layer implements HasActivityLoss {
  readonly rank: 1 | 2;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: ConvLayerPadding;
  readonly dilationRate: number[];
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly biasInitializer: Initializer;
  readonly biasRegularizer: Regularizer | null;
  readonly activityRegularizer: Regularizer | null;
  readonly biasConstraint: Constraint | null;
  bias: Variable | null = null;
  activityLoss: Tensor | null = null;
  /** Built feature dims (spatial null = any), for the per-call input check. */
  protected featureDims: (number | null)[] = [];
  protected inChannels = -1;

  constructor(rank: 1 | 2, args: BaseConvArgs) {
    super(args);
    this.rank = rank;
    checkDataFormat(args.dataFormat, this.name);
    this.kernelSize = tuple(args.kernelSize, rank, this.name, 'kernelSize');
    this.strides = tuple(args.strides ?? 1, rank, this.name, 'strides');
    this.padding = oneOf(
      args.padding ?? 'valid',
      rank === 1 ? ['valid', 'same', 'causal'] : ['valid', 'same'],
      this.name,
      'padding',
    );
    this.dilationRate = tuple(args.dilationRate ?? 1, rank, this.name, 'dilationRate');
    if (this.strides.some((s) => s > 1) && this.dilationRate.some((d) => d > 1)) {
      throw new ValueError(
        `${this.name}: strides > 1 with dilationRate > 1 is not supported (Keras neither), got strides ${fmtShape(this.strides)} and dilationRate ${fmtShape(this.dilationRate)}`,
      );
    }
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
    this.biasInitializer = initOf(args.biasInitializer, 'zeros');
    this.biasRegularizer = regOf(args.biasRegularizer);
    this.activityRegularizer = regOf(args.activityRegularizer);
    this.biasConstraint = conOf(args.biasConstraint);
  }

  /** Check rank and channels; remember the feature dims. Returns the channel count. */
  protected buildInput(inputShape: ShapeLike | ShapeLike[]): number {
    const s = singleShape(inputShape, this.name);
    const layout = this.rank === 1 ? '[batch, width, channels]' : '[batch, height, width, channels]';
    const c = s[s.length - 1];
    if (s.length !== this.rank + 2 || c === null || c === undefined) {
      throw new ShapeError(
        `${this.name} expected input of rank ${this.rank + 2} ${layout} with known channels, got ${fmtShapeLike(s)}`,
      );
    }
    this.inChannels = c;
    this.featureDims = [...s.slice(1, -1).map(() => null), c];
    return c;
  }

  protected addBias(units: number): void {
    if (!this.useBias) return;
    this.bias = this.addWeight('bias', [units], {
      initializer: this.biasInitializer,
      regularizer: this.biasRegularizer,
      constraint: this.biasConstraint,
    });
  }

  protected finish(y: Tensor, ctx: CallContext): Tensor {
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

  protected abstract outChannels(): number;

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    const spatial = s.slice(1, 1 + this.rank).map((d, i) =>
      d === null
        ? null
        : convOutputLength(d, this.kernelSize[i] as number, {
            stride: this.strides[i] as number,
            padding: this.padding,
            dilation: this.dilationRate[i] as number,
          }),
    );
    return [s[0] ?? null, ...spatial, this.outChannels()];
  }

  protected convOptions() {
    return { strides: this.strides, padding: this.padding, dilationRate: this.dilationRate };
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: 'channels_last',
      dilationRate: this.dilationRate,
      activation: this.activation.activationName,
      useBias: this.useBias,
      biasInitializer: ser(this.biasInitializer),
      biasRegularizer: ser(this.biasRegularizer),
      activityRegularizer: ser(this.activityRegularizer),
      biasConstraint: ser(this.biasConstraint),
    };
  }
}

/** Conv1D / Conv2D: a full kernel mixing all input channels. */
abstract class Conv extends BaseConv {
  readonly filters: number;
  readonly kernelInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  kernel: Variable | null = null;

  constructor(rank: 1 | 2, args: ConvArgs) {
    super(rank, args);
    this.filters = positiveInt(args.filters, this.name, 'filters');
    if (args.groups !== undefined && args.groups !== 1) {
      throw new ValueError(`${this.name} supports groups 1 only, got ${JSON.stringify(args.groups)}`);
    }
    this.kernelInitializer = initOf(args.kernelInitializer, 'glorotUniform');
    this.kernelRegularizer = regOf(args.kernelRegularizer);
    this.kernelConstraint = conOf(args.kernelConstraint);
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const c = this.buildInput(inputShape);
    this.kernel = this.addWeight('kernel', [...this.kernelSize, c, this.filters], {
      initializer: this.kernelInitializer,
      regularizer: this.kernelRegularizer,
      constraint: this.kernelConstraint,
    });
    this.addBias(this.filters);
    super.build(inputShape);
  }

  protected outChannels(): number {
    return this.filters;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      groups: 1,
      kernelInitializer: ser(this.kernelInitializer),
      kernelRegularizer: ser(this.kernelRegularizer),
      kernelConstraint: ser(this.kernelConstraint),
    };
  }
}

/**
 * 2-D convolution over [batch, height, width, channels]; kernel [kh, kw, in, filters].
 * @example new Conv2D({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' })
 */
export class Conv2D extends Conv {
  readonly className = 'Conv2D';
  constructor(args: ConvArgs) {
    super(2, args);
  }
  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    return this.finish(this.convolve(inputs), ctx);
  }

  /** The convolution alone: no bias, no activation. */
  convolve(inputs: Tensor | Tensor[]): Tensor {
    return conv2d(this.checkedInput(inputs), this.kernel as Variable, this.conv2dOptions());
  }

  /** The single input, its feature dims checked against the built ones. */
  checkedInput(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    checkFeatureDims(x, this.featureDims, this.name);
    return x;
  }

  /** This layer's options for the conv2d op. */
  conv2dOptions(): Conv2dOptions {
    const o = this.convOptions();
    return {
      strides: o.strides as [number, number],
      padding: this.padding as 'valid' | 'same',
      dilation: o.dilationRate as [number, number],
    };
  }

  /**
   * The epilogue a following max-pooling may take over: 'relu' / 'linear' when this layer ends
   * with (bias +) one of those, has a bias or a relu to move, and no activity regularizer needs its
   * own output in this call; otherwise null.
   */
  poolableEpilogue(ctx: CallContext): BiasActivation | null {
    if (this.activityRegularizer && ctx.training) return null;
    if (isRelu(this.activation)) return 'relu';
    return isLinear(this.activation) && this.bias ? 'linear' : null;
  }
}

/**
 * 1-D convolution over [batch, width, channels]; kernel [k, in, filters]. padding may be 'causal'.
 * @example new Conv1D({ filters: 16, kernelSize: 3, padding: 'causal', dilationRate: 2 })
 */
export class Conv1D extends Conv {
  readonly className = 'Conv1D';
  constructor(args: ConvArgs) {
    super(1, args);
  }
  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this.name);
    checkFeatureDims(x, this.featureDims, this.name);
    const y = conv1d(x, this.kernel as Variable, {
      strides: this.strides[0] as number,
      padding: this.padding,
      dilation: this.dilationRate[0] as number,
    });
    return this.finish(y, ctx);
  }
}

export interface DepthwiseConv2DArgs extends BaseConvArgs {
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerIdentifier;
  depthwiseRegularizer?: RegularizerIdentifier | null;
  depthwiseConstraint?: ConstraintIdentifier | null;
}

/**
 * Depthwise 2-D convolution: each channel convolved with depthMultiplier filters of its own.
 * Weight depthwise_kernel [kh, kw, in, depthMultiplier]; bias [in * depthMultiplier].
 * @example new DepthwiseConv2D({ kernelSize: 3, padding: 'same' })
 */
export class DepthwiseConv2D extends BaseConv {
  readonly className: string = 'DepthwiseConv2D';
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: Initializer;
  readonly depthwiseRegularizer: Regularizer | null;
  readonly depthwiseConstraint: Constraint | null;
  depthwiseKernel: Variable | null = null;

  constructor(args: DepthwiseConv2DArgs) {
    super(2, args);
    this.depthMultiplier = positiveInt(args.depthMultiplier ?? 1, this.name, 'depthMultiplier');
    this.depthwiseInitializer = initOf(args.depthwiseInitializer, 'glorotUniform');
    this.depthwiseRegularizer = regOf(args.depthwiseRegularizer);
    this.depthwiseConstraint = conOf(args.depthwiseConstraint);
  }

  protected buildDepthwise(inputShape: ShapeLike | ShapeLike[]): number {
    const c = this.buildInput(inputShape);
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [...this.kernelSize, c, this.depthMultiplier], {
      initializer: this.depthwiseInitializer,
      regularizer: this.depthwiseRegularizer,
      constraint: this.depthwiseConstraint,
    });
    return c;
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const c = this.buildDepthwise(inputShape);
    this.addBias(c * this.depthMultiplier);
    super.build(inputShape);
  }

  protected outChannels(): number {
    return this.inChannels * this.depthMultiplier;
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this.name);
    checkFeatureDims(x, this.featureDims, this.name);
    const y = depthwiseConv2d(x, this.depthwiseKernel as Variable, {
      strides: this.strides as [number, number],
      padding: this.padding as 'valid' | 'same',
      dilation: this.dilationRate as [number, number],
    });
    return this.finish(y, ctx);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: ser(this.depthwiseInitializer),
      depthwiseRegularizer: ser(this.depthwiseRegularizer),
      depthwiseConstraint: ser(this.depthwiseConstraint),
    };
  }
}

export interface SeparableConv2DArgs extends DepthwiseConv2DArgs {
  filters: number;
  pointwiseInitializer?: InitializerIdentifier;
  pointwiseRegularizer?: RegularizerIdentifier | null;
  pointwiseConstraint?: ConstraintIdentifier | null;
}

/**
 * Depthwise convolution then a 1x1 convolution to `filters` channels.
 * Weights depthwise_kernel [kh, kw, in, depthMultiplier], pointwise_kernel [1, 1, in * depthMultiplier, filters], bias [filters].
 * @example new SeparableConv2D({ filters: 64, kernelSize: 3, padding: 'same' })
 */
export class SeparableConv2D extends DepthwiseConv2D {
  override readonly className = 'SeparableConv2D';
  readonly filters: number;
  readonly pointwiseInitializer: Initializer;
  readonly pointwiseRegularizer: Regularizer | null;
  readonly pointwiseConstraint: Constraint | null;
  pointwiseKernel: Variable | null = null;

  constructor(args: SeparableConv2DArgs) {
    super(args);
    this.filters = positiveInt(args.filters, this.name, 'filters');
    this.pointwiseInitializer = initOf(args.pointwiseInitializer, 'glorotUniform');
    this.pointwiseRegularizer = regOf(args.pointwiseRegularizer);
    this.pointwiseConstraint = conOf(args.pointwiseConstraint);
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const c = this.buildDepthwise(inputShape);
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, 1, c * this.depthMultiplier, this.filters], {
      initializer: this.pointwiseInitializer,
      regularizer: this.pointwiseRegularizer,
      constraint: this.pointwiseConstraint,
    });
    this.addBias(this.filters);
    this.built = true;
  }

  protected override outChannels(): number {
    return this.filters;
  }

  override call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this.name);
    checkFeatureDims(x, this.featureDims, this.name);
    const y = separableConv2d(x, this.depthwiseKernel as Variable, this.pointwiseKernel as Variable, {
      strides: this.strides as [number, number],
      padding: this.padding as 'valid' | 'same',
      dilation: this.dilationRate as [number, number],
    });
    return this.finish(y, ctx);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      pointwiseInitializer: ser(this.pointwiseInitializer),
      pointwiseRegularizer: ser(this.pointwiseRegularizer),
      pointwiseConstraint: ser(this.pointwiseConstraint),
    };
  }
}

registerLayer('Conv1D', (c) => new Conv1D(c as unknown as ConvArgs));
registerLayer('Conv2D', (c) => new Conv2D(c as unknown as ConvArgs));
registerLayer('DepthwiseConv2D', (c) => new DepthwiseConv2D(c as unknown as DepthwiseConv2DArgs));
registerLayer('SeparableConv2D', (c) => new SeparableConv2D(c as unknown as SeparableConv2DArgs));

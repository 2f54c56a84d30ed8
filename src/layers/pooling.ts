/**
 * Pooling layers over channels-last input: MaxPooling1D/2D, AveragePooling1D/2D (strides default
 * to poolSize) and the global poolings (mean / max over the spatial axes, keepdims option).
 */

import { div, maximum, mul } from '../ops/arithmetic.js';
import { convOutputLength } from '../ops/conv.js';
import { avgPool1d, avgPool2d, maxPool1d, maxPool2d, type Pool2dOptions } from '../ops/pool.js';
import { max, mean, sum } from '../ops/reduce.js';
import { cast, expandDims } from '../ops/shape-ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { type CallContext, Layer, type LayerArgs, registerLayer, type ShapeLike } from './layer.js';
import { getMask } from './recurrent-mask.js';
import { assertRank, checkDataFormat, oneOf, single, singleShape, tuple } from './utils.js';

export interface Pooling2DArgs extends LayerArgs {
  /** Window [h, w] or one number; default [2, 2]. */
  poolSize?: number | readonly [number, number];
  /** Default poolSize. */
  strides?: number | readonly [number, number] | null;
  padding?: 'valid' | 'same';
  dataFormat?: 'channels_last' | 'channelsLast';
}

export interface Pooling1DArgs extends LayerArgs {
  /** Window length; default 2. */
  poolSize?: number | readonly [number];
  /** Default poolSize. */
  strides?: number | readonly [number] | null;
  padding?: 'valid' | 'same';
  dataFormat?: 'channels_last' | 'channelsLast';
}

abstract class Pooling extends Layer {
  readonly poolSize: number[];
  readonly strides: number[];
  readonly padding: 'valid' | 'same';
  private readonly dims: 1 | 2;
  private readonly kind: 'max' | 'avg';

  constructor(dims: 1 | 2, kind: 'max' | 'avg', args: Pooling1DArgs | Pooling2DArgs) {
    super(args);
    this.dims = dims;
    this.kind = kind;
    checkDataFormat(args.dataFormat, this.name);
    this.poolSize = tuple(args.poolSize ?? 2, dims, this.name, 'poolSize');
    this.strides = tuple(args.strides ?? this.poolSize, dims, this.name, 'strides');
    this.padding = oneOf(args.padding ?? 'valid', ['valid', 'same'], this.name, 'padding');
  }

  private get layout(): string {
    return this.dims === 1 ? '[batch, width, channels]' : '[batch, height, width, channels]';
  }

  /** The 2-D pooling op's options (for a 2-D layer). */
  options2d(): Pool2dOptions {
    return {
      poolSize: this.poolSize as [number, number],
      strides: this.strides as [number, number],
      padding: this.padding,
    };
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    assertRank(x, this.dims + 2, this.name, this.layout);
    const padding = this.padding;
    if (this.dims === 2) {
      const o = this.options2d();
      return this.kind === 'max' ? maxPool2d(x, o) : avgPool2d(x, o);
    }
    const o = { poolSize: this.poolSize[0] as number, strides: this.strides[0] as number, padding };
    return this.kind === 'max' ? maxPool1d(x, o) : avgPool1d(x, o);
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    assertRank({ shape: s }, this.dims + 2, this.name, this.layout);
    const spatial = s.slice(1, 1 + this.dims).map((d, i) =>
      d === null
        ? null
        : convOutputLength(d, this.poolSize[i] as number, {
            stride: this.strides[i] as number,
            padding: this.padding,
          }),
    );
    return [s[0] ?? null, ...spatial, s[s.length - 1] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      poolSize: this.poolSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: 'channels_last',
    };
  }
}

/**
 * Max over [h, w] windows of [batch, height, width, channels].
 * @example new MaxPooling2D({ poolSize: [2, 2] })
 */
export class MaxPooling2D extends Pooling {
  readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(2, 'max', args);
  }
}

/**
 * Mean over [h, w] windows of [batch, height, width, channels] (padding cells excluded).
 * @example new AveragePooling2D({ poolSize: 2 })
 */
export class AveragePooling2D extends Pooling {
  readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(2, 'avg', args);
  }
}

/**
 * Max over windows along the width of [batch, width, channels].
 * @example new MaxPooling1D({ poolSize: 2 })
 */
export class MaxPooling1D extends Pooling {
  readonly className = 'MaxPooling1D';
  constructor(args: Pooling1DArgs = {}) {
    super(1, 'max', args);
  }
}

/**
 * Mean over windows along the width of [batch, width, channels].
 * @example new AveragePooling1D({ poolSize: 2 })
 */
export class AveragePooling1D extends Pooling {
  readonly className = 'AveragePooling1D';
  constructor(args: Pooling1DArgs = {}) {
    super(1, 'avg', args);
  }
}

export interface GlobalPoolingArgs extends LayerArgs {
  /** Keep the spatial axes as size 1 (default false). */
  keepdims?: boolean;
  dataFormat?: 'channels_last' | 'channelsLast';
}

abstract class GlobalPooling extends Layer {
  readonly keepdims: boolean;
  private readonly dims: 1 | 2;
  private readonly axes: number[];
  constructor(dims: 1 | 2, args: GlobalPoolingArgs) {
    super(args);
    checkDataFormat(args.dataFormat, this.name);
    this.dims = dims;
    this.axes = dims === 1 ? [1] : [1, 2];
    this.keepdims = args.keepdims ?? false;
  }
  /** mask: [batch, steps] bool for 1-D pooling (from Embedding maskZero / Masking), else null. */
  protected abstract reduce(x: Tensor, axes: number[], keepDims: boolean, mask: Tensor | null): Tensor;
  call(inputs: Tensor | Tensor[], ctx?: CallContext): Tensor {
    const x = single(inputs, this.name);
    assertRank(
      x,
      this.dims + 2,
      this.name,
      this.dims === 1 ? '[batch, steps, channels]' : '[batch, height, width, channels]',
    );
    return this.reduce(x, this.axes, this.keepdims, this.dims === 1 ? (ctx?.mask ?? getMask(x)) : null);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    assertRank(
      { shape: s },
      this.dims + 2,
      this.name,
      this.dims === 1 ? '[batch, steps, channels]' : '[batch, height, width, channels]',
    );
    const c = s[s.length - 1] ?? null;
    return this.keepdims ? [s[0] ?? null, ...this.axes.map(() => 1), c] : [s[0] ?? null, c];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), keepdims: this.keepdims, dataFormat: 'channels_last' };
  }
}

/**
 * Mean over height and width: [batch, h, w, c] -> [batch, c].
 * @example new GlobalAveragePooling2D()
 */
export class GlobalAveragePooling2D extends GlobalPooling {
  readonly className = 'GlobalAveragePooling2D';
  constructor(args: GlobalPoolingArgs = {}) {
    super(2, args);
  }
  protected reduce(x: Tensor, axis: number[], keepDims: boolean): Tensor {
    return mean(x, { axis, keepDims });
  }
}

/** Max over height and width: [batch, h, w, c] -> [batch, c]. */
export class GlobalMaxPooling2D extends GlobalPooling {
  readonly className = 'GlobalMaxPooling2D';
  constructor(args: GlobalPoolingArgs = {}) {
    super(2, args);
  }
  protected reduce(x: Tensor, axis: number[], keepDims: boolean): Tensor {
    return max(x, { axis, keepDims });
  }
}

/** Mean over steps: [batch, steps, c] -> [batch, c]. */
export class GlobalAveragePooling1D extends GlobalPooling {
  readonly className = 'GlobalAveragePooling1D';
  constructor(args: GlobalPoolingArgs = {}) {
    super(1, args);
  }
  protected reduce(x: Tensor, axis: number[], keepDims: boolean, mask: Tensor | null): Tensor {
    if (!mask) return mean(x, { axis, keepDims });
    // Keras: the mean over unmasked steps only (sum(x * m) / sum(m)); a fully masked row gives 0.
    const m = expandDims(cast(mask, 'float32'), -1);
    return div(sum(mul(x, m), { axis, keepDims }), maximum(sum(m, { axis, keepDims }), 1));
  }
}

/** Max over steps: [batch, steps, c] -> [batch, c]. */
export class GlobalMaxPooling1D extends GlobalPooling {
  readonly className = 'GlobalMaxPooling1D';
  constructor(args: GlobalPoolingArgs = {}) {
    super(1, args);
  }
  protected reduce(x: Tensor, axis: number[], keepDims: boolean): Tensor {
    return max(x, { axis, keepDims });
  }
}

registerLayer('MaxPooling2D', (c) => new MaxPooling2D(c as Pooling2DArgs));
registerLayer('AveragePooling2D', (c) => new AveragePooling2D(c as Pooling2DArgs));
registerLayer('MaxPooling1D', (c) => new MaxPooling1D(c as Pooling1DArgs));
registerLayer('AveragePooling1D', (c) => new AveragePooling1D(c as Pooling1DArgs));
registerLayer('GlobalAveragePooling2D', (c) => new GlobalAveragePooling2D(c as GlobalPoolingArgs));
registerLayer('GlobalMaxPooling2D', (c) => new GlobalMaxPooling2D(c as GlobalPoolingArgs));
registerLayer('GlobalAveragePooling1D', (c) => new GlobalAveragePooling1D(c as GlobalPoolingArgs));
registerLayer('GlobalMaxPooling1D', (c) => new GlobalMaxPooling1D(c as GlobalPoolingArgs));

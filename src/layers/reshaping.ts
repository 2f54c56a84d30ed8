/** Spatial reshaping layers over [batch, height, width, channels]: ZeroPadding2D, UpSampling2D, Cropping2D. */
import { broadcastTo, pad, reshape, slice } from '../ops/shape-ops.js';
import { ShapeError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Layer, type LayerArgs, registerLayer, type ShapeLike } from './layer.js';
import { assertRank, checkDataFormat, oneOf, single, singleShape, tuple } from './utils.js';

export type Padding2D =
  | number
  | readonly [number, number]
  | readonly [readonly [number, number], readonly [number, number]];

/** int | [h, w] | [[top, bottom], [left, right]] -> [[top, bottom], [left, right]]. */
function padding2d(value: unknown, layer: string, field: string): [[number, number], [number, number]] {
  if (Array.isArray(value) && value.length === 2 && Array.isArray(value[0]) && Array.isArray(value[1])) {
    const [h, w] = [tuple(value[0], 2, layer, `${field}[0]`, true), tuple(value[1], 2, layer, `${field}[1]`, true)];
    return [h as [number, number], w as [number, number]];
  }
  const [h, w] = tuple(value, 2, layer, field, true) as [number, number];
  return [
    [h, h],
    [w, w],
  ];
}

const LAYOUT = '[batch, height, width, channels]';

export interface ZeroPadding2DArgs extends LayerArgs {
  /** Default 1: int | [h, w] (symmetric) | [[top, bottom], [left, right]]. */
  padding?: Padding2D;
  dataFormat?: 'channels_last' | 'channelsLast';
}

/**
 * Pads height and width with zeros.
 * @example new ZeroPadding2D({ padding: [[1, 0], [1, 0]] })
 */
export class ZeroPadding2D extends Layer {
  readonly className = 'ZeroPadding2D';
  readonly padding: [[number, number], [number, number]];
  constructor(args: ZeroPadding2DArgs = {}) {
    super(args);
    checkDataFormat(args.dataFormat, this.name);
    this.padding = padding2d(args.padding ?? 1, this.name, 'padding');
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    assertRank(x, 4, this.name, LAYOUT);
    return pad(x, [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    assertRank({ shape: s }, 4, this.name, LAYOUT);
    const [[t, b], [l, r]] = this.padding;
    const h = s[1] ?? null;
    const w = s[2] ?? null;
    return [s[0] ?? null, h === null ? null : h + t + b, w === null ? null : w + l + r, s[3] ?? null];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding, dataFormat: 'channels_last' };
  }
}

export interface UpSampling2DArgs extends LayerArgs {
  /** Repeat factors [h, w] (default [2, 2]). */
  size?: number | readonly [number, number];
  /** Only 'nearest'. */
  interpolation?: 'nearest';
  dataFormat?: 'channels_last' | 'channelsLast';
}

/**
 * Repeats rows and columns (nearest-neighbour upsampling).
 * @example new UpSampling2D({ size: [2, 2] })
 */
export class UpSampling2D extends Layer {
  readonly className = 'UpSampling2D';
  readonly size: [number, number];
  readonly interpolation: 'nearest';
  constructor(args: UpSampling2DArgs = {}) {
    super(args);
    checkDataFormat(args.dataFormat, this.name);
    this.size = tuple(args.size ?? 2, 2, this.name, 'size') as [number, number];
    this.interpolation = oneOf(args.interpolation ?? 'nearest', ['nearest'], this.name, 'interpolation');
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    assertRank(x, 4, this.name, LAYOUT);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const [sh, sw] = this.size;
    if (sh === 1 && sw === 1) return x;
    const spread = broadcastTo(reshape(x, [b, h, 1, w, 1, c]), [b, h, sh, w, sw, c]);
    return reshape(spread, [b, h * sh, w * sw, c]);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    assertRank({ shape: s }, 4, this.name, LAYOUT);
    const h = s[1] ?? null;
    const w = s[2] ?? null;
    return [s[0] ?? null, h === null ? null : h * this.size[0], w === null ? null : w * this.size[1], s[3] ?? null];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size, interpolation: this.interpolation, dataFormat: 'channels_last' };
  }
}

export interface Cropping2DArgs extends LayerArgs {
  /** Default 0: int | [h, w] (symmetric) | [[top, bottom], [left, right]]. */
  cropping?: Padding2D;
  dataFormat?: 'channels_last' | 'channelsLast';
}

/**
 * Crops rows and columns off the edges.
 * @example new Cropping2D({ cropping: [[2, 2], [4, 4]] })
 */
export class Cropping2D extends Layer {
  readonly className = 'Cropping2D';
  readonly cropping: [[number, number], [number, number]];
  constructor(args: Cropping2DArgs = {}) {
    super(args);
    checkDataFormat(args.dataFormat, this.name);
    this.cropping = padding2d(args.cropping ?? 0, this.name, 'cropping');
  }
  private outHW(h: number, w: number, shape: readonly (number | null)[]): [number, number] {
    const [[t, b], [l, r]] = this.cropping;
    const oh = h - t - b;
    const ow = w - l - r;
    if (oh <= 0 || ow <= 0) {
      throw new ShapeError(
        `${this.name} cropping ${JSON.stringify(this.cropping)} leaves nothing of input [${shape.map((d) => d ?? 'null').join(', ')}]`,
      );
    }
    return [oh, ow];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(inputs, this.name);
    assertRank(x, 4, this.name, LAYOUT);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const [oh, ow] = this.outHW(h, w, x.shape);
    return slice(x, [0, this.cropping[0][0], this.cropping[1][0], 0], [b, oh, ow, c]);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    assertRank({ shape: s }, 4, this.name, LAYOUT);
    const h = s[1] ?? null;
    const w = s[2] ?? null;
    const [[t, b], [l, r]] = this.cropping;
    const oh = h === null ? null : h - t - b;
    const ow = w === null ? null : w - l - r;
    if ((oh !== null && oh <= 0) || (ow !== null && ow <= 0)) this.outHW(h ?? 1e9, w ?? 1e9, s);
    return [s[0] ?? null, oh, ow, s[3] ?? null];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cropping: this.cropping, dataFormat: 'channels_last' };
  }
}

registerLayer('ZeroPadding2D', (c) => new ZeroPadding2D(c as ZeroPadding2DArgs));
registerLayer('UpSampling2D', (c) => new UpSampling2D(c as UpSampling2DArgs));
registerLayer('Cropping2D', (c) => new Cropping2D(c as Cropping2DArgs));

/**
 * Pooling over channels-last input: maxPool2d / avgPool2d over [batch, height, width, channels]
 * and maxPool1d / avgPool1d over [batch, width, channels] (run as 2-D pooling of height 1).
 * Padding cells never take part: a max ignores them and an average divides by the valid count.
 */

import { record } from '../autograd/tape.js';
import type { Pool2dGeometry } from '../backend/backend.js';
import { backend } from '../backend/index.js';
import { isGradEnabled } from '../tensor/engine.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { convOutputLength } from './conv.js';
import { toFloat } from './util.js';

export type PoolPadding = 'valid' | 'same';

export interface Pool2dOptions {
  /** Window size: one number or [h, w]. */
  poolSize: number | readonly [number, number];
  /** Step between windows: one number or [h, w]. Default poolSize. */
  strides?: number | readonly [number, number];
  /** 'valid' (windows inside the input) or 'same' (output = ceil(input / stride)). Default 'valid'. */
  padding?: PoolPadding;
}

export interface Pool1dOptions {
  poolSize: number;
  /** Default poolSize. */
  strides?: number;
  padding?: PoolPadding;
}

function pair(value: unknown, op: string, name: string): [number, number] {
  const v = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
    throw new ValueError(
      `${op} expected ${name} to be a positive integer or a pair [h, w] of them, got ${JSON.stringify(value)}`,
    );
  }
  return [v[0] as number, v[1] as number];
}

function positiveInt(value: unknown, op: string, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValueError(`${op} expected ${name} to be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkPadding(padding: unknown, op: string): asserts padding is PoolPadding {
  if (padding !== 'valid' && padding !== 'same') {
    throw new ValueError(`${op} expected padding 'valid' or 'same', got ${JSON.stringify(padding)}`);
  }
}

function axis(input: number, pool: number, stride: number, padding: PoolPadding): { out: number; padBefore: number } {
  const out = convOutputLength(input, pool, { stride, padding });
  if (padding === 'valid') return { out, padBefore: 0 };
  return { out, padBefore: Math.floor(Math.max((out - 1) * stride + pool - input, 0) / 2) };
}

function geometry(
  op: string,
  shape: readonly number[],
  batch: number,
  inH: number,
  inW: number,
  channels: number,
  pool: [number, number],
  strides: [number, number],
  padding: PoolPadding,
): Pool2dGeometry {
  const h = axis(inH, pool[0], strides[0], padding);
  const w = axis(inW, pool[1], strides[1], padding);
  if (h.out <= 0 || w.out <= 0) {
    throw new ValueError(
      `${op} with padding '${padding}' gives an empty output for x ${fmtShape(shape)} and poolSize [${pool.join(', ')}]: ` +
        `the window is larger than the input; use padding 'same' or a smaller poolSize`,
    );
  }
  return {
    batch,
    inH,
    inW,
    channels,
    outH: h.out,
    outW: w.out,
    poolH: pool[0],
    poolW: pool[1],
    strideH: strides[0],
    strideW: strides[1],
    padTop: h.padBefore,
    padLeft: w.padBefore,
  };
}

export interface PoolPlan {
  g: Pool2dGeometry;
  outShape: number[];
}

function plan2d(op: string, x: Tensor, options: Pool2dOptions): PoolPlan {
  return pool2dPlan(op, x.shape, options);
}

/** A 2-D pooling's validated geometry and output shape for an input of this shape. */
export function pool2dPlan(op: string, shape: readonly number[], options: Pool2dOptions): PoolPlan {
  if (shape.length !== 3 && shape.length !== 4) {
    throw new ShapeError(
      `${op} expected x of rank 4 [batch, height, width, channels] (or 3 for one image), got ${fmtShape(shape)}`,
    );
  }
  if (options === undefined || options.poolSize === undefined) {
    throw new ValueError(`${op} expected options { poolSize }, got ${JSON.stringify(options)}`);
  }
  const pool = pair(options.poolSize, op, 'poolSize');
  const strides = options.strides === undefined ? pool : pair(options.strides, op, 'strides');
  const padding = options.padding ?? 'valid';
  checkPadding(padding, op);
  const batched = shape.length === 4;
  const [batch, inH, inW, channels] = (batched ? shape : [1, ...shape]) as [number, number, number, number];
  const g = geometry(op, shape, batch, inH, inW, channels, pool, strides, padding);
  return { g, outShape: batched ? [batch, g.outH, g.outW, channels] : [g.outH, g.outW, channels] };
}

function plan1d(op: string, x: Tensor, options: Pool1dOptions): PoolPlan {
  if (x.rank !== 2 && x.rank !== 3) {
    throw new ShapeError(
      `${op} expected x of rank 3 [batch, width, channels] (or 2 for one sequence), got ${fmtShape(x.shape)}`,
    );
  }
  if (options === undefined || options.poolSize === undefined) {
    throw new ValueError(`${op} expected options { poolSize }, got ${JSON.stringify(options)}`);
  }
  const pool = positiveInt(options.poolSize, op, 'poolSize');
  const stride = options.strides === undefined ? pool : positiveInt(options.strides, op, 'strides');
  const padding = options.padding ?? 'valid';
  checkPadding(padding, op);
  const batched = x.rank === 3;
  const [batch, inW, channels] = (batched ? x.shape : [1, ...x.shape]) as [number, number, number];
  const g = geometry(op, x.shape, batch, 1, inW, channels, [1, pool], [1, stride], padding);
  return { g, outShape: batched ? [batch, g.outW, channels] : [g.outW, channels] };
}

function maxPoolCore(op: string, x: Tensor, { g, outShape }: PoolPlan): Tensor {
  const input = toFloat(x);
  const out = Tensor.empty(outShape, 'float32');
  if (!x.requiresGrad || !isGradEnabled()) {
    // no backward can follow: the maxima only, without tracking where they came from
    backend().maxPool2d(input.data as Float32Array, out.data as Float32Array, null, g);
    return out;
  }
  const argmax = Tensor.empty(outShape, 'int32');
  backend().maxPool2d(input.data as Float32Array, out.data as Float32Array, argmax.data as Int32Array, g);
  return record(out, op, [x], (dy) => {
    const dx = Tensor.empty(x.shape, 'float32');
    backend().maxPool2dBackward(
      toFloat(dy).data as Float32Array,
      argmax.data as Int32Array,
      dx.data as Float32Array,
      g,
    );
    return [dx];
  });
}

function avgPoolCore(op: string, x: Tensor, { g, outShape }: PoolPlan): Tensor {
  const input = toFloat(x);
  const out = Tensor.empty(outShape, 'float32');
  backend().avgPool2d(input.data as Float32Array, out.data as Float32Array, g);
  return record(out, op, [x], (dy) => {
    const dx = Tensor.empty(x.shape, 'float32');
    backend().avgPool2dBackward(toFloat(dy).data as Float32Array, dx.data as Float32Array, g);
    return [dx];
  });
}

/**
 * Max over each window of x [batch, height, width, channels] (or [height, width, channels]).
 * @example maxPool2d(x, { poolSize: 2 }) // halves height and width
 */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return maxPoolCore('maxPool2d', x, plan2d('maxPool2d', x, options));
}

/** Mean over each window's non-padding cells of x [batch, height, width, channels]. */
export function avgPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return avgPoolCore('avgPool2d', x, plan2d('avgPool2d', x, options));
}

/** Max over windows along the width of x [batch, width, channels] (or [width, channels]). */
export function maxPool1d(x: Tensor, options: Pool1dOptions): Tensor {
  return maxPoolCore('maxPool1d', x, plan1d('maxPool1d', x, options));
}

/** Mean over windows along the width of x [batch, width, channels] (or [width, channels]). */
export function avgPool1d(x: Tensor, options: Pool1dOptions): Tensor {
  return avgPoolCore('avgPool1d', x, plan1d('avgPool1d', x, options));
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    maxPool2d(options: Pool2dOptions): Tensor;
    avgPool2d(options: Pool2dOptions): Tensor;
    maxPool1d(options: Pool1dOptions): Tensor;
    avgPool1d(options: Pool1dOptions): Tensor;
  }
}

Tensor.prototype.maxPool2d = function (options) {
  return maxPool2d(this, options);
};
Tensor.prototype.avgPool2d = function (options) {
  return avgPool2d(this, options);
};
Tensor.prototype.maxPool1d = function (options) {
  return maxPool1d(this, options);
};
Tensor.prototype.avgPool1d = function (options) {
  return avgPool1d(this, options);
};

/**
 * Convolutions over channels-last (NHWC / NWC) input: conv2d, conv1d, depthwiseConv2d,
 * separableConv2d and conv2dTranspose. Geometry (output size, 'same' padding) is computed and
 * validated here; the kernels (backend conv2d / depthwise families) trust it.
 */

import { record } from '../autograd/tape.js';
import type { Conv2dGeometry, DepthwiseGeometry } from '../backend/backend.js';
import { backend } from '../backend/index.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { toFloat } from './util.js';

export type ConvPadding = 'valid' | 'same';
export type Conv1dPadding = 'valid' | 'same' | 'causal';

export interface Conv2dOptions {
  /** Step between windows: one number or [h, w]. Default 1. */
  strides?: number | readonly [number, number];
  /** 'valid' (no padding) or 'same' (TensorFlow: output = ceil(input / stride)). Default 'valid'. */
  padding?: ConvPadding;
  /** Spacing between filter taps: one number or [h, w]. Default 1. */
  dilation?: number | readonly [number, number];
  /** Keras spelling of `dilation`. */
  dilationRate?: number | readonly [number, number];
}

export interface Conv1dOptions {
  strides?: number;
  /** 'valid', 'same' or 'causal' (pad (k-1)*dilation on the left only). Default 'valid'. */
  padding?: Conv1dPadding;
  dilation?: number;
  dilationRate?: number;
}

/** A positive integer pair from `number | [h, w]`, with an error naming the op and option. */
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

function checkPadding(padding: unknown, op: string, allowed: readonly string[]): void {
  if (typeof padding !== 'string' || !allowed.includes(padding)) {
    throw new ValueError(
      `${op} expected padding ${allowed.map((p) => `'${p}'`).join(' or ')}, got ${JSON.stringify(padding)}`,
    );
  }
}

/**
 * Output length of a convolution (or pooling, with dilation 1) along one axis.
 * 'valid': floor((input - effective kernel) / stride) + 1; 'same' and 'causal': ceil(input / stride).
 * @example convOutputLength(28, 3, { padding: 'same', stride: 2 }) // 14
 */
export function convOutputLength(
  input: number,
  kernel: number,
  options: { stride?: number; padding?: Conv1dPadding; dilation?: number } = {},
): number {
  const { stride = 1, padding = 'valid', dilation = 1 } = options;
  if (padding === 'same' || padding === 'causal') return Math.ceil(input / stride);
  const effective = (kernel - 1) * dilation + 1;
  return input >= effective ? Math.floor((input - effective) / stride) + 1 : 0;
}

/** Output length and padding before, along one axis. */
function axisGeometry(
  input: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Conv1dPadding,
): { out: number; padBefore: number } {
  const out = convOutputLength(input, kernel, { stride, padding, dilation });
  const effective = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return { out, padBefore: 0 };
  if (padding === 'causal') return { out, padBefore: effective - 1 };
  const total = Math.max((out - 1) * stride + effective - input, 0);
  return { out, padBefore: Math.floor(total / 2) };
}

interface Spatial {
  inH: number;
  inW: number;
  kH: number;
  kW: number;
  strides: [number, number];
  dilation: [number, number];
  padding: Conv1dPadding;
}

/** The geometry of a conv over [batch, inH, inW, inC] -> outC, or a ValueError if the output would be empty. */
function geometry(
  op: string,
  batch: number,
  inC: number,
  outC: number,
  s: Spatial,
  shapes: () => string,
): Conv2dGeometry {
  const h = axisGeometry(s.inH, s.kH, s.strides[0], s.dilation[0], s.padding);
  const w = axisGeometry(s.inW, s.kW, s.strides[1], s.dilation[1], s.padding);
  if (h.out <= 0 || w.out <= 0) {
    throw new ValueError(
      `${op} with padding '${s.padding}' gives an empty output [${h.out}, ${w.out}] for ${shapes()}: ` +
        `the (dilated) filter is larger than the input; use padding 'same' or a smaller filter`,
    );
  }
  return {
    batch,
    inH: s.inH,
    inW: s.inW,
    inC,
    outH: h.out,
    outW: w.out,
    outC,
    kH: s.kH,
    kW: s.kW,
    strideH: s.strides[0],
    strideW: s.strides[1],
    dilationH: s.dilation[0],
    dilationW: s.dilation[1],
    padTop: h.padBefore,
    padLeft: w.padBefore,
  };
}

function assertRank(t: Tensor, rank: number, op: string, name: string, layout: string): void {
  if (t.rank !== rank) {
    throw new ShapeError(`${op} expected ${name} of rank ${rank} ${layout}, got ${fmtShape(t.shape)}`);
  }
}

function assertNonEmpty(t: Tensor, op: string, name: string): void {
  if (t.size === 0) throw new ShapeError(`${op} expected ${name} with no zero-sized dims, got ${fmtShape(t.shape)}`);
}

function f32(t: Tensor): Float32Array {
  return toFloat(t).data as Float32Array;
}

/**
 * A conv kernel call over raw data with autograd recorded against the original tensors, so that
 * rank-3 / 1-D inputs need no reshaping views (gradients come back in the inputs' own shapes).
 */
/** The three kernels of one convolution kind (regular or depthwise), over its geometry G. */
interface ConvKernels<G> {
  forward(x: Float32Array, w: Float32Array, out: Float32Array, g: G): void;
  backpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: G): void;
  backpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: G): void;
}

const conv2dKernels: ConvKernels<Conv2dGeometry> = {
  forward: (x, w, out, g) => backend().conv2d(x, w, out, g),
  backpropInput: (dy, w, dx, g) => backend().conv2dBackpropInput(dy, w, dx, g),
  backpropFilter: (x, dy, dw, g) => backend().conv2dBackpropFilter(x, dy, dw, g),
};

const depthwiseKernels: ConvKernels<DepthwiseGeometry> = {
  forward: (x, w, out, g) => backend().depthwiseConv2d(x, w, out, g),
  backpropInput: (dy, w, dx, g) => backend().depthwiseConv2dBackpropInput(dy, w, dx, g),
  backpropFilter: (x, dy, dw, g) => backend().depthwiseConv2dBackpropFilter(x, dy, dw, g),
};

function convCore<G>(op: string, x: Tensor, filter: Tensor, g: G, outShape: number[], kernels: ConvKernels<G>): Tensor {
  const out = Tensor.empty(outShape, 'float32');
  kernels.forward(f32(x), f32(filter), out.data as Float32Array, g);
  return record(out, op, [x, filter], (dy) => {
    // Re-read through the tensors so a recycled input throws DisposedError instead of giving stale values.
    const dyd = f32(dy);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.empty(x.shape, 'float32');
      kernels.backpropInput(dyd, f32(filter), dx.data as Float32Array, g);
    }
    if (filter.requiresGrad) {
      dw = Tensor.empty(filter.shape, 'float32');
      kernels.backpropFilter(f32(x), dyd, dw.data as Float32Array, g);
    }
    return [dx, dw];
  });
}

function spatialOptions(op: string, options: Conv2dOptions): Pick<Spatial, 'strides' | 'dilation' | 'padding'> {
  const { strides = 1, padding = 'valid' } = options;
  const dilation = options.dilation ?? options.dilationRate ?? 1;
  checkPadding(padding, op, ['valid', 'same']);
  return { strides: pair(strides, op, 'strides'), dilation: pair(dilation, op, 'dilation'), padding };
}

/**
 * Validate an NHWC image (rank 4, or rank 3 for one image) and a [kH, kW, channels, last]
 * filter whose channels match, for conv2d and depthwiseConv2d.
 */
function imageAndFilter(op: string, x: Tensor, filter: Tensor, filterLayout: string) {
  if (x.rank !== 3 && x.rank !== 4) {
    throw new ShapeError(
      `${op} expected x of rank 4 [batch, height, width, channels] (or 3 for one image), got ${fmtShape(x.shape)}`,
    );
  }
  assertRank(filter, 4, op, 'filter', filterLayout);
  const batched = x.rank === 4;
  const [batch, inH, inW, inC] = (batched ? x.shape : [1, ...x.shape]) as [number, number, number, number];
  const [kH, kW, fC, last] = filter.shape as [number, number, number, number];
  if (fC !== inC) {
    throw new ShapeError(
      `${op} expected filter.shape[2] (${fC}) to equal x channels (${inC}), got filter ${fmtShape(filter.shape)} for x ${fmtShape(x.shape)}`,
    );
  }
  assertNonEmpty(filter, op, 'a filter');
  return { batched, batch, inH, inW, inC, kH, kW, last };
}

/**
 * 2-D convolution. x [batch, height, width, channels] (or [height, width, channels] for one image),
 * filter [kH, kW, channels, outChannels] -> [batch, outH, outW, outChannels].
 * @example conv2d(images, w, { strides: 2, padding: 'same' })
 */
export function conv2d(x: Tensor, filter: Tensor, options: Conv2dOptions = {}): Tensor {
  const { g, outShape } = conv2dPlan(x, filter, options);
  return convCore('conv2d', x, filter, g, outShape, conv2dKernels);
}

/** conv2d's validated geometry and output shape (for fused kernels that run a conv2d). */
export function conv2dPlan(
  x: Tensor,
  filter: Tensor,
  options: Conv2dOptions = {},
): { g: Conv2dGeometry; outShape: number[] } {
  const op = 'conv2d';
  const {
    batched,
    batch,
    inH,
    inW,
    inC,
    kH,
    kW,
    last: outC,
  } = imageAndFilter(op, x, filter, '[kH, kW, inChannels, outChannels]');
  const s = spatialOptions(op, options);
  const g = geometry(
    op,
    batch,
    inC,
    outC,
    { inH, inW, kH, kW, ...s },
    () => `x ${fmtShape(x.shape)} and filter ${fmtShape(filter.shape)}`,
  );
  const outShape = batched ? [batch, g.outH, g.outW, outC] : [g.outH, g.outW, outC];
  return { g, outShape };
}

/**
 * 1-D convolution. x [batch, width, channels] (or [width, channels]), filter [k, channels, outChannels]
 * -> [batch, outWidth, outChannels]. Runs as a conv2d of height 1 (no copies).
 * @example conv1d(seq, w, { padding: 'causal', dilation: 2 })
 */
export function conv1d(x: Tensor, filter: Tensor, options: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  if (x.rank !== 2 && x.rank !== 3) {
    throw new ShapeError(
      `${op} expected x of rank 3 [batch, width, channels] (or 2 for one sequence), got ${fmtShape(x.shape)}`,
    );
  }
  assertRank(filter, 3, op, 'filter', '[k, inChannels, outChannels]');
  const batched = x.rank === 3;
  const [batch, inW, inC] = (batched ? x.shape : [1, ...x.shape]) as [number, number, number];
  const [k, fC, outC] = filter.shape as [number, number, number];
  if (fC !== inC) {
    throw new ShapeError(
      `${op} expected filter.shape[1] (${fC}) to equal x channels (${inC}), got filter ${fmtShape(filter.shape)} for x ${fmtShape(x.shape)}`,
    );
  }
  assertNonEmpty(filter, op, 'a filter');
  const { strides = 1, padding = 'valid' } = options;
  checkPadding(padding, op, ['valid', 'same', 'causal']);
  const stride = positiveInt(strides, op, 'strides');
  const dilation = positiveInt(options.dilation ?? options.dilationRate ?? 1, op, 'dilation');
  const g = geometry(
    op,
    batch,
    inC,
    outC,
    { inH: 1, inW, kH: 1, kW: k, strides: [1, stride], dilation: [1, dilation], padding },
    () => `x ${fmtShape(x.shape)} and filter ${fmtShape(filter.shape)}`,
  );
  const outShape = batched ? [batch, g.outW, outC] : [g.outW, outC];
  return convCore(op, x, filter, g, outShape, conv2dKernels);
}

/**
 * Depthwise 2-D convolution: each input channel c is convolved with its own filters
 * filter[:, :, c, 0..M), giving channels * M outputs (output channel c*M + m).
 * x [batch, height, width, channels], filter [kH, kW, channels, multiplier].
 */
export function depthwiseConv2d(x: Tensor, filter: Tensor, options: Conv2dOptions = {}): Tensor {
  const op = 'depthwiseConv2d';
  const {
    batched,
    batch,
    inH,
    inW,
    inC,
    kH,
    kW,
    last: multiplier,
  } = imageAndFilter(op, x, filter, '[kH, kW, channels, multiplier]');
  const s = spatialOptions(op, options);
  const base = geometry(
    op,
    batch,
    inC,
    inC * multiplier,
    { inH, inW, kH, kW, ...s },
    () => `x ${fmtShape(x.shape)} and filter ${fmtShape(filter.shape)}`,
  );
  const g: DepthwiseGeometry = { ...base, multiplier };
  const outShape = batched ? [batch, g.outH, g.outW, g.outC] : [g.outH, g.outW, g.outC];
  return convCore(op, x, filter, g, outShape, depthwiseKernels);
}

/**
 * Depthwise convolution followed by a 1x1 convolution mixing channels.
 * depthwiseFilter [kH, kW, channels, multiplier], pointwiseFilter [1, 1, channels * multiplier, outChannels].
 * strides / padding / dilation apply to the depthwise step.
 */
export function separableConv2d(
  x: Tensor,
  depthwiseFilter: Tensor,
  pointwiseFilter: Tensor,
  options: Conv2dOptions = {},
): Tensor {
  const op = 'separableConv2d';
  assertRank(pointwiseFilter, 4, op, 'pointwiseFilter', '[1, 1, channels * multiplier, outChannels]');
  const [pH, pW, pC] = pointwiseFilter.shape as [number, number, number, number];
  const mid =
    depthwiseFilter.rank === 4 ? (depthwiseFilter.shape[2] as number) * (depthwiseFilter.shape[3] as number) : -1;
  if (pH !== 1 || pW !== 1 || (mid >= 0 && pC !== mid)) {
    throw new ShapeError(
      `${op} expected pointwiseFilter of shape [1, 1, ${mid >= 0 ? mid : 'channels * multiplier'}, outChannels], got ${fmtShape(pointwiseFilter.shape)} ` +
        `for depthwiseFilter ${fmtShape(depthwiseFilter.shape)}`,
    );
  }
  return conv2d(depthwiseConv2d(x, depthwiseFilter, options), pointwiseFilter);
}

export interface Conv2dTransposeOptions extends Conv2dOptions {
  /** Output [height, width]; default the Keras length (valid: in*stride + max(k - stride, 0), same: in*stride). */
  outputSize?: readonly [number, number];
}

/**
 * Transposed 2-D convolution (the gradient of conv2d with respect to its input, a.k.a. "deconvolution").
 * x [batch, height, width, channels], filter [kH, kW, outChannels, channels] (TensorFlow layout)
 * -> [batch, outH, outW, outChannels].
 */
export function conv2dTranspose(x: Tensor, filter: Tensor, options: Conv2dTransposeOptions = {}): Tensor {
  const op = 'conv2dTranspose';
  if (x.rank !== 3 && x.rank !== 4) {
    throw new ShapeError(
      `${op} expected x of rank 4 [batch, height, width, channels] (or 3 for one image), got ${fmtShape(x.shape)}`,
    );
  }
  assertRank(filter, 4, op, 'filter', '[kH, kW, outChannels, inChannels]');
  const batched = x.rank === 4;
  const [batch, inH, inW, inC] = (batched ? x.shape : [1, ...x.shape]) as [number, number, number, number];
  const [kH, kW, outC, fC] = filter.shape as [number, number, number, number];
  if (fC !== inC) {
    throw new ShapeError(
      `${op} expected filter.shape[3] (${fC}) to equal x channels (${inC}), got filter ${fmtShape(filter.shape)} for x ${fmtShape(x.shape)}`,
    );
  }
  assertNonEmpty(filter, op, 'a filter');
  const s = spatialOptions(op, options);
  const lengthOf = (n: number, k: number, stride: number, d: number) => {
    const eff = (k - 1) * d + 1;
    return s.padding === 'same' ? n * stride : n * stride + Math.max(eff - stride, 0);
  };
  let outH = lengthOf(inH, kH, s.strides[0], s.dilation[0]);
  let outW = lengthOf(inW, kW, s.strides[1], s.dilation[1]);
  if (options.outputSize !== undefined) {
    [outH, outW] = pair(options.outputSize, op, 'outputSize');
  }
  // The forward conv this transposes maps [outH, outW, outC] to [inH, inW, inC].
  const g = geometry(
    op,
    batch,
    outC,
    inC,
    { inH: outH, inW: outW, kH, kW, ...s },
    () => `output [${outH}, ${outW}] and filter ${fmtShape(filter.shape)}`,
  );
  if (g.outH !== inH || g.outW !== inW) {
    throw new ValueError(
      `${op} got outputSize [${outH}, ${outW}], which a conv with these strides / padding maps to [${g.outH}, ${g.outW}], not x's [${inH}, ${inW}]`,
    );
  }
  const outShape = batched ? [batch, outH, outW, outC] : [outH, outW, outC];
  const xd = f32(x);
  const wd = f32(filter);
  const out = Tensor.empty(outShape, 'float32');
  backend().conv2dBackpropInput(xd, wd, out.data as Float32Array, g);
  return record(out, op, [x, filter], (dy) => {
    // Re-read through the tensors so a recycled input throws DisposedError instead of giving stale values.
    const dyd = f32(dy);
    const xd = f32(x);
    const wd = f32(filter);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.empty(x.shape, 'float32');
      backend().conv2d(dyd, wd, dx.data as Float32Array, g);
    }
    if (filter.requiresGrad) {
      dw = Tensor.empty(filter.shape, 'float32');
      backend().conv2dBackpropFilter(dyd, xd, dw.data as Float32Array, g);
    }
    return [dx, dw];
  });
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    conv2d(filter: Tensor, options?: Conv2dOptions): Tensor;
    conv1d(filter: Tensor, options?: Conv1dOptions): Tensor;
    depthwiseConv2d(filter: Tensor, options?: Conv2dOptions): Tensor;
    conv2dTranspose(filter: Tensor, options?: Conv2dTransposeOptions): Tensor;
  }
}

Tensor.prototype.conv2d = function (filter, options) {
  return conv2d(this, filter, options);
};
Tensor.prototype.conv1d = function (filter, options) {
  return conv1d(this, filter, options);
};
Tensor.prototype.depthwiseConv2d = function (filter, options) {
  return depthwiseConv2d(this, filter, options);
};
Tensor.prototype.conv2dTranspose = function (filter, options) {
  return conv2dTranspose(this, filter, options);
};

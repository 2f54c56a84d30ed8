/**
 * The Backend: the kernels every op is built from. Kernels work on raw, contiguous,
 * row-major typed arrays and write into a preallocated `out` (never allocate). The
 * TypeScript op layer has already validated shapes, dtypes and sizes before any kernel
 * runs, so kernels trust their arguments; the native backend still checks lengths so it
 * can never read or write out of bounds.
 *
 * `reference` (plain loops) is the definition of every kernel; `native` (C++ addon) must
 * agree with it to float tolerance, and may fall back to it per call (e.g. for int32).
 */
import type { TypedArray } from '../tensor/dtype.js';

export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'abs'
  | 'square'
  | 'reciprocal'
  | 'sign'
  | 'floor'
  | 'ceil'
  | 'round'
  | 'sin'
  | 'cos'
  | 'log1p'
  | 'expm1'
  | 'relu'
  | 'relu6'
  | 'leakyRelu'
  | 'elu'
  | 'selu'
  | 'gelu'
  | 'sigmoid'
  | 'hardSigmoid'
  | 'tanh'
  | 'softplus'
  | 'softsign'
  | 'swish';

/** Activations with a fused backward: dx = dy * f'(x), given x and y = f(x). */
export type ActivationOp =
  | 'relu'
  | 'relu6'
  | 'leakyRelu'
  | 'elu'
  | 'selu'
  | 'gelu'
  | 'sigmoid'
  | 'hardSigmoid'
  | 'tanh'
  | 'softplus'
  | 'softsign'
  | 'swish';

/** Activations fused into biasAdd (forward and backward in one pass each). */
export type BiasActivation = 'linear' | 'relu';

export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'squaredDifference'
  | 'floorDiv'
  | 'mod'
  | 'atan2'
  | 'equal'
  | 'notEqual'
  | 'greater'
  | 'greaterEqual'
  | 'less'
  | 'lessEqual'
  | 'logicalAnd'
  | 'logicalOr';

export type ReduceOp = 'sum' | 'max' | 'min' | 'prod';
export type ArgReduceOp = 'argMax' | 'argMin';

/** Geometry of a 2-D convolution over NHWC input with filter [kH, kW, inC, outC]. */
export interface Conv2dGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
}

/** Depthwise: filter [kH, kW, inC, multiplier]; outC = inC * multiplier. */
export interface DepthwiseGeometry extends Conv2dGeometry {
  multiplier: number;
}

/** Geometry of 2-D pooling over NHWC: channels pass through (outC == inC). */
export interface Pool2dGeometry {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  poolH: number;
  poolW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1-based step count, for bias correction. */
  step: number;
  /** Decoupled weight decay (AdamW); 0 for Adam. */
  weightDecay: number;
}

export interface Backend {
  readonly name: 'reference' | 'native';
  /** Number of threads kernels may use. */
  numThreads(): number;

  // x: [n] -> out: [n]; alpha is leakyRelu's slope and elu's alpha.
  unary(op: UnaryOp, x: TypedArray, out: TypedArray, alpha: number): void;
  // x, y = f(x), dy: [n] -> dx: [n] (overwrite, no accumulate)
  activationGrad(
    op: ActivationOp,
    x: Float32Array,
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    alpha: number,
  ): void;
  // x: [rows, cols], bias: [cols] -> out[r, c] = f(x[r, c] + bias[c]) (relu keeps NaN)
  biasAdd(
    x: Float32Array,
    bias: Float32Array,
    out: Float32Array,
    rows: number,
    cols: number,
    activation: BiasActivation,
  ): void;
  // y = f(x + bias), dy: [rows, cols] -> dx = dy * f' (relu: y > 0), dbias[c] = sum_r dx[r, c] (overwrite)
  biasAddGrad(
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dbias: Float32Array,
    rows: number,
    cols: number,
    activation: BiasActivation,
  ): void;
  // out[i] = a[sum idx*aStrides] op b[sum idx*bStrides] over outShape (0 strides broadcast).
  binary(
    op: BinaryOp,
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
    outShape: readonly number[],
  ): void;
  // x: [outer, len, inner] -> out: [outer, inner]
  reduce(op: ReduceOp, x: TypedArray, out: TypedArray, outer: number, len: number, inner: number): void;
  // x: [outer, len, inner] -> out: [outer, inner] (int32 indices into len)
  argReduce(op: ArgReduceOp, x: TypedArray, out: Int32Array, outer: number, len: number, inner: number): void;
  // x: shape -> out: shape permuted by perm
  transpose(x: TypedArray, out: TypedArray, shape: readonly number[], perm: readonly number[]): void;
  // a: [batch, m, k] (or [batch, k, m] if transA), b: [batch, k, n] (or [batch, n, k]) -> out: [batch, m, n].
  // aBatchStride / bBatchStride are 0 when that operand is shared by every batch.
  matmul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    aBatchStride: number,
    bBatchStride: number,
  ): void;
  // x: [rows, cols] -> out: [rows, cols], over the last axis
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  logSoftmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  // logits: [rows, cols], labels: [rows] -> loss: [rows]; dlogits: [rows, cols] = softmax - onehot (unscaled)
  sparseSoftmaxCrossEntropy(
    logits: Float32Array,
    labels: Int32Array,
    loss: Float32Array,
    dlogits: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  // conv2d: x [N,H,W,C], w [kH,kW,C,OC] -> out [N,OH,OW,OC]
  conv2d(x: Float32Array, w: Float32Array, out: Float32Array, g: Conv2dGeometry): void;
  // dy [N,OH,OW,OC], w -> dx [N,H,W,C] (overwrite)
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Conv2dGeometry): void;
  // x, dy -> dw [kH,kW,C,OC] (overwrite)
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void;
  depthwiseConv2d(x: Float32Array, w: Float32Array, out: Float32Array, g: DepthwiseGeometry): void;
  depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, g: DepthwiseGeometry): void;
  depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: DepthwiseGeometry): void;
  /**
   * Optional, inference only (no backward): out = act(maxPool2d(conv2d(x, w), pg) (+ bias)) in one
   * pass, bit-identical to running the three kernels; pg pools the convolution's output. winograd:
   * a 3x3 stride-1 convolution may run as Winograd F(4x4 or 2x2, 3x3) (to ~1e-5 of the outputs'
   * scale, batch-invariant).
   */
  conv2dMaxPool?(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    cg: Conv2dGeometry,
    pg: Pool2dGeometry,
    act: BiasActivation,
    winograd?: boolean,
  ): void;
  // maxPool2d: x [N,H,W,C] -> out [N,OH,OW,C], argmax [N,OH,OW,C] (flat index into x, -1 if window all padding)
  // argmax null: only the maxima (inference, no backward to come)
  maxPool2d(x: Float32Array, out: Float32Array, argmax: Int32Array | null, g: Pool2dGeometry): void;
  // dy, argmax -> dx [N,H,W,C] (overwrite: zeroed, then scattered)
  maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, g: Pool2dGeometry): void;
  // avg over the valid (non-padding) cells of each window
  avgPool2d(x: Float32Array, out: Float32Array, g: Pool2dGeometry): void;
  avgPool2dBackward(dy: Float32Array, dx: Float32Array, g: Pool2dGeometry): void;
  // In-place optimizer updates over [n]. velocity null means plain SGD.
  sgdUpdate(
    param: Float32Array,
    grad: Float32Array,
    velocity: Float32Array | null,
    lr: number,
    momentum: number,
    nesterov: boolean,
  ): void;
  adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, p: AdamParams): void;
}

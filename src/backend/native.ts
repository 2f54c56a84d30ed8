/**
 * The native backend: a thin wrapper over the C++ addon (build/Release/tessera_native.node,
 * built by scripts/build-native.mjs at install). Float32 kernels run natively; calls on other
 * dtypes (int32, bool) go to the reference backend. The addon checks every length against the
 * sizes it is given and throws an Error rather than read or write out of bounds.
 *
 * Per-call overhead matters (small models are bound by it), so op names map to small integer
 * codes and sizes travel in one reused Float64Array: no objects are allocated per call.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedArray } from '../tensor/dtype.js';
import type {
  ActivationOp,
  AdamParams,
  ArgReduceOp,
  Backend,
  BinaryOp,
  Conv2dGeometry,
  DepthwiseGeometry,
  Pool2dGeometry,
  ReduceOp,
  UnaryOp,
} from './backend.js';
import { referenceBackend } from './reference.js';

/** The raw addon exports (see native/addon.cc). Geometry arguments are Float64Arrays. */
export interface NativeAddon {
  numThreads(): number;
  setNumThreads(n: number): void;
  /** The GEMM micro-kernel in use: 'avx512f', 'avx2+fma' or 'generic'. */
  isa(): string;
  /** Testing: 0 auto, 1 portable kernel, 2 AVX2 (if supported). */
  forceIsa(isa: number): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  activationGrad(op: number, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, alpha: number): void;
  biasAdd(x: Float32Array, bias: Float32Array, out: Float32Array, rows: number, cols: number, act: number): void;
  biasAddGrad(
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dbias: Float32Array,
    rows: number,
    cols: number,
    act: number,
  ): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array | Uint8Array, geom: Float64Array): void;
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, len: number, inner: number): void;
  argReduce(op: number, x: Float32Array, out: Int32Array, outer: number, len: number, inner: number): void;
  transpose(x: TypedArray, out: TypedArray, geom: Float64Array): void;
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, geom: Float64Array): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: number): void;
  sparseSoftmaxCrossEntropy(
    logits: Float32Array,
    labels: Int32Array,
    loss: Float32Array,
    dlogits: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  conv2d(x: Float32Array, w: Float32Array, out: Float32Array, geom: Float64Array): void;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Float64Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Float64Array): void;
  depthwiseConv2d(x: Float32Array, w: Float32Array, out: Float32Array, geom: Float64Array): void;
  depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Float64Array): void;
  depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Float64Array): void;
  /**
   * Numbers of a JSON array from bytes[start] into out from outStart (a Float32Array: each the
   * nearest float); state = [end, status] (native/json.cc).
   */
  jsonNumbers(
    bytes: Uint8Array,
    start: number,
    out: Float64Array | Float32Array,
    outStart: number,
    state: Float64Array,
    maxDepth: number,
  ): number;
  conv2dMaxPool(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    convGeom: Float64Array,
    poolGeom: Float64Array,
    act: number,
    winograd: number,
  ): void;
  maxPool2d(x: Float32Array, out: Float32Array, argmax: Int32Array | null, geom: Float64Array): void;
  maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, geom: Float64Array): void;
  avgPool2d(x: Float32Array, out: Float32Array, geom: Float64Array): void;
  avgPool2dBackward(dy: Float32Array, dx: Float32Array, geom: Float64Array): void;
  sgdUpdate(
    param: Float32Array,
    grad: Float32Array,
    velocity: Float32Array | null,
    lr: number,
    momentum: number,
    nesterov: boolean,
  ): void;
  adamUpdate(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    step: number,
    weightDecay: number,
  ): void;
}

// Op codes: the index in these lists (native/ops.cc switches on the same order).
const UNARY_OPS: readonly UnaryOp[] = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'abs',
  'square',
  'reciprocal',
  'sign',
  'floor',
  'ceil',
  'round',
  'sin',
  'cos',
  'log1p',
  'expm1',
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'selu',
  'gelu',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softplus',
  'softsign',
  'swish',
];
const ACTIVATION_OPS: readonly ActivationOp[] = [
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'selu',
  'gelu',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softplus',
  'softsign',
  'swish',
];
const BINARY_OPS: readonly BinaryOp[] = [
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'maximum',
  'minimum',
  'squaredDifference',
  'floorDiv',
  'mod',
  'atan2',
  'equal',
  'notEqual',
  'greater',
  'greaterEqual',
  'less',
  'lessEqual',
  'logicalAnd',
  'logicalOr',
];
/** Binary ops from this code on produce 0/1 and may write a Uint8Array (bool) out. */
const FIRST_PREDICATE = 11;
const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max', 'min', 'prod'];
const ARG_REDUCE_OPS: readonly ArgReduceOp[] = ['argMax', 'argMin'];

function codes<T extends string>(names: readonly T[]): Record<T, number> {
  const r = {} as Record<T, number>;
  names.forEach((n, i) => {
    r[n] = i;
  });
  return r;
}
const UNARY = codes(UNARY_OPS);
const ACTIVATION = codes(ACTIVATION_OPS);
const BINARY = codes(BINARY_OPS);
const REDUCE = codes(REDUCE_OPS);
const ARG_REDUCE = codes(ARG_REDUCE_OPS);

const ADDON_REL = join('build', 'Release', 'tessera_native.node');

/** The addon path: the package root is ../../ from src/backend and dist/backend; look a bit further up too. */
function findAddon(): string | null {
  if (process.env.TESSERA_NATIVE_ADDON) return process.env.TESSERA_NATIVE_ADDON;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    dir = dirname(dir);
    const p = join(dir, ADDON_REL);
    if (existsSync(p)) return p;
  }
  return null;
}

let addon: NativeAddon | null | undefined;

/** The raw addon, or null if it is not built or fails to load. Never throws. */
export function loadNativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  try {
    const path = findAddon();
    if (path) {
      const req = createRequire(import.meta.url);
      const mod = req(path) as NativeAddon;
      if (typeof mod.matmul === 'function') addon = mod;
    }
  } catch {
    addon = null;
  }
  return addon;
}

/** Set the native thread-pool size (also settable with TESSERA_NUM_THREADS at start-up). No-op without the addon. */
export function setNativeThreads(n: number): void {
  const a = loadNativeAddon();
  if (a) a.setNumThreads(Math.max(1, Math.floor(n)));
}

/** The native pool size, or 1 without the addon. */
export function nativeThreads(): number {
  const a = loadNativeAddon();
  return a ? a.numThreads() : 1;
}

function makeBackend(n: NativeAddon): Backend {
  // one reused geometry buffer (grown for high-rank binary/transpose)
  let geom = new Float64Array(64);
  const geometry = (size: number): Float64Array => {
    if (geom.length < size) geom = new Float64Array(size * 2);
    return geom;
  };
  const conv = (g: Conv2dGeometry, multiplier: number): Float64Array => {
    const G = geom;
    G[0] = g.batch;
    G[1] = g.inH;
    G[2] = g.inW;
    G[3] = g.inC;
    G[4] = g.outH;
    G[5] = g.outW;
    G[6] = g.outC;
    G[7] = g.kH;
    G[8] = g.kW;
    G[9] = g.strideH;
    G[10] = g.strideW;
    G[11] = g.dilationH;
    G[12] = g.dilationW;
    G[13] = g.padTop;
    G[14] = g.padLeft;
    G[15] = multiplier;
    return G;
  };
  // pooling's own buffer when a call takes both geometries
  const poolGeom = new Float64Array(12);
  const pool = (g: Pool2dGeometry, G: Float64Array = geom): Float64Array => {
    G[0] = g.batch;
    G[1] = g.inH;
    G[2] = g.inW;
    G[3] = g.channels;
    G[4] = g.outH;
    G[5] = g.outW;
    G[6] = g.poolH;
    G[7] = g.poolW;
    G[8] = g.strideH;
    G[9] = g.strideW;
    G[10] = g.padTop;
    G[11] = g.padLeft;
    return G;
  };
  const ref = referenceBackend;

  return {
    name: 'native',
    numThreads: () => n.numThreads(),

    unary(op, x, out, alpha) {
      if (x instanceof Float32Array && out instanceof Float32Array) n.unary(UNARY[op], x, out, alpha);
      else ref.unary(op, x, out, alpha);
    },

    activationGrad(op, x, y, dy, dx, alpha) {
      n.activationGrad(ACTIVATION[op], x, y, dy, dx, alpha);
    },

    biasAdd(x, bias, out, rows, cols, activation) {
      n.biasAdd(x, bias, out, rows, cols, activation === 'relu' ? 1 : 0);
    },
    biasAddGrad(y, dy, dx, dbias, rows, cols, activation) {
      n.biasAddGrad(y, dy, dx, dbias, rows, cols, activation === 'relu' ? 1 : 0);
    },

    binary(op, a, aStrides, b, bStrides, out, outShape) {
      const code = BINARY[op];
      if (
        !(a instanceof Float32Array) ||
        !(b instanceof Float32Array) ||
        !(out instanceof Float32Array || (out instanceof Uint8Array && code >= FIRST_PREDICATE)) ||
        outShape.length > 64
      ) {
        ref.binary(op, a, aStrides, b, bStrides, out, outShape);
        return;
      }
      const rank = outShape.length;
      const G = geometry(1 + 3 * rank);
      G[0] = rank;
      for (let d = 0; d < rank; d++) {
        G[1 + d] = outShape[d]!;
        G[1 + rank + d] = aStrides[d]!;
        G[1 + 2 * rank + d] = bStrides[d]!;
      }
      n.binary(code, a, b, out, G);
    },

    reduce(op, x, out, outer, len, inner) {
      if (x instanceof Float32Array && out instanceof Float32Array) n.reduce(REDUCE[op], x, out, outer, len, inner);
      else ref.reduce(op, x, out, outer, len, inner);
    },

    argReduce(op, x, out, outer, len, inner) {
      if (x instanceof Float32Array) n.argReduce(ARG_REDUCE[op], x, out, outer, len, inner);
      else ref.argReduce(op, x, out, outer, len, inner);
    },

    transpose(x, out, shape, perm) {
      if (x.constructor !== out.constructor || shape.length > 64) {
        ref.transpose(x, out, shape, perm);
        return;
      }
      const rank = shape.length;
      const G = geometry(1 + 2 * rank);
      G[0] = rank;
      for (let d = 0; d < rank; d++) {
        G[1 + d] = shape[d]!;
        G[1 + rank + d] = perm[d]!;
      }
      n.transpose(x, out, G);
    },

    matmul(a, b, out, batch, m, nn, k, transA, transB, aBatchStride, bBatchStride) {
      const G = geom;
      G[0] = batch;
      G[1] = m;
      G[2] = nn;
      G[3] = k;
      G[4] = transA ? 1 : 0;
      G[5] = transB ? 1 : 0;
      G[6] = aBatchStride;
      G[7] = bBatchStride;
      n.matmul(a, b, out, G);
    },

    softmax(x, out, rows, cols) {
      n.softmax(x, out, rows, cols, 0);
    },

    logSoftmax(x, out, rows, cols) {
      n.softmax(x, out, rows, cols, 1);
    },

    sparseSoftmaxCrossEntropy(logits, labels, loss, dlogits, rows, cols) {
      n.sparseSoftmaxCrossEntropy(logits, labels, loss, dlogits, rows, cols);
    },

    conv2d(x, w, out, g) {
      n.conv2d(x, w, out, conv(g, 1));
    },
    conv2dBackpropInput(dy, w, dx, g) {
      n.conv2dBackpropInput(dy, w, dx, conv(g, 1));
    },
    conv2dBackpropFilter(x, dy, dw, g) {
      n.conv2dBackpropFilter(x, dy, dw, conv(g, 1));
    },
    depthwiseConv2d(x, w, out, g: DepthwiseGeometry) {
      n.depthwiseConv2d(x, w, out, conv(g, g.multiplier));
    },
    depthwiseConv2dBackpropInput(dy, w, dx, g: DepthwiseGeometry) {
      n.depthwiseConv2dBackpropInput(dy, w, dx, conv(g, g.multiplier));
    },
    depthwiseConv2dBackpropFilter(x, dy, dw, g: DepthwiseGeometry) {
      n.depthwiseConv2dBackpropFilter(x, dy, dw, conv(g, g.multiplier));
    },

    conv2dMaxPool(x, w, bias, out, cg, pg, act, winograd) {
      n.conv2dMaxPool(x, w, bias, out, conv(cg, 1), pool(pg, poolGeom), act === 'relu' ? 1 : 0, winograd ? 1 : 0);
    },
    maxPool2d(x, out, argmax, g) {
      n.maxPool2d(x, out, argmax, pool(g));
    },
    maxPool2dBackward(dy, argmax, dx, g) {
      n.maxPool2dBackward(dy, argmax, dx, pool(g));
    },
    avgPool2d(x, out, g) {
      n.avgPool2d(x, out, pool(g));
    },
    avgPool2dBackward(dy, dx, g) {
      n.avgPool2dBackward(dy, dx, pool(g));
    },

    sgdUpdate(param, grad, velocity, lr, momentum, nesterov) {
      n.sgdUpdate(param, grad, velocity, lr, momentum, nesterov);
    },

    adamUpdate(param, grad, m, v, p: AdamParams) {
      n.adamUpdate(param, grad, m, v, p.lr, p.beta1, p.beta2, p.epsilon, p.step, p.weightDecay);
    },
  };
}

let backendInstance: Backend | null | undefined;

/** The native backend, or null (never throws) when the addon is missing or cannot load. */
export function loadNativeBackend(): Backend | null {
  if (backendInstance !== undefined) return backendInstance;
  const a = loadNativeAddon();
  backendInstance = a ? makeBackend(a) : null;
  return backendInstance;
}

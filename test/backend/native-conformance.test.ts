/**
 * Native backend vs the reference backend (the definition), kernel by kernel, forward and
 * backward, on awkward shapes (1, primes, sizes off the GEMM block sizes), with transposes,
 * batch strides and broadcasting; determinism; and out-of-bounds arguments must throw.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type {
  ActivationOp,
  Backend,
  BinaryOp,
  Conv2dGeometry,
  DepthwiseGeometry,
  Pool2dGeometry,
  UnaryOp,
} from '../../src/backend/backend.js';
import { loadNativeAddon, loadNativeBackend, setNativeThreads } from '../../src/backend/native.js';
import { referenceBackend as R } from '../../src/backend/reference.js';
import type { TypedArray } from '../../src/tensor/dtype.js';

const native = loadNativeBackend();
const addon = loadNativeAddon();
const SKIP = 'native addon not built (build/Release/tessera_native.node missing)';

/** Runs body with the native backend, or skips with the reason when the addon is missing. */
function ntest(name: string, body: (N: Backend) => void): void {
  test(name, (t) => {
    if (!native) {
      t.skip(SKIP);
      return;
    }
    body(native);
  });
}

// ---- helpers -------------------------------------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(12345);
function randn(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}
function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}
function randInt(lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function close(actual: TypedArray, expected: TypedArray, rtol: number, atol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: expected NaN, got ${a}`);
      continue;
    }
    if (!Number.isFinite(e)) {
      assert.equal(a, e, `${what}[${i}]`);
      continue;
    }
    const tol = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
  }
}
function exact(actual: TypedArray, expected: TypedArray, what: string): void {
  close(actual, expected, 0, 0, what);
}
function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.deepEqual(
    new Uint32Array(a.buffer, a.byteOffset, a.length),
    new Uint32Array(b.buffer, b.byteOffset, b.length),
    what,
  );
}

function withThreads(n: number, f: () => void): void {
  const before = native!.numThreads();
  setNativeThreads(n);
  try {
    f();
  } finally {
    setNativeThreads(before);
  }
}

// ---- GEMM ----------------------------------------------------------------------------------------

const SIZES = [1, 2, 7, 13, 17, 31, 64, 65, 127, 300];

function checkMatmul(
  N: Backend,
  batch: number,
  m: number,
  n: number,
  k: number,
  tA: boolean,
  tB: boolean,
  shareA: boolean,
  shareB: boolean,
): void {
  const aBS = shareA ? 0 : m * k;
  const bBS = shareB ? 0 : k * n;
  const a = randn(shareA ? m * k : batch * m * k);
  const b = randn(shareB ? k * n : batch * k * n);
  const got = new Float32Array(batch * m * n).fill(Number.NaN);
  const want = new Float32Array(batch * m * n);
  N.matmul(a, b, got, batch, m, n, k, tA, tB, aBS, bBS);
  R.matmul(a, b, want, batch, m, n, k, tA, tB, aBS, bBS);
  close(got, want, 1e-4, 2e-5 * Math.sqrt(k + 1), `matmul b${batch} ${m}x${n}x${k} tA=${tA} tB=${tB}`);
}

describe('native matmul', () => {
  ntest('all m,n in the size set, k and transposes rotating', (N) => {
    let c = 0;
    for (const m of SIZES) {
      for (const n of SIZES) {
        const k = SIZES[(c * 7 + 3) % SIZES.length]!;
        checkMatmul(N, 1, m, n, k, (c & 1) === 1, (c & 2) === 2, false, false);
        c++;
      }
    }
    for (const k of SIZES) checkMatmul(N, 1, 31, 65, k, false, false, false, false);
    checkMatmul(N, 1, 300, 300, 300, true, true, false, false);
    checkMatmul(N, 1, 300, 127, 300, false, true, false, false);
  });

  ntest('batched, with batch strides (0 = shared operand) and transposes', (N) => {
    for (const [shareA, shareB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          checkMatmul(N, 3, 17, 13, 31, tA, tB, shareA, shareB);
          checkMatmul(N, 5, 65, 33, 7, tA, tB, shareA, shareB);
          checkMatmul(N, 2, 1, 1, 1, tA, tB, shareA, shareB);
        }
      }
    }
    checkMatmul(N, 7, 64, 64, 64, false, false, false, true); // tall-GEMM path
    checkMatmul(N, 4, 130, 70, 90, false, false, false, false); // big enough to go parallel
  });

  ntest('k = 0 writes zeros; empty shapes are fine', (N) => {
    const out = new Float32Array(6).fill(7);
    N.matmul(new Float32Array(0), new Float32Array(0), out, 1, 2, 3, 0, false, false, 0, 0);
    exact(out, new Float32Array(6), 'k=0');
    N.matmul(new Float32Array(0), new Float32Array(0), new Float32Array(0), 0, 2, 3, 4, false, false, 0, 0);
  });

  ntest('every micro-kernel (portable, AVX2, best) agrees with the reference', (N) => {
    try {
      for (const isa of [1, 2, 0]) {
        addon!.forceIsa(isa);
        for (const [m, n, k] of [
          [13, 17, 31],
          [65, 127, 300],
          [1, 300, 2],
          [300, 1, 64],
        ] as const) {
          checkMatmul(N, 1, m, n, k, false, false, false, false);
          checkMatmul(N, 1, m, n, k, true, true, false, false);
        }
      }
    } finally {
      addon!.forceIsa(0);
    }
  });

  ntest('property: random shapes and flags match the reference', (N) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (batch, m, n, k, tA, tB, shareB) => {
          checkMatmul(N, batch, m, n, k, tA, tB, false, shareB);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });

  ntest('deterministic: same inputs and threads give bit-identical results; 1 vs 2 threads too', (N) => {
    const m = 257;
    const n = 263;
    const k = 300;
    const a = randn(m * k);
    const b = randn(k * n);
    const run = () => {
      const o = new Float32Array(m * n);
      N.matmul(a, b, o, 1, m, n, k, false, false, 0, 0);
      return o;
    };
    withThreads(2, () => sameBits(run(), run(), 'two runs at 2 threads'));
    let one = new Float32Array(0);
    withThreads(1, () => {
      one = run();
    });
    withThreads(2, () => sameBits(run(), one, '1 vs 2 threads'));
  });

  ntest('a row of A x B has the same bits whether computed alone, in a few rows, or in many', (N) => {
    // 60 rows go through the packed kernels; up to 48 (AVX-512; 24 on AVX2) against a B of whole
    // kernel-wide panels through the r-row kernels that read A and B in place (ragged panels too);
    // 1-4 through the few-rows kernel. Each must repeat the packed path's operations exactly: a
    // served request's output may not depend on what it was batched with.
    try {
      for (const isa of [1, 2, 0]) {
        addon!.forceIsa(isa);
        for (const k of [1, 5, 288, 300, 701]) {
          for (const n of [1, 7, 16, 32, 33, 64, 70, 96, 130]) {
            const m = 60;
            const a = randn(m * k);
            const b = randn(k * n);
            const all = new Float32Array(m * n);
            N.matmul(a, b, all, 1, m, n, k, false, false, 0, 0);
            for (const rows of [1, 2, 4, 12, 13, 22, 48]) {
              for (const r0 of [0, 7, m - rows]) {
                const part = new Float32Array(rows * n);
                N.matmul(a.subarray(r0 * k, (r0 + rows) * k), b, part, 1, rows, n, k, false, false, 0, 0);
                const what = `isa ${isa} k=${k} n=${n} rows ${r0}..${r0 + rows - 1}`;
                sameBits(part, all.subarray(r0 * n, (r0 + rows) * n), what);
              }
            }
          }
        }
      }
    } finally {
      addon!.forceIsa(0);
    }
  });
});

// ---- convolutions ----------------------------------------------------------------------------------

function outLen(inLen: number, k: number, stride: number, dil: number, padBefore: number, padAfter: number): number {
  return Math.floor((inLen + padBefore + padAfter - dil * (k - 1) - 1) / stride) + 1;
}

function randomConv(): Conv2dGeometry {
  for (;;) {
    const kH = pick([1, 2, 3]);
    const kW = pick([1, 3, 5]);
    const strideH = pick([1, 2]);
    const strideW = pick([1, 3]);
    const dilationH = pick([1, 2]);
    const dilationW = pick([1, 1, 2]);
    const inH = pick([1, 5, 7, 13]);
    const inW = pick([1, 6, 11]);
    const padTop = randInt(0, 2);
    const padLeft = randInt(0, 2);
    const outH = outLen(inH, kH, strideH, dilationH, padTop, randInt(0, 2));
    const outW = outLen(inW, kW, strideW, dilationW, padLeft, randInt(0, 2));
    if (outH < 1 || outW < 1) continue;
    return {
      batch: pick([1, 2, 3]),
      inH,
      inW,
      inC: pick([1, 3, 4]),
      outH,
      outW,
      outC: pick([1, 5, 8, 16, 17, 32]),
      kH,
      kW,
      strideH,
      strideW,
      dilationH,
      dilationW,
      padTop,
      padLeft,
    };
  }
}

function valid(
  batch: number,
  inH: number,
  inW: number,
  inC: number,
  k: number,
  outC: number,
  stride = 1,
  pad = 0,
): Conv2dGeometry {
  const o = (x: number) => Math.floor((x + 2 * pad - k) / stride) + 1;
  return {
    batch,
    inH,
    inW,
    inC,
    outH: o(inH),
    outW: o(inW),
    outC,
    kH: k,
    kW: k,
    strideH: stride,
    strideW: stride,
    dilationH: 1,
    dilationW: 1,
    padTop: pad,
    padLeft: pad,
  };
}

function checkConv(N: Backend, g: Conv2dGeometry): void {
  const xs = g.batch * g.inH * g.inW * g.inC;
  const ys = g.batch * g.outH * g.outW * g.outC;
  const ws = g.kH * g.kW * g.inC * g.outC;
  const x = randn(xs);
  const w = randn(ws);
  const dy = randn(ys);
  const tag = JSON.stringify(g);
  const K = g.kH * g.kW * g.inC;
  const tol = 2e-5 * Math.sqrt(K + g.outC + g.batch * g.outH * g.outW);
  const o1 = new Float32Array(ys).fill(Number.NaN);
  const o2 = new Float32Array(ys);
  N.conv2d(x, w, o1, g);
  R.conv2d(x, w, o2, g);
  close(o1, o2, 1e-4, tol, `conv2d ${tag}`);
  const dx1 = new Float32Array(xs).fill(Number.NaN);
  const dx2 = new Float32Array(xs);
  N.conv2dBackpropInput(dy, w, dx1, g);
  R.conv2dBackpropInput(dy, w, dx2, g);
  close(dx1, dx2, 1e-4, tol, `conv2dBackpropInput ${tag}`);
  const dw1 = new Float32Array(ws).fill(Number.NaN);
  const dw2 = new Float32Array(ws);
  N.conv2dBackpropFilter(x, dy, dw1, g);
  R.conv2dBackpropFilter(x, dy, dw2, g);
  close(dw1, dw2, 1e-4, tol, `conv2dBackpropFilter ${tag}`);
}

describe('native conv2d', () => {
  ntest('random geometries: stride, dilation, padding, 1x1, odd sizes (fwd, dx, dw)', (N) => {
    for (let i = 0; i < 60; i++) checkConv(N, randomConv());
    checkConv(N, valid(3, 7, 5, 6, 1, 9)); // pointwise fast path
    checkConv(N, valid(1, 9, 9, 3, 3, 4, 2, 1)); // batch 1 (GEMM-parallel path)
  });

  ntest('conv on every micro-kernel (portable, AVX2, best)', (N) => {
    try {
      for (const isa of [1, 2, 0]) {
        addon!.forceIsa(isa);
        checkConv(N, valid(2, 13, 13, 32, 3, 64));
        checkConv(N, valid(2, 9, 9, 1, 3, 32, 1, 1));
        checkConv(N, valid(3, 11, 10, 1, 3, 16, 2, 2)); // single input channel: direct kernels, strided, padded
        checkConv(N, { ...valid(2, 12, 13, 1, 2, 48), dilationH: 2, dilationW: 3, outH: 10, outW: 10 });
        for (let i = 0; i < 5; i++) checkConv(N, randomConv());
      }
    } finally {
      addon!.forceIsa(0);
    }
  });

  ntest('MNIST CNN shapes (small batch)', (N) => {
    checkConv(N, valid(3, 28, 28, 1, 3, 32));
    checkConv(N, valid(3, 13, 13, 32, 3, 64));
  });

  ntest('deterministic at a fixed thread count', (N) => {
    const g = valid(4, 13, 13, 32, 3, 64);
    const x = randn(4 * 13 * 13 * 32);
    const dy = randn(4 * 11 * 11 * 64);
    const w = randn(3 * 3 * 32 * 64);
    const dw = () => {
      const o = new Float32Array(w.length);
      N.conv2dBackpropFilter(x, dy, o, g);
      return o;
    };
    const dx = () => {
      const o = new Float32Array(x.length);
      N.conv2dBackpropInput(dy, w, o, g);
      return o;
    };
    withThreads(2, () => {
      sameBits(dw(), dw(), 'dw');
      sameBits(dx(), dx(), 'dx');
    });
  });
});

function checkDepthwise(N: Backend, base: Conv2dGeometry, multiplier: number): void {
  const g: DepthwiseGeometry = { ...base, multiplier, outC: base.inC * multiplier };
  const xs = g.batch * g.inH * g.inW * g.inC;
  const ys = g.batch * g.outH * g.outW * g.outC;
  const ws = g.kH * g.kW * g.inC * multiplier;
  const x = randn(xs);
  const w = randn(ws);
  const dy = randn(ys);
  const tag = JSON.stringify(g);
  const tol = 2e-5 * Math.sqrt(g.kH * g.kW * multiplier + g.batch * g.outH * g.outW);
  const o1 = new Float32Array(ys).fill(Number.NaN);
  const o2 = new Float32Array(ys);
  N.depthwiseConv2d(x, w, o1, g);
  R.depthwiseConv2d(x, w, o2, g);
  close(o1, o2, 1e-4, tol, `depthwiseConv2d ${tag}`);
  const dx1 = new Float32Array(xs).fill(Number.NaN);
  const dx2 = new Float32Array(xs);
  N.depthwiseConv2dBackpropInput(dy, w, dx1, g);
  R.depthwiseConv2dBackpropInput(dy, w, dx2, g);
  close(dx1, dx2, 1e-4, tol, `depthwiseConv2dBackpropInput ${tag}`);
  const dw1 = new Float32Array(ws).fill(Number.NaN);
  const dw2 = new Float32Array(ws);
  N.depthwiseConv2dBackpropFilter(x, dy, dw1, g);
  R.depthwiseConv2dBackpropFilter(x, dy, dw2, g);
  close(dw1, dw2, 1e-4, tol, `depthwiseConv2dBackpropFilter ${tag}`);
}

describe('native depthwise conv2d', () => {
  ntest('random geometries and multipliers (fwd, dx, dw)', (N) => {
    for (let i = 0; i < 40; i++) checkDepthwise(N, randomConv(), pick([1, 2, 3]));
    checkDepthwise(N, valid(5, 13, 13, 32, 3, 32, 1, 1), 1);
  });
});

// ---- pooling --------------------------------------------------------------------------------------

function randomPool(): Pool2dGeometry {
  for (;;) {
    const poolH = pick([1, 2, 3]);
    const poolW = pick([1, 2, 3]);
    const strideH = pick([1, 2, 3]);
    const strideW = pick([1, 2]);
    const inH = pick([1, 4, 7, 13]);
    const inW = pick([1, 5, 8]);
    const padTop = randInt(0, poolH); // == poolH makes all-padding windows
    const padLeft = randInt(0, poolW - 1);
    const outH = Math.floor((inH + padTop + randInt(0, 1) - poolH) / strideH) + 1;
    const outW = Math.floor((inW + padLeft + randInt(0, 1) - poolW) / strideW) + 1;
    if (outH < 1 || outW < 1) continue;
    return {
      batch: pick([1, 2, 5]),
      inH,
      inW,
      channels: pick([1, 3, 32]),
      outH,
      outW,
      poolH,
      poolW,
      strideH,
      strideW,
      padTop,
      padLeft,
    };
  }
}

function checkPool(N: Backend, g: Pool2dGeometry, withSpecials: boolean): void {
  const xs = g.batch * g.inH * g.inW * g.channels;
  const ys = g.batch * g.outH * g.outW * g.channels;
  const x = randn(xs);
  for (let i = 0; i < xs; i++) x[i] = Math.round(x[i]! * 4) / 4; // ties
  if (withSpecials) for (let i = 0; i < xs; i += 7) x[i] = pick([Number.NaN, Number.POSITIVE_INFINITY, -0, 0]);
  const tag = JSON.stringify(g);
  const o1 = new Float32Array(ys).fill(5);
  const o2 = new Float32Array(ys);
  const a1 = new Int32Array(ys).fill(5);
  const a2 = new Int32Array(ys);
  N.maxPool2d(x, o1, a1, g);
  R.maxPool2d(x, o2, a2, g);
  exact(o1, o2, `maxPool2d ${tag}`);
  exact(a1, a2, `maxPool2d argmax ${tag}`);
  // without argmax (inference): the same maxima, on both backends
  const o3 = new Float32Array(ys).fill(5);
  const o4 = new Float32Array(ys).fill(5);
  N.maxPool2d(x, o3, null, g);
  R.maxPool2d(x, o4, null, g);
  exact(o3, o2, `maxPool2d without argmax (native) ${tag}`);
  exact(o4, o2, `maxPool2d without argmax (reference) ${tag}`);
  const dy = randn(ys);
  const d1 = new Float32Array(xs).fill(Number.NaN);
  const d2 = new Float32Array(xs);
  N.maxPool2dBackward(dy, a2, d1, g);
  R.maxPool2dBackward(dy, a2, d2, g);
  close(d1, d2, 1e-6, 1e-6, `maxPool2dBackward ${tag}`);
  if (!withSpecials) {
    const p1 = new Float32Array(ys).fill(Number.NaN);
    const p2 = new Float32Array(ys);
    N.avgPool2d(x, p1, g);
    R.avgPool2d(x, p2, g);
    close(p1, p2, 1e-6, 1e-6, `avgPool2d ${tag}`);
    const q1 = new Float32Array(xs).fill(Number.NaN);
    const q2 = new Float32Array(xs);
    N.avgPool2dBackward(dy, q1, g);
    R.avgPool2dBackward(dy, q2, g);
    close(q1, q2, 1e-5, 1e-6, `avgPool2dBackward ${tag}`);
  }
}

describe('native pooling', () => {
  ntest('random geometries incl. all-padding windows, ties, NaN and infinities', (N) => {
    for (let i = 0; i < 60; i++) checkPool(N, randomPool(), i % 3 === 0);
    const mnist: Pool2dGeometry = {
      batch: 4,
      inH: 26,
      inW: 26,
      channels: 32,
      outH: 13,
      outW: 13,
      poolH: 2,
      poolW: 2,
      strideH: 2,
      strideW: 2,
      padTop: 0,
      padLeft: 0,
    };
    checkPool(N, mnist, false);
    checkPool(N, { ...mnist, inH: 11, inW: 11, channels: 64, outH: 5, outW: 5 }, false);
  });

  ntest('maxPool2dBackward with an argmax pointing into another image matches the reference', (N) => {
    const g: Pool2dGeometry = {
      batch: 64,
      inH: 4,
      inW: 4,
      channels: 8,
      outH: 2,
      outW: 2,
      poolH: 2,
      poolW: 2,
      strideH: 2,
      strideW: 2,
      padTop: 0,
      padLeft: 0,
    };
    const ys = 64 * 2 * 2 * 8;
    const xs = 64 * 4 * 4 * 8;
    const am = new Int32Array(ys);
    for (let i = 0; i < ys; i++) am[i] = i % 5 === 0 ? -1 : Math.floor(rand() * xs);
    const dy = randn(ys);
    const d1 = new Float32Array(xs);
    const d2 = new Float32Array(xs);
    N.maxPool2dBackward(dy, am, d1, g);
    R.maxPool2dBackward(dy, am, d2, g);
    close(d1, d2, 1e-6, 1e-6, 'scatter');
  });

  ntest(
    'maxPool2dBackward, non-overlapping windows: uncovered edge cells and an argmax in a neighbouring window',
    (N) => {
      const g: Pool2dGeometry = {
        batch: 16,
        inH: 11,
        inW: 9,
        channels: 12,
        outH: 5,
        outW: 4,
        poolH: 2,
        poolW: 2,
        strideH: 2,
        strideW: 2,
        padTop: 0,
        padLeft: 0,
      };
      const xs = 16 * 11 * 9 * 12;
      const ys = 16 * 5 * 4 * 12;
      const x = randn(xs);
      const o = new Float32Array(ys);
      const am = new Int32Array(ys);
      R.maxPool2d(x, o, am, g);
      const dy = randn(ys);
      const d1 = new Float32Array(xs).fill(Number.NaN);
      const d2 = new Float32Array(xs);
      N.maxPool2dBackward(dy, am, d1, g);
      R.maxPool2dBackward(dy, am, d2, g);
      exact(d1, d2, 'tiled');
      // the last row and column of each image are in no window: zero
      assert.equal(d1[(10 * 9 + 3) * 12 + 5], 0);
      assert.equal(d1[(4 * 9 + 8) * 12 + 1], 0);
      // one argmax moved to a cell of a neighbouring window (same image): general scatter, two dy summed
      const moved = Int32Array.from(am);
      moved[0] = am[12]!;
      const e1 = new Float32Array(xs).fill(Number.NaN);
      const e2 = new Float32Array(xs);
      N.maxPool2dBackward(dy, moved, e1, g);
      R.maxPool2dBackward(dy, moved, e2, g);
      close(e1, e2, 1e-6, 1e-6, 'moved argmax');
      assert.ok(Math.abs(e1[am[12]!]! - (dy[0]! + dy[12]!)) < 1e-6);
    },
  );
});

// ---- elementwise -----------------------------------------------------------------------------------

const UNARY: UnaryOp[] = [
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
const ACTIVATIONS: ActivationOp[] = [
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
const SPECIALS = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -3, 6, 7, 1e-30, 88, -88, 100, -100, 1e30, -1e30];

function unaryInput(n: number): Float32Array {
  const x = randn(n, 8);
  for (let i = 0; i < SPECIALS.length && i < n; i++) x[i] = SPECIALS[i]!;
  if (n > 40) {
    x[30] = Number.NaN;
    x[31] = Number.POSITIVE_INFINITY;
    x[32] = Number.NEGATIVE_INFINITY;
  }
  return x;
}

describe('native elementwise', () => {
  ntest('unary: every op, small and parallel-sized, incl. specials', (N) => {
    for (const n of [1, 17, 100_003]) {
      const x = unaryInput(n);
      for (const op of UNARY) {
        for (const alpha of [0.2, 1.3]) {
          const o1 = new Float32Array(n).fill(Number.NaN);
          const o2 = new Float32Array(n);
          N.unary(op, x, o1, alpha);
          R.unary(op, x, o2, alpha);
          close(o1, o2, 3e-6, 1e-30, `unary ${op} n=${n} alpha=${alpha}`);
        }
      }
    }
  });

  ntest('unary on int32 delegates to the reference', (N) => {
    const x = Int32Array.from([1, -2, 3, -4]);
    const o1 = new Int32Array(4);
    const o2 = new Int32Array(4);
    N.unary('neg', x, o1, 0);
    R.unary('neg', x, o2, 0);
    exact(o1, o2, 'int neg');
  });

  ntest('activationGrad: every op', (N) => {
    for (const n of [1, 33, 70_001]) {
      const x = unaryInput(n);
      const dy = randn(n);
      for (const op of ACTIVATIONS) {
        const alpha = 0.3;
        const y = new Float32Array(n);
        R.unary(op, x, y, alpha);
        const d1 = new Float32Array(n).fill(Number.NaN);
        const d2 = new Float32Array(n);
        N.activationGrad(op, x, y, dy, d1, alpha);
        R.activationGrad(op, x, y, dy, d2, alpha);
        close(d1, d2, 3e-6, 1e-30, `activationGrad ${op} n=${n}`);
      }
    }
  });
});

const BINARY: BinaryOp[] = [
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
const PREDICATES = new Set<BinaryOp>([
  'equal',
  'notEqual',
  'greater',
  'greaterEqual',
  'less',
  'lessEqual',
  'logicalAnd',
  'logicalOr',
]);

function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}
/** Strides of an operand of shape `opShape` (right-aligned, 1 = broadcast) read over outShape. */
function bstrides(opShape: readonly number[], outShape: readonly number[]): number[] {
  const cs = contiguous(opShape);
  const off = outShape.length - opShape.length;
  return outShape.map((_, d) => (d < off || opShape[d - off] === 1 ? 0 : cs[d - off]!));
}
function binaryInput(n: number): Float32Array {
  const x = randn(n, 4);
  for (let i = 0; i < n; i++) if (i % 3 === 0) x[i] = Math.round(x[i]!); // ties, zeros, integers
  if (n > 10) {
    x[5] = Number.NaN;
    x[6] = -0;
    x[7] = Number.POSITIVE_INFINITY;
  }
  return x;
}

describe('native biasAdd', () => {
  ntest('biasAdd / biasAddGrad match the reference (linear, relu; NaN, -0, ties at 0; thread counts)', (N) => {
    for (const [rows, cols] of [
      [1, 1],
      [7, 3],
      [0, 5],
      [21632, 32],
      [300, 64],
      [33, 10],
    ] as const) {
      const n = rows * cols;
      const x = randn(n, 2);
      for (let i = 0; i < n; i += 11) x[i] = pick([Number.NaN, -0, 0, Number.POSITIVE_INFINITY]);
      const b = randn(cols);
      if (cols > 2) b[1] = 0;
      for (const act of ['linear', 'relu'] as const) {
        const tag = `[${rows}, ${cols}] ${act}`;
        const o1 = new Float32Array(n).fill(7);
        const o2 = new Float32Array(n);
        N.biasAdd(x, b, o1, rows, cols, act);
        R.biasAdd(x, b, o2, rows, cols, act);
        exact(o1, o2, `biasAdd ${tag}`);
        const dy = randn(n);
        const d1 = new Float32Array(n).fill(7);
        const d2 = new Float32Array(n);
        const g1 = new Float32Array(cols).fill(7);
        const g2 = new Float32Array(cols);
        N.biasAddGrad(o2, dy, d1, g1, rows, cols, act);
        R.biasAddGrad(o2, dy, d2, g2, rows, cols, act);
        exact(d1, d2, `biasAddGrad dx ${tag}`);
        close(g1, g2, 1e-6, 1e-6, `biasAddGrad dbias ${tag}`);
        const g3 = new Float32Array(cols);
        withThreads(1, () => N.biasAddGrad(o2, dy, d1, g3, rows, cols, act));
        sameBits(g3, g1, `biasAddGrad dbias, 1 vs default threads ${tag}`);
      }
    }
  });

  ntest('biasAdd checks every length', () => {
    const a = loadNativeAddon()!;
    const f = (n: number) => new Float32Array(n);
    assert.throws(() => a.biasAdd(f(5), f(2), f(6), 3, 2, 1), /biasAdd: x has length 5, needs at least 6/);
    assert.throws(() => a.biasAdd(f(6), f(1), f(6), 3, 2, 1), /biasAdd: bias has length 1/);
    assert.throws(() => a.biasAdd(f(6), f(2), f(5), 3, 2, 0), /biasAdd: out has length 5/);
    assert.throws(() => a.biasAdd(f(6), f(2), f(6), 3, 2, 2), /unknown op code/);
    assert.throws(() => a.biasAddGrad(f(6), f(6), f(6), f(1), 3, 2, 1), /biasAddGrad: dbias has length 1/);
    assert.throws(() => a.biasAddGrad(f(6), f(5), f(6), f(2), 3, 2, 1), /biasAddGrad: dy has length 5/);
    assert.throws(() => a.biasAddGrad(f(6), f(6), f(6), f(2), -3, 2, 1), /biasAddGrad/);
  });
});

describe('native binary', () => {
  const cases: [number[], number[], number[]][] = [
    [[1000], [1000], [1000]], // same shape
    [[70_001], [70_001], [70_001]], // parallel
    [[13, 17], [1], [13, 17]], // scalar b
    [[1], [7, 31], [7, 31]], // scalar a
    [[64, 65], [65], [64, 65]], // row broadcast
    [[300, 129], [129], [300, 129]], // row broadcast, parallel
    [
      [17, 1],
      [17, 13],
      [17, 13],
    ], // column broadcast
    [
      [3, 1, 5],
      [1, 4, 5],
      [3, 4, 5],
    ], // both broadcast
    [
      [2, 3, 1, 7],
      [3, 5, 1],
      [2, 3, 5, 7],
    ],
    [[], [], []], // rank 0
    [[4, 0, 3], [3], [4, 0, 3]], // empty
  ];
  ntest('every op over broadcast patterns (fast paths and the strided fallback)', (N) => {
    for (const [sa, sb, so] of cases) {
      const na = sa.reduce((p, v) => p * v, 1);
      const nb = sb.reduce((p, v) => p * v, 1);
      const no = so.reduce((p, v) => p * v, 1);
      const a = binaryInput(na);
      const b = binaryInput(nb);
      const as = bstrides(sa, so);
      const bs = bstrides(sb, so);
      for (const op of BINARY) {
        const outs: [TypedArray, TypedArray][] = [[new Float32Array(no).fill(9), new Float32Array(no)]];
        if (PREDICATES.has(op)) outs.push([new Uint8Array(no).fill(9), new Uint8Array(no)]);
        for (const [o1, o2] of outs) {
          N.binary(op, a, as, b, bs, o1, so);
          R.binary(op, a, as, b, bs, o2, so);
          close(o1, o2, 2e-6, 1e-30, `binary ${op} ${JSON.stringify([sa, sb, so])} ${o1.constructor.name}`);
        }
      }
    }
  });

  ntest('transposed (non-contiguous) operand strides', (N) => {
    const a = randn(6 * 7);
    const b = randn(7 * 6);
    const o1 = new Float32Array(42);
    const o2 = new Float32Array(42);
    N.binary('sub', a, [7, 1], b, [1, 6], o1, [6, 7]);
    R.binary('sub', a, [7, 1], b, [1, 6], o2, [6, 7]);
    exact(o1, o2, 'strided');
  });

  ntest('int32 operands delegate to the reference', (N) => {
    const a = Int32Array.from([1, 2, 3, 4]);
    const b = Int32Array.from([2]);
    const o1 = new Int32Array(4);
    const o2 = new Int32Array(4);
    N.binary('mul', a, [1], b, [0], o1, [4]);
    R.binary('mul', a, [1], b, [0], o2, [4]);
    exact(o1, o2, 'int mul');
  });
});

// ---- reductions, transpose ------------------------------------------------------------------------

describe('native reductions and transpose', () => {
  ntest('reduce and argReduce over [outer, len, inner], incl. NaN, ties, len 0', (N) => {
    const shapes = [
      [1, 1, 1],
      [3, 7, 1],
      [1, 1000, 1],
      [5, 13, 17],
      [2, 3, 700],
      [600, 131, 1],
      [4, 0, 3],
      [1, 300, 300],
    ] as const;
    for (const [outer, len, inner] of shapes) {
      const n = outer * len * inner;
      for (const withNaN of [false, true]) {
        const x = randn(n);
        for (let i = 0; i < n; i += 5) x[i] = Math.round(x[i]!);
        if (withNaN && n > 10) {
          x[3] = Number.NaN;
          x[n - 2] = Number.NaN;
        }
        for (const op of ['sum', 'max', 'min', 'prod'] as const) {
          const o1 = new Float32Array(outer * inner).fill(9);
          const o2 = new Float32Array(outer * inner);
          const xin = op === 'prod' ? x.map((v) => 1 + v / 64) : x;
          N.reduce(op, xin, o1, outer, len, inner);
          R.reduce(op, xin, o2, outer, len, inner);
          close(o1, o2, 1e-6, 1e-6, `reduce ${op} ${[outer, len, inner]}`);
        }
        for (const op of ['argMax', 'argMin'] as const) {
          const o1 = new Int32Array(outer * inner).fill(9);
          const o2 = new Int32Array(outer * inner);
          N.argReduce(op, x, o1, outer, len, inner);
          R.argReduce(op, x, o2, outer, len, inner);
          exact(o1, o2, `argReduce ${op} ${[outer, len, inner]} nan=${withNaN}`);
        }
      }
    }
  });

  ntest('reduce on int32 delegates to the reference', (N) => {
    const x = Int32Array.from([1, 2, 3, 4, 5, 6]);
    const o1 = new Int32Array(2);
    const o2 = new Int32Array(2);
    N.reduce('sum', x, o1, 2, 3, 1);
    R.reduce('sum', x, o2, 2, 3, 1);
    exact(o1, o2, 'int sum');
  });

  ntest('transpose: random ranks and permutations, float32 / int32 / bool', (N) => {
    for (let i = 0; i < 80; i++) {
      const rank = randInt(1, 5);
      const shape = Array.from({ length: rank }, () => pick([1, 2, 3, 5, 7, 33]));
      const perm = Array.from({ length: rank }, (_, d) => d);
      for (let d = rank - 1; d > 0; d--) {
        const j = randInt(0, d);
        [perm[d], perm[j]] = [perm[j]!, perm[d]!];
      }
      const size = shape.reduce((p, v) => p * v, 1);
      const kind = i % 3;
      const mk = (): TypedArray =>
        kind === 0 ? new Float32Array(size) : kind === 1 ? new Int32Array(size) : new Uint8Array(size);
      const x = mk();
      for (let j = 0; j < size; j++) x[j] = kind === 2 ? j & 1 : j - 7;
      const o1 = mk();
      const o2 = mk();
      N.transpose(x, o1, shape, perm);
      R.transpose(x, o2, shape, perm);
      exact(o1, o2, `transpose ${shape} ${perm}`);
    }
    const big = randn(513 * 257);
    const o1 = new Float32Array(big.length);
    const o2 = new Float32Array(big.length);
    N.transpose(big, o1, [513, 257], [1, 0]);
    R.transpose(big, o2, [513, 257], [1, 0]);
    exact(o1, o2, 'transpose 2-D large');
  });
});

// ---- softmax, cross-entropy, optimizers ------------------------------------------------------------

describe('native softmax / cross-entropy / optimizers', () => {
  ntest('softmax and logSoftmax, incl. large logits', (N) => {
    for (const [rows, cols] of [
      [1, 1],
      [3, 10],
      [17, 1000],
      [500, 31],
    ] as const) {
      const x = randn(rows * cols, 10);
      x[0] = 1000;
      if (x.length > 2) x[1] = -1000;
      for (const f of ['softmax', 'logSoftmax'] as const) {
        const o1 = new Float32Array(x.length).fill(Number.NaN);
        const o2 = new Float32Array(x.length);
        N[f](x, o1, rows, cols);
        R[f](x, o2, rows, cols);
        close(o1, o2, 1e-5, 1e-7, `${f} ${rows}x${cols}`);
      }
    }
  });

  ntest('sparseSoftmaxCrossEntropy with and without dlogits', (N) => {
    for (const [rows, cols] of [
      [1, 1],
      [32, 10],
      [7, 1001],
    ] as const) {
      const x = randn(rows * cols, 20);
      x[0] = 500;
      const labels = Int32Array.from({ length: rows }, () => randInt(0, cols - 1));
      const l1 = new Float32Array(rows).fill(Number.NaN);
      const l2 = new Float32Array(rows);
      const d1 = new Float32Array(rows * cols).fill(Number.NaN);
      const d2 = new Float32Array(rows * cols);
      N.sparseSoftmaxCrossEntropy(x, labels, l1, d1, rows, cols);
      R.sparseSoftmaxCrossEntropy(x, labels, l2, d2, rows, cols);
      close(l1, l2, 1e-5, 1e-5, 'loss');
      close(d1, d2, 1e-5, 1e-7, 'dlogits');
      const l3 = new Float32Array(rows);
      N.sparseSoftmaxCrossEntropy(x, labels, l3, null, rows, cols);
      close(l3, l2, 1e-5, 1e-5, 'loss (no dlogits)');
    }
  });

  ntest('sgdUpdate: plain, momentum, nesterov', (N) => {
    for (const n of [1, 1001, 100_000]) {
      for (const [mom, nest, withV] of [
        [0, false, false],
        [0.9, false, true],
        [0.9, true, true],
      ] as const) {
        const p1 = randn(n);
        const p2 = p1.slice();
        const g = randn(n);
        const v1 = withV ? randn(n) : null;
        const v2 = v1 ? v1.slice() : null;
        for (let s = 0; s < 3; s++) {
          N.sgdUpdate(p1, g, v1, 0.01, mom, nest);
          R.sgdUpdate(p2, g, v2, 0.01, mom, nest);
        }
        close(p1, p2, 1e-6, 1e-7, `sgd param n=${n} ${mom} ${nest}`);
        if (v1 && v2) close(v1, v2, 1e-6, 1e-7, 'sgd velocity');
      }
    }
  });

  ntest('adamUpdate: Adam and AdamW over several steps', (N) => {
    for (const n of [1, 999, 70_000]) {
      for (const weightDecay of [0, 0.01]) {
        const p1 = randn(n);
        const p2 = p1.slice();
        const m1 = new Float32Array(n);
        const m2 = new Float32Array(n);
        const v1 = new Float32Array(n);
        const v2 = new Float32Array(n);
        for (let step = 1; step <= 4; step++) {
          const g = randn(n);
          const hp = { lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step, weightDecay };
          N.adamUpdate(p1, g, m1, v1, hp);
          R.adamUpdate(p2, g, m2, v2, hp);
        }
        close(p1, p2, 1e-6, 1e-7, `adam p n=${n} wd=${weightDecay}`);
        // The native update runs in float32 (as Keras does) and the reference in double: m's
        // rounding error scales with |g| (~1 here), not with |m| (~0.01), hence the absolute term.
        close(m1, m2, 1e-6, 1e-7, 'adam m');
        close(v1, v2, 1e-6, 1e-10, 'adam v');
      }
    }
  });
});

// ---- safety ----------------------------------------------------------------------------------------

describe('native argument checks (never out of bounds)', () => {
  const conv = valid(2, 5, 5, 3, 3, 4);
  const pool: Pool2dGeometry = {
    batch: 2,
    inH: 4,
    inW: 4,
    channels: 3,
    outH: 2,
    outW: 2,
    poolH: 2,
    poolW: 2,
    strideH: 2,
    strideW: 2,
    padTop: 0,
    padLeft: 0,
  };
  const f = (n: number) => new Float32Array(n);
  ntest('short or mistyped arrays and bad geometry throw Errors', (N) => {
    const cases: [string, () => void][] = [
      ['matmul short a', () => N.matmul(f(5), f(12), f(12), 1, 3, 4, 2, false, false, 0, 0)],
      ['matmul short b', () => N.matmul(f(6), f(7), f(12), 1, 3, 4, 2, false, false, 0, 0)],
      ['matmul short out', () => N.matmul(f(6), f(8), f(11), 1, 3, 4, 2, false, false, 0, 0)],
      ['matmul batch stride too big', () => N.matmul(f(12), f(8), f(24), 2, 3, 4, 2, false, false, 7, 0)],
      ['matmul negative size', () => N.matmul(f(6), f(8), f(12), 1, -3, 4, 2, false, false, 0, 0)],
      ['matmul NaN size', () => N.matmul(f(6), f(8), f(12), 1, Number.NaN, 4, 2, false, false, 0, 0)],
      ['matmul fractional size', () => N.matmul(f(6), f(8), f(12), 1, 1.5, 4, 2, false, false, 0, 0)],
      ['conv2d short x', () => N.conv2d(f(2 * 5 * 5 * 3 - 1), f(108), f(2 * 3 * 3 * 4), conv)],
      ['conv2d short w', () => N.conv2d(f(150), f(107), f(72), conv)],
      ['conv2d short out', () => N.conv2d(f(150), f(108), f(71), conv)],
      ['conv2d zero stride', () => N.conv2d(f(150), f(108), f(72), { ...conv, strideH: 0 })],
      ['conv2d outH too big for out', () => N.conv2d(f(150), f(108), f(72), { ...conv, outH: 4 })],
      ['conv2dBackpropInput short dx', () => N.conv2dBackpropInput(f(72), f(108), f(149), conv)],
      ['conv2dBackpropFilter short dw', () => N.conv2dBackpropFilter(f(150), f(72), f(107), conv)],
      [
        'depthwise outC mismatch',
        () => N.depthwiseConv2d(f(150), f(27), f(72), { ...conv, outC: 4, multiplier: 1 } as DepthwiseGeometry),
      ],
      ['maxPool2d short argmax', () => N.maxPool2d(f(96), f(24), new Int32Array(23), pool)],
      [
        'maxPool2dBackward argmax out of range',
        () => N.maxPool2dBackward(f(24), new Int32Array(24).fill(96), f(96), pool),
      ],
      ['maxPool2dBackward argmax < -1', () => N.maxPool2dBackward(f(24), new Int32Array(24).fill(-2), f(96), pool)],
      ['avgPool2d short x', () => N.avgPool2d(f(95), f(24), pool)],
      ['avgPool2dBackward short dx', () => N.avgPool2dBackward(f(24), f(95), pool)],
      ['unary short out', () => N.unary('exp', f(10), f(9), 0)],
      ['activationGrad short dy', () => N.activationGrad('relu', f(10), f(10), f(9), f(10), 0)],
      ['binary stride reads past a', () => N.binary('add', f(4), [2], f(4), [1], f(4), [4])],
      ['binary short out', () => N.binary('add', f(4), [1], f(4), [1], f(3), [4])],
      ['reduce short x', () => N.reduce('sum', f(5), f(2), 2, 3, 1)],
      ['argReduce short out', () => N.argReduce('argMax', f(6), new Int32Array(1), 2, 3, 1)],
      ['transpose bad perm', () => N.transpose(f(6), f(6), [2, 3], [0, 0])],
      ['transpose short out', () => N.transpose(f(6), f(5), [2, 3], [1, 0])],
      ['softmax short out', () => N.softmax(f(6), f(5), 2, 3)],
      [
        'cross-entropy label out of range',
        () => N.sparseSoftmaxCrossEntropy(f(6), Int32Array.from([0, 3]), f(2), null, 2, 3),
      ],
      ['cross-entropy short labels', () => N.sparseSoftmaxCrossEntropy(f(6), new Int32Array(1), f(2), null, 2, 3)],
      ['sgd short grad', () => N.sgdUpdate(f(10), f(9), null, 0.1, 0, false)],
      ['sgd short velocity', () => N.sgdUpdate(f(10), f(10), f(9), 0.1, 0.9, false)],
      [
        'adam short v',
        () =>
          N.adamUpdate(f(10), f(10), f(10), f(9), {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-7,
            step: 1,
            weightDecay: 0,
          }),
      ],
      [
        'matmul wrong dtype',
        () => N.matmul(new Int32Array(6) as unknown as Float32Array, f(8), f(12), 1, 3, 4, 2, false, false, 0, 0),
      ],
    ];
    for (const [name, fn] of cases) assert.throws(fn, Error, name);
  });
});

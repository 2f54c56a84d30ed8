import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ActivationOp, Conv2dGeometry, DepthwiseGeometry, Pool2dGeometry } from '../../src/backend/backend.js';
import { referenceBackend as B, erf, erfc } from '../../src/backend/reference.js';

const f32 = (v: number[]) => new Float32Array(v);

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6, msg = ''): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${msg} [${i}]: expected NaN, got ${a}`);
      continue;
    }
    if (!Number.isFinite(e)) {
      assert.equal(a, e, `${msg} [${i}]`);
      continue;
    }
    const err = Math.abs(a - e) / Math.max(1, Math.abs(e));
    assert.ok(err <= tol, `${msg} [${i}]: got ${a}, expected ${e} (err ${err})`);
  }
}

/**
 * Kernels are generic over the element type at runtime, so a Float64Array can stand in for a
 * Float32Array when a test wants float64 precision (adjoint and finite-difference checks).
 */
const f64 = (v: number[] | number) =>
  (typeof v === 'number' ? new Float64Array(v) : new Float64Array(v)) as unknown as Float32Array;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
const randArray = (n: number, r: () => number) => f64(Array.from({ length: n }, r));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

describe('reference backend: elementwise', () => {
  test('name and threads', () => {
    assert.equal(B.name, 'reference');
    assert.equal(B.numThreads(), 1);
  });

  test('erf / erfc known values', () => {
    close(
      [erf(0), erf(0.5), erf(1), erf(2), erf(-1)],
      [0, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, -0.8427007929497149],
      1e-14,
    );
    // relative accuracy in the tail
    assert.ok(Math.abs(erfc(4) / 1.541725790028002e-8 - 1) < 1e-10);
    assert.ok(Math.abs(erfc(5) / 1.5374597944280349e-12 - 1) < 1e-10);
    assert.ok(Math.abs(erfc(-1) - 1.8427007929497148) < 1e-14);
  });

  test('unary: rounding, signs, activations', () => {
    const out = new Float32Array(7);
    B.unary('round', f32([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4]), out, 0);
    close(out, [0, 2, 2, 0, -2, -2, 2]);

    const x = f32([-2, -1, 0, 1.5, 4]);
    const o = new Float32Array(5);
    B.unary('relu6', f32([-1, 3, 7, 6, 0]), o, 0);
    close(o, [0, 3, 6, 6, 0]);
    B.unary('leakyRelu', x, o, 0.2);
    close(o, [-0.4, -0.2, 0, 1.5, 4]);
    B.unary('hardSigmoid', f32([-4, -3, 0, 1.5, 4]), o, 0);
    close(o, [0, 0, 0.5, 0.75, 1]);
    B.unary('softsign', x, o, 0);
    close(o, [-2 / 3, -0.5, 0, 0.6, 0.8]);
    B.unary('sign', x, o, 0);
    close(o, [-1, -1, 0, 1, 1]);
    B.unary('rsqrt', f32([4, 0.25, 1, 16, 100]), o, 0);
    close(o, [0.5, 2, 1, 0.25, 0.1]);

    const g = new Float32Array(3);
    // gelu(x) = x * Phi(x): Phi(1) = 0.8413447460685429, Phi(2) = 0.9772498680518208
    B.unary('gelu', f32([1, -1, 2]), g, 0);
    close(g, [0.8413447460685429, -0.15865525393145707, 1.9544997361036416]);
    // elu(-1) = e^-1 - 1; selu(-1) = scale*alpha*(e^-1 - 1)
    B.unary('elu', f32([-1, 0, 2]), g, 1);
    close(g, [-0.6321205588285577, 0, 2]);
    B.unary('selu', f32([-1, 0, 2]), g, 0);
    close(g, [-1.1113307378125628, 0, 2.101401974710961]);

    // stability at large |x|
    const s = new Float32Array(4);
    B.unary('sigmoid', f32([-100, 100, 0, -800]), s, 0);
    assert.ok(s[0]! > 0 && s[0]! < 1e-40);
    close(s.subarray(1), [1, 0.5, 0]);
    B.unary('softplus', f32([100, -100, 0, 1000]), s, 0);
    close(s, [100, 0, Math.LN2, 1000]);
    B.unary('swish', f32([-1000, 1000, 0, 1]), s, 0);
    close(s, [-0, 1000, 0, 0.7310585786300049]);
  });

  test('unary on int32 stores the result', () => {
    const out = new Int32Array(3);
    B.unary('neg', new Int32Array([1, -2, 3]), out, 0);
    assert.deepEqual([...out], [-1, 2, -3]);
    B.unary('abs', new Int32Array([-5, 0, 7]), out, 0);
    assert.deepEqual([...out], [5, 0, 7]);
  });

  test('activationGrad: hand values', () => {
    const x = f32([0]);
    const dx = new Float32Array(1);
    const y = new Float32Array(1);
    for (const [op, expected] of [
      ['gelu', 0.5],
      ['sigmoid', 0.25],
      ['tanh', 1],
      ['softplus', 0.5],
      ['softsign', 1],
      ['swish', 0.5],
      ['hardSigmoid', 1 / 6],
      ['relu', 0],
    ] as [ActivationOp, number][]) {
      B.unary(op, x, y, 0);
      B.activationGrad(op, x, y, f32([1]), dx, 0);
      close(dx, [expected], 1e-7, op);
    }
    // elu at -1 with alpha 2: derivative 2*e^-1 = y + alpha
    const xe = f32([-1, 3]);
    const ye = new Float32Array(2);
    const de = new Float32Array(2);
    B.unary('elu', xe, ye, 2);
    B.activationGrad('elu', xe, ye, f32([1, 5]), de, 2);
    close(de, [2 * Math.exp(-1), 5]);
  });

  test('activationGrad matches central finite differences of unary', () => {
    const ops: ActivationOp[] = [
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
    const pts = [-3.7, -2.2, -0.9, -0.3, 0.4, 1.1, 2.5, 4.2, 7];
    const h = 1e-5;
    for (const op of ops) {
      const alpha = 0.3;
      const x = f64(pts);
      const y = f64(pts.length);
      const yp = f64(pts.length);
      const ym = f64(pts.length);
      B.unary(op, x, y, alpha);
      B.unary(op, f64(pts.map((v) => v + h)), yp, alpha);
      B.unary(op, f64(pts.map((v) => v - h)), ym, alpha);
      const dy = f64(pts.map((_, i) => 1 + i / 10));
      const dx = f64(pts.length);
      B.activationGrad(op, x, y, dy, dx, alpha);
      const fd = pts.map((_, i) => (dy[i]! * (yp[i]! - ym[i]!)) / (2 * h));
      close(dx, fd, 1e-6, op);
    }
  });
});

describe('reference backend: binary', () => {
  test('broadcast [2,1,3] + [4,1] -> [2,4,3]', () => {
    const a = f32([0, 1, 2, 3, 4, 5]); // [2,1,3]
    const b = f32([10, 20, 30, 40]); // [4,1]
    const out = new Float32Array(24);
    B.binary('add', a, [3, 0, 1], b, [0, 1, 0], out, [2, 4, 3]);
    close(out, [10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 13, 14, 15, 23, 24, 25, 33, 34, 35, 43, 44, 45]);
  });

  test('rank 0, scalar broadcast and contiguous paths', () => {
    const o1 = new Float32Array(1);
    B.binary('mul', f32([3]), [], f32([4]), [], o1, []);
    close(o1, [12]);
    const o4 = new Float32Array(4);
    B.binary('sub', f32([1, 2, 3, 4]), [2, 1], f32([10]), [0, 0], o4, [2, 2]);
    close(o4, [-9, -8, -7, -6]);
    B.binary('div', f32([10]), [0, 0], f32([1, 2, 4, 5]), [2, 1], o4, [2, 2]);
    close(o4, [10, 5, 2.5, 2]);
    B.binary('squaredDifference', f32([1, 2, 3, 4]), [2, 1], f32([4, 3, 2, 1]), [2, 1], o4, [2, 2]);
    close(o4, [9, 1, 1, 9]);
    // transposed view of b: b^T via strides [1, 2]
    B.binary('sub', f32([0, 0, 0, 0]), [2, 1], f32([1, 2, 3, 4]), [1, 2], o4, [2, 2]);
    close(o4, [-1, -3, -2, -4]);
  });

  test('python-style mod and floorDiv, atan2, pow, max/min', () => {
    const o = new Float32Array(4);
    B.binary('mod', f32([-7, 7, 7, -7]), [1], f32([3, -3, 3, -3]), [1], o, [4]);
    close(o, [2, -2, 1, -1]);
    B.binary('floorDiv', f32([-7, 7, 7, -7]), [1], f32([2, -2, 2, -2]), [1], o, [4]);
    close(o, [-4, -4, 3, 3]);
    B.binary('atan2', f32([1, 1, -1, 0]), [1], f32([1, -1, 0, 1]), [1], o, [4]);
    close(o, [Math.PI / 4, (3 * Math.PI) / 4, -Math.PI / 2, 0]);
    B.binary('pow', f32([2, 9, 4, 0]), [1], f32([3, 0.5, -1, 0]), [1], o, [4]);
    close(o, [8, 3, 0.25, 1]);
    B.binary('maximum', f32([1, Number.NaN, 3, -1]), [1], f32([2, 0, 2, -2]), [1], o, [4]);
    close(o, [2, Number.NaN, 3, -1]);
    const oi = new Int32Array(4);
    B.binary('mod', new Int32Array([-7, 7, 8, -1]), [1], new Int32Array([3, -3, 4, 5]), [1], oi, [4]);
    assert.deepEqual([...oi], [2, -2, 0, 4]);
  });

  test('comparisons and logicals produce 0/1 bools', () => {
    const a = f32([1, 2, 3, Number.NaN]);
    const b = f32([2, 2, 2, Number.NaN]);
    const o = new Uint8Array(4);
    const run = (op: Parameters<typeof B.binary>[0]) => {
      B.binary(op, a, [1], b, [1], o, [4]);
      return [...o];
    };
    assert.deepEqual(run('equal'), [0, 1, 0, 0]);
    assert.deepEqual(run('notEqual'), [1, 0, 1, 1]);
    assert.deepEqual(run('greater'), [0, 0, 1, 0]);
    assert.deepEqual(run('greaterEqual'), [0, 1, 1, 0]);
    assert.deepEqual(run('less'), [1, 0, 0, 0]);
    assert.deepEqual(run('lessEqual'), [1, 1, 0, 0]);
    B.binary('logicalAnd', new Uint8Array([0, 0, 1, 1]), [1], new Uint8Array([0, 1, 0, 1]), [1], o, [4]);
    assert.deepEqual([...o], [0, 0, 0, 1]);
    B.binary('logicalOr', new Uint8Array([0, 0, 1, 1]), [1], new Uint8Array([0, 1, 0, 1]), [1], o, [4]);
    assert.deepEqual([...o], [0, 1, 1, 1]);
  });
});

describe('reference backend: reductions and transpose', () => {
  // x[o, l, i] = o*6 + l*2 + i, shape [2, 3, 2]
  const x = f32([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

  test('reduce over the middle axis', () => {
    const out = new Float32Array(4);
    B.reduce('sum', x, out, 2, 3, 2);
    close(out, [6, 9, 24, 27]);
    B.reduce('max', x, out, 2, 3, 2);
    close(out, [4, 5, 10, 11]);
    B.reduce('min', x, out, 2, 3, 2);
    close(out, [0, 1, 6, 7]);
    B.reduce('prod', x, out, 2, 3, 2);
    close(out, [0, 15, 480, 693]);
  });

  test('empty reductions and NaN', () => {
    const out = new Float32Array(1);
    const empty = new Float32Array(0);
    B.reduce('sum', empty, out, 1, 0, 1);
    close(out, [0]);
    B.reduce('prod', empty, out, 1, 0, 1);
    close(out, [1]);
    B.reduce('max', empty, out, 1, 0, 1);
    close(out, [-Infinity]);
    B.reduce('min', empty, out, 1, 0, 1);
    close(out, [Infinity]);
    B.reduce('max', f32([1, Number.NaN, 3]), out, 1, 3, 1);
    close(out, [Number.NaN]);
    B.reduce('min', f32([Number.NaN, 1, 3]), out, 1, 3, 1);
    close(out, [Number.NaN]);
  });

  test('argMax / argMin', () => {
    const out = new Int32Array(4);
    B.argReduce('argMax', x, out, 2, 3, 2);
    assert.deepEqual([...out], [2, 2, 2, 2]);
    B.argReduce('argMin', x, out, 2, 3, 2);
    assert.deepEqual([...out], [0, 0, 0, 0]);
    const o1 = new Int32Array(1);
    B.argReduce('argMax', f32([1, 3, 3]), o1, 1, 3, 1);
    assert.equal(o1[0], 1);
    B.argReduce('argMin', f32([2, 1, 1]), o1, 1, 3, 1);
    assert.equal(o1[0], 1);
    B.argReduce('argMax', f32([1, Number.NaN, 5, Number.NaN]), o1, 1, 4, 1);
    assert.equal(o1[0], 1);
    B.argReduce('argMin', f32([Number.NaN, 4, 2]), o1, 1, 3, 1);
    assert.equal(o1[0], 2);
  });

  test('transpose perm [2,0,1]', () => {
    // x[a,b,c] = 12a + 4b + c, shape [2,3,4] -> out[i,j,k] = x[j,k,i], shape [4,2,3]
    const src = f32(Array.from({ length: 24 }, (_, i) => i));
    const out = new Float32Array(24);
    B.transpose(src, out, [2, 3, 4], [2, 0, 1]);
    close(out, [0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23]);
    const o6 = new Float32Array(6);
    B.transpose(f32([1, 2, 3, 4, 5, 6]), o6, [2, 3], [1, 0]);
    close(o6, [1, 4, 2, 5, 3, 6]);
  });
});

describe('reference backend: matmul, softmax, cross-entropy', () => {
  // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]], A@B = [[58,64],[139,154]]
  const A = [1, 2, 3, 4, 5, 6];
  const At = [1, 4, 2, 5, 3, 6];
  const Bm = [7, 8, 9, 10, 11, 12];
  const Bt = [7, 9, 11, 8, 10, 12];
  const C = [58, 64, 139, 154];

  test('2x3 @ 3x2 with every transpose combination', () => {
    const out = new Float32Array(4);
    B.matmul(f32(A), f32(Bm), out, 1, 2, 2, 3, false, false, 0, 0);
    close(out, C);
    B.matmul(f32(At), f32(Bm), out, 1, 2, 2, 3, true, false, 0, 0);
    close(out, C);
    B.matmul(f32(A), f32(Bt), out, 1, 2, 2, 3, false, true, 0, 0);
    close(out, C);
    B.matmul(f32(At), f32(Bt), out, 1, 2, 2, 3, true, true, 0, 0);
    close(out, C);
  });

  test('batched with a shared operand', () => {
    const out = new Float32Array(8);
    const a2 = f32([...A, ...A.map((v) => 2 * v)]);
    B.matmul(a2, f32(Bm), out, 2, 2, 2, 3, false, false, 6, 0);
    close(out, [...C, ...C.map((v) => 2 * v)]);
    // 3x2 @ 2x3 (k = 2): [[1,2],[3,4],[5,6]] @ [[1,0,1],[0,1,1]] = [[1,2,3],[3,4,7],[5,6,11]]
    const o9 = new Float32Array(9);
    B.matmul(f32([1, 2, 3, 4, 5, 6]), f32([1, 0, 1, 0, 1, 1]), o9, 1, 3, 3, 2, false, false, 0, 0);
    close(o9, [1, 2, 3, 3, 4, 7, 5, 6, 11]);
  });

  // softmax([1,2,3]) = [e^-2, e^-1, 1] / (1 + e^-1 + e^-2)
  const P = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];
  const LSE = 3.4076059644443806; // log(e + e^2 + e^3)

  test('softmax / logSoftmax rows, stable for large logits', () => {
    const out = new Float32Array(6);
    B.softmax(f32([1, 2, 3, 1001, 1002, 1003]), out, 2, 3);
    close(out, [...P, ...P]);
    B.logSoftmax(f32([1, 2, 3, 1001, 1002, 1003]), out, 2, 3);
    close(out, [1 - LSE, 2 - LSE, 3 - LSE, 1 - LSE, 2 - LSE, 3 - LSE], 1e-6);
  });

  test('sparseSoftmaxCrossEntropy loss and gradient', () => {
    const loss = new Float32Array(2);
    const d = new Float32Array(6);
    B.sparseSoftmaxCrossEntropy(f32([1, 2, 3, 0, 0, 0]), new Int32Array([0, 2]), loss, d, 2, 3);
    close(loss, [LSE - 1, Math.log(3)]);
    close(d, [P[0]! - 1, P[1]!, P[2]!, 1 / 3, 1 / 3, 1 / 3 - 1]);
    const loss2 = new Float32Array(2);
    B.sparseSoftmaxCrossEntropy(f32([1, 2, 3, 0, 0, 0]), new Int32Array([1, 1]), loss2, null, 2, 3);
    close(loss2, [LSE - 2, Math.log(3)]);
  });
});

describe('reference backend: convolution', () => {
  // x: 1x4x4x1 with values 1..16; 'same', 3x3, stride 2 -> 2x2 output, padTop = padLeft = 0
  // (TF puts the single padding row/column at the bottom/right).
  const x = f32(Array.from({ length: 16 }, (_, i) => i + 1));
  const g: Conv2dGeometry = {
    batch: 1,
    inH: 4,
    inW: 4,
    inC: 1,
    outH: 2,
    outW: 2,
    outC: 3,
    kH: 3,
    kW: 3,
    strideH: 2,
    strideW: 2,
    dilationH: 1,
    dilationW: 1,
    padTop: 0,
    padLeft: 0,
  };
  // out channel 0: all-ones filter; 1: centre tap; 2: bottom-right tap * 10. w index (ky*3+kx)*3 + oc
  const w = new Float32Array(27);
  for (let t = 0; t < 9; t++) w[t * 3] = 1;
  w[4 * 3 + 1] = 1;
  w[8 * 3 + 2] = 10;

  test('conv2d same, stride 2, by hand', () => {
    const out = new Float32Array(12);
    B.conv2d(x, w, out, g);
    // ch0: window sums 1+2+3+5+6+7+9+10+11, 3+4+7+8+11+12, 9+10+11+13+14+15, 11+12+15+16
    // ch1: x[1,1], x[1,3], x[3,1], x[3,3]; ch2: 10*x[2,2], then padding
    close(out, [54, 6, 110, 45, 8, 0, 72, 14, 0, 54, 16, 0]);
  });

  test('conv2d backprops by hand', () => {
    const dy = f32([1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]); // ones on channel 0
    const dx = new Float32Array(16).fill(99);
    B.conv2dBackpropInput(dy, w, dx, g);
    // each cell counts the windows covering it: rows/cols covered [1,1,2,1]
    close(dx, [1, 1, 2, 1, 1, 1, 2, 1, 2, 2, 4, 2, 1, 1, 2, 1]);
    const dw = new Float32Array(27).fill(99);
    B.conv2dBackpropFilter(x, dy, dw, g);
    close([dw[0]!, dw[4 * 3]!, dw[8 * 3]!, dw[1]!, dw[8 * 3 + 2]!], [1 + 3 + 9 + 11, 6 + 8 + 14 + 16, 11, 0, 0]);
  });

  function randomGeometry(r: () => number, i: number): Conv2dGeometry {
    const pick = (lo: number, hi: number) => lo + Math.floor((r() + 0.5) * (hi - lo + 1));
    const kH = pick(1, 3);
    const kW = pick(1, 3);
    const strideH = pick(1, 3);
    const strideW = pick(1, 2);
    const dilationH = i % 2 === 0 ? 1 : pick(1, 2);
    const dilationW = i % 3 === 0 ? 1 : pick(1, 2);
    const inH = pick(3, 7);
    const inW = pick(3, 7);
    const padTop = pick(0, 2);
    const padLeft = pick(0, 2);
    const outH = Math.floor((inH + padTop + pick(0, 2) - ((kH - 1) * dilationH + 1)) / strideH) + 1;
    const outW = Math.floor((inW + padLeft + pick(0, 2) - ((kW - 1) * dilationW + 1)) / strideW) + 1;
    return {
      batch: pick(1, 2),
      inH,
      inW,
      inC: pick(1, 3),
      outH: Math.max(outH, 1),
      outW: Math.max(outW, 1),
      outC: pick(1, 3),
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

  test('backprops are the adjoints of conv2d (random geometries)', () => {
    const r = rng(7);
    for (let t = 0; t < 40; t++) {
      const g2 = randomGeometry(r, t);
      const xs = randArray(g2.batch * g2.inH * g2.inW * g2.inC, r);
      const ws = randArray(g2.kH * g2.kW * g2.inC * g2.outC, r);
      const dys = randArray(g2.batch * g2.outH * g2.outW * g2.outC, r);
      const y = f64(dys.length);
      B.conv2d(xs, ws, y, g2);
      const dx = f64(xs.length);
      B.conv2dBackpropInput(dys, ws, dx, g2);
      const dw = f64(ws.length);
      B.conv2dBackpropFilter(xs, dys, dw, g2);
      const lhs = dot(y, dys);
      assert.ok(Math.abs(lhs - dot(xs, dx)) < 1e-10, `input adjoint ${JSON.stringify(g2)}`);
      assert.ok(Math.abs(lhs - dot(ws, dw)) < 1e-10, `filter adjoint ${JSON.stringify(g2)}`);
    }
  });

  test('depthwise equals conv2d with a block-diagonal filter, and its backprops are adjoints', () => {
    const r = rng(11);
    for (let t = 0; t < 30; t++) {
      const base = randomGeometry(r, t);
      const M = 1 + (t % 3);
      const dg: DepthwiseGeometry = { ...base, outC: base.inC * M, multiplier: M };
      const { kH, kW, inC } = dg;
      const xs = randArray(dg.batch * dg.inH * dg.inW * inC, r);
      const wd = randArray(kH * kW * inC * M, r);
      // full filter [kH,kW,C,C*M]: W[ky,kx,c,c*M+m] = wd[ky,kx,c,m], zero elsewhere
      const wf = f64(kH * kW * inC * inC * M);
      for (let tap = 0; tap < kH * kW; tap++)
        for (let c = 0; c < inC; c++)
          for (let m = 0; m < M; m++) wf[(tap * inC + c) * inC * M + c * M + m] = wd[(tap * inC + c) * M + m]!;
      const n = dg.batch * dg.outH * dg.outW * dg.outC;
      const yd = f64(n);
      const yf = f64(n);
      B.depthwiseConv2d(xs, wd, yd, dg);
      B.conv2d(xs, wf, yf, dg);
      close(yd, yf, 1e-12, 'depthwise forward');

      const dys = randArray(n, r);
      const dx = f64(xs.length);
      const dxf = f64(xs.length);
      B.depthwiseConv2dBackpropInput(dys, wd, dx, dg);
      B.conv2dBackpropInput(dys, wf, dxf, dg);
      close(dx, dxf, 1e-12, 'depthwise backprop input');
      const dw = f64(wd.length);
      B.depthwiseConv2dBackpropFilter(xs, dys, dw, dg);
      assert.ok(Math.abs(dot(yd, dys) - dot(wd, dw)) < 1e-10, 'depthwise filter adjoint');
    }
  });
});

describe('reference backend: pooling', () => {
  // x 1x3x3x1:
  //  1 5 2
  //  7 3 9
  //  4 8 6
  const x = f32([1, 5, 2, 7, 3, 9, 4, 8, 6]);
  const same: Pool2dGeometry = {
    batch: 1,
    inH: 3,
    inW: 3,
    channels: 1,
    outH: 2,
    outW: 2,
    poolH: 2,
    poolW: 2,
    strideH: 2,
    strideW: 2,
    padTop: 0,
    padLeft: 0,
  };

  test('maxPool2d with padding at bottom/right and at top/left', () => {
    const out = new Float32Array(4);
    const arg = new Int32Array(4);
    B.maxPool2d(x, out, arg, same);
    close(out, [7, 9, 8, 6]);
    assert.deepEqual([...arg], [3, 5, 7, 8]);
    B.maxPool2d(x, out, arg, { ...same, padTop: 1, padLeft: 1 });
    close(out, [1, 5, 7, 9]);
    assert.deepEqual([...arg], [0, 1, 3, 5]);
  });

  test('maxPool2d: all-padding window, ties, multi-channel', () => {
    const out = new Float32Array(2);
    const arg = new Int32Array(2);
    const g1: Pool2dGeometry = {
      ...same,
      inH: 1,
      inW: 1,
      outH: 2,
      outW: 1,
      poolH: 1,
      poolW: 1,
      strideH: 1,
      strideW: 1,
      padTop: 1,
    };
    B.maxPool2d(f32([-5]), out, arg, g1);
    close(out, [0, -5]);
    assert.deepEqual([...arg], [-1, 0]);
    // [1,1,2,2] input, channels interleaved: ch0 = [3,3] (tie -> first), ch1 = [-1,-2]
    const g2: Pool2dGeometry = { ...same, inH: 1, inW: 2, channels: 2, outH: 1, outW: 1, poolH: 1, poolW: 2 };
    B.maxPool2d(f32([3, -1, 3, -2]), out, arg, g2);
    close(out, [3, -1]);
    assert.deepEqual([...arg], [0, 1]);
  });

  test('maxPool2dBackward scatters to argmax', () => {
    const dx = new Float32Array(9).fill(7);
    B.maxPool2dBackward(f32([1, 2, 3, 4]), new Int32Array([3, 5, 3, -1]), dx, same);
    close(dx, [0, 0, 0, 4, 0, 2, 0, 0, 0]);
  });

  test('avgPool2d counts valid cells only, and its backward', () => {
    const out = new Float32Array(4);
    B.avgPool2d(x, out, same);
    close(out, [(1 + 5 + 7 + 3) / 4, (2 + 9) / 2, (4 + 8) / 2, 6]);
    const dx = new Float32Array(9).fill(7);
    B.avgPool2dBackward(f32([1, 1, 1, 1]), dx, same);
    close(dx, [0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
    // overlapping 2x2 windows, stride 1: cell (1,1) is in all four windows
    const g: Pool2dGeometry = { ...same, strideH: 1, strideW: 1 };
    B.avgPool2dBackward(f32([4, 4, 4, 4]), dx, g);
    close(dx, [1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });
});

describe('reference backend: optimizers', () => {
  test('sgd plain, momentum, nesterov', () => {
    const p = f32([1]);
    B.sgdUpdate(p, f32([2]), null, 0.1, 0, false);
    close(p, [0.8]);
    const q = f32([1]);
    const v = f32([0]);
    B.sgdUpdate(q, f32([1]), v, 0.1, 0.9, false);
    close(q, [0.9]);
    close(v, [-0.1]);
    B.sgdUpdate(q, f32([1]), v, 0.1, 0.9, false);
    close(v, [-0.19]); // 0.9 * -0.1 - 0.1
    close(q, [0.71]);
    const r = f32([1]);
    const vn = f32([0]);
    B.sgdUpdate(r, f32([1]), vn, 0.1, 0.9, true);
    close(vn, [-0.1]);
    close(r, [0.81]); // 1 + 0.9 * -0.1 - 0.1
  });

  test('adam one step vs hand computation', () => {
    // g = 0.5, lr = 0.1: m = 0.05, v = 0.00025, alpha = lr*sqrt(1-0.999)/(1-0.9) = sqrt(0.001)
    // step = sqrt(0.001)*0.05/(sqrt(0.00025)+1e-7) = 0.1 * 0.0158113883/0.0158114883 = 0.0999993675
    const p = f32([1, -2]);
    const m = f32([0, 0]);
    const v = f32([0, 0]);
    const hp = { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 1, weightDecay: 0 };
    B.adamUpdate(p, f32([0.5, -0.5]), m, v, hp);
    close(m, [0.05, -0.05]);
    close(v, [0.00025, 0.00025]);
    close(p, [0.9000006325, -1.9000006325], 2e-7);
    // AdamW: decay first: 1 - 1*0.01*0.1 = 0.999, then the same step
    const pw = f32([1]);
    B.adamUpdate(pw, f32([0.5]), f32([0]), f32([0]), { ...hp, weightDecay: 0.01 });
    close(pw, [0.8990006325], 2e-7);
    // second step with zero gradient: m = 0.045, v = 0.00024975,
    // alpha = 0.1*sqrt(1-0.999^2)/(1-0.81) = 0.1*0.04471018/0.19 = 0.02353167
    B.adamUpdate(p, f32([0, 0]), m, v, { ...hp, step: 2 });
    const alpha2 = (0.1 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.9 ** 2);
    const step2 = (alpha2 * 0.045) / (Math.sqrt(0.00024975) + 1e-7);
    close(p, [0.9000006325 - step2, -1.9000006325 + step2], 2e-7);
  });
});

/**
 * conv2dMaxPoolInference (one fused native pass) against the three ops it replaces:
 * act(biasAdd(maxPool2d(conv2d(x, w)), b)). Bit for bit, over random geometries, channel counts
 * that are and are not multiples of the vector width, NaN, -0 and all-negative windows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hasNativeBackend } from '../../src/backend/index.js';
import { loadNativeAddon } from '../../src/backend/native.js';
import { relu } from '../../src/ops/activations.js';
import { biasAdd } from '../../src/ops/bias.js';
import { conv2d } from '../../src/ops/conv.js';
import { conv2dMaxPoolInference, setWinogradInference } from '../../src/ops/conv-pool.js';
import { maxPool2d } from '../../src/ops/pool.js';
import { noGrad } from '../../src/tensor/engine.js';
import { Random } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

function values(n: number, seed: number, specials: boolean): Float32Array {
  const r = new Random(seed);
  const v = Float32Array.from({ length: n }, () => r.next() * 2 - 1);
  if (specials && n > 4) {
    v[(seed * 7) % n] = Number.NaN;
    v[(seed * 13 + 1) % n] = -0;
  }
  return v;
}

describe('conv2dMaxPoolInference', { skip: !hasNativeBackend() && 'the native addon is not built' }, () => {
  it('is bit-identical to conv2d -> maxPool2d -> biasAdd(+relu), on every ISA path (portable, AVX2, best)', () => {
    const addon = loadNativeAddon();
    try {
      for (const isa of [1, 2, 0]) {
        addon?.forceIsa(isa);
        property(isa === 0 ? 300 : 60);
      }
    } finally {
      addon?.forceIsa(0);
    }
  });

  it('is bit-identical in the first-layer case (1 channel into a 2x2 / stride-2 pool, pooled in registers)', () => {
    const addon = loadNativeAddon();
    try {
      for (const isa of [2, 0]) {
        addon?.forceIsa(isa);
        property(150, { c: 1, pool: 2, poolStride: 2 });
      }
    } finally {
      addon?.forceIsa(0);
    }
  });

  function property(numRuns: number, fixed: { c?: number; pool?: number; poolStride?: number } = {}) {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 5 }),
          h: fc.integer({ min: 3, max: 12 }),
          w: fc.integer({ min: 3, max: 12 }),
          c: fixed.c === undefined ? fc.constantFrom(1, 3, 8) : fc.constant(fixed.c),
          oc: fc.constantFrom(5, 16, 20, 32, 40),
          k: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          padding: fc.constantFrom('valid' as const, 'same' as const),
          pool: fixed.pool === undefined ? fc.integer({ min: 1, max: 3 }) : fc.constant(fixed.pool),
          poolStride: fixed.poolStride === undefined ? fc.integer({ min: 1, max: 3 }) : fc.constant(fixed.poolStride),
          poolPadding: fc.constantFrom('valid' as const, 'same' as const),
          bias: fc.boolean(),
          act: fc.constantFrom('relu' as const, 'linear' as const),
          specials: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1000 }),
        }),
        (p) => {
          const x = new Tensor(values(p.n * p.h * p.w * p.c, p.seed, p.specials), [p.n, p.h, p.w, p.c], 'float32');
          const f = new Tensor(values(p.k * p.k * p.c * p.oc, p.seed + 1, false), [p.k, p.k, p.c, p.oc], 'float32');
          // A filter that needs a gradient makes the reference pooling the training kernel (with
          // argmax), not the inference pooling the fused kernel shares.
          f.requiresGrad = true;
          const b = p.bias ? new Tensor(values(p.oc, p.seed + 2, false), [p.oc], 'float32') : null;
          const convOpts = { strides: p.stride, padding: p.padding };
          const poolOpts = { poolSize: p.pool, strides: p.poolStride, padding: p.poolPadding };
          const y = conv2d(x, f, convOpts);
          if (p.poolPadding === 'valid' && (y.shape[1]! < p.pool || y.shape[2]! < p.pool)) return;
          const pooled = maxPool2d(y, poolOpts);
          const want = b ? biasAdd(pooled, b, { activation: p.act }) : p.act === 'relu' ? relu(pooled) : pooled;
          const got = noGrad(() => conv2dMaxPoolInference(x, f, b, p.act, convOpts, poolOpts));
          assert.ok(got, 'the native backend has the fused kernel');
          assert.deepEqual(got.shape, want.shape);
          const g = got.dataSync();
          const e = want.dataSync();
          for (let i = 0; i < e.length; i++) {
            if (!Object.is(g[i], e[i]))
              assert.fail(`element ${i}: fused ${g[i]} vs ops ${e[i]} (${JSON.stringify(p)})`);
          }
        },
      ),
      { numRuns, seed: 11 },
    );
  }

  it('with Winograd: 3x3 convolutions equal the ops to rounding, and an image gives the same bits in any batch', () => {
    const addon = loadNativeAddon();
    setWinogradInference(true);
    try {
      for (const isa of [1, 2, 0]) {
        addon?.forceIsa(isa);
        for (const [n, h, w, c, oc, padding, pool] of [
          [7, 13, 13, 32, 64, 'valid', 2], // the pool reads 10x10 of the 11x11 output: F(5x5), 2x2 tiles
          [3, 9, 12, 8, 20, 'same', 2],
          [2, 6, 7, 13, 9, 'valid', 1],
          [2, 10, 10, 16, 16, 'valid', 1], // 8x8: F(4x4), 2x2 tiles
          [2, 15, 15, 16, 8, 'valid', 1], // 13x13: F(5x5), 3x3 tiles, the last ones partial
          [2, 14, 13, 16, 16, 'valid', 1], // 12x11: F(4x4), the last column of tiles partial
          [5, 10, 10, 16, 16, 'same', 3],
          [3, 5, 9, 16, 24, 'valid', 1], // a 3-row output: F(2x2)
          [2, 4, 4, 24, 16, 'same', 2],
        ] as const) {
          const x = new Tensor(values(n * h * w * c, n + h, true), [n, h, w, c], 'float32');
          const f = new Tensor(values(9 * c * oc, c + oc, false), [3, 3, c, oc], 'float32');
          const b = new Tensor(values(oc, oc, false), [oc], 'float32');
          const poolOpts = { poolSize: pool, strides: pool };
          const want = biasAdd(maxPool2d(conv2d(x, f, { padding }), poolOpts), b, { activation: 'relu' }).dataSync();
          const got = noGrad(() => conv2dMaxPoolInference(x, f, b, 'relu', { padding }, poolOpts))!.dataSync();
          assert.equal(got.length, want.length);
          let differs = 0;
          let scale = 0;
          for (const e of want) if (Number.isFinite(e)) scale = Math.max(scale, Math.abs(e));
          for (let i = 0; i < want.length; i++) {
            const e = want[i]!;
            if (Number.isNaN(e)) {
              assert.ok(Number.isNaN(got[i]!), `element ${i}: NaN expected`);
              continue;
            }
            if (!Object.is(got[i], e)) differs++;
            // Winograd rounds like a sum over its tile: bounded relative to the outputs' scale
            assert.ok(
              Math.abs(got[i]! - e) <= 1e-5 * scale,
              `element ${i}: ${got[i]} vs ${e} (scale ${scale}, isa ${isa})`,
            );
          }
          if (c >= 16) assert.ok(differs > 0, 'the Winograd path ran (some values differ by rounding)');
          // Each image alone gives the bits it got in the batch.
          const per = got.length / n;
          for (let k = 0; k < n; k++) {
            const xk = new Tensor(x.dataSync().slice(k * h * w * c, (k + 1) * h * w * c), [1, h, w, c], 'float32');
            const alone = noGrad(() => conv2dMaxPoolInference(xk, f, b, 'relu', { padding }, poolOpts))!.dataSync();
            for (let i = 0; i < per; i++)
              if (!Object.is(alone[i], got[k * per + i]))
                assert.fail(`image ${k} element ${i}: alone ${alone[i]} vs batched ${got[k * per + i]}`);
          }
        }
      }
    } finally {
      addon?.forceIsa(0);
      setWinogradInference(false);
    }
  });

  it('with Winograd: any pooling (size, stride, padding) of the cropped convolution equals the ops to rounding', () => {
    // Winograd computes only the conv rows and columns some pooling window reads; overlapping,
    // strided and padded ('same') windows must still see every value they need.
    setWinogradInference(true);
    try {
      fc.assert(
        fc.property(
          fc.record({
            n: fc.integer({ min: 1, max: 3 }),
            h: fc.integer({ min: 5, max: 16 }),
            w: fc.integer({ min: 5, max: 16 }),
            c: fc.constantFrom(8, 16, 19),
            oc: fc.constantFrom(8, 16, 32, 40),
            padding: fc.constantFrom('valid' as const, 'same' as const),
            pool: fc.integer({ min: 1, max: 4 }),
            poolStride: fc.integer({ min: 1, max: 4 }),
            poolPadding: fc.constantFrom('valid' as const, 'same' as const),
            seed: fc.integer({ min: 1, max: 1000 }),
          }),
          (p) => {
            const x = new Tensor(values(p.n * p.h * p.w * p.c, p.seed, false), [p.n, p.h, p.w, p.c], 'float32');
            const f = new Tensor(values(9 * p.c * p.oc, p.seed + 1, false), [3, 3, p.c, p.oc], 'float32');
            const b = new Tensor(values(p.oc, p.seed + 2, false), [p.oc], 'float32');
            const convOpts = { padding: p.padding };
            const poolOpts = { poolSize: p.pool, strides: p.poolStride, padding: p.poolPadding };
            const y = conv2d(x, f, convOpts);
            if (p.poolPadding === 'valid' && (y.shape[1]! < p.pool || y.shape[2]! < p.pool)) return;
            const want = biasAdd(maxPool2d(y, poolOpts), b, { activation: 'linear' }).dataSync();
            const got = noGrad(() => conv2dMaxPoolInference(x, f, b, 'linear', convOpts, poolOpts))!.dataSync();
            assert.equal(got.length, want.length);
            let scale = 0;
            for (const e of want) scale = Math.max(scale, Math.abs(e));
            for (let i = 0; i < want.length; i++) {
              if (!(Math.abs(got[i]! - want[i]!) <= 1e-5 * scale))
                assert.fail(`element ${i}: ${got[i]} vs ${want[i]} (${JSON.stringify(p)})`);
            }
          },
        ),
        { numRuns: 150, seed: 5 },
      );
    } finally {
      setWinogradInference(false);
    }
  });

  it('with Winograd: filters changed in place are transformed anew (the transform cache checks values)', () => {
    setWinogradInference(true);
    try {
      const [n, h, c, oc] = [2, 13, 16, 32];
      const x = new Tensor(values(n * h * h * c, 3, false), [n, h, h, c], 'float32');
      const f = new Tensor(values(9 * c * oc, 4, false), [3, 3, c, oc], 'float32');
      const run = () => noGrad(() => conv2dMaxPoolInference(x, f, null, 'relu', {}, { poolSize: 2 }))!.dataSync();
      const direct = () => relu(maxPool2d(conv2d(x, f), { poolSize: 2 })).dataSync();
      const close = (got: Float32Array | ArrayLike<number>, want: ArrayLike<number>, what: string) => {
        let scale = 0;
        for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
        assert.ok(scale > 0);
        for (let i = 0; i < want.length; i++)
          assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-5 * scale, `${what}: element ${i}: ${got[i]} vs ${want[i]}`);
      };
      const first = run().slice();
      close(first, direct(), 'first call');
      assert.deepEqual(run(), first, 'a second call with the same filters gives the same bits');
      // One weight, then all of them, changed in the same buffer.
      const data = f.dataSync() as Float32Array;
      data[5] = (data[5] as number) + 0.5;
      close(run(), direct(), 'after one weight changed');
      for (let i = 0; i < data.length; i++) data[i] = -(data[i] as number);
      const negated = run();
      close(negated, direct(), 'after every weight changed');
      assert.notDeepEqual(Array.from(negated), Array.from(first));
    } finally {
      setWinogradInference(false);
    }
  });

  it('declines when a gradient could flow, so training keeps its backward', () => {
    const x = new Tensor(values(2 * 6 * 6, 5, false), [2, 6, 6, 1], 'float32');
    const f = new Tensor(values(9 * 4, 6, false), [3, 3, 1, 4], 'float32');
    f.requiresGrad = true;
    assert.equal(conv2dMaxPoolInference(x, f, null, 'relu', {}, { poolSize: 2 }), null);
    assert.ok(noGrad(() => conv2dMaxPoolInference(x, f, null, 'relu', {}, { poolSize: 2 })));
  });
});

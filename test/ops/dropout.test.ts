import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropout, grad, ones, randomUniform, ShapeError, setSeed, sum, tensor, ValueError } from 'tessera';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

describe('dropout', () => {
  it('zeroes about `rate` of the values and scales the rest by 1 / (1 - rate)', () => {
    const n = 20000;
    const rate = 0.3;
    const y = dropout(ones([n]), rate, { seed: 1 });
    assert.deepEqual(y.shape, [n]);
    let zeros = 0;
    let total = 0;
    for (const v of y.dataSync()) {
      if (v === 0) zeros++;
      else assert.ok(Math.abs(v - 1 / (1 - rate)) < 1e-6, `kept value ${v}`);
      total += v;
    }
    assert.ok(Math.abs(zeros / n - rate) < 0.015, `dropped fraction ${zeros / n}`);
    assert.ok(Math.abs(total / n - 1) < 0.03, `mean ${total / n}, expected about 1`);
  });

  it('keeps the mean of arbitrary values', () => {
    const x = randomUniform([100, 100], { minval: 1, maxval: 3, seed: 2 });
    const y = dropout(x, 0.5, { seed: 3 });
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean(y.dataSync()) - mean(x.dataSync())) < 0.06);
  });

  it('same seed, same mask; different seed, different mask; setSeed makes unseeded calls reproducible', () => {
    const x = randomUniform([64], { seed: 4 });
    assert.deepEqual(dropout(x, 0.5, { seed: 9 }).dataSync(), dropout(x, 0.5, { seed: 9 }).dataSync());
    assert.notDeepEqual(dropout(x, 0.5, { seed: 9 }).dataSync(), dropout(x, 0.5, { seed: 10 }).dataSync());
    setSeed(42);
    const a = dropout(x, 0.5).dataSync();
    setSeed(42);
    assert.deepEqual(dropout(x, 0.5).dataSync(), a);
  });

  it('rate 0 returns x itself; bad rates throw', () => {
    const x = tensor([1, 2, 3]);
    assert.equal(dropout(x, 0), x);
    for (const r of [1, -0.1, 1.5, Number.NaN]) {
      assert.throws(() => dropout(x, r), { name: 'ValueError', message: /dropout expected rate in \[0, 1\)/ });
    }
    assert.throws(() => dropout(x, '0.5' as unknown as number), ValueError);
  });

  it('noiseShape broadcasts one mask value over the size-1 dims', () => {
    const y = dropout(ones([50, 8]), 0.5, { seed: 5, noiseShape: [50, 1] });
    const d = y.dataSync();
    for (let r = 0; r < 50; r++) {
      const row = Array.from(d.slice(r * 8, r * 8 + 8));
      assert.ok(
        row.every((v) => v === row[0]),
        `row ${r} is not constant: ${row}`,
      );
      assert.ok(row[0] === 0 || row[0] === 2);
    }
    const z = dropout(ones([4, 3, 6]), 0.5, { seed: 6, noiseShape: [null, 1, null] });
    assert.deepEqual(z.shape, [4, 3, 6]);
    assert.throws(() => dropout(ones([4, 3]), 0.5, { noiseShape: [4, 2] }), {
      name: 'ShapeError',
      message: /dropout expected noiseShape of rank 2.*\[4, 3\].*\[4,2\]/,
    });
    assert.throws(() => dropout(ones([4, 3]), 0.5, { noiseShape: [4] }), ShapeError);
  });

  it('gradient is the same mask', () => {
    const x = randomUniform([5, 7], { minval: 0.5, maxval: 1.5, seed: 7 });
    const y = dropout(x, 0.4, { seed: 8 });
    const g = grad((t) => sum(dropout(t, 0.4, { seed: 8 })))(x);
    const yd = y.dataSync();
    const xd = x.dataSync();
    assertClose(
      g.dataSync(),
      Array.from(yd, (v, i) => v / (xd[i] as number)),
      1e-5,
    );
    gradCheck((t) => dropout(t, 0.4, { seed: 8 }), [x]);
    gradCheck((t) => dropout(t, 0.5, { seed: 11, noiseShape: [1, 7] }), [x]);
  });

  it('chainable', () => {
    assert.deepEqual(ones([10]).dropout(0.5, { seed: 1 }).dataSync(), dropout(ones([10]), 0.5, { seed: 1 }).dataSync());
  });
});

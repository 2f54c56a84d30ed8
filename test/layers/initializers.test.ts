import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  computeFans,
  GlorotUniform,
  getInitializer,
  initializers,
  Orthogonal,
  serializeInitializer,
  VarianceScaling,
} from '../../src/layers/index.js';

function stats(d: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    s += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = s / d.length;
  let v2 = 0;
  for (let i = 0; i < d.length; i++) v2 += ((d[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(v2 / d.length), min, max };
}

describe('fans', () => {
  test('Keras fan computation for dense, conv and vector shapes', () => {
    assert.deepEqual(computeFans([100, 30]), [100, 30]);
    assert.deepEqual(computeFans([3, 3, 16, 32]), [144, 288]);
    assert.deepEqual(computeFans([5, 4, 8]), [20, 40]);
    assert.deepEqual(computeFans([7]), [7, 7]);
    assert.deepEqual(computeFans([]), [1, 1]);
  });
});

describe('variance scaling presets', () => {
  test('glorotUniform is within sqrt(6 / (fanIn + fanOut)) and fills the range uniformly', () => {
    const w = initializers.glorotUniform({ seed: 1 }).init([200, 100], 'float32');
    const limit = Math.sqrt(6 / 300);
    const s = stats(w.dataSync());
    assert.ok(s.max <= limit && s.min >= -limit, `range [${s.min}, ${s.max}] vs ±${limit}`);
    assert.ok(s.max > 0.98 * limit && s.min < -0.98 * limit);
    assert.ok(Math.abs(s.std - limit / Math.sqrt(3)) < 0.01 * limit, `std ${s.std}`);
    assert.ok(Math.abs(s.mean) < 0.01);
  });

  test('glorotUniform on a conv kernel uses receptive-field fans', () => {
    const w = new GlorotUniform({ seed: 3 }).init([3, 3, 8, 16], 'float32');
    const limit = Math.sqrt(6 / (72 + 144));
    const s = stats(w.dataSync());
    assert.ok(s.max <= limit && s.max > 0.95 * limit);
  });

  test('heNormal: truncated normal with stddev sqrt(2 / fanIn), cut at 2 stddev of the untruncated draw', () => {
    const fanIn = 256;
    const w = initializers.heNormal({ seed: 2 }).init([fanIn, 200], 'float32');
    const s = stats(w.dataSync());
    const target = Math.sqrt(2 / fanIn);
    assert.ok(Math.abs(s.std - target) < 0.03 * target, `std ${s.std} vs ${target}`);
    const cut = (2 * target) / 0.8796256610342398;
    assert.ok(s.max <= cut + 1e-6 && s.min >= -cut - 1e-6);
  });

  test('heUniform, lecunUniform, lecunNormal and glorotNormal variances', () => {
    const cases: [string, number][] = [
      ['heUniform', 2 / 400],
      ['lecunUniform', 1 / 400],
      ['lecunNormal', 1 / 400],
      ['glorotNormal', 2 / 700],
    ];
    for (const [name, variance] of cases) {
      const init = getInitializer({ className: name, config: { seed: 5 } });
      const s = stats(init.init([400, 300], 'float32').dataSync());
      assert.ok(Math.abs(s.std - Math.sqrt(variance)) < 0.03 * Math.sqrt(variance), `${name} std ${s.std}`);
    }
  });

  test('seeds are reproducible; different seeds differ', () => {
    const a = initializers.glorotUniform({ seed: 9 }).init([4, 5], 'float32').dataSync();
    const b = initializers.glorotUniform({ seed: 9 }).init([4, 5], 'float32').dataSync();
    const c = initializers.glorotUniform({ seed: 10 }).init([4, 5], 'float32').dataSync();
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.notDeepEqual(Array.from(a), Array.from(c));
  });

  test('VarianceScaling accepts Keras snake_case modes and validates', () => {
    const v = new VarianceScaling({ scale: 2, mode: 'fan_out', distribution: 'untruncated_normal', seed: 1 });
    assert.equal(v.mode, 'fanOut');
    assert.equal(v.distribution, 'untruncatedNormal');
    const s = stats(v.init([100, 400], 'float32').dataSync());
    assert.ok(Math.abs(s.std - Math.sqrt(2 / 400)) < 0.03 * Math.sqrt(2 / 400));
    assert.throws(() => new VarianceScaling({ mode: 'fan_sideways' as never }), /VarianceScaling expected mode/);
  });
});

describe('simple initializers', () => {
  test('zeros, ones, constant', () => {
    assert.deepEqual(Array.from(initializers.zeros().init([3], 'float32').dataSync()), [0, 0, 0]);
    assert.deepEqual(Array.from(initializers.ones().init([2], 'float32').dataSync()), [1, 1]);
    assert.deepEqual(Array.from(initializers.constant({ value: 0.5 }).init([2], 'float32').dataSync()), [0.5, 0.5]);
  });

  test('randomUniform / randomNormal / truncatedNormal use Keras defaults (±0.05, stddev 0.05)', () => {
    const u = stats(initializers.randomUniform({ seed: 1 }).init([5000], 'float32').dataSync());
    assert.ok(u.min >= -0.05 && u.max <= 0.05 && u.max > 0.049);
    const n = stats(initializers.randomNormal({ seed: 1 }).init([20000], 'float32').dataSync());
    assert.ok(Math.abs(n.std - 0.05) < 0.002);
    const t = stats(initializers.truncatedNormal({ seed: 1, stddev: 1 }).init([20000], 'float32').dataSync());
    assert.ok(t.min >= -2 && t.max <= 2 && t.max > 1.9);
  });
});

describe('orthogonal', () => {
  function gram(d: ArrayLike<number>, rows: number, cols: number, overCols: boolean): number[][] {
    const n = overCols ? cols : rows;
    const g: number[][] = [];
    for (let a = 0; a < n; a++) {
      g.push([]);
      for (let b = 0; b < n; b++) {
        let s = 0;
        const len = overCols ? rows : cols;
        for (let k = 0; k < len; k++) {
          const x = overCols ? (d[k * cols + a] as number) : (d[a * cols + k] as number);
          const y = overCols ? (d[k * cols + b] as number) : (d[b * cols + k] as number);
          s += x * y;
        }
        (g[a] as number[]).push(s);
      }
    }
    return g;
  }

  test('tall kernel: W^T W = I', () => {
    const w = new Orthogonal({ seed: 4 }).init([12, 5], 'float32').dataSync();
    const g = gram(w, 12, 5, true);
    for (let a = 0; a < 5; a++)
      for (let b = 0; b < 5; b++) assert.ok(Math.abs((g[a]?.[b] ?? 0) - (a === b ? 1 : 0)) < 1e-5);
  });

  test('wide kernel: W W^T = I; gain scales; conv kernels flatten to [prod(shape[:-1]), out]', () => {
    const w = new Orthogonal({ seed: 4, gain: 2 }).init([3, 8], 'float32').dataSync();
    const g = gram(w, 3, 8, false);
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) assert.ok(Math.abs((g[a]?.[b] ?? 0) - (a === b ? 4 : 0)) < 1e-4);
    const k = new Orthogonal({ seed: 1 }).init([2, 2, 3, 4], 'float32').dataSync();
    const gk = gram(k, 12, 4, true);
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 4; b++) assert.ok(Math.abs((gk[a]?.[b] ?? 0) - (a === b ? 1 : 0)) < 1e-5);
  });
});

describe('getInitializer', () => {
  test('accepts camelCase, snake_case, class names, instances and serialised objects', () => {
    assert.equal(getInitializer('glorot_uniform').className, 'GlorotUniform');
    assert.equal(getInitializer('glorotUniform').className, 'GlorotUniform');
    assert.equal(getInitializer('HeNormal').className, 'HeNormal');
    assert.equal(getInitializer('he_normal').className, 'HeNormal');
    assert.equal(getInitializer('zeros').className, 'Zeros');
    assert.equal(getInitializer('truncated_normal').className, 'TruncatedNormal');
    const inst = initializers.orthogonal();
    assert.equal(getInitializer(inst), inst);
    const c = getInitializer({ className: 'Constant', config: { value: 3 } });
    assert.deepEqual(Array.from(c.init([1], 'float32').dataSync()), [3]);
  });

  test('serialise -> resolve round trip keeps the config', () => {
    const s = serializeInitializer(initializers.randomNormal({ mean: 1, stddev: 2, seed: 7 }));
    assert.deepEqual(s, { className: 'RandomNormal', config: { mean: 1, stddev: 2, seed: 7 } });
    const back = getInitializer(JSON.parse(JSON.stringify(s)));
    assert.deepEqual(back.getConfig(), s.config);
    assert.deepEqual(serializeInitializer(initializers.heUniform({ seed: 3 })), {
      className: 'HeUniform',
      config: { seed: 3 },
    });
  });

  test('unknown names throw a ValueError listing the known ones', () => {
    assert.throws(
      () => getInitializer('xavier'),
      (e: Error) => e.name === 'ValueError' && /unknown initializer "xavier".*GlorotUniform/.test(e.message),
    );
  });
});

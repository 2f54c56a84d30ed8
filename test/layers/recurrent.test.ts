import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { mul, randomNormal, reverse, ShapeError, sum, type Tensor, tensor, ValueError, valueAndGrad } from 'tessera';
import { Dense } from '../../src/layers/core.js';
import { Embedding, Masking } from '../../src/layers/embedding.js';
import { layerFromConfig } from '../../src/layers/layer.js';
import { GRU, LSTM, type RecurrentLayer, SimpleRNN } from '../../src/layers/recurrent.js';
import { getMask } from '../../src/layers/recurrent-mask.js';
import { Bidirectional, TimeDistributed } from '../../src/layers/wrappers.js';
import { recurrence, setRecurrenceImplementation } from '../../src/ops/rnn.js';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

interface Fix {
  B: number;
  T: number;
  F: number;
  U: number;
  x: number[];
  kernel: number[];
  recurrentKernel: number[];
  bias: number[];
  w: number[];
  y: number[];
  dx: number[];
  dkernel: number[];
  drecurrentKernel: number[];
  dbias: number[];
}
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/rnn/rnn_torch.json', import.meta.url), 'utf8')) as {
  lstm: Fix;
  gru: Fix;
};

const IMPLS = ['auto', 'typescript'] as const;

function withImpl<T>(impl: (typeof IMPLS)[number], fn: () => T): T {
  setRecurrenceImplementation(impl);
  try {
    return fn();
  } finally {
    setRecurrenceImplementation('auto');
  }
}

/** Layer output and gradients (x, then weights) of sum(y * w). */
function layerGrads(layer: RecurrentLayer, x: Tensor, w: Tensor): { y: Tensor; grads: Tensor[] } {
  const ws = layer.weights;
  let y: Tensor | null = null;
  const { grads } = valueAndGrad((xx, ...vs) => {
    for (let i = 0; i < ws.length; i++) ws[i]!.assign(vs[i] as Tensor);
    y = layer.apply(xx) as Tensor;
    return sum(mul(y, w));
  })(x, ...ws);
  return { y: y as unknown as Tensor, grads };
}

describe('LSTM and GRU match PyTorch (fixtures from test/fixtures/rnn/make_fixtures.py)', () => {
  for (const kind of ['lstm', 'gru'] as const) {
    for (const impl of IMPLS) {
      test(`${kind} outputs and gradients (${impl})`, () => {
        const f = fixtures[kind];
        const G = (kind === 'lstm' ? 4 : 3) * f.U;
        const layer =
          kind === 'lstm'
            ? new LSTM({ units: f.U, returnSequences: true })
            : new GRU({ units: f.U, returnSequences: true });
        const x = tensor(f.x, [f.B, f.T, f.F]);
        layer.ensureBuilt(x.shape);
        layer.setWeights([
          tensor(f.kernel, [f.F, G]),
          tensor(f.recurrentKernel, [f.U, G]),
          tensor(f.bias, kind === 'lstm' ? [G] : [2, G]),
        ]);
        const { y, grads } = withImpl(impl, () => layerGrads(layer, x, tensor(f.w, [f.B, f.T, f.U])));
        assert.deepEqual(y.shape, [f.B, f.T, f.U]);
        assertClose(y.dataSync(), f.y, 1e-5, `${kind} y`);
        assertClose(grads[0]!.dataSync(), f.dx, 1e-4, `${kind} dx`);
        assertClose(grads[1]!.dataSync(), f.dkernel, 1e-4, `${kind} dkernel`);
        assertClose(grads[2]!.dataSync(), f.drecurrentKernel, 1e-4, `${kind} drecurrentKernel`);
        assertClose(grads[3]!.dataSync(), f.dbias, 1e-4, `${kind} dbias`);
      });
    }
  }
});

describe('SimpleRNN against a float64 reference', () => {
  test('outputs with an initial state, tanh and relu', () => {
    for (const activation of ['tanh', 'relu'] as const) {
      const B = 2;
      const T = 3;
      const F = 2;
      const U = 3;
      const layer = new SimpleRNN({ units: U, returnSequences: true, activation });
      const x = randomNormal([B, T, F], { seed: 3 });
      const h0 = randomNormal([B, U], { seed: 4 });
      const y = layer.apply([x, h0]) as Tensor;
      const [k, r, b] = layer.getWeights().map((t) => Array.from(t.dataSync()));
      const xd = x.dataSync();
      const expected: number[] = [];
      const out = new Array(B * T * U).fill(0);
      for (let bi = 0; bi < B; bi++) {
        let h = Array.from(h0.dataSync().slice(bi * U, bi * U + U));
        for (let t = 0; t < T; t++) {
          const next = [];
          for (let u = 0; u < U; u++) {
            let v = b![u]!;
            for (let f = 0; f < F; f++) v += xd[(bi * T + t) * F + f]! * k![f * U + u]!;
            for (let p = 0; p < U; p++) v += h[p]! * r![p * U + u]!;
            next.push(activation === 'tanh' ? Math.tanh(v) : Math.max(0, v));
          }
          h = next;
          for (let u = 0; u < U; u++) out[(bi * T + t) * U + u] = h[u];
        }
      }
      expected.push(...out);
      assertClose(y.dataSync(), expected, 1e-5, `simpleRnn ${activation}`);
    }
  });
});

describe('finite-difference gradients through time (masked, initial states)', () => {
  const mask = tensor([1, 1, 0, 1, 0, 1, 1, 1], [2, 4], 'bool');
  for (const cell of ['lstm', 'gru', 'simpleRnn'] as const) {
    for (const impl of IMPLS) {
      test(`${cell} (${impl})`, () => {
        const U = 3;
        const G = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * U;
        const xp = randomNormal([2, 4, G], { seed: 11 });
        const R = randomNormal([U, G], { seed: 12, stddev: 0.6 });
        const h0 = randomNormal([2, U], { seed: 13 });
        const inputs = [xp, R, h0];
        if (cell === 'lstm') inputs.push(randomNormal([2, U], { seed: 14 }));
        if (cell === 'gru') inputs.push(randomNormal([G], { seed: 15 }));
        withImpl(impl, () =>
          gradCheck(
            (...a) =>
              recurrence(cell, a[0]!, a[1]!, {
                initialH: a[2]!,
                initialC: cell === 'lstm' ? a[3]! : null,
                recurrentBias: cell === 'gru' ? a[3]! : null,
                mask,
              }),
            inputs,
            { eps: 1e-2, rtol: 3e-2, atol: 3e-3 },
          ),
        );
      });
    }
  }
});

describe('recurrent dropout mask', () => {
  for (const cell of ['lstm', 'gru', 'simpleRnn'] as const) {
    test(`${cell}: finite differences with a recurrent mask, native and TypeScript agree`, () => {
      const U = 3;
      const G = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * U;
      const xp = randomNormal([2, 4, G], { seed: 41 });
      const R = randomNormal([U, G], { seed: 42, stddev: 0.6 });
      const h0 = randomNormal([2, U], { seed: 43 });
      const recurrentMask = tensor([2, 0, 2, 0, 2, 2], [2, U]);
      const recurrentBias = cell === 'gru' ? randomNormal([G], { seed: 44 }) : null;
      const f = (a: Tensor, b: Tensor, c: Tensor) =>
        recurrence(cell, a, b, { initialH: c, recurrentMask, recurrentBias });
      const ts = withImpl('typescript', () => f(xp, R, h0).dataSync());
      const auto = withImpl('auto', () => f(xp, R, h0).dataSync());
      assertClose(auto, ts, 1e-5, 'implementations');
      // the mask changes the result (0 entries cut h_{t-1} out of the recurrent product)
      const plain = recurrence(cell, xp, R, { initialH: h0, recurrentBias }).dataSync();
      assert.ok(plain.some((v, i) => Math.abs(v - ts[i]!) > 1e-4));
      for (const impl of IMPLS) {
        withImpl(impl, () => gradCheck((a, b, c) => f(a!, b!, c!), [xp, R, h0], { eps: 1e-2, rtol: 3e-2, atol: 3e-3 }));
      }
    });
  }
});

describe('masking, goBackwards, returnState, stateful', () => {
  test('embedding maskZero: a padded sequence gives the unpadded result (LSTM, GRU, backwards too)', () => {
    for (const make of [
      () => new LSTM({ units: 4 }),
      () => new GRU({ units: 4 }),
      () => new LSTM({ units: 4, goBackwards: true }),
    ]) {
      const emb = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
      const rnn = make();
      const padded = emb.apply(tensor([[3, 5, 7, 0, 0]], [1, 5], 'int32')) as Tensor;
      assert.deepEqual(Array.from(getMask(padded)!.dataSync()), [1, 1, 1, 0, 0]);
      const short = emb.apply(tensor([[3, 5, 7]], [1, 3], 'int32')) as Tensor;
      const a = rnn.apply(padded) as Tensor;
      const b = rnn.apply(short) as Tensor;
      assertClose(a.dataSync(), b.dataSync(), 1e-6, `${rnn.className} masked`);
      // without the mask the padding changes the result
      const c = rnn.apply(padded, { mask: tensor([[1, 1, 1, 1, 1]], [1, 5], 'bool') }) as Tensor;
      assert.ok(Math.abs(c.dataSync()[0]! - b.dataSync()[0]!) > 1e-6);
    }
  });

  test('Masking layer masks all-zero steps', () => {
    const m = new Masking({ maskValue: 0 });
    const x = tensor([1, 2, 0, 0, 3, 4], [1, 3, 2]);
    const y = m.apply(x) as Tensor;
    assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 0, 1]);
    const rnn = new SimpleRNN({ units: 2, returnSequences: true });
    const out = rnn.apply(y) as Tensor;
    const d = out.dataSync();
    // the masked step repeats the previous output
    assertClose(d.slice(2, 4), d.slice(0, 2), 0, 'carried output');
  });

  test('goBackwards equals the forward layer on the reversed input', () => {
    const x = randomNormal([2, 5, 3], { seed: 21 });
    const fwd = new GRU({ units: 4, returnSequences: true });
    const bwd = new GRU({ units: 4, returnSequences: true, goBackwards: true });
    fwd.ensureBuilt(x.shape);
    bwd.ensureBuilt(x.shape);
    bwd.setWeights(fwd.getWeights());
    assertClose((bwd.apply(x) as Tensor).dataSync(), (fwd.apply(reverse(x, 1)) as Tensor).dataSync(), 1e-6);
  });

  test('returnState gives [output, h, c] with h = the last output', () => {
    const x = randomNormal([2, 4, 3], { seed: 22 });
    const l = new LSTM({ units: 5, returnSequences: true, returnState: true });
    const [seq, h, c] = l.apply(x) as Tensor[];
    assert.deepEqual(seq!.shape, [2, 4, 5]);
    assert.deepEqual(h!.shape, [2, 5]);
    assert.deepEqual(c!.shape, [2, 5]);
    const s = seq!.dataSync();
    assertClose(h!.dataSync(), [...s.slice(15, 20), ...s.slice(35, 40)], 0, 'h');
    assert.deepEqual(l.computeOutputShape([null, 4, 3]), [
      [null, 4, 5],
      [null, 5],
      [null, 5],
    ]);
    // c feeds back: continuing from (h, c) over the second half equals one pass over the whole
    const whole = new LSTM({ units: 5 });
    whole.ensureBuilt(x.shape);
    const part = new LSTM({ units: 5, returnState: true });
    part.ensureBuilt(x.shape);
    part.setWeights(whole.getWeights());
    const first = reverse(reverse(x, 1), 1);
    const [, h1, c1] = part.apply(
      tensor(
        Array.from(first.dataSync()).filter((_, i) => Math.floor(i / 3) % 4 < 2),
        [2, 2, 3],
      ),
    ) as Tensor[];
    const second = tensor(
      Array.from(x.dataSync()).filter((_, i) => Math.floor(i / 3) % 4 >= 2),
      [2, 2, 3],
    );
    const [y2] = part.apply([second, h1!, c1!]) as Tensor[];
    assertClose(y2!.dataSync(), (whole.apply(x) as Tensor).dataSync(), 1e-5, 'continued state');
  });

  test('stateful layers carry states between calls until resetStates', () => {
    const x = randomNormal([1, 6, 2], { seed: 23 });
    const xs = Array.from(x.dataSync());
    const a = tensor(xs.slice(0, 6), [1, 3, 2]);
    const b = tensor(xs.slice(6), [1, 3, 2]);
    const l = new SimpleRNN({ units: 3, stateful: true });
    const ref = new SimpleRNN({ units: 3 });
    l.ensureBuilt(x.shape);
    ref.ensureBuilt(x.shape);
    ref.setWeights(l.getWeights());
    l.apply(a);
    assertClose((l.apply(b) as Tensor).dataSync(), (ref.apply(x) as Tensor).dataSync(), 1e-6, 'stateful');
    l.resetStates();
    assertClose((l.apply(b) as Tensor).dataSync(), (ref.apply(b) as Tensor).dataSync(), 1e-6, 'after reset');
    assert.throws(() => l.apply(randomNormal([2, 3, 2])), ShapeError);
  });

  test('dropout: one input mask per sequence in training, none in inference', () => {
    const F = 6;
    const l = new SimpleRNN({ units: F, activation: 'linear', returnSequences: true, dropout: 0.5, seed: 3 });
    const x = tensor(new Array(2 * 5 * F).fill(1), [2, 5, F]);
    l.ensureBuilt(x.shape);
    const eye = new Array(F * F).fill(0).map((_, i) => (i % (F + 1) === 0 ? 1 : 0));
    l.setWeights([tensor(eye, [F, F]), tensor(new Array(F * F).fill(0), [F, F]), tensor(new Array(F).fill(0), [F])]);
    const y = (l.apply(x, { training: true }) as Tensor).dataSync();
    const values = new Set<number>();
    for (let b = 0; b < 2; b++) {
      for (let f = 0; f < F; f++) {
        const first = y[b * 5 * F + f]!;
        values.add(first);
        for (let t = 1; t < 5; t++) assert.equal(y[(b * 5 + t) * F + f], first, 'same mask at every step');
      }
    }
    assert.deepEqual([...values].sort(), [0, 2]);
    assertClose((l.apply(x) as Tensor).dataSync(), new Array(60).fill(1), 0, 'inference');
    // recurrentDropout acts in training only
    const r = new LSTM({ units: 4, recurrentDropout: 0.5, seed: 1 });
    const xs = randomNormal([3, 6, 2], { seed: 50 });
    const inf = (r.apply(xs) as Tensor).dataSync();
    assertClose((r.apply(xs) as Tensor).dataSync(), inf, 0, 'inference is deterministic');
    const tr = (r.apply(xs, { training: true }) as Tensor).dataSync();
    assert.ok(tr.some((v, i) => Math.abs(v - inf[i]!) > 1e-4));
    assert.equal(layerFromConfig('LSTM', r.getConfig()).getConfig().recurrentDropout, 0.5);
  });

  test('errors name the layer and what was expected', () => {
    const l = new LSTM({ units: 2, name: 'enc' });
    assert.throws(() => l.apply(randomNormal([2, 3])), /enc expected input of rank 3 \[batch, time, features\]/);
    assert.throws(() => new LSTM({ units: 2, recurrentDropout: 1.2 }), ValueError);
    assert.throws(() => new LSTM({ units: 2, activation: 'relu' }), /activation 'tanh'/);
    assert.throws(() => new GRU({ units: 0 }), ValueError);
  });

  test('config round trip through the registry', () => {
    const l = new GRU({ units: 3, returnSequences: true, goBackwards: true });
    const copy = layerFromConfig('GRU', l.getConfig()) as GRU;
    assert.equal(copy.units, 3);
    assert.equal(copy.goBackwards, true);
    assert.equal(copy.returnSequences, true);
    copy.ensureBuilt([null, 4, 2]);
    assert.deepEqual(
      copy.weights.map((w) => w.shape),
      [
        [2, 9],
        [3, 9],
        [2, 9],
      ],
    );
  });
});

describe('Bidirectional and TimeDistributed', () => {
  test('concat / sum / ave / mul merge the forward and re-reversed backward sequences', () => {
    const x = randomNormal([2, 4, 3], { seed: 31 });
    for (const mergeMode of ['concat', 'sum', 'ave', 'mul'] as const) {
      const bi = new Bidirectional({ layer: new LSTM({ units: 2, returnSequences: true }), mergeMode });
      const y = bi.apply(x) as Tensor;
      const f = bi.forwardLayer.apply(x) as Tensor;
      const b = reverse(bi.backwardLayer.apply(x) as Tensor, 1);
      const fd = f.dataSync();
      const bd = b.dataSync();
      const expected: number[] = [];
      for (let r = 0; r < 8; r++) {
        const fr = Array.from(fd.slice(r * 2, r * 2 + 2));
        const br = Array.from(bd.slice(r * 2, r * 2 + 2));
        if (mergeMode === 'concat') expected.push(...fr, ...br);
        else if (mergeMode === 'sum') expected.push(...fr.map((v, i) => v + br[i]!));
        else if (mergeMode === 'ave') expected.push(...fr.map((v, i) => (v + br[i]!) / 2));
        else expected.push(...fr.map((v, i) => v * br[i]!));
      }
      assertClose(y.dataSync(), expected, 1e-6, mergeMode);
      assert.equal(bi.backwardLayer.goBackwards, true);
    }
  });

  test('weights, gradients and config round trip', () => {
    const bi = new Bidirectional({ layer: new GRU({ units: 2 }) });
    const x = randomNormal([3, 5, 4], { seed: 32 });
    const y = bi.apply(x) as Tensor;
    assert.deepEqual(y.shape, [3, 4]);
    assert.equal(bi.weights.length, 6);
    assert.ok(bi.weights[0]!.name.startsWith('forward_'));
    assert.ok(bi.weights[3]!.name.startsWith('backward_'));
    const { grads } = valueAndGrad((xx) => sum(bi.apply(xx) as Tensor))(x);
    assert.ok(grads[0]!.dataSync().some((v) => v !== 0));
    const copy = layerFromConfig('Bidirectional', bi.getConfig()) as Bidirectional;
    copy.ensureBuilt(x.shape);
    copy.setWeights(bi.getWeights());
    assertClose((copy.apply(x) as Tensor).dataSync(), y.dataSync(), 1e-6, 'round trip');
  });

  test('TimeDistributed(Dense) equals Dense on each step', () => {
    const d = new Dense({ units: 2 });
    const td = new TimeDistributed({ layer: d });
    const x = randomNormal([2, 3, 4], { seed: 33 });
    const y = td.apply(x) as Tensor;
    assert.deepEqual(y.shape, [2, 3, 2]);
    assertClose(y.dataSync(), (d.apply(x) as Tensor).dataSync(), 1e-6);
    assert.equal(td.weights.length, 2);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mul, noGrad, randomNormal, ShapeError, sum, type Tensor, tensor, ValueError, variableGrads } from 'tessera';
import {
  MultiHeadAttention,
  PositionalEmbedding,
  TokenAndPositionEmbedding,
  TransformerEncoder,
} from '../../src/layers/attention.js';
import { layerFromConfig } from '../../src/layers/layer.js';
import { getMask } from '../../src/layers/recurrent-mask.js';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

/** Float64 Keras MHA: einsum projections, scaled dot product, softmax with -1e9 masking, output projection. */
function referenceMha(
  mha: MultiHeadAttention,
  q: Tensor,
  v: Tensor,
  allowed: (b: number, i: number, j: number) => boolean,
): number[] {
  const [B, Tq, Dq] = q.shape as [number, number, number];
  const [, Tk, Dv] = v.shape as [number, number, number];
  const H = mha.numHeads;
  const K = mha.keyDim;
  const V = mha.valueDim;
  const w = mha.getWeights().map((t) => Array.from(t.dataSync()));
  const [wq, bq, wk, bk, wv, bv, wo, bo] = w as number[][];
  const O = bo!.length;
  const qd = q.dataSync();
  const vd = v.dataSync();
  const proj = (x: ArrayLike<number>, D: number, T: number, W: number[], bias: number[], hd: number) => {
    const out = new Float64Array(B * T * H * hd);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H; h++)
          for (let e = 0; e < hd; e++) {
            let s = bias[h * hd + e]!;
            for (let d = 0; d < D; d++) s += x[(b * T + t) * D + d]! * W[(d * H + h) * hd + e]!;
            out[((b * T + t) * H + h) * hd + e] = s;
          }
    return out;
  };
  const Q = proj(qd, Dq, Tq, wq!, bq!, K);
  const Kt = proj(vd, Dv, Tk, wk!, bk!, K);
  const Vt = proj(vd, Dv, Tk, wv!, bv!, V);
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Tq; i++) {
      const ctx = new Float64Array(H * V);
      for (let h = 0; h < H; h++) {
        const sc: number[] = [];
        for (let j = 0; j < Tk; j++) {
          let s = 0;
          for (let e = 0; e < K; e++) s += Q[((b * Tq + i) * H + h) * K + e]! * Kt[((b * Tk + j) * H + h) * K + e]!;
          sc.push(s / Math.sqrt(K) + (allowed(b, i, j) ? 0 : -1e9));
        }
        const m = Math.max(...sc);
        const ex = sc.map((s) => Math.exp(s - m));
        const z = ex.reduce((a, c) => a + c, 0);
        for (let j = 0; j < Tk; j++)
          for (let e = 0; e < V; e++) ctx[h * V + e] += (ex[j]! / z) * Vt[((b * Tk + j) * H + h) * V + e]!;
      }
      for (let o = 0; o < O; o++) {
        let s = bo![o]!;
        for (let h = 0; h < H; h++) for (let e = 0; e < V; e++) s += ctx[h * V + e]! * wo![(h * V + e) * O + o]!;
        out.push(s);
      }
    }
  return out;
}

const randomBias = (mha: MultiHeadAttention, seed: number) => {
  // non-zero biases so the reference checks them too
  mha.setWeights(
    mha.getWeights().map((w, i) => (w.rank <= 2 && i % 2 === 1 ? randomNormal(w.shape, { seed: seed + i }) : w)),
  );
};

describe('MultiHeadAttention', () => {
  test('self- and cross-attention match a float64 reference (Keras layout)', () => {
    const mha = new MultiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 4, outputShape: 5 });
    const q = randomNormal([2, 3, 6], { seed: 1 });
    const v = randomNormal([2, 4, 7], { seed: 2 });
    mha.ensureBuilt([q.shape, v.shape]);
    assert.deepEqual(
      mha.weights.map((w) => w.shape),
      [[6, 2, 3], [2, 3], [7, 2, 3], [2, 3], [7, 2, 4], [2, 4], [2, 4, 5], [5]],
    );
    randomBias(mha, 10);
    const y = mha.apply([q, v]) as Tensor;
    assert.deepEqual(y.shape, [2, 3, 5]);
    assertClose(
      y.dataSync(),
      referenceMha(mha, q, v, () => true),
      1e-4,
      'cross',
    );
    const self = new MultiHeadAttention({ numHeads: 2, keyDim: 2 });
    const x = randomNormal([1, 4, 6], { seed: 3 });
    const ys = self.apply(x) as Tensor;
    assertClose(
      ys.dataSync(),
      referenceMha(self, x, x, () => true),
      1e-4,
      'self',
    );
  });

  test('causal, attention and padding masks', () => {
    const mha = new MultiHeadAttention({ numHeads: 2, keyDim: 2 });
    const x = randomNormal([2, 4, 4], { seed: 4 });
    mha.ensureBuilt([x.shape, x.shape]);
    randomBias(mha, 20);
    const causal = mha.attend(x, x, { useCausalMask: true });
    assertClose(
      causal.output.dataSync(),
      referenceMha(mha, x, x, (_b, i, j) => j <= i),
      1e-4,
      'causal',
    );
    // probabilities above the diagonal are 0
    const p = causal.scores.dataSync();
    assert.equal(p[1], 0);
    assert.ok(p[0]! > 0.999);
    const am = tensor(
      [1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1],
      [2, 4, 4],
      'bool',
    );
    const masked = mha.attend(x, x, { attentionMask: am });
    const amd = am.dataSync();
    assertClose(
      masked.output.dataSync(),
      referenceMha(mha, x, x, (b, i, j) => amd[(b * 4 + i) * 4 + j] === 1),
      1e-4,
      'attentionMask',
    );
    // a padding mask on the value: keys beyond the valid length are ignored
    const vm = tensor([1, 1, 1, 0, 1, 1, 0, 0], [2, 4], 'bool');
    const pad = mha.attend(x, x, { valueMask: vm, queryMask: null });
    assertClose(
      pad.output.dataSync(),
      referenceMha(mha, x, x, (b, _i, j) => vm.dataSync()[b * 4 + j] === 1),
      1e-4,
      'value mask',
    );
    assert.throws(() => mha.attend(x, x, { attentionMask: tensor([1, 0], [1, 2], 'bool') }), ShapeError);
  });

  test('finite-difference gradients for query, value and weights', () => {
    const mha = new MultiHeadAttention({ numHeads: 2, keyDim: 2 });
    const q = randomNormal([1, 3, 4], { seed: 5 });
    const v = randomNormal([1, 2, 4], { seed: 6 });
    mha.ensureBuilt([q.shape, v.shape]);
    gradCheck((a, b) => mha.attend(a!, b!, { useCausalMask: false }).output, [q, v], {
      eps: 1e-2,
      rtol: 3e-2,
      atol: 3e-3,
    });
    // weights: analytic (variableGrads) vs central differences on every weight value
    const w = randomNormal([1, 3, 4], { seed: 8 });
    const loss = () => sum(mul(mha.attend(q, v).output, w));
    const { grads } = variableGrads(loss, mha.weights);
    for (const vr of mha.weights) {
      const g = grads.get(vr)!.dataSync();
      const d = vr.dataSync();
      for (let k = 0; k < vr.size; k += 3) {
        const old = d[k]!;
        d[k] = old + 1e-2;
        const up = noGrad(loss).item();
        d[k] = old - 1e-2;
        const down = noGrad(loss).item();
        d[k] = old;
        const num = (up - down) / 2e-2;
        assert.ok(Math.abs(num - g[k]!) <= 3e-3 + 3e-2 * Math.abs(num), `${vr.name}[${k}]: ${g[k]} vs ${num}`);
      }
    }
  });

  test('validation names the layer', () => {
    assert.throws(() => new MultiHeadAttention({ numHeads: 0, keyDim: 2, name: 'mha_x' }), /mha_x/);
    assert.throws(() => new MultiHeadAttention({ numHeads: 2, keyDim: 2, dropout: 1.5 }), ValueError);
    const m = new MultiHeadAttention({ numHeads: 1, keyDim: 2 });
    assert.throws(() => m.apply(randomNormal([2, 3])), /expected query of rank 3/);
  });
});

describe('positional embeddings and the transformer encoder', () => {
  test('sinusoidal positions and learned positions add to the input', () => {
    const pe = new PositionalEmbedding({ sequenceLength: 8, mode: 'sinusoidal' });
    const x = tensor(new Array(2 * 3 * 4).fill(0), [2, 3, 4]);
    const y = (pe.apply(x) as Tensor).dataSync();
    // position 1, dims 0 and 1: sin(1), cos(1); dim 2: sin(1 / 10000^(2/4))
    assertClose([y[4]!, y[5]!, y[6]!], [Math.sin(1), Math.cos(1), Math.sin(1 / 100)], 1e-6);
    const learned = new PositionalEmbedding({ sequenceLength: 8 });
    learned.apply(x);
    assert.equal(learned.weights.length, 1);
    assert.throws(() => learned.apply(randomNormal([1, 9, 4])), ShapeError);
  });

  test('token and position embedding carries the padding mask', () => {
    const tp = new TokenAndPositionEmbedding({
      vocabularySize: 10,
      sequenceLength: 5,
      embeddingDim: 4,
      maskZero: true,
    });
    const y = tp.apply(tensor([[4, 2, 0, 0]], [1, 4], 'int32')) as Tensor;
    assert.deepEqual(y.shape, [1, 4, 4]);
    assert.deepEqual(Array.from(getMask(y)!.dataSync()), [1, 1, 0, 0]);
    const [tok, pos] = tp.getWeights().map((t) => t.dataSync());
    assertClose(
      Array.from(y.dataSync().slice(4, 8)),
      [0, 1, 2, 3].map((d) => tok![2 * 4 + d]! + pos![4 + d]!),
      1e-6,
    );
  });

  test('encoder: shape, padded positions do not change valid outputs, config round trip', () => {
    const enc = new TransformerEncoder({ numHeads: 2, intermediateDim: 8 });
    const tp = new TokenAndPositionEmbedding({
      vocabularySize: 10,
      sequenceLength: 6,
      embeddingDim: 4,
      maskZero: true,
    });
    const a = enc.apply(tp.apply(tensor([[3, 5, 7, 0, 0, 0]], [1, 6], 'int32'))) as Tensor;
    const b = enc.apply(tp.apply(tensor([[3, 5, 7, 9, 9, 0]], [1, 6], 'int32'), {})) as Tensor;
    assert.deepEqual(a.shape, [1, 6, 4]);
    // the first three positions attend only to valid tokens in a; in b tokens 4-5 are valid so they differ
    const c = enc.apply(tp.apply(tensor([[3, 5, 7, 0, 0, 0]], [1, 6], 'int32'))) as Tensor;
    assertClose(a.dataSync(), c.dataSync(), 0, 'deterministic');
    assert.ok(Math.abs(a.dataSync()[0]! - b.dataSync()[0]!) > 1e-6);
    // the valid outputs equal those of the unpadded sequence
    const short = enc.apply(tp.apply(tensor([[3, 5, 7]], [1, 3], 'int32'))) as Tensor;
    assertClose(a.dataSync().slice(0, 12), short.dataSync(), 1e-5, 'padding ignored');
    assert.equal(enc.weights.length, 8 + 4 + 4);
    const copy = layerFromConfig('TransformerEncoder', enc.getConfig()) as TransformerEncoder;
    const x = randomNormal([1, 3, 4], { seed: 9 });
    copy.ensureBuilt(x.shape);
    copy.setWeights(enc.getWeights());
    assertClose((copy.apply(x) as Tensor).dataSync(), (enc.apply(x) as Tensor).dataSync(), 1e-6, 'round trip');
  });
});

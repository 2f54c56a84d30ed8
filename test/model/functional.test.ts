import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setSeed, type Tensor, tensor } from 'tessera';
import { input, layers, type SymbolicTensor } from '../../src/layers/index.js';
import { Functional, Model, model, optimizers, Sequential, sequential } from '../../src/model/index.js';
import { blobs } from './helpers-data.js';

const S = (v: unknown) => v as SymbolicTensor;
const T = (v: unknown) => v as Tensor;

function close(a: Tensor, b: Tensor, tol = 1e-6): void {
  assert.deepEqual(a.shape, b.shape);
  const ad = a.dataSync();
  const bd = b.dataSync();
  for (let i = 0; i < ad.length; i++)
    assert.ok(Math.abs((ad[i] as number) - (bd[i] as number)) <= tol, `at ${i}: ${ad[i]} vs ${bd[i]}`);
}

describe('functional models', () => {
  test('sequential and functional give the same outputs and training for the same weights', async () => {
    setSeed(1);
    const seq = sequential([
      layers.dense({ units: 6, activation: 'relu', inputShape: [4] }),
      layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    const x = input({ shape: [4] });
    const h = layers.dense({ units: 6, activation: 'relu' }).apply(x);
    const out = layers.dense({ units: 3, activation: 'softmax' }).apply(S(h));
    const fn = model({ inputs: x, outputs: S(out) });
    assert.equal(fn.layers.length, 3);
    assert.equal(fn.layers[0]?.className, 'InputLayer');
    fn.setWeights(seq.getWeights());
    const { x: xs, y } = blobs(24, 4, 3);
    close(T(seq.predict(xs)), T(fn.predict(xs)));
    seq.compile({ optimizer: optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
    fn.compile({ optimizer: optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
    const a = await seq.fit(xs, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
    const b = await fn.fit(xs, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
    for (let i = 0; i < 3; i++)
      assert.ok(Math.abs((a.history.loss[i] as number) - (b.history.loss[i] as number)) < 1e-6);
    close(T(seq.predict(xs)), T(fn.predict(xs)), 1e-5);
  });

  test('two inputs (two towers + concatenate) train; x as a list or keyed by input name', async () => {
    setSeed(2);
    const a = input({ shape: [3], name: 'left' });
    const b = input({ shape: [2], name: 'right' });
    const ta = layers.dense({ units: 8, activation: 'relu' }).apply(a);
    const tb = layers.dense({ units: 8, activation: 'relu' }).apply(b);
    const merged = layers.concatenate().apply([S(ta), S(tb)]);
    const out = layers.dense({ units: 2, activation: 'softmax' }).apply(S(merged));
    const m = model({ inputs: [a, b], outputs: S(out) });
    m.compile({
      optimizer: optimizers.adam({ learningRate: 0.02 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    // The class is decided by the sign of left[0] + right[1]: both towers are needed.
    const n = 64;
    const l: number[] = [];
    const r: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const u = Math.sin(i * 1.7);
      const v = Math.cos(i * 2.3);
      l.push(u, 0.1 * i - 3, 0.5);
      r.push(-0.2, v);
      y.push(u + v > 0 ? 1 : 0);
    }
    const xl = tensor(l, [n, 3]);
    const xr = tensor(r, [n, 2]);
    const yt = tensor(y, [n], 'int32');
    const h = await m.fit([xl, xr], yt, { epochs: 60, batchSize: 16, verbose: 0 });
    assert.ok((h.history.loss.at(-1) as number) < (h.history.loss[0] as number) * 0.5);
    assert.ok((m.evaluate([xl, xr], yt).accuracy as number) >= 0.9);
    close(T(m.predict({ left: xl, right: xr })), T(m.predict([xl, xr])));
    assert.throws(() => m.predict({ left: xl }), /lacks 'right'/);
  });

  test('a residual block (shared input, add) trains, and summary lists its connections', async () => {
    setSeed(3);
    const x = input({ shape: [6] });
    const h1 = layers.dense({ units: 6, activation: 'relu' }).apply(x);
    const h2 = layers.dense({ units: 6 }).apply(S(h1));
    const res = layers.add().apply([S(h2), x]);
    const out = layers.dense({ units: 3, activation: 'softmax' }).apply(S(res));
    const m = model({ inputs: x, outputs: S(out), name: 'resnet' });
    m.compile({
      optimizer: optimizers.adam({ learningRate: 0.02 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const { x: xs, y } = blobs(60, 6, 3);
    const h = await m.fit(xs, y, { epochs: 30, batchSize: 16, verbose: 0 });
    assert.ok((h.history.loss.at(-1) as number) < (h.history.loss[0] as number) * 0.5);
    assert.ok((m.evaluate(xs, y).accuracy as number) > 0.9);
    const lines: string[] = [];
    m.summary((s) => lines.push(s));
    const addRow = lines.find((s) => s.includes('(Add)')) as string;
    assert.match(addRow, /dense_\d+\[0\]\[0\], input_layer(_\d+)?\[0\]\[0\]/);
  });

  test('a shared layer applied twice has its weights counted once and gets both gradients', async () => {
    setSeed(4);
    const shared = layers.dense({ units: 4, activation: 'tanh' });
    const a = input({ shape: [3] });
    const b = input({ shape: [3] });
    const sa = shared.apply(a);
    const sb = shared.apply(b);
    const diff = layers.subtract().apply([S(sa), S(sb)]);
    const out = layers.dense({ units: 1 }).apply(S(diff));
    const m = model({ inputs: [a, b], outputs: S(out) });
    assert.equal(m.countParams(), 3 * 4 + 4 + 4 + 1);
    assert.equal(m.weights.length, 4);
    // Identical inputs give exactly 0 through the subtraction.
    const x = tensor([[1, 2, 3]]);
    assert.equal(T(m.predict([x, x])).dataSync()[0], (m.getWeights()[3] as Tensor).dataSync()[0]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const before = (m.getWeights()[0] as Tensor).dataSync().slice();
    m.trainOnBatch([x, tensor([[0, 1, 0]])], tensor([[1]]));
    const after = (m.getWeights()[0] as Tensor).dataSync();
    assert.ok(after.some((v, i) => v !== before[i]));
  });

  test('a nested model works as a layer (in a functional and a sequential model)', async () => {
    setSeed(5);
    const inner = sequential(
      [layers.dense({ units: 5, activation: 'relu', inputShape: [4] }), layers.dense({ units: 3 })],
      {
        name: 'inner',
      },
    );
    const x = input({ shape: [4] });
    const y = layers.dense({ units: 2, activation: 'softmax' }).apply(S(inner.apply(x)));
    const outer = model({ inputs: x, outputs: S(y) });
    assert.equal(outer.countParams(), 4 * 5 + 5 + 5 * 3 + 3 + 3 * 2 + 2);
    const seq = sequential([inner, layers.dense({ units: 2, activation: 'softmax' })]);
    seq.build([null, 4]);
    (seq.layers[1] as { setWeights(w: Tensor[]): void }).setWeights(outer.getWeights().slice(4));
    const { x: xs, y: ys } = blobs(12, 4, 2);
    close(T(outer.predict(xs)), T(seq.predict(xs)));
    outer.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const h = await outer.fit(xs, ys, { epochs: 2, verbose: 0 });
    assert.equal(h.history.loss.length, 2);
  });

  test('multiple outputs: per-output losses, lossWeights and metrics in the logs', async () => {
    setSeed(6);
    const x = input({ shape: [4] });
    const h = layers.dense({ units: 8, activation: 'relu' }).apply(x);
    const cls = layers.dense({ units: 2, activation: 'softmax', name: 'cls' }).apply(S(h));
    const reg = layers.dense({ units: 1, name: 'reg' }).apply(S(h));
    const m = model({ inputs: x, outputs: [S(cls), S(reg)] });
    m.compile({
      optimizer: 'adam',
      loss: ['sparseCategoricalCrossentropy', 'mse'],
      lossWeights: [1, 0.5],
      metrics: { cls: ['accuracy'] },
    });
    const { x: xs, y } = blobs(16, 4, 2);
    const yr = tensor(
      Array.from({ length: 16 }, (_, i) => [i / 16]),
      [16, 1],
    );
    const logs = m.evaluate(xs, { cls: y, reg: yr });
    assert.deepEqual(Object.keys(logs).sort(), ['cls_accuracy', 'cls_loss', 'loss', 'reg_loss']);
    assert.ok(Math.abs((logs.loss as number) - ((logs.cls_loss as number) + 0.5 * (logs.reg_loss as number))) < 1e-5);
    const out = m.predict(xs) as Tensor[];
    assert.deepEqual(
      out.map((t) => t.shape),
      [
        [16, 2],
        [16, 1],
      ],
    );
    const hist = await m.fit(xs, [y, yr], { epochs: 2, verbose: 0 });
    assert.equal(hist.history.reg_loss?.length, 2);
  });

  test('errors: an output that depends on an input not given', () => {
    const a = input({ shape: [2] });
    const b = input({ shape: [2] });
    const s = layers.add().apply([a, b]);
    assert.throws(() => model({ inputs: a, outputs: S(s) }), /depend on input .*, which is not in inputs/);
  });
});

describe('config round trip', () => {
  test('Sequential toConfig / fromConfig keeps the architecture; same weights, same outputs', () => {
    setSeed(7);
    const m = sequential([
      layers.dense({ units: 5, activation: 'relu', inputShape: [3] }),
      layers.dropout({ rate: 0.3 }),
      layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    const json = JSON.parse(JSON.stringify(m.toConfig()));
    assert.equal(json.className, 'Sequential');
    assert.deepEqual(
      json.config.layers.map((l: { className: string }) => l.className),
      ['Dense', 'Dropout', 'Dense'],
    );
    const back = Model.fromConfig(json);
    assert.ok(back instanceof Sequential);
    back.setWeights(m.getWeights());
    const x = tensor([
      [1, 2, 3],
      [-1, 0, 2],
    ]);
    close(T(back.predict(x)), T(m.predict(x)));
  });

  test('Functional toConfig / fromConfig: inputs, shared layers, merges, multiple outputs', () => {
    setSeed(8);
    const a = input({ shape: [3], name: 'a' });
    const b = input({ shape: [3], name: 'b' });
    const shared = layers.dense({ units: 4, activation: 'tanh', name: 'shared' });
    const sa = shared.apply(a);
    const sb = shared.apply(b);
    const cat = layers.concatenate({ name: 'cat' }).apply([S(sa), S(sb)]);
    const o1 = layers.dense({ units: 2, activation: 'softmax', name: 'o1' }).apply(S(cat));
    const o2 = layers.add({ name: 'o2' }).apply([S(sa), S(sb)]);
    const m = model({ inputs: [a, b], outputs: [S(o1), S(o2)], name: 'two' });
    const json = JSON.parse(JSON.stringify(m.toConfig()));
    assert.equal(json.className, 'Functional');
    assert.deepEqual(json.config.inputLayers, [
      ['a', 0, 0],
      ['b', 0, 0],
    ]);
    assert.deepEqual(json.config.outputLayers, [
      ['o1', 0, 0],
      ['o2', 0, 0],
    ]);
    const sharedEntry = json.config.layers.find((l: { name: string }) => l.name === 'shared');
    assert.equal(sharedEntry.inboundNodes.length, 2);
    const back = Model.fromConfig(json) as Functional;
    assert.ok(back instanceof Functional);
    assert.deepEqual(back.inputNames, ['a', 'b']);
    assert.deepEqual(back.outputNames, ['o1', 'o2']);
    back.setWeights(m.getWeights());
    const xa = tensor([[1, 2, 3]]);
    const xb = tensor([[0, -1, 0.5]]);
    const p = m.predict([xa, xb]) as Tensor[];
    const q = back.predict([xa, xb]) as Tensor[];
    close(q[0] as Tensor, p[0] as Tensor);
    close(q[1] as Tensor, p[1] as Tensor);
  });

  test('trainingConfig describes optimizer, loss and metrics', () => {
    const m = sequential([layers.dense({ units: 2, activation: 'softmax', inputShape: [3] })]);
    assert.equal(m.trainingConfig(), null);
    m.compile({
      optimizer: optimizers.adam({ learningRate: 0.01 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const tc = m.trainingConfig() as Record<string, unknown>;
    assert.deepEqual((tc.optimizerConfig as { className: string }).className, 'Adam');
    assert.equal((tc.optimizerConfig as { config: { learningRate: number } }).config.learningRate, 0.01);
    assert.deepEqual(tc.loss, { className: 'SparseCategoricalCrossentropy', config: { fromLogits: false } });
    assert.deepEqual(tc.metrics, ['accuracy']);
    // What loadModel does with it: compile again from the config.
    const again = sequential([layers.dense({ units: 2, activation: 'softmax', inputShape: [3] })]);
    again.compile({
      optimizer: tc.optimizerConfig as { className: string },
      loss: tc.loss as { className: string },
      metrics: tc.metrics as string[],
    });
    assert.equal(again.optimizer.className, 'Adam');
  });
});

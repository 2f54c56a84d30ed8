import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { engineStats, log, mul, neg, setSeed, sum, type Tensor, tensor } from 'tessera';
import { layers } from '../../src/layers/index.js';
import { optimizers, type Sequential, sequential } from '../../src/model/index.js';
import { blobs, spiral } from './helpers-data.js';

function mlp(hidden: number, inDim: number, classes: number, activation = 'tanh'): Sequential {
  return sequential([
    layers.dense({ units: hidden, activation, inputShape: [inDim] }),
    layers.dense({ units: hidden, activation }),
    layers.dense({ units: classes, activation: 'softmax' }),
  ]);
}

describe('fit', () => {
  test('an MLP learns XOR to 100% accuracy', async () => {
    setSeed(1);
    const m = sequential([
      layers.dense({ units: 16, activation: 'tanh', inputShape: [2] }),
      layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    m.compile({
      optimizer: optimizers.adam({ learningRate: 0.05 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const x = tensor([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const y = tensor([0, 1, 1, 0], [4], 'int32');
    const h = await m.fit(x, y, { epochs: 200, batchSize: 4, verbose: 0 });
    assert.equal(h.history.loss.length, 200);
    assert.deepEqual(h.epoch.slice(0, 3), [0, 1, 2]);
    assert.ok((h.history.loss.at(-1) as number) < (h.history.loss[0] as number) / 3);
    assert.equal(m.evaluate(x, y).accuracy, 1);
    const p = (m.predict(x) as Tensor).toArray() as number[][];
    assert.deepEqual(
      p.map((r) => (r[1]! > r[0]! ? 1 : 0)),
      [0, 1, 1, 0],
    );
  });

  test('a 2-class spiral reaches > 95% accuracy', async () => {
    setSeed(7);
    const { x, y } = spiral(100);
    const m = mlp(32, 2, 2);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const t0 = performance.now();
    await m.fit(x, y, { epochs: 150, batchSize: 32, verbose: 0 });
    const acc = m.evaluate(x, y).accuracy as number;
    assert.ok(acc > 0.95, `spiral accuracy ${acc}`);
    assert.ok(performance.now() - t0 < 20000);
  });

  test('validationSplit reports val_loss and val_accuracy each epoch', async () => {
    setSeed(2);
    const { x, y } = blobs(120, 4, 3);
    const m = mlp(8, 4, 3, 'relu');
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 16, validationSplit: 0.25, verbose: 0 });
    assert.equal(h.history.val_loss?.length, 3);
    assert.equal(h.history.val_accuracy?.length, 3);
    // The held-out quarter (the last 30 samples) is what val_loss measures after the last epoch.
    const ev = m.evaluate(x.slice([90, 0], [30, 4]), y.slice([90], [30]));
    assert.ok(Math.abs((ev.loss as number) - (h.history.val_loss?.[2] as number)) < 1e-5);
  });

  test('validationData is evaluated and equals evaluate()', async () => {
    setSeed(2);
    const { x, y } = blobs(64, 4, 2);
    const v = blobs(20, 4, 2, 9);
    const m = mlp(8, 4, 2, 'relu');
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(x, y, { epochs: 2, validationData: [v.x, v.y], verbose: 0 });
    assert.ok(Math.abs((h.history.val_loss?.[1] as number) - (m.evaluate(v.x, v.y).loss as number)) < 1e-5);
  });

  test('setSeed twice gives the identical loss sequence', async () => {
    const run = async () => {
      setSeed(123);
      const { x, y } = blobs(64, 5, 3);
      const m = mlp(8, 5, 3, 'relu');
      m.add(layers.dropout({ rate: 0 }));
      m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      const h = await m.fit(x, y, { epochs: 4, batchSize: 8, verbose: 0 });
      return h.history.loss;
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
    assert.notEqual(a[0], a[3]);
  });

  test('fit over an async dataset re-iterates it each epoch', async () => {
    setSeed(4);
    const { x, y } = blobs(40, 3, 2);
    let iterations = 0;
    const ds = {
      async *[Symbol.asyncIterator]() {
        iterations++;
        for (let i = 0; i < 40; i += 10) yield { x: x.slice([i, 0], [10, 3]), y: y.slice([i], [10]) };
      },
    };
    const m = mlp(8, 3, 2, 'relu');
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    let batches = 0;
    const h = await m.fit(ds, { epochs: 3, verbose: 0, callbacks: [{ onBatchEnd: () => void batches++ }] });
    assert.equal(iterations, 3);
    assert.equal(batches, 12);
    assert.equal(h.history.loss.length, 3);
    const ev = await m.evaluateDataset(ds);
    assert.ok(Math.abs((ev.loss as number) - (m.evaluate(x, y).loss as number)) < 1e-5);
  });

  test('sampleWeight and classWeight scale the per-sample losses', () => {
    setSeed(5);
    const { x, y } = blobs(8, 3, 2);
    const m = mlp(4, 3, 2);
    m.compile({ optimizer: optimizersSgd0(), loss: 'sparseCategoricalCrossentropy' });
    const base = m.evaluate(x, y).loss as number;
    const w = tensor([2, 2, 2, 2, 2, 2, 2, 2]);
    assert.ok(Math.abs((m.evaluate(x, y, { sampleWeight: w }).loss as number) - 2 * base) < 1e-5);
    // With learning rate 0 a training step reports the weighted loss without changing weights.
    const l = m.trainOnBatch(x, y, { classWeight: { 0: 3, 1: 3 } }).loss as number;
    assert.ok(Math.abs(l - 3 * base) < 1e-5, `${l} vs ${3 * base}`);
  });

  test('the fused softmax cross-entropy gives the same loss as the plain path', () => {
    setSeed(6);
    const { x, y } = blobs(16, 4, 3);
    const m = mlp(6, 4, 3);
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const fused = m.evaluate(x, y);
    assert.deepEqual(m.runner?.fusion, [true]);
    m.compile({
      optimizer: 'sgd',
      loss: (yt: Tensor, yp: Tensor) => sparseCe(yt, yp),
      metrics: ['sparse_categorical_accuracy'],
    });
    const plain = m.evaluate(x, y);
    assert.deepEqual(m.runner?.fusion, [false]);
    assert.ok(Math.abs((fused.loss as number) - (plain.loss as number)) < 1e-5);
    assert.equal(fused.accuracy, plain.sparse_categorical_accuracy);
    // One-hot labels with categoricalCrossentropy take the fused softmaxCrossEntropy path: same value.
    const labels = y.dataSync();
    const oneHot = tensor(
      Array.from({ length: 16 }, (_, i) => [0, 1, 2].map((c) => (c === labels[i] ? 1 : 0))),
      [16, 3],
    );
    m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const cat = m.evaluate(x, oneHot);
    assert.deepEqual(m.runner?.fusion, [true]);
    assert.ok(Math.abs((cat.loss as number) - (fused.loss as number)) < 1e-5);
    assert.equal(cat.accuracy, fused.accuracy);
  });
});

describe('predict / evaluate / trainOnBatch', () => {
  test('predict batches: 100 samples at batchSize 32 equal predictOnBatch of all 100', () => {
    setSeed(8);
    const { x } = blobs(100, 5, 3);
    const m = mlp(7, 5, 3);
    const a = m.predict(x, { batchSize: 32 }) as Tensor;
    const b = m.predictOnBatch(x) as Tensor;
    assert.deepEqual(a.shape, [100, 3]);
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    const rowSums = (a.toArray() as number[][]).map((r) => r.reduce((s, v) => s + v, 0));
    for (const s of rowSums) assert.ok(Math.abs(s - 1) < 1e-5);
  });

  test('predict builds an unbuilt Sequential from the data', () => {
    setSeed(8);
    const m = sequential([layers.dense({ units: 3 })]);
    assert.equal(m.built, false);
    const out = m.predict(
      tensor([
        [1, 2],
        [3, 4],
      ]),
    ) as Tensor;
    assert.deepEqual(out.shape, [2, 3]);
    assert.equal(m.built, true);
    assert.equal(m.countParams(), 9);
  });

  test('evaluate returns the compiled metric names and batch-size independent values', () => {
    setSeed(9);
    const { x, y } = blobs(50, 4, 2);
    const m = mlp(5, 4, 2);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const a = m.evaluate(x, y, { batchSize: 7 });
    const b = m.evaluate(x, y, { batchSize: 50 });
    assert.deepEqual(Object.keys(a).sort(), ['accuracy', 'loss']);
    assert.ok(Math.abs((a.loss as number) - (b.loss as number)) < 1e-5);
    assert.equal(a.accuracy, b.accuracy);
  });

  test('trainOnBatch returns { loss, metrics } and lowers the loss', () => {
    setSeed(10);
    const { x, y } = blobs(32, 4, 2);
    const m = mlp(8, 4, 2);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const first = m.trainOnBatch(x, y);
    assert.deepEqual(Object.keys(first).sort(), ['accuracy', 'loss']);
    let last = first;
    for (let i = 0; i < 30; i++) last = m.trainOnBatch(x, y);
    assert.ok((last.loss as number) < (first.loss as number));
  });

  test('errors name the model and what was wrong', async () => {
    const m = mlp(4, 3, 2);
    assert.throws(() => m.trainOnBatch(tensor([[1, 2, 3]]), tensor([0], [1], 'int32')), /must be compiled first/);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    assert.throws(
      () => m.evaluate(tensor([[1, 2, 3]]), tensor([0, 1], [2], 'int32')),
      (e: Error) => e.name === 'ShapeError' && /y\[0\] has 2 samples/.test(e.message),
    );
    await assert.rejects(
      m.fit(tensor([[1, 2, 3]]), tensor([[0, 1]]), { batchSize: 0 }),
      /batchSize must be a positive integer, got 0/,
    );
  });

  test('getWeights / setWeights round-trip in layer order', () => {
    setSeed(11);
    const a = mlp(4, 3, 2);
    const b = mlp(4, 3, 2);
    const w = a.getWeights();
    assert.deepEqual(
      w.map((t) => t.shape),
      [[3, 4], [4], [4, 4], [4], [4, 2], [2]],
    );
    b.setWeights(w);
    const x = tensor([[0.1, 0.2, 0.3]]);
    assert.deepEqual(Array.from((a.predict(x) as Tensor).dataSync()), Array.from((b.predict(x) as Tensor).dataSync()));
  });

  test('steady-state training allocates no fresh buffers', () => {
    setSeed(12);
    const { x, y } = blobs(32, 10, 3);
    const m = mlp(16, 10, 3, 'relu');
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    let at20 = 0;
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 1; i <= 200; i++) {
      m.trainOnBatch(x, y);
      if (i === 20) at20 = engineStats().freshAllocations;
    }
    assert.ok(at20 > 0);
    assert.equal(engineStats().freshAllocations, at20);
    assert.ok(process.memoryUsage().heapUsed - heap0 < 16 * 1024 * 1024);
  });
});

function optimizersSgd0() {
  return optimizers.sgd({ learningRate: 0 });
}

/** -log p[label], computed from probabilities the plain way. */
function sparseCe(yTrue: Tensor, yPred: Tensor): Tensor {
  const labels = yTrue.dataSync();
  const classes = yPred.shape[1] as number;
  const oh = new Float32Array(yPred.size);
  for (let i = 0; i < labels.length; i++) oh[i * classes + (labels[i] as number)] = 1;
  return neg(log(sum(mul(yPred, tensor(oh, yPred.shape)), { axis: -1 })));
}

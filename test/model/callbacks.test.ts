import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setSeed, type Tensor, tensor } from 'tessera';
import { layers } from '../../src/layers/index.js';
import { Callback, callbacks, type Logs, type Model, optimizers, sequential } from '../../src/model/index.js';
import { blobs, recorder } from './helpers-data.js';

function small(seed = 1): Model {
  setSeed(seed);
  const m = sequential([
    layers.dense({ units: 6, activation: 'relu', inputShape: [4] }),
    layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  m.compile({
    optimizer: optimizers.adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return m;
}

/** Reports a scripted "val_loss" sequence so monitor-based callbacks see known values. */
class Scripted extends Callback {
  constructor(private readonly values: number[]) {
    super();
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): undefined {
    logs.score = this.values[epoch] as number;
    return undefined;
  }
}

describe('callbacks', () => {
  test('a custom callback (plain object) sees every epoch and batch, in order', async () => {
    const m = small();
    const { x, y } = blobs(40, 4, 3);
    const events: string[] = [];
    const h = await m.fit(x, y, {
      epochs: 3,
      batchSize: 16,
      verbose: 0,
      callbacks: [
        {
          onTrainBegin: () => void events.push('train+'),
          onEpochBegin: (e: number) => void events.push(`e${e}+`),
          onBatchBegin: (b: number) => void events.push(`b${b}`),
          onBatchEnd: (b: number, logs?: Logs) => {
            assert.equal(typeof logs?.loss, 'number');
            assert.equal(logs?.size, b === 2 ? 8 : 16);
          },
          onEpochEnd: (e: number, logs?: Logs) =>
            void events.push(
              `e${e}- ${Object.keys(logs ?? {})
                .sort()
                .join(',')}`,
            ),
          onTrainEnd: () => void events.push('train-'),
        },
      ],
    });
    assert.deepEqual(events, [
      'train+',
      'e0+',
      'b0',
      'b1',
      'b2',
      'e0- accuracy,loss',
      'e1+',
      'b0',
      'b1',
      'b2',
      'e1- accuracy,loss',
      'e2+',
      'b0',
      'b1',
      'b2',
      'e2- accuracy,loss',
      'train-',
    ]);
    assert.equal(h.history.loss.length, 3);
  });

  test('async hooks are awaited before training goes on', async () => {
    const m = small();
    const { x, y } = blobs(16, 4, 3);
    const order: string[] = [];
    await m.fit(x, y, {
      epochs: 2,
      verbose: 0,
      callbacks: [
        {
          async onEpochEnd(e: number) {
            await new Promise((r) => setTimeout(r, 5));
            order.push(`end${e}`);
          },
          onEpochBegin: (e: number) => void order.push(`begin${e}`),
        },
      ],
    });
    assert.deepEqual(order, ['begin0', 'end0', 'begin1', 'end1']);
  });

  test('earlyStopping stops after `patience` epochs without improvement and restores the best weights', async () => {
    const m = small();
    const { x, y } = blobs(16, 4, 3);
    let bestWeights: Tensor[] = [];
    const capture = {
      onEpochEnd: (e: number) => {
        if (e === 1) bestWeights = m.getWeights();
      },
    };
    const es = callbacks.earlyStopping({ monitor: 'score', patience: 2, restoreBestWeights: true });
    // score: best at epoch 1, then worse: stop at epoch 3 (two epochs without improvement).
    const h = await m.fit(x, y, { epochs: 20, verbose: 0, callbacks: [new Scripted([5, 1, 2, 3, 0, 0]), capture, es] });
    assert.equal(h.epoch.length, 4);
    assert.equal(es.stoppedEpoch, 3);
    assert.equal(es.bestEpoch, 1);
    const now = m.getWeights();
    for (const [i, w] of now.entries()) {
      assert.deepEqual(Array.from(w.dataSync()), Array.from((bestWeights[i] as Tensor).dataSync()));
    }
  });

  test('earlyStopping mode auto maximises accuracy; baseline', async () => {
    const m = small();
    const { x, y } = blobs(16, 4, 3);
    const es = callbacks.earlyStopping({ monitor: 'val_accuracy', patience: 1 });
    const acc = new (class extends Callback {
      override onEpochEnd(e: number, logs: Logs = {}): undefined {
        logs.val_accuracy = [0.5, 0.6, 0.6, 0.7][e] as number;
        return undefined;
      }
    })();
    const h = await m.fit(x, y, { epochs: 4, verbose: 0, callbacks: [acc, es] });
    assert.equal(h.epoch.length, 3);
    // A flat score: without a baseline the first epoch counts as an improvement (stop after 3 epochs);
    // with a baseline it never beats, the patience runs from epoch 0 (stop after 2).
    const flat = [3, 3, 3, 3, 3, 3];
    const plain = await m.fit(x, y, {
      epochs: 6,
      verbose: 0,
      callbacks: [new Scripted(flat), callbacks.earlyStopping({ monitor: 'score', patience: 2 })],
    });
    assert.equal(plain.epoch.length, 3);
    const es2 = callbacks.earlyStopping({ monitor: 'score', patience: 2, baseline: 0.5 });
    const h2 = await m.fit(x, y, { epochs: 6, verbose: 0, callbacks: [new Scripted(flat), es2] });
    assert.equal(h2.epoch.length, 2);
  });

  test('reduceLROnPlateau lowers the learning rate after patience, respecting cooldown and minLr', async () => {
    const m = small();
    const { x, y } = blobs(16, 4, 3);
    const lrs: number[] = [];
    const r = callbacks.reduceLROnPlateau({ monitor: 'score', factor: 0.5, patience: 1, cooldown: 2, minLr: 0.003 });
    await m.fit(x, y, {
      epochs: 6,
      verbose: 0,
      callbacks: [
        new Scripted([1, 1, 1, 1, 1, 1]),
        r,
        { onEpochEnd: (_e: number, logs?: Logs) => void lrs.push(logs?.learning_rate as number) },
      ],
    });
    // Logged before each epoch's decision: 0.01 -> 0.005 (epoch 1) -> cooldown (epoch 2) -> 0.003 (epoch 3, minLr).
    assert.deepEqual(
      lrs.map((v) => Number(v.toFixed(6))),
      [0.01, 0.01, 0.005, 0.005, 0.003, 0.003],
    );
    assert.equal(Number((m.optimizer.learningRate as number).toFixed(6)), 0.003);
    assert.throws(() => callbacks.reduceLROnPlateau({ factor: 1 }), /factor must be in \[0, 1\)/);
  });

  test('learningRateScheduler sets the learning rate each epoch', async () => {
    const m = small();
    const { x, y } = blobs(16, 4, 3);
    const seen: number[] = [];
    await m.fit(x, y, {
      epochs: 3,
      verbose: 0,
      callbacks: [
        callbacks.learningRateScheduler((epoch) => 0.1 / (epoch + 1)),
        { onEpochEnd: () => void seen.push(m.optimizer.learningRate as number) },
      ],
    });
    assert.deepEqual(seen, [0.1, 0.05, 0.1 / 3]);
  });

  test('csvLogger writes a header and one row per epoch (and appends)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-csv-'));
    try {
      const file = join(dir, 'log.csv');
      const m = small();
      const { x, y } = blobs(16, 4, 3);
      const h = await m.fit(x, y, {
        epochs: 2,
        verbose: 0,
        validationSplit: 0.25,
        callbacks: [callbacks.csvLogger({ filename: file })],
      });
      let rows = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(rows[0], 'epoch,accuracy,loss,val_accuracy,val_loss');
      assert.equal(rows.length, 3);
      const cells = (rows[2] as string).split(',');
      assert.equal(cells[0], '1');
      assert.equal(Number(cells[2]), h.history.loss[1]);
      await m.fit(x, y, {
        epochs: 1,
        verbose: 0,
        validationSplit: 0.25,
        callbacks: [callbacks.csvLogger({ filename: file, append: true })],
      });
      rows = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(rows.length, 4);
      writeFileSync(file, 'stale');
      await m.fit(x, y, {
        epochs: 1,
        verbose: 0,
        callbacks: [callbacks.csvLogger({ filename: file, separator: ';' })],
      });
      assert.equal(readFileSync(file, 'utf8').split('\n')[0], 'epoch;accuracy;loss');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('terminateOnNaN stops on a NaN loss', async () => {
    setSeed(3);
    const m = sequential([layers.dense({ units: 1, inputShape: [1] })]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const t = callbacks.terminateOnNaN();
    const x = tensor([[1], [Number.NaN], [1], [1]]);
    const y = tensor([[1], [1], [1], [1]]);
    const warn = console.warn;
    console.warn = () => {};
    try {
      const h = await m.fit(x, y, { epochs: 5, batchSize: 1, shuffle: false, verbose: 0, callbacks: [t] });
      assert.equal(t.stoppedAt, 1);
      assert.equal(h.epoch.length, 1);
    } finally {
      console.warn = warn;
    }
  });

  test('modelCheckpoint saves through model.save when it exists, formatting the path', async () => {
    const m = small();
    const { x, y } = blobs(16, 4, 3);
    const saved: string[] = [];
    (m as unknown as { save: (p: string) => Promise<void> }).save = async (p: string) => void saved.push(p);
    const ck = callbacks.modelCheckpoint({
      filepath: 'ckpt/ep{epoch:02d}-{score:.1f}',
      monitor: 'score',
      saveBestOnly: true,
    });
    await m.fit(x, y, { epochs: 4, verbose: 0, callbacks: [new Scripted([3, 2, 2.5, 1]), ck] });
    assert.deepEqual(saved, ['ckpt/ep01-3.0', 'ckpt/ep02-2.0', 'ckpt/ep04-1.0']);
  });

  test('modelCheckpoint without model.save falls back to io saveModel (a model folder)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ckpt-'));
    try {
      const m = small();
      const { x, y } = blobs(16, 4, 3);
      await m.fit(x, y, {
        epochs: 2,
        verbose: 0,
        callbacks: [callbacks.modelCheckpoint({ filepath: join(dir, 'ep{epoch}') })],
      });
      const json = JSON.parse(readFileSync(join(dir, 'ep2', 'model.json'), 'utf8'));
      assert.equal(json.modelConfig.className, 'Sequential');
      assert.ok(readFileSync(join(dir, 'ep1', 'weights.safetensors')).length > 100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('progress output', () => {
  test('not a TTY: exactly one plain line per epoch', async () => {
    const m = small();
    const { x, y } = blobs(40, 4, 3);
    const out = recorder(false);
    await m.fit(x, y, { epochs: 3, batchSize: 8, validationSplit: 0.2, progressStream: out });
    const text = out.text();
    assert.ok(!text.includes('\r'));
    const ls = text.trimEnd().split('\n');
    assert.equal(ls.length, 3);
    assert.match(
      ls[0] as string,
      /^Epoch 1\/3 - 4\/4 - \d+s \d+(ms|us)\/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$|^Epoch 1\/3 - 4\/4 - \d+s \d+(ms|us)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/,
    );
    assert.match(ls[2] as string, /^Epoch 3\/3 /);
  });

  test('verbose 2 is one line per epoch even on a TTY; verbose 0 is silent', async () => {
    const m = small();
    const { x, y } = blobs(16, 4, 3);
    const out = recorder(true);
    await m.fit(x, y, { epochs: 2, verbose: 2, progressStream: out });
    assert.equal(out.text().trimEnd().split('\n').length, 2);
    assert.ok(!out.text().includes('\r'));
    const quiet = recorder(true);
    await m.fit(x, y, { epochs: 2, verbose: 0, progressStream: quiet });
    assert.equal(quiet.text(), '');
  });

  test('a TTY gets an Epoch line and a live bar redrawn with \\r', async () => {
    const m = small();
    const { x, y } = blobs(64, 4, 3);
    const out = recorder(true);
    await m.fit(x, y, { epochs: 2, batchSize: 8, progressStream: out });
    const text = out.text();
    assert.ok(text.startsWith('Epoch 1/2\n\r'));
    assert.match(
      text,
      /\r8\/8 \[==============================\] - \d+s \d+(ms|us)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n/,
    );
    assert.match(text, /Epoch 2\/2\n/);
  });
});

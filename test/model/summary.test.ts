import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { input, layers, type SymbolicTensor } from '../../src/layers/index.js';
import { model, sequential } from '../../src/model/index.js';

function lines(m: { summary(p: (s: string) => void): void }): string[] {
  const out: string[] = [];
  m.summary((s) => out.push(s));
  return out;
}

function row(ls: string[], name: string): string {
  const r = ls.find((l) => l.trimStart().startsWith(`${name} (`));
  assert.ok(r, `no row for ${name} in\n${ls.join('\n')}`);
  return r;
}

describe('summary', () => {
  test('the seed CNN: Keras param counts per layer and in total', () => {
    const m = sequential(
      [
        layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], name: 'conv2d' }),
        layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d' }),
        layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', name: 'conv2d_1' }),
        layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d_1' }),
        layers.flatten({ name: 'flatten' }),
        layers.dense({ units: 64, activation: 'relu', name: 'dense' }),
        layers.dense({ units: 10, activation: 'softmax', name: 'dense_1' }),
      ],
      { name: 'seed_cnn' },
    );
    const ls = lines(m);
    assert.equal(ls[0], 'Model: "seed_cnn"');
    assert.match(ls[2] as string, /Layer \(type\)\s+Output Shape\s+Param #/);
    assert.match(row(ls, 'conv2d'), /^ conv2d \(Conv2D\)\s+\(None, 26, 26, 32\)\s+320$/);
    assert.match(row(ls, 'max_pooling2d'), /\(None, 13, 13, 32\)\s+0$/);
    assert.match(row(ls, 'conv2d_1'), /\(None, 11, 11, 64\)\s+18,496$/);
    assert.match(row(ls, 'flatten'), /\(None, 1600\)\s+0$/);
    assert.match(row(ls, 'dense'), /\(None, 64\)\s+102,464$/);
    assert.match(row(ls, 'dense_1'), /\(None, 10\)\s+650$/);
    assert.ok(ls.includes('Total params: 121,930 (476.29 KB)'), ls.join('\n'));
    assert.ok(ls.includes('Trainable params: 121,930 (476.29 KB)'));
    assert.ok(ls.includes('Non-trainable params: 0 (0 B)'));
  });

  test('the seed MLP 100 -> 64 -> 64 -> 10', () => {
    const m = sequential([
      layers.dense({ units: 64, activation: 'relu', inputShape: [100], name: 'h1' }),
      layers.dense({ units: 64, activation: 'relu', name: 'h2' }),
      layers.dense({ units: 10, activation: 'softmax', name: 'out' }),
    ]);
    const ls = lines(m);
    assert.match(row(ls, 'h1'), /\(None, 64\)\s+6,464$/);
    assert.match(row(ls, 'h2'), /\(None, 64\)\s+4,160$/);
    assert.match(row(ls, 'out'), /\(None, 10\)\s+650$/);
    assert.ok(ls.some((l) => l.startsWith('Total params: 11,274 ')));
  });

  test('non-trainable params: frozen layers and batch-norm moving statistics', () => {
    const frozen = layers.dense({ units: 4, inputShape: [3], name: 'frozen' });
    const m = sequential([frozen, layers.batchNormalization({ name: 'bn' }), layers.dense({ units: 2, name: 'head' })]);
    frozen.trainable = false;
    const ls = lines(m);
    // frozen 16 + bn (gamma, beta trainable 8; moving mean/var 8) + head 10 = 42
    assert.ok(
      ls.some((l) => l.startsWith('Total params: 42 ')),
      ls.join('\n'),
    );
    assert.ok(ls.some((l) => l.startsWith('Trainable params: 18 ')));
    assert.ok(ls.some((l) => l.startsWith('Non-trainable params: 24 ')));
  });

  test('an unbuilt model cannot be summarised; a functional model shows inputs and connections', () => {
    const m = sequential([layers.dense({ units: 2 })]);
    assert.throws(() => m.summary(() => {}), /not built yet/);
    const x = input({ shape: [5], name: 'features' });
    const y = layers.dense({ units: 3, name: 'proj' }).apply(x) as SymbolicTensor;
    const ls = lines(model({ inputs: x, outputs: y }));
    assert.match(ls[2] as string, /Connected to/);
    assert.match(row(ls, 'features'), /\(None, 5\)\s+0\s+-$/);
    assert.match(row(ls, 'proj'), /\(None, 3\)\s+18\s+features\[0\]\[0\]$/);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  layers,
  loadModel,
  optimizers,
  saveModel,
  layers as seq,
  sequential,
  setSeed,
  type Tensor,
  type TextVectorization,
  tensor,
} from 'tessera';
import { layerFromConfig } from '../../src/layers/layer.js';
import { assertClose } from '../helpers/gradcheck.js';

test('a text model (vectorizer + embedding + BiLSTM + GRU) trains, saves, loads and scores raw strings', async () => {
  setSeed(3);
  const texts = ['good great fine', 'bad awful poor', 'great good', 'poor bad', 'fine good 😀', 'awful 😡 bad'];
  const labels = [1, 0, 1, 0, 1, 0];
  const tv = seq.textVectorization({ outputSequenceLength: 5 });
  tv.adapt(texts);
  const model = sequential([
    seq.embedding({ inputDim: tv.vocabularySize(), outputDim: 8, maskZero: true, inputShape: [5] }),
    seq.bidirectional({ layer: seq.lstm({ units: 4, returnSequences: true }) }),
    seq.gru({ units: 4 }),
    layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: optimizers.adam({ learningRate: 0.03 }), loss: 'binaryCrossentropy' });
  const x = tv.vectorize(texts);
  const y = tensor(labels, [6, 1]);
  const before = model.evaluate(x, y) as unknown;
  await model.fit(x, y, { epochs: 40, batchSize: 6, verbose: 0 });
  const after = model.evaluate(x, y) as unknown;
  const lossOf = (l: unknown) => (typeof l === 'number' ? l : ((l as Record<string, number>).loss ?? Number.NaN));
  assert.ok(lossOf(after) < lossOf(before) * 0.7, `loss ${lossOf(before)} -> ${lossOf(after)}`);
  const probe = ['good fine', 'bad 😡', 'unknown words here'];
  const expected = (model.predict(tv.vectorize(probe)) as Tensor).dataSync();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-text-'));
  try {
    await saveModel(model, dir);
    writeFileSync(join(dir, 'text_vectorization.json'), JSON.stringify(tv.getConfig()));
    const loaded = await loadModel(dir);
    const tv2 = layerFromConfig(
      'TextVectorization',
      JSON.parse(readFileSync(join(dir, 'text_vectorization.json'), 'utf8')),
    ) as TextVectorization;
    assert.deepEqual(tv2.getVocabulary(), tv.getVocabulary());
    const got = (loaded.predict(tv2.vectorize(probe)) as Tensor).dataSync();
    assertClose(got, expected, 1e-6, 'reloaded predictions');
    assert.ok(got[0]! > 0.5 && got[1]! < 0.5, `good ${got[0]} bad ${got[1]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

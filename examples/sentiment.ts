/**
 * Sentiment analysis (positive = 1 / negative = 0) from a CSV of (text, label).
 *
 * No npm package ships a labelled sentiment corpus (the registry has lexicons such as AFINN,
 * not labelled texts), so the example trains on a user's CSV and ships a small hand-labelled set
 * written for it: examples/data/sentiment-train.csv (120 short reviews) and
 * examples/data/sentiment-test.csv (32 held-out reviews), CC0 / same licence as this repository.
 * They are small and easy: a smoke test of the pipeline, not a benchmark.
 *
 *   node --conditions=source --import tsx examples/sentiment.ts [--train file.csv] [--test file.csv] [--epochs N] [--save dir]
 *
 * The CSV needs a header with `text` and `label` columns (label 0/1, or negative/positive).
 * With --save, the model and the vectorizer (text_vectorization.json) are written so the reloaded
 * model scores raw strings (loadSentimentModel).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  layerFromConfig,
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
import { binaryMetrics } from './spam.js';

/** A small RFC 4180 CSV parser (quoted fields, doubled quotes, newlines in quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f.length > 0)) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f.length > 0)) rows.push(row);
  return rows;
}

export function readLabelled(path: string): { texts: string[]; labels: boolean[] } {
  const [head, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  const ti = head?.indexOf('text') ?? -1;
  const li = head?.indexOf('label') ?? -1;
  if (ti < 0 || li < 0)
    throw new Error(`${path}: expected a header with 'text' and 'label' columns, got ${head?.join(',')}`);
  const texts: string[] = [];
  const labels: boolean[] = [];
  for (const r of rows) {
    const l = (r[li] ?? '').trim().toLowerCase();
    if (!['0', '1', 'positive', 'negative', 'pos', 'neg'].includes(l)) {
      throw new Error(`${path}: label ${JSON.stringify(r[li])} is not 0/1/positive/negative`);
    }
    texts.push(r[ti] ?? '');
    labels.push(l === '1' || l.startsWith('pos'));
  }
  return { texts, labels };
}

/** Reload a model saved by this example: raw strings in, P(positive) out. */
export async function loadSentimentModel(dir: string): Promise<(texts: string[]) => Float32Array> {
  const model = await loadModel(dir);
  const tv = layerFromConfig(
    'TextVectorization',
    JSON.parse(readFileSync(join(dir, 'text_vectorization.json'), 'utf8')),
  ) as TextVectorization;
  return (texts) => (model.predict(tv.vectorize(texts)) as Tensor).dataSync() as Float32Array;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? (argv[i + 1] ?? def) : def;
  };
  const here = new URL('.', import.meta.url).pathname;
  const train = readLabelled(opt('train', join(here, 'data', 'sentiment-train.csv')));
  const test = readLabelled(opt('test', join(here, 'data', 'sentiment-test.csv')));
  const epochs = Number(opt('epochs', '30'));
  setSeed(5);
  const tv = seq.textVectorization({ maxTokens: 5000, outputSequenceLength: 24 });
  tv.adapt(train.texts);
  const model = sequential([
    seq.embedding({ inputDim: tv.vocabularySize(), outputDim: 24, maskZero: true, inputShape: [24] }),
    seq.bidirectional({ layer: seq.gru({ units: 16 }) }),
    layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: optimizers.adam({ learningRate: 1e-2 }), loss: 'binaryCrossentropy' });
  await model.fit(
    tv.vectorize(train.texts),
    tensor(
      train.labels.map((l) => (l ? 1 : 0)),
      [train.labels.length, 1],
    ),
    { epochs, batchSize: 16, verbose: 0, shuffle: true },
  );
  const scores = (model.predict(tv.vectorize(test.texts)) as Tensor).dataSync();
  const m = binaryMetrics(scores, test.labels);
  console.log(
    `sentiment (train ${train.texts.length}, test ${test.texts.length}): accuracy ${m.accuracy.toFixed(3)} precision ${m.precision.toFixed(3)} recall ${m.recall.toFixed(3)} F1 ${m.f1.toFixed(3)}`,
  );
  const saveDir = opt('save', '');
  if (saveDir) {
    await saveModel(model, saveDir);
    writeFileSync(join(saveDir, 'text_vectorization.json'), JSON.stringify(tv.getConfig()));
    const score = await loadSentimentModel(saveDir);
    const demo = ['What a wonderful day, I love it', 'This was a terrible waste of time'];
    const p = score(demo);
    for (let i = 0; i < demo.length; i++) {
      console.log(`  ${JSON.stringify(demo[i])} -> P(positive) ${(p[i] as number).toFixed(3)}`);
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  await main();
}

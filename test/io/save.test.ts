import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  model as functional,
  input,
  layers,
  loadModel,
  type Model,
  ModelIOError,
  randomUniform,
  readModelJson,
  saveModel,
  sequential,
  setSeed,
  type Tensor,
  tensor,
} from 'tessera';

const root = mkdtempSync(join(tmpdir(), 'tessera-save-'));
after(() => rmSync(root, { recursive: true, force: true }));

const x = randomUniform([24, 6], { seed: 11 });
const y = tensor(
  Array.from({ length: 24 }, (_, i) => (i * 7) % 3),
  [24],
  'int32',
);

function mlp(): Model {
  const m = sequential([
    layers.dense({ units: 8, activation: 'relu', inputShape: [6] }),
    layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function bits(t: Tensor): Buffer {
  const d = t.dataSync();
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

test('sequential: save/load gives bit-identical predictions and the saved layout', async () => {
  setSeed(1);
  const m = mlp();
  await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
  const dir = join(root, 'seq', '1');
  await saveModel(m, dir);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.safetensors']);
  assert.deepEqual(
    readdirSync(join(root, 'seq')).filter((n) => n.includes('.tmp-') || n.includes('.old-')),
    [],
    'no temp folders left',
  );
  const json = readModelJson(dir);
  assert.equal(json.format, 'tessera-model');
  assert.equal(json.tesseraVersion, JSON.parse(readFileSync('package.json', 'utf8')).version);
  assert.equal(json.modelConfig.className, 'Sequential');
  assert.deepEqual(
    json.weightNames,
    m.weights.map((w) => w.name),
  );
  assert.deepEqual(json.signature.inputs[0]?.shape, [null, 6]);
  assert.deepEqual(json.signature.outputs[0]?.shape, [null, 3]);
  assert.equal((json.trainingConfig as { optimizerConfig: { className: string } }).optimizerConfig.className, 'Adam');
  const loaded = await loadModel(dir);
  assert.ok(bits(loaded.predict(x) as Tensor).equals(bits(m.predict(x) as Tensor)));
  assert.equal(loaded.optimizer.iterations, m.optimizer.iterations);
  assert.equal(loaded.optimizer.iterations, 6);
});

test('functional: save/load round trip with model.save', async () => {
  setSeed(2);
  const inp = input({ shape: [6] });
  const h = layers.dense({ units: 5, activation: 'tanh' }).apply(inp);
  const out = layers.dense({ units: 2 }).apply(h);
  const f = functional({ inputs: inp, outputs: out });
  const dir = join(root, 'func');
  await f.save(dir);
  const json = readModelJson(dir);
  assert.equal(json.trainingConfig, null);
  assert.deepEqual(json.signature.inputs[0]?.shape, [null, 6]);
  const g = await loadModel(dir);
  assert.equal(g.compiled, null);
  assert.ok(bits(g.predict(x) as Tensor).equals(bits(f.predict(x) as Tensor)));
});

test('training continues identically: 2 epochs + save/load + 1 epoch == 3 epochs', async () => {
  setSeed(3);
  const a = mlp();
  setSeed(3);
  const b = mlp();
  assert.ok(bits(a.weights[0] as Tensor).equals(bits(b.weights[0] as Tensor)));
  await a.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
  const dir = join(root, 'resume');
  await saveModel(a, dir);
  const resumed = await loadModel(dir);
  await resumed.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
  await b.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
  const rw = resumed.weights;
  const bw = b.weights;
  assert.equal(rw.length, bw.length);
  let maxDiff = 0;
  rw.forEach((w, i) => {
    const p = w.dataSync();
    const q = (bw[i] as Tensor).dataSync();
    for (let k = 0; k < p.length; k++) maxDiff = Math.max(maxDiff, Math.abs((p[k] as number) - (q[k] as number)));
  });
  assert.ok(maxDiff <= 1e-6, `max weight difference ${maxDiff}`);
  // and the weights did move in the third epoch (the test can tell a missing slot restore)
  const fresh = await loadModel(dir);
  let moved = 0;
  fresh.weights.forEach((w, i) => {
    const p = w.dataSync();
    const q = (rw[i] as Tensor).dataSync();
    for (let k = 0; k < p.length; k++) moved = Math.max(moved, Math.abs((p[k] as number) - (q[k] as number)));
  });
  assert.ok(moved > 1e-4, `third epoch moved weights by ${moved}`);
  assert.equal(resumed.optimizer.iterations, 9);
});

test('saving over an existing model replaces it atomically', async () => {
  setSeed(4);
  const m = mlp();
  const dir = join(root, 'replace');
  await saveModel(m, dir);
  writeFileSync(join(dir, 'stale.txt'), 'old');
  await m.fit(x, y, { epochs: 1, verbose: 0 });
  await saveModel(m, dir);
  assert.equal(existsSync(join(dir, 'stale.txt')), false);
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('replace.')),
    [],
  );
  const l = await loadModel(dir);
  assert.ok(bits(l.predict(x) as Tensor).equals(bits(m.predict(x) as Tensor)));
});

test('loading broken folders names the file and the problem', async () => {
  const isErr = (re: RegExp) => (e: unknown) => e instanceof ModelIOError && re.test((e as Error).message);
  await assert.rejects(loadModel(join(root, 'nope')), isErr(/model folder '.*nope' does not exist/));
  const empty = join(root, 'empty');
  rmSync(empty, { recursive: true, force: true });
  await saveModel(mlp(), empty);
  rmSync(join(empty, 'model.json'));
  await assert.rejects(loadModel(empty), isErr(/'.*empty\/model\.json' is missing/));
  writeFileSync(join(empty, 'model.json'), '{ nope');
  await assert.rejects(loadModel(empty), isErr(/model\.json' is not valid JSON/));
  writeFileSync(join(empty, 'model.json'), JSON.stringify({ format: 'keras' }));
  await assert.rejects(loadModel(empty), isErr(/has format "keras", expected 'tessera-model'/));
  const good = join(root, 'good');
  await saveModel(mlp(), good);
  writeFileSync(join(good, 'weights.safetensors'), new Uint8Array([1, 2, 3]));
  await assert.rejects(loadModel(good), isErr(/weights\.safetensors' is malformed/));
  rmSync(join(good, 'weights.safetensors'));
  await assert.rejects(loadModel(good), isErr(/weights\.safetensors' is missing/));
  const unbuilt = sequential([layers.dense({ units: 2 })]);
  await assert.rejects(saveModel(unbuilt, join(root, 'unbuilt')), isErr(/is not built yet/));
});

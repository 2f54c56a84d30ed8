/**
 * String inputs (KServe V2 BYTES in JSON and binary, TF Serving strings and {"b64"}) for text models,
 * and FP64 / FP16 / INT64 / INT32 / UINT8 / INT8 inputs converted to a float32 model.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { layers, saveModel, sequential, setSeed, type Tensor } from 'tessera';
import { sequenceLayers as seq } from '../../src/layers/recurrent-index.js';
import { type ModelServer, startServer } from '../../src/serve/server.js';
import { addModel, denseModel } from './models.js';
import { call, SILENT, tempRepo } from './util.js';

/** Input names (layer names depend on how many layers the process made before). */
let TEXT = '';
let DENSE = '';
const texts = ['good great fine', 'bad awful poor', 'great good', 'poor bad 😡'];

/** BYTES binary elements: 4-byte little-endian length, then the UTF-8 bytes. */
function bytesBlob(list: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of list) {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

describe('text models take strings', () => {
  let server: ModelServer;
  let expected: (probe: string[]) => number[];
  let sidecarExpected: (probe: string[]) => number[];
  const probe = ['good fine', 'bad 😡', 'unknown words here'];
  before(async () => {
    setSeed(5);
    const repo = tempRepo();
    // 1. TextVectorization as the first layer of the saved model.
    const tv = seq.textVectorization({ outputSequenceLength: 4, inputShape: [1] } as never);
    tv.adapt(texts);
    const model = sequential([
      tv,
      seq.embedding({ inputDim: tv.vocabularySize(), outputDim: 3 }),
      layers.flatten(),
      layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    mkdirSync(join(repo, 'text'), { recursive: true });
    await saveModel(model, join(repo, 'text', '1'));
    const rest = sequential(model.layers.slice(1));
    expected = (p) => Array.from((rest.predictOnBatch(tv.vectorize(p)) as Tensor).dataSync());
    // 2. The examples' convention: an int model plus text_vectorization.json next to it.
    const tv2 = seq.textVectorization({ outputSequenceLength: 4 });
    tv2.adapt(texts);
    const intModel = sequential([
      seq.embedding({ inputDim: tv2.vocabularySize(), outputDim: 3, inputShape: [4] }),
      layers.flatten(),
      layers.dense({ units: 1, activation: 'sigmoid' }),
    ]);
    await addModel(repo, 'sidecar', 1, intModel);
    writeFileSync(join(repo, 'sidecar', '1', 'text_vectorization.json'), JSON.stringify(tv2.getConfig()));
    sidecarExpected = (p) => Array.from((intModel.predictOnBatch(tv2.vectorize(p)) as Tensor).dataSync());
    server = await startServer({ modelRepository: repo, port: 0, ...SILENT });
    TEXT = (await call(`${server.url}/v2/models/text`)).json().inputs[0].name;
  });
  after(() => server.close());

  test('metadata: BYTES [-1] (V2), DT_STRING (TF Serving)', async () => {
    const meta = (await call(`${server.url}/v2/models/text`)).json();
    assert.equal(meta.inputs[0].datatype, 'BYTES');
    assert.deepEqual(meta.inputs[0].shape, [-1]);
    const tf = (await call(`${server.url}/v1/models/sidecar/metadata`)).json();
    const inp = Object.values(tf.metadata.signature_def.signature_def.serving_default.inputs)[0] as { dtype: string };
    assert.equal(inp.dtype, 'DT_STRING');
  });

  test('V2 JSON BYTES ([N] and [N, 1]) give the in-process predictions', async () => {
    const want = expected(probe);
    for (const shape of [[3], [3, 1]]) {
      const r = await call(`${server.url}/v2/models/text/infer`, {
        json: { inputs: [{ name: TEXT, shape, datatype: 'BYTES', data: probe }] },
      });
      assert.equal(r.status, 200, r.body.toString());
      const out = r.json().outputs[0];
      assert.deepEqual(out.shape, [3, 2]);
      assert.deepEqual(out.data, want.map(Math.fround));
    }
  });

  test('V2 binary BYTES: length-prefixed elements', async () => {
    const blob = bytesBlob(probe);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: TEXT,
            shape: [3],
            datatype: 'BYTES',
            parameters: { binary_data_size: blob.length },
          },
        ],
      }),
    );
    const r = await call(`${server.url}/v2/models/text/infer`, {
      method: 'POST',
      body: Buffer.concat([header, blob]),
      headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
    });
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(r.json().outputs[0].data, expected(probe).map(Math.fround));
    // A length running past the data is a 400 naming the element.
    const bad = Buffer.concat([header, blob.subarray(0, blob.length - 2), Buffer.from([0, 0])]);
    bad.writeUInt32LE(999, header.length);
    const r2 = await call(`${server.url}/v2/models/text/infer`, {
      method: 'POST',
      body: bad,
      headers: { 'Inference-Header-Content-Length': String(header.length) },
    });
    assert.equal(r2.status, 400);
    assert.match(r2.json().error, /input '\w+': BYTES element 0 needs 999 bytes/);
  });

  test('TF Serving strings and {"b64"} (row and columnar); the sidecar vectorizer', async () => {
    const b64 = { b64: Buffer.from(probe[1] as string, 'utf8').toString('base64') };
    const rows = await call(`${server.url}/v1/models/text:predict`, { json: { instances: [probe[0], b64, probe[2]] } });
    assert.equal(rows.status, 200, rows.body.toString());
    const want = expected(probe).map(Math.fround);
    assert.deepEqual(rows.json().predictions.flat(), want);
    const cols = await call(`${server.url}/v1/models/sidecar:predict`, { json: { inputs: probe } });
    assert.equal(cols.status, 200, cols.body.toString());
    assert.deepEqual(cols.json().outputs.flat(), sidecarExpected(probe).map(Math.fround));
  });

  test('concurrent string requests batch together and match the unbatched answers', async () => {
    const all = await Promise.all(
      texts.map((t) =>
        call(`${server.url}/v2/models/text/infer`, {
          json: { inputs: [{ name: TEXT, shape: [1], datatype: 'BYTES', data: [t] }] },
        }),
      ),
    );
    all.forEach((r, i) => {
      assert.deepEqual(r.json().outputs[0].data, expected([texts[i] as string]).map(Math.fround));
    });
  });

  test('numbers for a string input: 400 naming BYTES', async () => {
    const r = await call(`${server.url}/v2/models/text/infer`, {
      json: { inputs: [{ name: TEXT, shape: [1], datatype: 'FP32', data: [1] }] },
    });
    assert.equal(r.status, 400);
    assert.match(r.json().error, /input '\w+': expected datatype BYTES, got "FP32"/);
    const r2 = await call(`${server.url}/v2/models/text/infer`, {
      json: { inputs: [{ name: TEXT, shape: [2], datatype: 'BYTES', data: ['a', 7] }] },
    });
    assert.equal(r2.status, 400);
    assert.match(r2.json().error, /expected strings \(datatype BYTES\), got 7 at element 1/);
  });
});

describe('numeric datatypes are converted to the model dtype', () => {
  let server: ModelServer;
  const x = [1, -2, 0.5, 3];
  let want: number[];
  before(async () => {
    const repo = tempRepo();
    const model = denseModel();
    await addModel(repo, 'dense', 1, model);
    const { tensor } = await import('tessera');
    want = Array.from((model.predictOnBatch(tensor(x, [1, 4])) as Tensor).dataSync());
    server = await startServer({ modelRepository: repo, port: 0, ...SILENT });
    DENSE = (await call(`${server.url}/v2/models/dense`)).json().inputs[0].name;
  });
  after(() => server.close());

  const binary = (datatype: string, blob: Buffer) => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: DENSE, shape: [1, 4], datatype, parameters: { binary_data_size: blob.length } }],
      }),
    );
    return call(`${server.url}/v2/models/dense/infer`, {
      method: 'POST',
      body: Buffer.concat([header, blob]),
      headers: { 'Inference-Header-Content-Length': String(header.length) },
    });
  };

  test('JSON FP64 / INT64 / INT8 values, range-checked', async () => {
    for (const datatype of ['FP64', 'FP16']) {
      const r = await call(`${server.url}/v2/models/dense/infer`, {
        json: { inputs: [{ name: DENSE, shape: [1, 4], datatype, data: x }] },
      });
      assert.equal(r.status, 200, r.body.toString());
      assert.deepEqual(r.json().outputs[0].data, want);
    }
    const ints = [1, -2, 0, 3];
    const r = await call(`${server.url}/v2/models/dense/infer`, {
      json: { inputs: [{ name: DENSE, shape: [1, 4], datatype: 'INT8', data: ints }] },
    });
    assert.equal(r.status, 200, r.body.toString());
    const bad = await call(`${server.url}/v2/models/dense/infer`, {
      json: { inputs: [{ name: DENSE, shape: [1, 4], datatype: 'INT8', data: [1, 2, 300, 4] }] },
    });
    assert.equal(bad.status, 400);
    assert.match(
      bad.json().error,
      /expected integers in \[-128, 127\] for the model's float32 \(datatype INT8\), got 300 at element 2/,
    );
    const frac = await call(`${server.url}/v2/models/dense/infer`, {
      json: { inputs: [{ name: DENSE, shape: [1, 4], datatype: 'INT64', data: [1, 2.5, 3, 4] }] },
    });
    assert.equal(frac.status, 400);
  });

  test('binary FP64 / FP16 / INT64 / UINT8 give the FP32 answer; INT64 out of range is a 400', async () => {
    const f64 = Buffer.from(new Float64Array(x).buffer);
    const r64 = await binary('FP64', f64);
    assert.equal(r64.status, 200, r64.body.toString());
    assert.deepEqual(r64.json().outputs[0].data, want);
    // 1, -2, 0.5, 3 in IEEE half precision.
    const f16 = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x4200]).buffer);
    assert.deepEqual((await binary('FP16', f16)).json().outputs[0].data, want);
    const ints = [1, 0, 2, 3];
    const viaInt = await call(`${server.url}/v2/models/dense/infer`, {
      json: { inputs: [{ name: DENSE, shape: [1, 4], datatype: 'FP32', data: ints }] },
    });
    const wantInt = viaInt.json().outputs[0].data;
    const i64 = Buffer.from(new BigInt64Array(ints.map(BigInt)).buffer);
    assert.deepEqual((await binary('INT64', i64)).json().outputs[0].data, wantInt);
    assert.deepEqual((await binary('UINT8', Buffer.from(ints))).json().outputs[0].data, wantInt);
    const huge = Buffer.from(new BigInt64Array([1n, 2n ** 60n, 0n, 0n]).buffer);
    const r = await binary('INT64', huge);
    assert.equal(r.status, 400);
    assert.match(
      r.json().error,
      /input '\w+': expected integers in .* \(datatype INT64\), got "1152921504606846976" at element 1/,
    );
    const short = await binary('FP64', f64.subarray(0, 16));
    assert.equal(short.status, 400);
    assert.match(short.json().error, /shape \[1, 4\] of FP64 needs binary_data_size 32, got 16/);
  });
});

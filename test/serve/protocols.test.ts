/** End-to-end over real HTTP: saved dense and conv models served with KServe V2 (JSON, binary) and TF Serving REST. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { topClasses } from '../../src/serve/codec.js';
import { createRunner } from '../../src/serve/runner.js';
import { type ModelServer, startServer } from '../../src/serve/server.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { addModel, cnn2Model, convModel, denseModel } from './models.js';
import { call, SILENT, tempRepo } from './util.js';

let server: ModelServer;
let repo: string;
const X = [
  [0.5, -1, 2, 0.25],
  [1, 2, 3, 4],
  [-3, 0.125, 0, 1.5],
];
/** The reference: the same saved model run in-process, row by row. */
let expected: Float32Array[];
let inName: string;
let outName: string;

before(async () => {
  repo = tempRepo();
  await addModel(repo, 'dense', 1, denseModel());
  await addModel(repo, 'dense_nb', 1, denseModel(), { maxBatchSize: 0, inlineWhenIdle: true });
  await addModel(repo, 'dense_local', 1, denseModel(), { inlineWhenIdle: true });
  await addModel(repo, 'dense_labels', 1, denseModel());
  const labelsOut = (await createRunner(`${repo}/dense_labels/1`)).signature.outputs[0]!.name;
  writeFileSync(
    join(repo, 'dense_labels', 'config.json'),
    JSON.stringify({ classLabels: { [labelsOut]: ['a', 'b'] } }),
  );
  await addModel(repo, 'conv', 1, convModel());
  const cnn2 = cnn2Model();
  await addModel(repo, 'cnn2', 1, cnn2);
  await addModel(repo, 'cnn2_direct', 1, cnn2, { convolution: 'direct' });
  await addModel(repo, 'cnn2_local', 1, cnn2, { inlineWhenIdle: true });
  const runner = await createRunner(`${repo}/dense/1`);
  inName = runner.signature.inputs[0]!.name;
  outName = runner.signature.outputs[0]!.name;
  expected = X.map(
    (row) =>
      (runner.infer({ [inName]: new Tensor(new Float32Array(row), [1, 4]) })[outName] as Tensor)
        .dataSync()
        .slice() as Float32Array,
  );
  server = await startServer({ modelRepository: repo, port: 0, ...SILENT });
});
after(() => server.close());

const flat = (rows: Float32Array[]) => rows.flatMap((r) => Array.from(r));

describe('KServe V2', () => {
  test('server metadata, liveness, readiness', async () => {
    const meta = await call(`${server.url}/v2`);
    assert.equal(meta.status, 200);
    assert.equal(meta.json().name, 'tessera');
    assert.ok(meta.json().extensions.includes('binary_tensor_data'));
    assert.equal((await call(`${server.url}/v2/health/live`)).status, 200);
    assert.equal((await call(`${server.url}/v2/health/ready`)).status, 200);
    assert.equal((await call(`${server.url}/v2/models/dense/ready`)).status, 200);
    assert.equal((await call(`${server.url}/v2/models/dense/versions/1/ready`)).status, 200);
  });

  test('model metadata gives names, datatypes and shapes (-1 for the batch)', async () => {
    const r = await call(`${server.url}/v2/models/dense`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json().inputs, [{ name: inName, datatype: 'FP32', shape: [-1, 4] }]);
    assert.deepEqual(r.json().outputs, [{ name: outName, datatype: 'FP32', shape: [-1, 3] }]);
    assert.deepEqual(r.json().versions, ['1']);
    assert.equal((await call(`${server.url}/v2/models/dense/versions/1`)).json().name, 'dense');
  });

  test('infer with nested data echoes the id and matches the in-process model exactly', async () => {
    const r = await call(`${server.url}/v2/models/dense/infer`, {
      json: { id: 'req-7', inputs: [{ name: inName, shape: [3, 4], datatype: 'FP32', data: X }] },
    });
    assert.equal(r.status, 200, r.body.toString());
    const body = r.json();
    assert.equal(body.id, 'req-7');
    assert.equal(body.model_name, 'dense');
    assert.equal(body.model_version, '1');
    assert.equal(body.outputs[0].name, outName);
    assert.equal(body.outputs[0].datatype, 'FP32');
    assert.deepEqual(body.outputs[0].shape, [3, 3]);
    assert.deepEqual(body.outputs[0].data, flat(expected));
  });

  test('flat data, a versioned URL, and requested outputs', async () => {
    const r = await call(`${server.url}/v2/models/dense/versions/1/infer`, {
      json: { inputs: [{ name: inName, shape: [1, 4], datatype: 'FP32', data: X[1] }], outputs: [{ name: outName }] },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json().outputs[0].data, Array.from(expected[1]!));
    assert.equal(r.json().id, undefined);
  });

  test('binary tensor data in and out', async () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: inName, shape: [3, 4], datatype: 'FP32', parameters: { binary_data_size: 48 } }],
        outputs: [{ name: outName, parameters: { binary_data: true } }],
      }),
    );
    const data = Buffer.from(new Float32Array(X.flat()).buffer);
    const r = await call(`${server.url}/v2/models/dense/infer`, {
      method: 'POST',
      body: Buffer.concat([header, data]),
      headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
    });
    assert.equal(r.status, 200, r.body.toString());
    const hl = Number(r.headers.get('inference-header-content-length'));
    const head = JSON.parse(r.body.subarray(0, hl).toString());
    assert.equal(head.outputs[0].parameters.binary_data_size, 36);
    assert.deepEqual(head.outputs[0].shape, [3, 3]);
    const bytes = r.body.subarray(hl);
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    assert.deepEqual(Array.from(values), flat(expected));
  });

  test('binary_data_output for all outputs with JSON inputs', async () => {
    const r = await call(`${server.url}/v2/models/dense/infer`, {
      json: {
        parameters: { binary_data_output: true },
        inputs: [{ name: inName, shape: [1, 4], datatype: 'FP32', data: X[2] }],
      },
    });
    assert.equal(r.status, 200);
    const hl = Number(r.headers.get('inference-header-content-length'));
    const bytes = r.body.subarray(hl);
    assert.equal(bytes.length, 12);
    assert.deepEqual(
      Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 12))),
      Array.from(expected[2]!),
    );
  });

  test('a conv model over V2 matches the in-process model', async () => {
    const runner = await createRunner(`${repo}/conv/1`);
    const cin = runner.signature.inputs[0]!.name;
    const img = Array.from({ length: 64 }, (_, i) => Math.round(Math.cos(i) * 100) / 100);
    const want = (
      runner.infer({ [cin]: new Tensor(new Float32Array(img), [1, 8, 8, 1]) })[
        runner.signature.outputs[0]!.name
      ] as Tensor
    ).dataSync();
    const r = await call(`${server.url}/v2/models/conv/infer`, {
      json: { inputs: [{ name: cin, shape: [1, 8, 8, 1], datatype: 'FP32', data: img }] },
    });
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(r.json().outputs[0].data, Array.from(want));
    const probs = r.json().outputs[0].data as number[];
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  });

  test('convolution "direct" gives model.predict bit for bit; the default Winograd agrees to rounding', async () => {
    const runner = await createRunner(`${repo}/cnn2/1`);
    const cin = runner.signature.inputs[0]!.name;
    const imgs = Array.from({ length: 300 }, (_, i) => Math.round(Math.sin(i * 0.7) * 100) / 100);
    const want = Array.from(
      (
        runner.infer({ [cin]: new Tensor(new Float32Array(imgs), [3, 10, 10, 1]) })[
          runner.signature.outputs[0]!.name
        ] as Tensor
      ).dataSync(),
    );
    const ask = async (model: string) => {
      const r = await call(`${server.url}/v2/models/${model}/infer`, {
        json: { inputs: [{ name: cin, shape: [3, 10, 10, 1], datatype: 'FP32', data: imgs }] },
      });
      assert.equal(r.status, 200, r.body.toString());
      return r.json().outputs[0].data as number[];
    };
    assert.deepEqual(await ask('cnn2_direct'), want);
    const wino = await ask('cnn2');
    assert.equal(wino.length, want.length);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(wino[i]! - want[i]!) < 1e-5, `${wino[i]} vs ${want[i]}`);
  });
});

describe('classification extension', () => {
  /** The reference: each row's indices by value, highest first (ties: lower index), as "<value>:<index>". */
  const top = (row: Float32Array, k: number) =>
    Array.from(row.keys())
      .sort((a, b) => (row[b] as number) - (row[a] as number) || a - b)
      .slice(0, k)
      .map((i) => `${row[i]}:${i}`);

  test('the top classes of each row as BYTES "<value>:<index>", in JSON and binary', async () => {
    const ask = (binary: boolean) =>
      call(`${server.url}/v2/models/dense/infer`, {
        json: {
          inputs: [{ name: inName, shape: [3, 4], datatype: 'FP32', data: X }],
          outputs: [{ name: outName, parameters: { classification: 2, binary_data: binary } }],
        },
      });
    const r = await ask(false);
    assert.equal(r.status, 200, r.body.toString());
    const out = r.json().outputs[0];
    assert.equal(out.datatype, 'BYTES');
    assert.deepEqual(out.shape, [3, 2]);
    assert.deepEqual(
      out.data,
      expected.flatMap((row) => top(row, 2)),
    );
    const b = await ask(true);
    assert.equal(b.status, 200, b.body.toString());
    const hl = Number(b.headers.get('inference-header-content-length'));
    const head = JSON.parse(b.body.subarray(0, hl).toString());
    assert.deepEqual(head.outputs[0].shape, [3, 2]);
    const bytes = b.body.subarray(hl);
    assert.equal(head.outputs[0].parameters.binary_data_size, bytes.length);
    const strings: string[] = [];
    for (let p = 0; p < bytes.length; ) {
      const len = bytes.readUInt32LE(p);
      strings.push(bytes.subarray(p + 4, p + 4 + len).toString());
      p += 4 + len;
    }
    assert.deepEqual(strings, out.data);
    const meta = (await call(`${server.url}/v2`)).json();
    assert.ok(meta.extensions.includes('classification'));
  });

  test('labels from config.json classLabels, where the index has one', async () => {
    const meta = (await call(`${server.url}/v2/models/dense_labels`)).json();
    const r = await call(`${server.url}/v2/models/dense_labels/infer`, {
      json: {
        inputs: [{ name: meta.inputs[0].name, shape: [1, 4], datatype: 'FP32', data: X[0] }],
        outputs: [{ name: meta.outputs[0].name, parameters: { classification: 3 } }],
      },
    });
    assert.equal(r.status, 200, r.body.toString());
    const data = r.json().outputs[0].data as string[];
    assert.equal(data.length, 3);
    const labels = ['a', 'b'];
    for (const s of data) {
      const [, index, label] = s.split(':');
      assert.equal(label, labels[Number(index)], s);
    }
  });

  test('a count that is not a positive integer, or beyond the classes, is a 400 naming it', async () => {
    for (const [count, pattern] of [
      [0, /parameters.classification expected a positive integer .* got 0/],
      [1.5, /got 1.5/],
      ['2', /got "2"/],
      [4, /classification 4 asks for more classes than its 3/],
    ] as const) {
      const r = await call(`${server.url}/v2/models/dense/infer`, {
        json: {
          inputs: [{ name: inName, shape: [1, 4], datatype: 'FP32', data: X[0] }],
          outputs: [{ name: outName, parameters: { classification: count } }],
        },
      });
      assert.equal(r.status, 400);
      assert.match(r.json().error, pattern);
    }
    assert.equal((await call(`${server.url}/v2/models/dense/ready`)).status, 200);
  });

  test('topClasses: ties go to the lower index, NaN ranks last, an unbatched tensor is one row', () => {
    const o = (data: number[], shape: number[]) => ({
      name: 'p',
      dtype: 'float32' as const,
      shape,
      data: new Float32Array(data),
    });
    assert.deepEqual(topClasses(o([1, 5, 10, 4], [1, 4]), 2, true), { shape: [1, 2], values: ['10:2', '5:1'] });
    assert.deepEqual(topClasses(o([3, Number.NaN, 3, 1], [4]), 4, false).values, ['3:0', '3:2', '1:3', 'NaN:1']);
    assert.deepEqual(topClasses(o([1, 2, 4, 3], [2, 2]), 1, true, ['x', 'y']), {
      shape: [2, 1],
      values: ['2:1:y', '4:0:x'],
    });
  });
});

describe('TF Serving REST', () => {
  test('row format: instances -> predictions', async () => {
    const r = await call(`${server.url}/v1/models/dense:predict`, { json: { instances: X } });
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(
      r.json().predictions,
      expected.map((e) => Array.from(e)),
    );
  });

  test('row format with named inputs, version and label-free URL', async () => {
    const r = await call(`${server.url}/v1/models/dense/versions/1:predict`, {
      json: { instances: [{ [inName]: X[0] }] },
    });
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(r.json().predictions, [Array.from(expected[0]!)]);
  });

  test('columnar format: inputs -> outputs', async () => {
    const r = await call(`${server.url}/v1/models/dense:predict`, { json: { inputs: { [inName]: X.slice(0, 2) } } });
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(
      r.json().outputs,
      expected.slice(0, 2).map((e) => Array.from(e)),
    );
  });

  test('status and metadata', async () => {
    const s = await call(`${server.url}/v1/models/dense`);
    assert.equal(s.status, 200);
    assert.deepEqual(s.json().model_version_status, [
      { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
    ]);
    const m = await call(`${server.url}/v1/models/dense/metadata`);
    const sig = m.json().metadata.signature_def.signature_def.serving_default;
    assert.equal(sig.inputs[inName].dtype, 'DT_FLOAT');
    assert.deepEqual(
      sig.inputs[inName].tensor_shape.dim.map((d: { size: string }) => d.size),
      ['-1', '4'],
    );
  });
});

describe('dynamic batching', () => {
  test('concurrent requests are batched and give bit-identical answers to unbatched ones', async () => {
    const rows = Array.from({ length: 64 }, (_, k) => [Math.sin(k), Math.cos(k) * 3, k / 7, -k / 5]);
    const names: Record<string, string> = {
      dense: inName,
      dense_nb: (await call(`${server.url}/v2/models/dense_nb`)).json().inputs[0].name,
    };
    const ask = (model: string, row: number[]) =>
      call(`${server.url}/v2/models/${model}/infer`, {
        json: { inputs: [{ name: names[model], shape: [1, 4], datatype: 'FP32', data: row }] },
      }).then((r) => {
        assert.equal(r.status, 200);
        return r.json().outputs[0].data as number[];
      });
    const m = server.metrics.of('dense', '1');
    const before = m.executions;
    const batched = await Promise.all(rows.map((r) => ask('dense', r)));
    const execs = m.executions - before;
    const alone = [];
    for (const r of rows) alone.push(await ask('dense_nb', r));
    assert.deepEqual(batched, alone);
    assert.ok(execs < rows.length, `expected batching: ${execs} executions for ${rows.length} requests`);
    assert.equal(m.localExecutions, 0);
    const nb = server.metrics.of('dense_nb', '1');
    assert.equal(nb.executions, nb.inferences);
    // The lone unbatched requests ran on the HTTP thread, the batches on a worker: the same bits.
    assert.equal(nb.localExecutions, nb.executions);
  });
});

describe('lone requests on the HTTP thread', () => {
  test('opted in, sequential requests of a small model run locally and answer as the reference does', async () => {
    assert.equal(server.repository.resolve('dense_local').runsLocally, true);
    assert.equal(server.repository.resolve('dense').runsLocally, false, 'off by default');
    const name = (await call(`${server.url}/v2/models/dense_local`)).json().inputs[0].name;
    const m = server.metrics.of('dense_local', '1');
    const before = m.localExecutions;
    for (let i = 0; i < X.length; i++) {
      const r = await call(`${server.url}/v2/models/dense_local/infer`, {
        json: { inputs: [{ name, shape: [1, 4], datatype: 'FP32', data: X[i] }] },
      });
      assert.equal(r.status, 200, r.body.toString());
      assert.deepEqual(r.json().outputs[0].data, Array.from(expected[i]!));
    }
    assert.equal(m.localExecutions - before, X.length);
    const text = (await call(`${server.url}/metrics`)).body.toString();
    assert.match(
      text,
      new RegExp(`tessera_local_execution_count_total\\{model="dense_local",version="1"\\} ${m.localExecutions}\\n`),
    );
  });

  test('a Winograd model answers locally with the bits its worker gives', async () => {
    const ask = async (model: string, img: number[]) => {
      const cin = (await call(`${server.url}/v2/models/${model}`)).json().inputs[0].name;
      const r = await call(`${server.url}/v2/models/${model}/infer`, {
        json: { inputs: [{ name: cin, shape: [1, 10, 10, 1], datatype: 'FP32', data: img }] },
      });
      assert.equal(r.status, 200, r.body.toString());
      return r.json().outputs[0].data as number[];
    };
    const local = server.metrics.of('cnn2_local', '1');
    const before = local.localExecutions;
    for (let k = 0; k < 4; k++) {
      const img = Array.from({ length: 100 }, (_, i) => Math.round(Math.cos(i * 0.3 + k) * 100) / 100);
      assert.deepEqual(await ask('cnn2_local', img), await ask('cnn2', img));
    }
    assert.equal(local.localExecutions - before, 4);
    assert.equal(server.metrics.of('cnn2', '1').localExecutions, 0);
  });
});

describe('operations endpoints', () => {
  test('/metrics exposes per-model counters', async () => {
    const r = await call(`${server.url}/metrics`);
    assert.equal(r.status, 200);
    const text = r.body.toString();
    const m = server.metrics.of('dense', '1');
    assert.match(text, new RegExp(`tessera_request_success_total\\{model="dense",version="1"\\} ${m.success}\\n`));
    assert.match(text, new RegExp(`tessera_execution_count_total\\{model="dense",version="1"\\} ${m.executions}\\n`));
    assert.match(text, new RegExp(`tessera_inference_count_total\\{model="dense",version="1"\\} ${m.inferences}\\n`));
    assert.match(text, /tessera_batch_size_bucket\{model="dense",version="1",le="\+Inf"\} \d+/);
    assert.match(text, /tessera_queue_depth\{model="dense",version="1"\} 0/);
    assert.ok(m.success >= 5);
  });

  test("model configuration extension: Triton's model-config JSON of a version", async () => {
    const r = await call(`${server.url}/v2/models/dense/config`);
    assert.equal(r.status, 200, r.body.toString());
    const c = r.json();
    assert.equal(c.name, 'dense');
    assert.equal(c.max_batch_size, 32);
    assert.deepEqual(c.input, [{ name: inName, data_type: 'TYPE_FP32', dims: [4] }]);
    assert.deepEqual(c.output, [{ name: outName, data_type: 'TYPE_FP32', dims: [3] }]);
    assert.deepEqual(c.dynamic_batching.default_queue_policy, {
      timeout_action: 'REJECT',
      default_timeout_microseconds: 30_000_000,
      max_queue_size: 1024,
    });
    assert.deepEqual(c.version_policy, { latest: { num_versions: 1 } });
    assert.deepEqual(c.instance_group, [{ name: 'dense_0', kind: 'KIND_CPU', count: 1 }]);
    const nb = (await call(`${server.url}/v2/models/dense_nb/versions/1/config`)).json();
    assert.equal(nb.max_batch_size, 0);
    assert.deepEqual(nb.input[0].dims, [-1, 4]);
    assert.equal(nb.dynamic_batching, undefined);
    assert.equal((await call(`${server.url}/v2/models/nope/config`)).status, 404);
    assert.ok((await call(`${server.url}/v2`)).json().extensions.includes('model_configuration'));
  });

  test('statistics extension: per-version counts and times, agreeing with the metrics', async () => {
    const good = await call(`${server.url}/v2/models/dense/infer`, {
      json: { inputs: [{ name: inName, shape: [1, 4], datatype: 'FP32', data: X[0] }] },
    });
    assert.equal(good.status, 200);
    // a failed request counts as a failure of the version it named
    const bad = await call(`${server.url}/v2/models/dense/infer`, {
      json: { inputs: [{ name: inName, shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] },
    });
    assert.equal(bad.status, 400);
    const r = await call(`${server.url}/v2/models/dense/stats`);
    assert.equal(r.status, 200, r.body.toString());
    const [st, ...more] = r.json().model_stats;
    assert.equal(more.length, 0);
    const m = server.metrics.of('dense', '1');
    assert.equal(st.name, 'dense');
    assert.equal(st.version, '1');
    assert.equal(st.inference_count, m.inferences);
    assert.equal(st.execution_count, m.executions);
    assert.ok(Date.now() - st.last_inference < 60_000 && st.last_inference <= Date.now());
    const is = st.inference_stats;
    assert.equal(is.success.count, m.success);
    assert.ok(is.success.ns > 0 && is.compute_infer.ns > 0 && is.queue.ns >= 0);
    assert.ok(is.fail.count >= 1 && is.fail.ns > 0);
    assert.equal(is.cache_hit.count, 0);
    const sizes = st.batch_stats.map((b: { batch_size: number }) => b.batch_size);
    assert.deepEqual(
      sizes,
      [...sizes].sort((x: number, y: number) => x - y),
    );
    const counted = st.batch_stats.reduce(
      (a: number, b: { compute_infer: { count: number } }) => a + b.compute_infer.count,
      0,
    );
    assert.equal(counted, m.executions);
    const rows = st.batch_stats.reduce(
      (a: number, b: { batch_size: number; compute_infer: { count: number } }) =>
        a + b.batch_size * b.compute_infer.count,
      0,
    );
    assert.equal(rows, m.inferences);
    const all = (await call(`${server.url}/v2/models/stats`)).json().model_stats.map((x: { name: string }) => x.name);
    assert.ok(all.includes('dense') && all.includes('conv') && all.includes('cnn2_local'), all.join());
    const one = (await call(`${server.url}/v2/models/dense/versions/1/stats`)).json().model_stats;
    assert.equal(one.length, 1);
    assert.equal((await call(`${server.url}/v2/models/nope/stats`)).status, 404);
    assert.equal((await call(`${server.url}/v2/models/dense/versions/9/stats`)).status, 404);
    assert.ok((await call(`${server.url}/v2`)).json().extensions.includes('statistics'));
  });

  test('statistics of a repository without models: an empty list, not a 404', async () => {
    const empty = await startServer({ modelRepository: tempRepo(), port: 0, ...SILENT });
    try {
      const r = await call(`${empty.url}/v2/models/stats`);
      assert.equal(r.status, 200, r.body.toString());
      assert.deepEqual(r.json(), { model_stats: [] });
    } finally {
      await empty.close();
    }
  });

  test('/docs is an OpenAPI document listing the endpoints', async () => {
    const r = await call(`${server.url}/docs`);
    assert.equal(r.status, 200);
    const doc = r.json();
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/v2/models/{model}/infer', '/v1/models/{model}:predict', '/v2/repository/index', '/metrics'])
      assert.ok(p in doc.paths, p);
  });

  test('X-Request-Id is honoured or generated', async () => {
    const a = await call(`${server.url}/v2/health/live`, { headers: { 'X-Request-Id': 'abc-123' } });
    assert.equal(a.headers.get('x-request-id'), 'abc-123');
    const b = await call(`${server.url}/v2/health/live`);
    assert.match(b.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-[0-9a-z]+$/);
  });
});

/** Every error path answers its status with a JSON { error } body, and the server keeps serving. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { hashApiKey } from '../../src/serve/auth.js';
import { type ModelServer, startServer } from '../../src/serve/server.js';
import { addToy, TOY_RUNNER, toyBody } from './toy.js';
import { call, SILENT, tempRepo } from './util.js';

let server: ModelServer;

before(async () => {
  const repo = tempRepo();
  addToy(repo, 'toy', 1);
  addToy(repo, 'slow', 1, { delayMs: 300 }, { maxBatchSize: 1, maxQueueSize: 2 });
  addToy(repo, 'broken', 1, { failLoad: true });
  addToy(repo, 'tiny', 1, {}, { maxBatchSize: 2 });
  server = await startServer({
    modelRepository: repo,
    port: 0,
    runnerModule: TOY_RUNNER,
    maxBodyBytes: 4096,
    maxTensorElements: 64,
    ...SILENT,
  });
});
after(() => server.close());

async function expectError(path: string, init: Parameters<typeof call>[1], status: number, pattern: RegExp) {
  const r = await call(`${server.url}${path}`, init);
  assert.equal(r.status, status, r.body.toString());
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  const body = r.json();
  assert.equal(typeof body.error, 'string');
  assert.match(body.error, pattern);
  return r;
}

async function stillServing() {
  const r = await call(`${server.url}/v2/models/toy/infer`, { json: toyBody([[1, 2, 3, 4]]) });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json().outputs[0].data, [3, 5, 7, 9]);
}

describe('400 bad requests name the input, what was received and what was expected', () => {
  test('malformed JSON', async () => {
    await expectError('/v2/models/toy/infer', { method: 'POST', body: '{"inputs": [' }, 400, /not valid JSON/);
    await stillServing();
  });
  test('wrong shape', async () => {
    await expectError(
      '/v2/models/toy/infer',
      { json: { inputs: [{ name: 'x', shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] } },
      400,
      /input 'x': expected shape \[-1, 4\], got \[1, 5\]/,
    );
    await stillServing();
  });
  test('wrong datatype', async () => {
    await expectError(
      '/v2/models/toy/infer',
      { json: { inputs: [{ name: 'x', shape: [1, 4], datatype: 'BYTES', data: ['a', 'b', 'c', 'd'] }] } },
      400,
      /input 'x': expected datatype FP32 \(or FP64, FP16, INT64, INT32, UINT8, INT8\), got "BYTES"/,
    );
  });
  test('data count not matching the shape', async () => {
    await expectError(
      '/v2/models/toy/infer',
      { json: { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3] }] } },
      400,
      /input 'x': shape \[2, 4\] needs 8 values, got 3/,
    );
  });
  test('non-numeric values', async () => {
    await expectError(
      '/v2/models/toy/infer',
      { json: { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 'a', 3, 4] }] } },
      400,
      /input 'x': expected numbers .* got "a" at element 1/,
    );
  });
  test('unknown and missing inputs, unknown outputs', async () => {
    await expectError(
      '/v2/models/toy/infer',
      { json: { inputs: [{ name: 'z', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] } },
      400,
      /unknown input "z"; the model takes 'x'/,
    );
    await expectError('/v2/models/toy/infer', { json: { inputs: [] } }, 400, /missing input 'x'/);
    await expectError(
      '/v2/models/toy/infer',
      { json: toyBody([[1, 2, 3, 4]], { outputs: [{ name: 'nope' }] }) },
      400,
      /unknown output "nope" requested; the model gives 'y', 's'/,
    );
  });
  test('binary sizes that do not add up', async () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
      }),
    );
    await expectError(
      '/v2/models/toy/infer',
      {
        method: 'POST',
        body: Buffer.concat([header, Buffer.alloc(12)]),
        headers: { 'Inference-Header-Content-Length': String(header.length) },
      },
      400,
      /input 'x': binary data ends at byte 12, expected 16 bytes/,
    );
  });
  test('batch larger than maxBatchSize', async () => {
    await expectError(
      '/v2/models/tiny/infer',
      {
        json: toyBody([
          [1, 2, 3, 4],
          [1, 2, 3, 4],
          [1, 2, 3, 4],
        ]),
      },
      400,
      /batch of 3 rows exceeds maxBatchSize 2/,
    );
  });
  test('TF Serving: neither instances nor inputs', async () => {
    await expectError('/v1/models/toy:predict', { json: { foo: 1 } }, 400, /expected 'instances' .* or 'inputs'/);
    await expectError(
      '/v1/models/toy:predict',
      { json: { instances: [[1, 2, 3]] } },
      400,
      /input 'x': expected shape \[-1, 4\], got \[1, 3\]/,
    );
    await stillServing();
  });
});

describe('404 unknown model, version, label, endpoint', () => {
  test('each', async () => {
    await expectError('/v2/models/nope/infer', { json: toyBody([[1, 2, 3, 4]]) }, 404, /unknown model 'nope'/);
    await expectError(
      '/v2/models/toy/versions/9/infer',
      { json: toyBody([[1, 2, 3, 4]]) },
      404,
      /unknown version '9' of model 'toy'; loaded versions: 1/,
    );
    await expectError(
      '/v1/models/toy/labels/canary:predict',
      { json: { instances: [[1, 2, 3, 4]] } },
      404,
      /unknown label 'canary'/,
    );
    await expectError('/v3/anything', {}, 404, /no endpoint GET \/v3\/anything/);
    await expectError('/v2/models/..%2F..%2Fetc/infer', { json: toyBody([[1, 2, 3, 4]]) }, 404, /unknown model/);
    await stillServing();
  });
});

describe('413, 503, 429', () => {
  test('413 for a body over the limit and for too many elements', async () => {
    const big = toyBody(Array.from({ length: 600 }, () => [1, 2, 3, 4]));
    await expectError('/v2/models/toy/infer', { json: big }, 413, /exceeds the limit of 4096 bytes/);
    await expectError(
      '/v2/models/toy/infer',
      { json: { inputs: [{ name: 'x', shape: [20, 4], datatype: 'FP32', data: [] }] } },
      413,
      /80 elements, more than the limit of 64/,
    );
    await stillServing();
  });

  test('503 for a model whose load failed (and readiness reports it)', async () => {
    await expectError(
      '/v2/models/broken/infer',
      { json: toyBody([[1, 2, 3, 4]]) },
      503,
      /model 'broken' has no ready version/,
    );
    await expectError('/v2/models/broken/ready', {}, 503, /no ready version/);
    assert.equal((await call(`${server.url}/v2/health/ready`)).status, 503);
    const index = await call(`${server.url}/v2/repository/index`, { method: 'POST' });
    const broken = index.json().find((e: { name: string }) => e.name === 'broken');
    assert.equal(broken.state, 'UNAVAILABLE');
    assert.match(broken.reason, /refuses to load/);
    await stillServing();
  });

  test('429 with Retry-After when the queue is full', async () => {
    const all = await Promise.all(
      Array.from({ length: 6 }, () => call(`${server.url}/v2/models/slow/infer`, { json: toyBody([[1, 1, 1, 1]]) })),
    );
    const statuses = all.map((r) => r.status).sort();
    const refused = all.filter((r) => r.status === 429);
    assert.ok(refused.length >= 2, `statuses ${statuses}`);
    assert.ok(all.filter((r) => r.status === 200).length >= 2, `statuses ${statuses}`);
    for (const r of refused) {
      assert.equal(r.headers.get('retry-after'), '1');
      assert.match(r.json().error, /model 'slow' version 1 is overloaded/);
    }
    assert.ok((server.metrics.of('slow', '1').failure.get('overloaded') ?? 0) >= 2);
    await stillServing();
  });

  test('a client that disconnects has its queued work dropped', async () => {
    const m = server.metrics.of('slow', '1');
    const before = m.inferences;
    const body = JSON.stringify(toyBody([[1, 1, 1, 1]]));
    const fire = () =>
      new Promise<void>((resolve) => {
        const req = http.request(`${server.url}/v2/models/slow/infer`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
        });
        req.on('error', () => resolve());
        req.end(body);
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50);
      });
    await Promise.all([fire(), fire()]);
    await new Promise((r) => setTimeout(r, 700));
    // The first was already running (it completes); the queued one was dropped.
    assert.equal(m.inferences - before, 1);
    assert.ok((m.failure.get('cancelled') ?? 0) >= 1);
  });
});

describe('API keys', () => {
  let secured: ModelServer;
  before(async () => {
    const repo = tempRepo();
    addToy(repo, 'toy', 1);
    secured = await startServer({
      modelRepository: repo,
      port: 0,
      runnerModule: TOY_RUNNER,
      apiKeys: new (await import('../../src/serve/auth.js')).ApiKeys([
        { name: 'client', sha256: hashApiKey('infer-key'), scopes: ['infer'] },
        { name: 'ops', sha256: hashApiKey('admin-key'), scopes: ['admin'] },
        { name: 'limited', sha256: hashApiKey('slow-key'), scopes: ['infer'], rateLimit: { perSecond: 1, burst: 2 } },
      ]),
      ...SILENT,
    });
  });
  after(() => secured.close());

  const get = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${secured.url}${path}`, init);

  test('401 without a key or with a wrong one, 403 for the wrong scope, 200 with the right one', async () => {
    let r = await get('/v2/models/toy/infer', { json: toyBody([[1, 2, 3, 4]]) });
    assert.equal(r.status, 401);
    assert.match(r.json().error, /missing API key/);
    r = await get('/v2/models/toy/infer', {
      json: toyBody([[1, 2, 3, 4]]),
      headers: { Authorization: 'Bearer wrong' },
    });
    assert.equal(r.status, 401);
    assert.match(r.json().error, /invalid API key/);
    r = await get('/v2/models/toy/infer', {
      json: toyBody([[1, 2, 3, 4]]),
      headers: { Authorization: 'Bearer infer-key' },
    });
    assert.equal(r.status, 200);
    r = await get('/v2/repository/index', { method: 'POST', headers: { 'X-API-Key': 'infer-key' } });
    assert.equal(r.status, 403);
    assert.match(r.json().error, /API key 'client' lacks scope 'admin'/);
    r = await get('/v2/repository/index', { method: 'POST', headers: { 'X-API-Key': 'admin-key' } });
    assert.equal(r.status, 200);
    assert.equal(r.json()[0].state, 'READY');
    assert.equal((await get('/metrics')).status, 401);
    assert.equal((await get('/metrics', { headers: { 'X-API-Key': 'admin-key' } })).status, 200);
    assert.equal((await get('/v2/health/live')).status, 200);
  });

  test('per-key rate limit answers 429 with Retry-After', async () => {
    const codes: number[] = [];
    let retry: string | null = null;
    for (let i = 0; i < 4; i++) {
      const r = await get('/v2/models/toy/infer', {
        json: toyBody([[1, 2, 3, 4]]),
        headers: { 'X-API-Key': 'slow-key' },
      });
      codes.push(r.status);
      if (r.status === 429) retry = r.headers.get('retry-after');
    }
    assert.deepEqual(codes.slice(0, 2), [200, 200]);
    assert.equal(codes[3], 429);
    assert.equal(retry, '1');
  });

  test('binding a public interface without keys is refused', async () => {
    await assert.rejects(
      startServer({ modelRepository: tempRepo(), host: '0.0.0.0', port: 0, ...SILENT }),
      /refusing to bind 0\.0\.0\.0 without API keys/,
    );
  });
});

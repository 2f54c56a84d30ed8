/** Model lifecycle over HTTP: load / unload / index, version swaps under load, labels, SIGTERM drain. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ModelServer, startServer } from '../../src/serve/server.js';
import { addToy, TOY_RUNNER, toyBody } from './toy.js';
import { call, SILENT, tempRepo } from './util.js';

describe('repository API and version swaps', () => {
  let server: ModelServer;
  let repo: string;
  before(async () => {
    repo = tempRepo();
    addToy(repo, 'm', 1, { delayMs: 2 }, { maxBatchSize: 8 });
    server = await startServer({ modelRepository: repo, port: 0, runnerModule: TOY_RUNNER, ...SILENT });
  });
  after(() => server.close());

  const infer = (path = '/v2/models/m/infer') => call(`${server.url}${path}`, { json: toyBody([[1, 1, 1, 1]]) });
  const admin = (path: string) => call(`${server.url}/v2/repository${path}`, { method: 'POST' });

  test('a new version goes live on load while requests keep flowing; none fails', async () => {
    addToy(repo, 'm', 2, { delayMs: 2 }, { maxBatchSize: 8 });
    let stop = false;
    const seen: number[] = [];
    const failures: string[] = [];
    const client = async () => {
      while (!stop) {
        const r = await infer();
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
        // toy output y = 2x + version
        else seen.push(r.json().outputs[0].data[0] - 2);
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await new Promise((r) => setTimeout(r, 150));
    const load = await admin('/models/m/load');
    assert.equal(load.status, 200, load.body.toString());
    await new Promise((r) => setTimeout(r, 150));
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(failures, []);
    assert.ok(seen.includes(1) && seen.includes(2), 'served by version 1, then version 2');
    assert.equal(seen.at(-1), 2);
    assert.ok(seen.lastIndexOf(1) < seen.indexOf(2) + 16, 'version 1 stops soon after version 2 goes live');
    const index = (await admin('/index')).json();
    assert.deepEqual(index, [{ name: 'm', version: '2', state: 'READY' }]);
    assert.equal((await infer('/v2/models/m/versions/1/infer')).status, 404);
  });

  test('version policy "all" serves both versions; labels route TF Serving requests', async () => {
    writeFileSync(
      join(repo, 'm', 'config.json'),
      JSON.stringify({ versionPolicy: { all: true }, labels: { stable: 1, canary: 2 } }),
    );
    assert.equal((await admin('/models/m/load')).status, 200);
    const v1 = await infer('/v2/models/m/versions/1/infer');
    const v2 = await infer('/v2/models/m/versions/2/infer');
    assert.deepEqual([v1.json().outputs[0].data[0], v2.json().outputs[0].data[0]], [3, 4]);
    const stable = await call(`${server.url}/v1/models/m/labels/stable:predict`, {
      json: { instances: [[1, 1, 1, 1]] },
    });
    assert.deepEqual(stable.json().predictions[0], { y: [3, 3, 3, 3], s: [4] });
    const canary = await call(`${server.url}/v1/models/m/labels/canary:predict`, {
      json: { instances: [[1, 1, 1, 1]] },
    });
    assert.deepEqual(canary.json().predictions[0].y, [4, 4, 4, 4]);
    const status = (await call(`${server.url}/v1/models/m`))
      .json()
      .model_version_status.map((s: { version: string }) => s.version)
      .sort();
    assert.deepEqual(status, ['1', '2']);
  });

  test('unload drains, then the model is gone; load brings it back', async () => {
    const unload = await admin('/models/m/unload');
    assert.equal(unload.status, 200);
    const r = await infer();
    assert.equal(r.status, 404);
    assert.match(r.json().error, /unknown model 'm'/);
    assert.deepEqual((await admin('/index')).json(), [{ name: 'm', state: 'UNLOADED' }]);
    assert.equal((await admin('/models/m/load')).status, 200);
    assert.equal((await infer()).status, 200);
    const bad = await admin('/models/..%2Fetc/load');
    assert.equal(bad.status, 400);
    assert.match(bad.json().error, /invalid model name/);
    assert.equal((await admin('/models/missing/load')).status, 404);
  });
});

describe('lone requests on the HTTP thread', () => {
  let server: ModelServer;
  let repo: string;
  before(async () => {
    repo = tempRepo();
    addToy(repo, 'fast', 1, {}, { maxBatchSize: 8, inlineWhenIdle: true });
    addToy(repo, 'slow', 1, { delayMs: 2 }, { maxBatchSize: 8, inlineWhenIdle: true });
    addToy(repo, 'off', 1, {}, { maxBatchSize: 8 });
    server = await startServer({ modelRepository: repo, port: 0, runnerModule: TOY_RUNNER, ...SILENT });
  });
  after(() => server.close());
  const infer = (model: string) => call(`${server.url}/v2/models/${model}/infer`, { json: toyBody([[1, 2, 3, 4]]) });

  test('only fast models qualify (a 2 ms execution would hold the HTTP thread), and only when opted in', () => {
    assert.equal(server.repository.resolve('fast').runsLocally, true);
    assert.equal(server.repository.resolve('slow').runsLocally, false);
    assert.equal(server.repository.resolve('off').runsLocally, false);
  });

  test('a new version answers from its own local runner', async () => {
    const y0 = async () => {
      const r = await infer('fast');
      assert.equal(r.status, 200, r.body.toString());
      return r.json().outputs[0].data[0]; // toy: y = 2x + version
    };
    assert.equal(await y0(), 3);
    addToy(repo, 'fast', 2, {}, { maxBatchSize: 8, inlineWhenIdle: true });
    const load = await call(`${server.url}/v2/repository/models/fast/load`, { method: 'POST' });
    assert.equal(load.status, 200, load.body.toString());
    assert.equal(await y0(), 4);
    assert.equal(server.metrics.of('fast', '2').localExecutions, 1);
    assert.equal(server.metrics.of('slow', '1').localExecutions, 0);
    assert.equal((await infer('slow')).status, 200);
    assert.equal(server.metrics.of('slow', '1').localExecutions, 0);
  });

  test('lone and concurrent requests mix local and worker executions through a version swap; none fails', async () => {
    let stop = false;
    const failures: string[] = [];
    const seen = new Set<number>();
    const client = async (pauseMs: number) => {
      while (!stop) {
        const r = await infer('fast');
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
        else {
          const [y0, y1, y2, y3] = r.json().outputs[0].data as number[];
          const version = (y0 as number) - 2; // toy: y = 2x + version, x = [1, 2, 3, 4]
          seen.add(version);
          if (y1 !== 4 + version || y2 !== 6 + version || y3 !== 8 + version)
            failures.push(`wrong answer ${y0},${y1},${y2},${y3}`);
        }
        if (pauseMs) await new Promise((res) => setTimeout(res, pauseMs));
      }
    };
    const m2 = server.metrics.of('fast', '2');
    const before = { local: m2.localExecutions, all: m2.executions };
    // One client alone for a while (local executions), then four more at once (worker batches).
    const lone = client(1);
    await new Promise((res) => setTimeout(res, 100));
    const crowd = Array.from({ length: 4 }, () => client(0));
    await new Promise((res) => setTimeout(res, 100));
    addToy(repo, 'fast', 3, {}, { maxBatchSize: 8, inlineWhenIdle: true });
    const load = await call(`${server.url}/v2/repository/models/fast/load`, { method: 'POST' });
    assert.equal(load.status, 200, load.body.toString());
    await new Promise((res) => setTimeout(res, 100));
    stop = true;
    await Promise.all([lone, ...crowd]);
    assert.deepEqual(failures, []);
    assert.ok(seen.has(2) && seen.has(3), `served by versions ${[...seen]}`);
    const local = m2.localExecutions - before.local;
    const all = m2.executions - before.all;
    assert.ok(local > 0 && all > local, `version 2: ${local} local of ${all} executions`);
  });
});

describe('SIGTERM', () => {
  test('stops accepting, drains in-flight requests, exits 0', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', new URL('./fixtures/serve-child.ts', import.meta.url).pathname],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const inflight = Array.from({ length: 3 }, () =>
      call(`${url}/v2/models/slow/infer`, { json: toyBody([[1, 2, 3, 4]]) }),
    );
    // Signal only once the server holds all three (one executing, two queued): a fixed sleep
    // raced the requests' arrival on a loaded machine.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const m = (await call(`${url}/metrics`)).body.toString();
      const depth = Number(/^tessera_queue_depth\{[^}]*model="slow"[^}]*\} (\d+)/m.exec(m)?.[1] ?? 0);
      if (depth >= 2) break;
      assert.ok(Date.now() < deadline, `the three requests never reached the server's queue:\n${m}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGTERM');
    const replies = await Promise.all(inflight);
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal(await exited, 0);
    await assert.rejects(call(`${url}/v2/health/live`));
  });
});

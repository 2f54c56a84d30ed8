/** bin/tessera.js in source mode forwards SIGTERM to the server it re-executes: drained, exit 0, nothing orphaned. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { SERVE_NODE_FLAGS, serveNodeFlags } from '../../bin/node-flags.js';
import { addModel, denseModel } from './models.js';
import { call, tempRepo } from './util.js';

test('SIGTERM to the bin/tessera.js wrapper drains and stops the server child; the wrapper exits with its code', async () => {
  const repo = tempRepo();
  await addModel(repo, 'dense', 1, denseModel());
  const bin = new URL('../../bin/tessera.js', import.meta.url).pathname;
  const wrapper = spawn(process.execPath, [bin, 'serve', '--model-repository', repo, '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TESSERA_CLI_SOURCE: '1' },
  });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    wrapper.stderr.on('data', (c) => {
      err += c;
      const m = /"msg":"listening"[^\n]*"port":(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    wrapper.on('exit', (code) => reject(new Error(`exited early with ${code}: ${err}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  assert.equal((await call(`${url}/v2/health/ready`)).status, 200);
  // The server child runs with the serving heap options.
  const listening = JSON.parse(err.split('\n').find((l) => l.includes('"msg":"listening"')) as string);
  assert.deepEqual(listening.heapFlags, SERVE_NODE_FLAGS);
  const exited = new Promise<number | null>((r) => wrapper.on('exit', (code) => r(code)));
  wrapper.kill('SIGTERM');
  assert.equal(await exited, 0, err);
  // The child got the signal (it logs it and drains) rather than being orphaned: the port is closed.
  assert.match(err, /"msg":"signal","signal":"SIGTERM"/);
  assert.match(err, /"msg":"stopped"/);
  await assert.rejects(call(`${url}/v2/health/live`));
});

test("serveNodeFlags: serving commands only, the user's own settings win, TESSERA_NODE_FLAGS=0 turns it off", () => {
  assert.deepEqual(serveNodeFlags(['serve', '--model-repository', 'm'], [], {}), SERVE_NODE_FLAGS);
  assert.deepEqual(serveNodeFlags(['demo'], [], {}), SERVE_NODE_FLAGS);
  assert.deepEqual(serveNodeFlags(['train', 'x'], [], {}), []);
  assert.deepEqual(serveNodeFlags([], [], {}), []);
  assert.deepEqual(serveNodeFlags(['serve'], [], { TESSERA_NODE_FLAGS: '0' }), []);
  // Set on node's command line, or in NODE_OPTIONS (dashes or underscores): left to the user.
  assert.deepEqual(serveNodeFlags(['serve'], ['--initial-heap-size=64'], {}), SERVE_NODE_FLAGS.slice(1));
  assert.deepEqual(
    serveNodeFlags(['serve'], [], { NODE_OPTIONS: '--max_semi_space_size=8  --min-semi-space-size=1' }),
    SERVE_NODE_FLAGS.slice(0, 1),
  );
});

/** bin/tessera.js in source mode forwards SIGTERM to the server it re-executes: drained, exit 0, nothing orphaned. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
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
  const exited = new Promise<number | null>((r) => wrapper.on('exit', (code) => r(code)));
  wrapper.kill('SIGTERM');
  assert.equal(await exited, 0, err);
  // The child got the signal (it logs it and drains) rather than being orphaned: the port is closed.
  assert.match(err, /"msg":"signal","signal":"SIGTERM"/);
  assert.match(err, /"msg":"stopped"/);
  await assert.rejects(call(`${url}/v2/health/live`));
});

/** 429 Retry-After comes from the queue state: expected drain time, whole seconds, at least 1. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { retryAfterSeconds } from '../../src/serve/model-version.js';
import { type ModelServer, startServer } from '../../src/serve/server.js';
import { addToy, TOY_RUNNER, toyBody } from './toy.js';
import { call, SILENT, tempRepo } from './util.js';

test('retryAfterSeconds: rows x time per row over the instances, rounded up, at least 1', () => {
  assert.equal(retryAfterSeconds(40, 100_000, 2), 2);
  assert.equal(retryAfterSeconds(41, 100_000, 2), 3);
  assert.equal(retryAfterSeconds(3, 1000, 1), 1); // 3 ms: still 1 s
  assert.equal(retryAfterSeconds(0, 0, 1), 1); // nothing measured yet
  assert.equal(retryAfterSeconds(10, 1_000_000, 0), 10); // no instances counts as one
});

let server: ModelServer;
before(async () => {
  const repo = tempRepo();
  // 250 ms per execution, one row per batch, 8 rows of queue: a full queue drains in ~2.25 s.
  addToy(repo, 'slow', 1, { delayMs: 250 }, { maxBatchSize: 1, maxQueueSize: 8 });
  server = await startServer({ modelRepository: repo, port: 0, runnerModule: TOY_RUNNER, ...SILENT });
});
after(() => server.close());

test('a full queue answers 429 with the expected drain time as Retry-After', async () => {
  const all = await Promise.all(
    Array.from({ length: 12 }, () => call(`${server.url}/v2/models/slow/infer`, { json: toyBody([[1, 1, 1, 1]]) })),
  );
  const refused = all.filter((r) => r.status === 429);
  assert.equal(all.filter((r) => r.status === 200).length, 9, 'one running + 8 queued');
  assert.equal(refused.length, 3);
  for (const r of refused) {
    // 8 queued + 1 running at ~250 ms each = ~2.25 s -> 3 (2 if the first one had nearly finished).
    const s = Number(r.headers.get('retry-after'));
    assert.ok(s === 2 || s === 3, `Retry-After ${r.headers.get('retry-after')}`);
    assert.match(r.json().error, /overloaded: 8 rows queued, limit 8/);
  }
});

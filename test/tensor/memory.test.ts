import assert from 'node:assert/strict';
import { it } from 'node:test';
import { engineStats, gradients, matmul, mean, randomNormal, square, sub, variable } from 'tessera';
import { backend } from '../../src/backend/index.js';
import { scope } from '../../src/tensor/engine.js';

it('a steady-state training loop recycles its buffers: no fresh allocations after warm-up', () => {
  const x = randomNormal([64, 32], { seed: 1 });
  const y = randomNormal([64, 8], { seed: 2 });
  const w = variable(randomNormal([32, 8], { seed: 3, stddev: 0.1 }), { name: 'w' });
  const step = () =>
    scope(() => {
      const loss = mean(square(sub(matmul(x, w), y)));
      const [g] = gradients(loss, [w]);
      backend().sgdUpdate(w.data as Float32Array, g!.data as Float32Array, null, 0.05, 0, false);
      return loss.item();
    });
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) losses.push(step());
  const afterWarmup = engineStats().freshAllocations;
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < 500; i++) losses.push(step());
  const stats = engineStats();
  assert.equal(stats.freshAllocations, afterWarmup, 'no buffer allocated fresh in steady state');
  assert.ok(stats.reusedAllocations > 500, `buffers are reused (${stats.reusedAllocations})`);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 16 * 1024 * 1024, 'heap stays flat');
  assert.ok(losses[losses.length - 1]! < losses[0]!, 'and it still trains');
});

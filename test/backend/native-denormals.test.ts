/**
 * The native kernels run with flush-to-zero / denormals-are-zero (as TensorFlow's CPU kernels
 * do): a denormal operand is ~100x slower on x86 and Adam's second moments decay into that
 * range. The mode must be scoped to the native call: JavaScript's own double arithmetic, which
 * shares the thread's floating-point control register, keeps IEEE gradual underflow.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNativeBackend } from '../../src/backend/native.js';

const native = loadNativeBackend();

test('native Adam flushes denormal moments to zero and stays finite', (t) => {
  if (!native) return t.skip('native addon not built');
  const n = 1000;
  const tiny = 1e-20; // its square, 1e-40, is a float32 denormal
  const p = new Float32Array(n).fill(0.5);
  const g = new Float32Array(n).fill(tiny);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  native.adamUpdate(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 1, weightDecay: 0 });
  // with gradual underflow v would hold 0.001 * 1e-40 = 1e-43 (denormal); flushed, it is exactly 0
  assert.equal(v[0], 0);
  assert.ok(Math.abs((m[0] as number) - 0.1 * tiny) < 1e-25, `m = ${m[0]}`);
  assert.equal(p[0], 0.5); // an update of ~3e-18 is below float32 resolution at 0.5
});

test('after a native call JavaScript arithmetic still has gradual underflow', (t) => {
  if (!native) return t.skip('native addon not built');
  const a = new Float32Array(64).fill(1);
  const out = new Float32Array(64);
  native.binary('add', a, [1], a, [1], out, [64]);
  assert.equal(out[0], 2);
  // computed at run time so the engine cannot fold it: a denormal double times 0.5 is not 0
  const d = Number.parseFloat(`1e-310`) * (a[0] as number);
  assert.ok(d * 0.5 > 0, 'denormal doubles survive in JS after a native call');
  assert.ok(Number.MIN_VALUE * (out[0] as number) > 0);
});

/**
 * Finite-difference gradient checks. The scalar checked is sum(f(xs) * w) for fixed random
 * weights w, so every output element contributes with a different weight.
 */
import assert from 'node:assert/strict';
import { mul, noGrad, randomUniform, sum, type Tensor, tensor, valueAndGrad } from 'tessera';

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Indices of inputs to check (default all float32 inputs). */
  check?: number[];
}

export function gradCheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): void {
  const { eps = 1e-2, rtol = 2e-2, atol = 2e-3 } = options;
  const y0 = noGrad(() => f(...inputs));
  const w = randomUniform(y0.shape, { minval: 0.5, maxval: 1.5, seed: 7 });
  const scalarF = (...xs: Tensor[]) => sum(mul(f(...xs), w));
  const { grads } = valueAndGrad(scalarF)(...inputs);
  const which = options.check ?? inputs.map((_, i) => i).filter((i) => inputs[i]!.dtype === 'float32');
  for (const i of which) {
    const x = inputs[i]!;
    const analytic = grads[i]!.dataSync();
    const base = Float32Array.from(x.dataSync());
    for (let k = 0; k < x.size; k++) {
      const plus = Float32Array.from(base);
      plus[k] = base[k]! + eps;
      const minus = Float32Array.from(base);
      minus[k] = base[k]! - eps;
      const at = (vals: Float32Array) => {
        const xs = inputs.map((t, j) => (j === i ? tensor(vals, t.shape) : t));
        return noGrad(() => scalarF(...xs)).item();
      };
      const numeric = (at(plus) - at(minus)) / (2 * eps);
      const a = analytic[k]!;
      const tol = atol + rtol * Math.max(Math.abs(a), Math.abs(numeric));
      assert.ok(
        Math.abs(a - numeric) <= tol,
        `gradient of input ${i} at flat index ${k}: analytic ${a}, numeric ${numeric} (tolerance ${tol})`,
      );
    }
  }
}

/** Assert two arrays agree elementwise within tolerance. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: expected NaN, got ${a}`);
      continue;
    }
    if (!Number.isFinite(e)) {
      assert.equal(a, e, `${what}[${i}]`);
      continue;
    }
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
  }
}

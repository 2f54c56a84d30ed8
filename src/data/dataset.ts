/**
 * Dataset<T>: a small, lazy, re-iterable async pipeline in the spirit of tf.data:
 * `tensorDataset(x, y).shuffle(1024, { seed: 1 }).batch(32).prefetch(2)`.
 * Each `for await` re-runs the pipeline from its source, so one dataset serves every epoch.
 * A batch of `{ x, y }` samples is `{ x, y }` with a new leading batch dim: what `model.fit` consumes.
 */
import type { DType, TypedArray } from '../tensor/dtype.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Random } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';

type Source<T> = () => AsyncIterator<T> | Iterator<T>;

/** What `batch` turns an element type into: tensors and numbers gain a batch dim, objects/arrays map inside. */
export type Batched<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends readonly unknown[]
      ? { [K in keyof T]: Batched<T[K]> }
      : T extends object
        ? { [K in keyof T]: Batched<T[K]> }
        : never;

export interface BatchOptions {
  /** Drop the last batch when it has fewer than `size` elements (default false). */
  dropRemainder?: boolean;
}

export interface ShuffleOptions {
  /** Seed for reproducible order; without one the order differs run to run. */
  seed?: number;
  /** Draw a new order each iteration (epoch), default true; with a seed, epoch k's order is still fixed. */
  reshuffleEachIteration?: boolean;
}

function checkCount(n: number, where: string, min = 0): void {
  if (!Number.isInteger(n) || n < min) {
    throw new ValueError(`Dataset.${where} expected an integer >= ${min}, got ${n}`);
  }
}

/**
 * A lazy pipeline of elements, iterated with `for await`. Build one with `tensorDataset`,
 * `fromArrays`, `Dataset.from` or `Dataset.generator`.
 * @example
 * const ds = tensorDataset(xTrain, yTrain).shuffle(8000, { seed: 42 }).batch(32);
 * for await (const { x, y } of ds) console.log(x.shape, y.shape); // [32, 28, 28, 1] [32]
 * await model.fit(ds, { epochs: 3 });
 */
export class Dataset<T> implements AsyncIterable<T> {
  /**
   * @param source makes a fresh iterator for each pass.
   * @param cardinality the number of elements, `Infinity` for endless, `null` when unknown.
   */
  constructor(
    private readonly source: Source<T>,
    readonly cardinality: number | null = null,
  ) {}

  /** A dataset over an array (or any re-iterable), or a generator function called once per pass. */
  static from<T>(items: readonly T[] | Iterable<T> | AsyncIterable<T>): Dataset<T> {
    if (Array.isArray(items)) {
      const arr = items as readonly T[];
      return new Dataset(() => arr[Symbol.iterator](), arr.length);
    }
    if (Symbol.asyncIterator in (items as object)) {
      const it = items as AsyncIterable<T>;
      return new Dataset(() => it[Symbol.asyncIterator]());
    }
    const it = items as Iterable<T>;
    return new Dataset(() => it[Symbol.iterator]());
  }

  /** A dataset whose every pass calls `fn` for a fresh (async) generator. */
  static generator<T>(fn: () => Iterator<T> | AsyncIterator<T>, cardinality: number | null = null): Dataset<T> {
    return new Dataset(fn, cardinality);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const it = this.source();
    try {
      while (true) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }

  /** Apply fn to each element (fn may be async). */
  map<U>(fn: (value: T, index: number) => U | Promise<U>): Dataset<U> {
    const self = this;
    return new Dataset(async function* () {
      let i = 0;
      for await (const v of self) yield await fn(v, i++);
    }, this.cardinality);
  }

  /** Keep the elements for which fn is true. */
  filter(fn: (value: T, index: number) => boolean | Promise<boolean>): Dataset<T> {
    const self = this;
    return new Dataset(async function* () {
      let i = 0;
      for await (const v of self) if (await fn(v, i++)) yield v;
    }, null);
  }

  /**
   * Group consecutive elements into batches of `size`, stacking tensors (and numbers) along a new
   * first axis and batching object/array elements field by field.
   */
  batch(size: number, options: BatchOptions = {}): Dataset<Batched<T>> {
    checkCount(size, 'batch(size)', 1);
    const drop = options.dropRemainder ?? false;
    const self = this;
    const n = this.cardinality;
    const card = n === null ? null : n === Infinity ? Infinity : drop ? Math.floor(n / size) : Math.ceil(n / size);
    return new Dataset(async function* () {
      let buf: T[] = [];
      for await (const v of self) {
        buf.push(v);
        if (buf.length === size) {
          yield collate(buf, 'batch') as Batched<T>;
          buf = [];
        }
      }
      if (buf.length > 0 && !drop) yield collate(buf, 'batch') as Batched<T>;
    }, card);
  }

  /**
   * Shuffle with a buffer of `bufferSize` elements (tf.data semantics: a buffer at least as large
   * as the dataset gives a uniform permutation).
   */
  shuffle(bufferSize: number, options: ShuffleOptions = {}): Dataset<T> {
    checkCount(bufferSize, 'shuffle(bufferSize)', 1);
    const self = this;
    const reshuffle = options.reshuffleEachIteration ?? true;
    const baseSeed = options.seed ?? (Math.random() * 0x7fffffff) | 0;
    let pass = 0;
    return new Dataset(async function* () {
      const rng = new Random(reshuffle ? baseSeed + 0x9e3779b9 * pass++ : baseSeed);
      const buf: T[] = [];
      for await (const v of self) {
        if (buf.length < bufferSize) {
          buf.push(v);
          continue;
        }
        const j = rng.int(bufferSize);
        yield buf[j] as T;
        buf[j] = v;
      }
      rng.shuffle(buf);
      yield* buf;
    }, this.cardinality);
  }

  /** The first n elements. */
  take(n: number): Dataset<T> {
    checkCount(n, 'take(n)');
    const self = this;
    const card = this.cardinality === null ? null : Math.min(n, this.cardinality);
    return new Dataset(async function* () {
      if (n === 0) return;
      let i = 0;
      for await (const v of self) {
        yield v;
        if (++i >= n) return;
      }
    }, card);
  }

  /** All but the first n elements. */
  skip(n: number): Dataset<T> {
    checkCount(n, 'skip(n)');
    const self = this;
    const card = this.cardinality === null ? null : Math.max(0, this.cardinality - n);
    return new Dataset(async function* () {
      let i = 0;
      for await (const v of self) if (i++ >= n) yield v;
    }, card);
  }

  /** Repeat the dataset `count` times (forever without a count). */
  repeat(count?: number): Dataset<T> {
    if (count !== undefined) checkCount(count, 'repeat(count)');
    const self = this;
    const card =
      count === undefined
        ? this.cardinality === 0
          ? 0
          : Infinity
        : this.cardinality === null
          ? null
          : this.cardinality * count;
    return new Dataset(async function* () {
      for (let k = 0; count === undefined || k < count; k++) {
        let any = false;
        for await (const v of self) {
          any = true;
          yield v;
        }
        if (!any) return;
      }
    }, card);
  }

  /** Keep up to n elements in flight ahead of the consumer (overlaps async sources with training). */
  prefetch(n: number): Dataset<T> {
    checkCount(n, 'prefetch(n)');
    if (n === 0) return this;
    const self = this;
    return new Dataset(async function* () {
      const it = self[Symbol.asyncIterator]();
      const queue: Promise<IteratorResult<T>>[] = [];
      try {
        for (let i = 0; i < n; i++) queue.push(it.next());
        while (queue.length > 0) {
          const r = await (queue.shift() as Promise<IteratorResult<T>>);
          if (r.done) return;
          queue.push(it.next());
          yield r.value;
        }
      } finally {
        await it.return?.();
      }
    }, this.cardinality);
  }

  /** Collect every element into an array (finite datasets only). */
  async toArray(): Promise<T[]> {
    if (this.cardinality === Infinity)
      throw new ValueError('Dataset.toArray() on an endless dataset (repeat() without a count)');
    const out: T[] = [];
    for await (const v of this) out.push(v);
    return out;
  }

  /** Call fn on each element. */
  async forEach(fn: (value: T, index: number) => void | Promise<void>): Promise<void> {
    let i = 0;
    for await (const v of this) await fn(v, i++);
  }
}

/** Stack a list of like-structured elements into one batched element. */
export function collate(items: readonly unknown[], where = 'collate'): unknown {
  const first = items[0];
  if (first instanceof Tensor) return stackTensors(items as Tensor[], where);
  if (typeof first === 'number' || typeof first === 'boolean') {
    const isBool = typeof first === 'boolean';
    const data = isBool ? new Uint8Array(items.length) : new Float32Array(items.length);
    const allInt = !isBool && items.every((v) => Number.isInteger(v));
    const out = allInt ? new Int32Array(items.length) : data;
    items.forEach((v, i) => {
      out[i] = typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
    });
    return new Tensor(out, [items.length], isBool ? 'bool' : allInt ? 'int32' : 'float32');
  }
  if (Array.isArray(first)) {
    return first.map((_, k) =>
      collate(
        items.map((v) => (v as unknown[])[k]),
        `${where}[${k}]`,
      ),
    );
  }
  if (first !== null && typeof first === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) {
      out[key] = collate(
        items.map((v) => (v as Record<string, unknown>)[key]),
        `${where}.${key}`,
      );
    }
    return out;
  }
  throw new ValueError(`${where}: cannot batch elements of type ${first === null ? 'null' : typeof first}`);
}

function stackTensors(items: readonly Tensor[], where: string): Tensor {
  const first = items[0] as Tensor;
  for (const t of items) {
    if (!(t instanceof Tensor)) throw new ValueError(`${where}: mixed tensor and non-tensor elements`);
    if (
      t.dtype !== first.dtype ||
      t.shape.length !== first.shape.length ||
      t.shape.some((d, i) => d !== first.shape[i])
    ) {
      throw new ShapeError(
        `${where}: elements must share shape and dtype to be batched, got ${first.dtype} ${fmtShape(first.shape)} and ${t.dtype} ${fmtShape(t.shape)}`,
      );
    }
  }
  const out = newData(first.dtype, items.length * first.size);
  items.forEach((t, i) => {
    out.set(t.data, i * first.size);
  });
  return new Tensor(out, [items.length, ...first.shape], first.dtype);
}

function newData(dtype: DType, n: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

/** Row i of a tensor (a copy, shape = x.shape.slice(1)). */
function row(x: Tensor, i: number): Tensor {
  const n = x.size / (x.shape[0] as number);
  return new Tensor(x.data.slice(i * n, (i + 1) * n), x.shape.slice(1), x.dtype);
}

/** Rows [start, end) of a tensor (a copy). */
export function sliceRows(x: Tensor, start: number, end: number): Tensor {
  const n = x.shape[0] === 0 ? 0 : x.size / (x.shape[0] as number);
  return new Tensor(x.data.slice(start * n, end * n), [end - start, ...x.shape.slice(1)], x.dtype);
}

/** Rows of x in the given order (a copy). */
export function takeRows(x: Tensor, indices: ArrayLike<number>): Tensor {
  const n = x.shape[0] === 0 ? 0 : x.size / (x.shape[0] as number);
  const out = newData(x.dtype, indices.length * n);
  const d = x.data;
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] as number;
    out.set(d.subarray(r * n, (r + 1) * n), i * n);
  }
  return new Tensor(out, [indices.length, ...x.shape.slice(1)], x.dtype);
}

/**
 * A dataset of `{ x, y }` samples from two tensors sharing their first (sample) dim.
 * `y` may be omitted for unlabelled data (elements are then `{ x }`).
 * @example
 * const ds = tensorDataset(xTrain, yTrain).batch(32); // { x: [32, ...], y: [32] } batches
 */
export function tensorDataset(x: Tensor, y: Tensor): Dataset<{ x: Tensor; y: Tensor }>;
export function tensorDataset(x: Tensor): Dataset<{ x: Tensor }>;
export function tensorDataset(x: Tensor, y?: Tensor): Dataset<{ x: Tensor; y?: Tensor }> {
  if (!(x instanceof Tensor) || x.rank < 1) {
    throw new ShapeError(
      `tensorDataset expected x to be a tensor with a sample dim, got ${x instanceof Tensor ? fmtShape(x.shape) : typeof x}`,
    );
  }
  const n = x.shape[0] as number;
  if (y !== undefined) {
    if (!(y instanceof Tensor) || y.rank < 1 || y.shape[0] !== n) {
      throw new ShapeError(
        `tensorDataset expected y with ${n} samples (x is ${fmtShape(x.shape)}), got ${y instanceof Tensor ? fmtShape(y.shape) : typeof y}`,
      );
    }
  }
  return new Dataset(function* () {
    for (let i = 0; i < n; i++) yield y === undefined ? { x: row(x, i) } : { x: row(x, i), y: row(y, i) };
  }, n);
}

/**
 * A dataset of `{ x, y }` samples from tensors or nested arrays.
 * @example
 * const ds = fromArrays({ x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [0, 1, 1, 0] }).batch(4);
 */
export function fromArrays(arrays: {
  x: Tensor | unknown[];
  y?: Tensor | unknown[];
}): Dataset<{ x: Tensor; y: Tensor }> {
  const toT = (v: Tensor | unknown[], field: string): Tensor => {
    if (v instanceof Tensor) return v;
    if (!Array.isArray(v))
      throw new ValueError(`fromArrays expected ${field} to be a tensor or an array, got ${typeof v}`);
    const samples = v.map((s) => (s instanceof Tensor ? s : arrayToTensor(s, `fromArrays ${field}`)));
    return stackTensors(samples, `fromArrays ${field}`);
  };
  const x = toT(arrays.x, 'x');
  if (arrays.y === undefined) return tensorDataset(x) as unknown as Dataset<{ x: Tensor; y: Tensor }>;
  return tensorDataset(x, toT(arrays.y, 'y'));
}

/** One sample from nested arrays: integer scalars become int32 (class labels), everything else float32. */
function arrayToTensor(v: unknown, where: string): Tensor {
  const shape: number[] = [];
  let probe = v;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat = (Array.isArray(v) ? (v as unknown[]).flat(Number.POSITIVE_INFINITY) : [v]) as unknown[];
  if (flat.length !== shape.reduce((a, b) => a * b, 1)) throw new ShapeError(`${where} got a ragged nested array`);
  if (typeof probe === 'boolean')
    return new Tensor(
      Uint8Array.from(flat as boolean[], (b) => (b ? 1 : 0)),
      shape,
      'bool',
    );
  if (typeof probe !== 'number') throw new ValueError(`${where} expected numbers, got ${typeof probe}`);
  const nums = flat as number[];
  if (shape.length === 0 && Number.isInteger(nums[0])) return new Tensor(Int32Array.from(nums), shape, 'int32');
  return new Tensor(Float32Array.from(nums), shape, 'float32');
}

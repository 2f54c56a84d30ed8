/** Creating tensors: from values, constant fills, ranges, and seeded random draws. */
import { assertDType, type DType, newArray, type TypedArray } from './dtype.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from './errors.js';
import { rng } from './random.js';
import { assertValidShape, sizeOf } from './shape.js';
import { type NestedArray, Tensor, Variable } from './tensor.js';

export type TensorLike = Tensor | NestedArray | TypedArray | readonly number[];

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedArray;
  }
  return shape;
}

function flatten(values: NestedArray, shape: number[], out: TypedArray, where: string): void {
  let k = 0;
  const walk = (v: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(v))
        throw new ShapeError(`${where} got a ragged nested array: expected shape ${fmtShape(shape)}`);
      out[k++] = typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ShapeError(
        `${where} got a ragged nested array: dim ${dim} expected length ${shape[dim]}, got ${Array.isArray(v) ? v.length : 'a scalar'}`,
      );
    }
    for (const item of v) walk(item, dim + 1);
  };
  walk(values, 0);
}

/**
 * Make a tensor from values (a number, nested arrays, or a typed array) with an optional shape and dtype.
 * @example tensor([[1, 2], [3, 4]]) // float32 [2, 2]
 * @example tensor([1, 2, 3, 4], [2, 2], 'int32')
 */
export function tensor(values: TensorLike, shape?: readonly number[], dtype?: DType): Tensor {
  if (values instanceof Tensor) return shape ? new Tensor(values.data.slice(), shape, dtype ?? values.dtype) : values;
  if (dtype !== undefined) assertDType(dtype, 'tensor');
  let data: TypedArray;
  let inferred: number[];
  if (ArrayBuffer.isView(values)) {
    const src = values as TypedArray;
    const dt =
      dtype ?? (src instanceof Int32Array ? 'int32' : src instanceof Uint8Array ? 'bool' : ('float32' as DType));
    data = newArray(dt, src.length);
    data.set(src);
    inferred = [src.length];
  } else {
    const nested = values as NestedArray;
    inferred = inferShape(nested);
    const first = firstLeaf(nested);
    const dt = dtype ?? (typeof first === 'boolean' ? 'bool' : 'float32');
    data = newArray(dt, sizeOf(inferred));
    if (inferred.length === 0) data[0] = typeof nested === 'boolean' ? (nested ? 1 : 0) : (nested as number);
    else flatten(nested, inferred, data, 'tensor');
  }
  const dt: DType = dtype ?? (data instanceof Int32Array ? 'int32' : data instanceof Uint8Array ? 'bool' : 'float32');
  if (shape) {
    assertValidShape(shape, 'tensor');
    if (sizeOf(shape) !== data.length) {
      throw new ShapeError(
        `tensor got ${data.length} values, which cannot fill shape ${fmtShape(shape)} (${sizeOf(shape)})`,
      );
    }
    return new Tensor(data, [...shape], dt);
  }
  return new Tensor(data, inferred, dt);
}

function firstLeaf(v: NestedArray): NestedArray {
  while (Array.isArray(v)) {
    if (v.length === 0) return 0;
    v = v[0] as NestedArray;
  }
  return v;
}

/** A rank-0 tensor. */
export function scalar(value: number | boolean, dtype?: DType): Tensor {
  return tensor(value, [], dtype);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  assertValidShape(shape, 'full');
  const t = Tensor.empty([...shape], dtype);
  t.data.fill(value);
  return t;
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

export function zerosLike(x: Tensor): Tensor {
  return full(x.shape, 0, x.dtype);
}

export function onesLike(x: Tensor): Tensor {
  return full(x.shape, 1, x.dtype);
}

/**
 * Evenly spaced values in [start, stop) (NumPy arange). With one argument, [0, start).
 * @example arange(5) // [0, 1, 2, 3, 4]
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new ValueError('arange got step 0, expected a non-zero step');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const t = Tensor.empty([n], dtype);
  for (let i = 0; i < n; i++) t.data[i] = start + i * step;
  return t;
}

/** `num` evenly spaced values from start to stop inclusive. */
export function linspace(start: number, stop: number, num: number): Tensor {
  if (!Number.isInteger(num) || num < 0)
    throw new ValueError(`linspace got num ${num}, expected a non-negative integer`);
  const t = Tensor.empty([num], 'float32');
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) t.data[i] = start + i * step;
  if (num > 1) t.data[num - 1] = stop;
  return t;
}

/** Identity matrix [n, m]. */
export function eye(n: number, m: number = n, dtype: DType = 'float32'): Tensor {
  const t = zeros([n, m], dtype);
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return t;
}

export interface RandomUniformOptions {
  minval?: number;
  maxval?: number;
  dtype?: DType;
  seed?: number;
}

/** Uniform draws in [minval, maxval). Seeded by `seed`, else by the global seed (setSeed). */
export function randomUniform(shape: readonly number[], options: RandomUniformOptions = {}): Tensor {
  const { minval = 0, maxval = 1, dtype = 'float32', seed } = options;
  if (dtype === 'bool') throw new DTypeError("randomUniform expected dtype 'float32' or 'int32', got 'bool'");
  const r = rng(seed);
  const t = Tensor.empty([...shape], dtype);
  const range = maxval - minval;
  for (let i = 0; i < t.size; i++) {
    const u = minval + r.next() * range;
    t.data[i] = dtype === 'int32' ? Math.floor(u) : u;
  }
  return t;
}

export interface RandomNormalOptions {
  mean?: number;
  stddev?: number;
  seed?: number;
}

/** Normal draws N(mean, stddev^2). */
export function randomNormal(shape: readonly number[], options: RandomNormalOptions = {}): Tensor {
  const { mean = 0, stddev = 1, seed } = options;
  const r = rng(seed);
  const t = Tensor.empty([...shape], 'float32');
  for (let i = 0; i < t.size; i++) t.data[i] = mean + stddev * r.normal();
  return t;
}

/** Normal draws, re-drawn until within two standard deviations of the mean (Keras truncatedNormal). */
export function truncatedNormal(shape: readonly number[], options: RandomNormalOptions = {}): Tensor {
  const { mean = 0, stddev = 1, seed } = options;
  const r = rng(seed);
  const t = Tensor.empty([...shape], 'float32');
  for (let i = 0; i < t.size; i++) {
    let z = r.normal();
    while (z < -2 || z > 2) z = r.normal();
    t.data[i] = mean + stddev * z;
  }
  return t;
}

/**
 * A trainable variable initialised from a tensor (its values are copied).
 * @example const w = variable(randomNormal([3, 2]), { name: 'w' })
 */
export function variable(initial: TensorLike, options: { name?: string; trainable?: boolean } = {}): Variable {
  return new Variable(initial instanceof Tensor ? initial : tensor(initial), options);
}

/** Convert numbers / arrays to a tensor, matching `like`'s dtype for bare numbers. */
export function asTensor(value: TensorLike | number, like?: Tensor): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value === 'number' || typeof value === 'boolean') {
    const dtype = like && like.dtype !== 'bool' ? like.dtype : typeof value === 'boolean' ? 'bool' : 'float32';
    if (dtype === 'int32' && !Number.isInteger(value)) return scalar(value, 'float32');
    return scalar(value, dtype);
  }
  return tensor(value);
}

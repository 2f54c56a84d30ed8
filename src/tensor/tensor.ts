/**
 * Tensor: a dtype, a shape and a contiguous row-major typed array owned by JS.
 * Ops (src/ops) attach chainable methods to this class by declaration merging, so this
 * file never imports them.
 */
import type { DType, TypedArray } from './dtype.js';
import { dtypeOfArray } from './dtype.js';
import { allocBuffer, type PooledTensor, track } from './engine.js';
import { DisposedError, fmtShape, ShapeError } from './errors.js';
import { sizeOf } from './shape.js';

/** How a tensor was made, for reverse-mode autograd (see src/autograd/tape.ts). */
export interface GradNode {
  /** The op's name, for error messages and debugging. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Given dL/d(output), the gradient for each input (null where none flows). */
  readonly backward: (dy: Tensor) => readonly (Tensor | null)[];
}

export type NestedArray = number | boolean | NestedArray[];

const EMPTY = new Float32Array(0);
let nextId = 0;

export class Tensor implements PooledTensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  /** Set by ops when any input requires a gradient and recording is on. */
  node: GradNode | null = null;
  requiresGrad = false;
  ownsBuffer: boolean;
  private _data: TypedArray;
  private disposed = false;

  constructor(data: TypedArray, shape: readonly number[], dtype: DType = dtypeOfArray(data), ownsBuffer = false) {
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new ShapeError(`Tensor got ${data.length} values for shape ${fmtShape(shape)}, expected ${size}`);
    }
    this._data = data;
    this.shape = shape;
    this.dtype = dtype;
    this.size = size;
    this.ownsBuffer = ownsBuffer;
  }

  /** A fresh (or, inside an internal scope, recycled) output tensor for an op. Values are unspecified. */
  static empty(shape: readonly number[], dtype: DType = 'float32', zero = false): Tensor {
    const t = new Tensor(allocBuffer(dtype, sizeOf(shape), zero), shape, dtype, true);
    track(t);
    return t;
  }

  /** A tensor sharing this one's buffer with another shape (reshape, squeeze, ...). */
  view(shape: readonly number[]): Tensor {
    const t = new Tensor(this.data, shape, this.dtype, false);
    track(t);
    return t;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The underlying typed array (not a copy). */
  get data(): TypedArray {
    if (this.disposed) {
      throw new DisposedError(
        `Tensor ${fmtShape(this.shape)} was a temporary of a finished training/inference step and its buffer was recycled`,
      );
    }
    return this._data;
  }

  /** The values as a typed array (Float32Array, Int32Array, or Uint8Array for bool). Not a copy. */
  dataSync(): TypedArray {
    return this.data;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new ShapeError(`item() needs a tensor of one element, got shape ${fmtShape(this.shape)}`);
    return this.data[0] as number;
  }

  /** Nested JS arrays (numbers, or booleans for bool tensors). A scalar gives a number. */
  toArray(): NestedArray {
    const d = this.data;
    const isBool = this.dtype === 'bool';
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return isBool ? d[offset] !== 0 : (d[offset] as number);
      const n = this.shape[dim] as number;
      let stride = 1;
      for (let i = dim + 1; i < this.shape.length; i++) stride *= this.shape[i] as number;
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * stride);
      return out;
    };
    return build(0, 0);
  }

  /** Alias of toArray(), the tfjs name. */
  arraySync(): NestedArray {
    return this.toArray();
  }

  toString(): string {
    const head = `Tensor(${this.dtype}, ${fmtShape(this.shape)})`;
    if (this.disposed) return `${head} <recycled>`;
    return `${head}\n${formatValues(this)}`;
  }

  /** Internal: give the buffer back (end of a scope); later reads throw DisposedError. */
  releaseBuffer(): TypedArray | null {
    if (this.disposed) return null;
    const d = this._data;
    this._data = EMPTY;
    this.disposed = true;
    this.node = null;
    return d;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}

function formatNumber(v: number, dtype: DType): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'int32' || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-4 || a >= 1e6) ? v.toExponential(4) : String(Number(v.toPrecision(6)));
}

/** Values laid out like NumPy, eliding the middle of long axes. */
function formatValues(t: Tensor, edge = 3): string {
  const d = t.data;
  const shape = t.shape;
  const fmt = (dim: number, offset: number, indent: string): string => {
    if (dim === shape.length) return formatNumber(d[offset] as number, t.dtype);
    const n = shape[dim] as number;
    let stride = 1;
    for (let i = dim + 1; i < shape.length; i++) stride *= shape[i] as number;
    const idx: (number | null)[] = [];
    if (n > 2 * edge + 1) {
      for (let i = 0; i < edge; i++) idx.push(i);
      idx.push(null);
      for (let i = n - edge; i < n; i++) idx.push(i);
    } else for (let i = 0; i < n; i++) idx.push(i);
    const parts = idx.map((i) => (i === null ? '...' : fmt(dim + 1, offset + i * stride, `${indent} `)));
    const sep = dim === shape.length - 1 ? ', ' : `,\n${indent} `;
    return `[${parts.join(sep)}]`;
  };
  return fmt(0, 0, '');
}

/** A trainable tensor: a named, mutable parameter. Its buffer is never recycled. */
export class Variable extends Tensor {
  name: string;
  trainable: boolean;

  constructor(initial: Tensor, options: { name?: string; trainable?: boolean } = {}) {
    super(initial.data.slice(), initial.shape, initial.dtype, false);
    this.name = options.name ?? `variable_${this.id}`;
    this.trainable = options.trainable ?? true;
    this.requiresGrad = this.trainable && initial.dtype === 'float32';
  }

  /** Overwrite the values in place (same shape and dtype). */
  assign(value: Tensor): this {
    if (value.size !== this.size || value.dtype !== this.dtype) {
      throw new ShapeError(
        `Variable '${this.name}' assign expected ${this.dtype} ${fmtShape(this.shape)}, got ${value.dtype} ${fmtShape(value.shape)}`,
      );
    }
    this.data.set(value.data);
    return this;
  }
}

export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}

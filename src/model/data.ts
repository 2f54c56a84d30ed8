/**
 * Internal: turning fit / evaluate / predict arguments into lists of tensors, and cutting
 * batches out of them. A batch is a copy of its rows into a buffer from Tensor.empty, so inside
 * a training step's scope it is a recycled buffer and steady-state batching allocates nothing.
 */
import { type TensorLike, tensor } from '../tensor/creation.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { isTensor, Tensor } from '../tensor/tensor.js';

/** Model inputs or targets: one tensor, a list (one per model input/output), or keyed by input/output name. */
export type TensorOrList = Tensor | TensorLike | Tensor[] | Record<string, Tensor | TensorLike>;

/** Normalize x (or y) to one tensor per model input (output), in the model's order. */
export function toTensorList(value: TensorOrList, names: readonly string[], what: string, where: string): Tensor[] {
  let list: Tensor[];
  if (isTensor(value)) list = [value];
  else if (Array.isArray(value) && value.length > 0 && value.every(isTensor)) list = value as Tensor[];
  else if (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const rec = value as Record<string, Tensor | TensorLike>;
    const missing = names.filter((n) => !(n in rec));
    if (missing.length > 0) {
      throw new ValueError(
        `${where}: ${what} is keyed by name but lacks ${missing.map((m) => `'${m}'`).join(', ')}; expected keys ${names.map((n) => `'${n}'`).join(', ')}, got ${Object.keys(
          rec,
        )
          .map((k) => `'${k}'`)
          .join(', ')}`,
      );
    }
    list = names.map((n) => asTensor(rec[n] as Tensor | TensorLike));
  } else list = [tensor(value as TensorLike)];
  if (list.length !== names.length) {
    throw new ValueError(
      `${where}: the model has ${names.length} ${what === 'x' ? 'input' : 'output'}(s) (${names.join(', ')}), got ${list.length} ${what} tensor(s)`,
    );
  }
  return list;
}

function asTensor(v: Tensor | TensorLike): Tensor {
  return isTensor(v) ? v : tensor(v);
}

/** The common first dimension of every tensor (the number of samples), checked. */
export function countSamples(groups: { what: string; list: readonly Tensor[] }[], where: string): number {
  let n: number | null = null;
  let firstWhat = '';
  for (const { what, list } of groups) {
    for (let i = 0; i < list.length; i++) {
      const t = list[i] as Tensor;
      if (t.rank === 0)
        throw new ShapeError(`${where}: ${what}[${i}] is a scalar; expected a batch of samples [samples, ...]`);
      const m = t.shape[0] as number;
      if (n === null) {
        n = m;
        firstWhat = `${what}[${i}]`;
      } else if (m !== n) {
        throw new ShapeError(
          `${where}: ${what}[${i}] has ${m} samples (shape ${fmtShape(t.shape)}) but ${firstWhat} has ${n}; every input and target needs the same number of samples`,
        );
      }
    }
  }
  return n ?? 0;
}

/**
 * Cuts batches of rows out of one source tensor: contiguous rows are one TypedArray.set, a
 * shuffled order is a row gather. Shapes are cached so a step allocates no JS arrays either.
 */
export class RowBatcher {
  private readonly rowSize: number;
  private readonly rest: number[];
  private shapeN = -1;
  private shape: number[] = [];

  constructor(readonly source: Tensor) {
    this.rest = source.shape.slice(1) as number[];
    this.rowSize = this.rest.reduce((a, b) => a * b, 1);
  }

  private shapeFor(n: number): number[] {
    if (n !== this.shapeN) {
      this.shapeN = n;
      this.shape = [n, ...this.rest];
    }
    return this.shape;
  }

  /** Rows [start, end) of the source, or rows order[start..end) when order is given. */
  take(start: number, end: number, order: Int32Array | null): Tensor {
    const n = end - start;
    const out = Tensor.empty(this.shapeFor(n), this.source.dtype);
    const src = this.source.data;
    const dst = out.data;
    const rs = this.rowSize;
    if (order === null) {
      dst.set(src.subarray(start * rs, end * rs));
      return out;
    }
    for (let i = 0; i < n; i++) {
      const from = (order[start + i] as number) * rs;
      const to = i * rs;
      if (rs >= 256) dst.set(src.subarray(from, from + rs), to);
      else for (let k = 0; k < rs; k++) dst[to + k] = src[from + k] as number;
    }
    return out;
  }
}

/** Rows [start, end) as a standalone (non-pooled) copy: validation splits and the like. */
export function copyRows(t: Tensor, start: number, end: number): Tensor {
  const rs = t.size / Math.max(1, t.shape[0] as number);
  const data = t.data.slice(start * rs, end * rs);
  return new Tensor(data, [end - start, ...t.shape.slice(1)], t.dtype);
}

/** An identity order 0..n-1 (reused across epochs, shuffled in place). */
export function identityOrder(n: number, into?: Int32Array): Int32Array {
  const order = into && into.length === n ? into : new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

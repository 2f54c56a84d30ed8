import { fmtShape, ShapeError, ValueError } from './errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function assertValidShape(shape: Shape, where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${where} expected a shape of non-negative integers, got ${fmtShape(shape)}`);
    }
  }
}

/** NumPy broadcasting: align from the right; each pair of dims must be equal or one of them 1. */
export function broadcastShapes(a: Shape, b: Shape, where = 'broadcast'): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new ShapeError(
        `${where} could not broadcast shapes ${fmtShape(a)} and ${fmtShape(b)}: dim ${i} is ${da} vs ${db} (each pair must be equal or 1)`,
      );
    }
  }
  return out;
}

/** Strides to read `shape` as if it were broadcast to `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = stridesOf(shape);
  const offset = outShape.length - shape.length;
  const out = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    out[offset + i] = shape[i] === 1 ? 0 : (strides[i] as number);
  }
  return out;
}

/** Resolve a possibly-negative axis against a rank, with an error naming the op. */
export function normAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new ValueError(
      `${where} got axis ${axis}, expected an integer in [${-rank}, ${rank - 1}] for a rank-${rank} tensor`,
    );
  }
  return a;
}

/** Resolve an axis option (undefined = all axes) to a sorted list of unique non-negative axes. */
export function normAxes(axis: number | readonly number[] | undefined | null, rank: number, where: string): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  const set = new Set<number>();
  for (const a of list) {
    const n = normAxis(a, rank, where);
    if (set.has(n)) throw new ValueError(`${where} got axis ${a} twice in ${JSON.stringify(list)}`);
    set.add(n);
  }
  return [...set].sort((x, y) => x - y);
}

/** Infer one -1 in a reshape target. `where` names the caller in errors (a function: built only on error). */
export function inferReshape(size: number, shape: Shape, where: string | (() => string)): number[] {
  const at = () => (typeof where === 'string' ? where : where());
  const out = [...shape];
  let unknown = -1;
  let known = 1;
  for (let i = 0; i < out.length; i++) {
    const d = out[i] as number;
    if (d === -1) {
      if (unknown >= 0) throw new ShapeError(`${at()} got more than one -1 in ${fmtShape(shape)}`);
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${at()} expected non-negative integer dims (or one -1), got ${fmtShape(shape)}`);
    } else known *= d;
  }
  if (unknown >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(`${at()} cannot reshape ${size} elements into ${fmtShape(shape)}`);
    }
    out[unknown] = size / known;
  } else if (known !== size) {
    throw new ShapeError(`${at()} cannot reshape ${size} elements into ${fmtShape(shape)} (${known} elements)`);
  }
  return out;
}

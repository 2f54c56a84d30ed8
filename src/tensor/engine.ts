/**
 * The engine's global state: whether gradients are recorded, and the scope / buffer pool
 * that lets fit, predict and serve recycle a step's temporaries.
 *
 * Users never dispose tensors: storage is a typed array collected by the GC. Internally,
 * `scope(fn)` tracks every buffer allocated for op outputs while fn runs; when fn returns,
 * the buffers of tensors that did not escape (not returned, not kept, not variables) go
 * back to a pool keyed by dtype and length, and the next step reuses them. A steady-state
 * training loop therefore stops allocating after its first step.
 */
import type { DType, TypedArray } from './dtype.js';
import { newArray } from './dtype.js';

/** What the engine needs from a tensor to manage its buffer (Tensor implements it). */
export interface PooledTensor {
  readonly dtype: DType;
  /** True when the buffer was allocated for this tensor and may be recycled. */
  ownsBuffer: boolean;
  releaseBuffer(): TypedArray | null;
}

interface Scope {
  tracked: PooledTensor[];
}

export interface EngineStats {
  /** Buffers created fresh (not from the pool) while a scope was active. */
  freshAllocations: number;
  /** Buffers handed out again from the pool. */
  reusedAllocations: number;
  /** Buffers sitting in the pool now. */
  pooledBuffers: number;
  pooledBytes: number;
}

const scopes: Scope[] = [];
const pool = new Map<string, TypedArray[]>();
const stats = { freshAllocations: 0, reusedAllocations: 0, pooledBuffers: 0, pooledBytes: 0 };
let gradEnabled = true;
/** Buffers above this many elements are not pooled when the pool is already large. */
const MAX_POOLED_BYTES = 1 << 30;

function poolKey(dtype: DType, size: number): string {
  return `${dtype}:${size}`;
}

/**
 * A buffer for an op's output. Inside a scope it may come from the pool and hold stale
 * values: kernels overwrite every element. Pass `zero` when the caller accumulates.
 */
export function allocBuffer(dtype: DType, size: number, zero = false): TypedArray {
  if (scopes.length === 0) return newArray(dtype, size);
  const list = pool.get(poolKey(dtype, size));
  const reused = list?.pop();
  if (reused) {
    stats.reusedAllocations++;
    stats.pooledBuffers--;
    stats.pooledBytes -= reused.byteLength;
    if (zero) reused.fill(0);
    return reused;
  }
  stats.freshAllocations++;
  return newArray(dtype, size);
}

/** Register a tensor created inside the current scope, so its buffer can be recycled. */
export function track(t: PooledTensor): void {
  const s = scopes[scopes.length - 1];
  if (s) s.tracked.push(t);
}

/** Run fn in a scope: temporaries' buffers return to the pool when it ends. Internal API. */
export function scope<T>(fn: () => T, escaping?: (result: T) => Iterable<PooledTensor>): T {
  scopes.push({ tracked: [] });
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(new Set());
    throw e;
  }
  const keep = new Set<PooledTensor>(escaping ? escaping(result) : collectTensors(result));
  endScope(keep);
  return result;
}

/** Keep tensors alive past the end of the current scope (e.g. optimizer state created mid-step). */
export function keep<T extends PooledTensor>(t: T): T {
  for (const s of scopes) {
    const i = s.tracked.indexOf(t);
    if (i >= 0) s.tracked.splice(i, 1);
  }
  return t;
}

function endScope(keepSet: Set<PooledTensor>): void {
  const s = scopes.pop() as Scope;
  const parent = scopes[scopes.length - 1];
  const kept = new Set<TypedArray>();
  for (const t of s.tracked) {
    if (keepSet.has(t)) {
      if (parent) parent.tracked.push(t);
    }
  }
  for (const t of keepSet) {
    const d = (t as unknown as { data?: TypedArray }).data;
    if (d) kept.add(d);
  }
  for (const t of s.tracked) {
    if (keepSet.has(t)) continue;
    if (!t.ownsBuffer) {
      t.releaseBuffer();
      continue;
    }
    const buf = t.releaseBuffer();
    // A view of a kept tensor shares its buffer: never recycle a buffer still in use.
    if (!buf || kept.has(buf) || buf.length === 0) continue;
    kept.add(buf);
    if (stats.pooledBytes + buf.byteLength > MAX_POOLED_BYTES) continue;
    const key = poolKey(t.dtype, buf.length);
    let list = pool.get(key);
    if (!list) pool.set(key, (list = []));
    list.push(buf);
    stats.pooledBuffers++;
    stats.pooledBytes += buf.byteLength;
  }
}

function collectTensors(value: unknown, out: PooledTensor[] = [], depth = 0): PooledTensor[] {
  if (value === null || typeof value !== 'object' || depth > 3) return out;
  if ('releaseBuffer' in (value as object)) {
    out.push(value as PooledTensor);
    return out;
  }
  const items = Array.isArray(value) ? value : Object.values(value as object);
  for (const v of items) collectTensors(v, out, depth + 1);
  return out;
}

export function inScope(): boolean {
  return scopes.length > 0;
}

/** Drop every pooled buffer (they become garbage for the GC). */
export function clearPool(): void {
  pool.clear();
  stats.pooledBuffers = 0;
  stats.pooledBytes = 0;
}

export function engineStats(): EngineStats {
  return { ...stats };
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn without recording gradients (inference, optimizer updates, metrics). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

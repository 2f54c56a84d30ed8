/** Shared helpers for the layer families: argument parsing, (de)serialisation of initializers etc., shape checks. */
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ConstraintIdentifier, getConstraint } from './constraints.js';
import { getInitializer, type InitializerIdentifier } from './initializers.js';
import type { Constraint, Initializer, Regularizer, ShapeLike } from './layer.js';
import { getRegularizer, type RegularizerIdentifier } from './regularizers.js';

export type Serialized = { className: string; config: Record<string, unknown> } | null;

export function initOf(id: InitializerIdentifier | null | undefined, fallback: string): Initializer {
  return getInitializer(id ?? fallback);
}

export function regOf(id: RegularizerIdentifier | null | undefined): Regularizer | null {
  return id === null || id === undefined ? null : getRegularizer(id);
}

export function conOf(id: ConstraintIdentifier | null | undefined): Constraint | null {
  return id === null || id === undefined ? null : getConstraint(id);
}

export function ser(x: Initializer | Regularizer | Constraint | null): Serialized {
  return x ? { className: x.className, config: x.getConfig() } : null;
}

/** A tuple of n positive integers from `number | number[]`, naming the layer and field on error. */
export function tuple(value: unknown, n: number, layer: string, field: string, allowZero = false): number[] {
  const v = typeof value === 'number' ? new Array<number>(n).fill(value) : value;
  const ok =
    Array.isArray(v) &&
    v.length === n &&
    v.every((d) => typeof d === 'number' && Number.isInteger(d) && (allowZero ? d >= 0 : d > 0));
  if (!ok) {
    throw new ValueError(
      `${layer} expected ${field} to be a ${allowZero ? 'non-negative' : 'positive'} integer or an array of ${n} of them, got ${JSON.stringify(value)}`,
    );
  }
  return [...(v as number[])];
}

export function positiveInt(value: unknown, layer: string, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValueError(`${layer} expected ${field} to be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], layer: string, field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValueError(
      `${layer} expected ${field} ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/** Only channels-last is supported (the Keras default). */
export function checkDataFormat(value: unknown, layer: string): void {
  if (value !== undefined && value !== null && value !== 'channels_last' && value !== 'channelsLast') {
    throw new ValueError(`${layer} supports dataFormat 'channels_last' only, got ${JSON.stringify(value)}`);
  }
}

export function single(inputs: Tensor | Tensor[], layer: string): Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new ValueError(`${layer} expected one input tensor, got ${inputs.length}`);
    return inputs[0] as Tensor;
  }
  return inputs;
}

export function singleShape(shape: ShapeLike | ShapeLike[], layer: string): ShapeLike {
  if (shape.length > 0 && Array.isArray(shape[0])) {
    const list = shape as ShapeLike[];
    if (list.length !== 1) throw new ValueError(`${layer} expected one input, got ${list.length}`);
    return list[0] as ShapeLike;
  }
  return shape as ShapeLike;
}

export function fmtShapeLike(shape: ShapeLike): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

/** Throw unless x has `rank`; `layout` describes the expected dims, e.g. '[batch, height, width, channels]'. */
export function assertRank(x: { shape: ShapeLike }, rank: number, layer: string, layout: string): void {
  if (x.shape.length !== rank) {
    throw new ShapeError(`${layer} expected input of rank ${rank} ${layout}, got ${fmtShapeLike(x.shape)}`);
  }
}

/**
 * Check a concrete input against the built (batch-less) feature dims: `expected[i]` null means any.
 * Cheap: a loop over the rank. Message like `conv2d expected input [*, 28, 28, 1], got [32, 28, 28, 3]`.
 */
export function checkFeatureDims(x: Tensor, expected: readonly (number | null)[], layer: string): void {
  const r = x.rank;
  let ok = r === expected.length + 1;
  for (let i = 0; ok && i < expected.length; i++) {
    const e = expected[i];
    if (e !== null && e !== x.shape[i + 1]) ok = false;
  }
  if (!ok) {
    throw new ShapeError(
      `${layer} expected input [*, ${expected.map((d) => (d === null ? '*' : String(d))).join(', ')}], got ${fmtShape(x.shape)}`,
    );
  }
}

export function product(dims: readonly (number | null)[]): number | null {
  let p = 1;
  for (const d of dims) {
    if (d === null) return null;
    p *= d;
  }
  return p;
}

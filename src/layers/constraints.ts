/**
 * Weight constraints (Keras MaxNorm, NonNeg, UnitNorm, MinMaxNorm): projections applied to a
 * weight after each optimizer step. Norms are taken over `axis` (default 0: for a Dense kernel
 * [in, units] that is each unit's incoming weight vector; for a conv kernel use [0, 1, 2]).
 */

import { relu } from '../ops/activations.js';
import { add, div, mul } from '../ops/arithmetic.js';
import { clip, sqrt, square } from '../ops/math.js';
import { sum } from '../ops/reduce.js';
import { ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Constraint } from './layer.js';

export type { Constraint } from './layer.js';

const EPSILON = 1e-7;
type Axis = number | number[];

function norms(w: Tensor, axis: Axis): Tensor {
  return sqrt(sum(square(w), { axis, keepDims: true }));
}

/** Rescale weight vectors whose norm exceeds maxValue (default 2) down to it. */
export class MaxNorm implements Constraint {
  readonly className = 'MaxNorm';
  readonly maxValue: number;
  readonly axis: Axis;
  constructor(config: { maxValue?: number; axis?: Axis } = {}) {
    this.maxValue = config.maxValue ?? 2;
    this.axis = config.axis ?? 0;
    if (!(this.maxValue > 0)) throw new ValueError(`MaxNorm expected maxValue > 0, got ${config.maxValue}`);
  }
  apply(w: Tensor): Tensor {
    const n = norms(w, this.axis);
    return mul(w, div(clip(n, 0, this.maxValue), add(n, EPSILON)));
  }
  getConfig(): Record<string, unknown> {
    return { maxValue: this.maxValue, axis: this.axis };
  }
}

/** Negative weights become 0. */
export class NonNeg implements Constraint {
  readonly className = 'NonNeg';
  apply(w: Tensor): Tensor {
    return relu(w);
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Weight vectors scaled to unit norm along `axis` (default 0). */
export class UnitNorm implements Constraint {
  readonly className = 'UnitNorm';
  readonly axis: Axis;
  constructor(config: { axis?: Axis } = {}) {
    this.axis = config.axis ?? 0;
  }
  apply(w: Tensor): Tensor {
    return div(w, add(norms(w, this.axis), EPSILON));
  }
  getConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
}

/** Norms moved towards [minValue, maxValue] (defaults 0, 1) at `rate` (1 = fully projected). */
export class MinMaxNorm implements Constraint {
  readonly className = 'MinMaxNorm';
  readonly minValue: number;
  readonly maxValue: number;
  readonly rate: number;
  readonly axis: Axis;
  constructor(config: { minValue?: number; maxValue?: number; rate?: number; axis?: Axis } = {}) {
    this.minValue = config.minValue ?? 0;
    this.maxValue = config.maxValue ?? 1;
    this.rate = config.rate ?? 1;
    this.axis = config.axis ?? 0;
    if (!(this.minValue <= this.maxValue)) {
      throw new ValueError(`MinMaxNorm expected minValue <= maxValue, got ${this.minValue} and ${this.maxValue}`);
    }
  }
  apply(w: Tensor): Tensor {
    const n = norms(w, this.axis);
    const desired = add(mul(clip(n, this.minValue, this.maxValue), this.rate), mul(n, 1 - this.rate));
    return mul(w, div(desired, add(n, EPSILON)));
  }
  getConfig(): Record<string, unknown> {
    return { minValue: this.minValue, maxValue: this.maxValue, rate: this.rate, axis: this.axis };
  }
}

export type ConstraintIdentifier = string | Constraint | { className: string; config?: Record<string, unknown> };

/**
 * Resolve a constraint: 'maxNorm' | 'max_norm' | 'nonNeg' | 'non_neg' | 'unitNorm' | 'minMaxNorm', an instance, or { className, config }.
 * @example getConstraint({ className: 'MaxNorm', config: { maxValue: 3 } })
 */
export function getConstraint(id: ConstraintIdentifier): Constraint {
  if (typeof id === 'object' && id !== null && typeof (id as Constraint).apply === 'function') return id as Constraint;
  const name = typeof id === 'string' ? id : (id as { className?: unknown })?.className;
  const config = (typeof id === 'string' ? {} : ((id as { config?: Record<string, unknown> }).config ?? {})) as Record<
    string,
    never
  >;
  const k = typeof name === 'string' ? name.replace(/_/g, '').toLowerCase() : '';
  if (k === 'maxnorm') return new MaxNorm(config);
  if (k === 'nonneg') return new NonNeg();
  if (k === 'unitnorm') return new UnitNorm(config);
  if (k === 'minmaxnorm') return new MinMaxNorm(config);
  throw new ValueError(
    `unknown constraint ${JSON.stringify(name)}; expected 'maxNorm', 'nonNeg', 'unitNorm', 'minMaxNorm' (or snake_case) or { className, config }`,
  );
}

/**
 * Constraint factories with Keras-JS names.
 * @example layers.dense({ units: 4, kernelConstraint: constraints.maxNorm({ maxValue: 2 }) })
 */
export const constraints = {
  maxNorm: (config: { maxValue?: number; axis?: Axis } = {}) => new MaxNorm(config),
  nonNeg: () => new NonNeg(),
  unitNorm: (config: { axis?: Axis } = {}) => new UnitNorm(config),
  minMaxNorm: (config: { minValue?: number; maxValue?: number; rate?: number; axis?: Axis } = {}) =>
    new MinMaxNorm(config),
};

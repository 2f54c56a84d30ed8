/**
 * Weight regularizers (Keras L1, L2, L1L2): a differentiable scalar penalty per weight that
 * the model adds to the loss. `getRegularizer` resolves 'l2' / { className, config } / instances.
 */
import { add, mul } from '../ops/arithmetic.js';
import { abs, square } from '../ops/math.js';
import { sum } from '../ops/reduce.js';
import { scalar } from '../tensor/creation.js';
import { ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Regularizer } from './layer.js';

export type { Regularizer } from './layer.js';

function checkFactor(value: unknown, name: string, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValueError(`${where} expected ${name} to be a finite number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** l1 * sum(|w|) + l2 * sum(w^2). */
export class L1L2 implements Regularizer {
  readonly className: string = 'L1L2';
  readonly l1: number;
  readonly l2: number;
  constructor(config: { l1?: number; l2?: number } = {}) {
    this.l1 = checkFactor(config.l1 ?? 0, 'l1', 'L1L2');
    this.l2 = checkFactor(config.l2 ?? 0, 'l2', 'L1L2');
  }
  loss(weight: Tensor): Tensor {
    let total: Tensor | null = null;
    if (this.l1 !== 0) total = mul(sum(abs(weight)), this.l1);
    if (this.l2 !== 0) {
      const l2 = mul(sum(square(weight)), this.l2);
      total = total ? add(total, l2) : l2;
    }
    return total ?? scalar(0);
  }
  getConfig(): Record<string, unknown> {
    return { l1: this.l1, l2: this.l2 };
  }
}

/** l1 * sum(|w|); Keras default l1 = 0.01. */
export class L1 extends L1L2 {
  override readonly className = 'L1';
  constructor(config: { l1?: number } = {}) {
    super({ l1: config.l1 ?? 0.01 });
  }
  override getConfig(): Record<string, unknown> {
    return { l1: this.l1 };
  }
}

/** l2 * sum(w^2); Keras default l2 = 0.01. */
export class L2 extends L1L2 {
  override readonly className = 'L2';
  constructor(config: { l2?: number } = {}) {
    super({ l2: config.l2 ?? 0.01 });
  }
  override getConfig(): Record<string, unknown> {
    return { l2: this.l2 };
  }
}

export type RegularizerIdentifier = string | Regularizer | { className: string; config?: Record<string, unknown> };

/**
 * Resolve a regularizer: 'l1' | 'l2' | 'l1l2' | 'l1_l2' (Keras defaults 0.01), an instance, or { className, config }.
 * @example getRegularizer({ className: 'L2', config: { l2: 1e-4 } })
 */
export function getRegularizer(id: RegularizerIdentifier): Regularizer {
  if (typeof id === 'object' && id !== null && typeof (id as Regularizer).loss === 'function') return id as Regularizer;
  const name = typeof id === 'string' ? id : (id as { className?: unknown })?.className;
  const config = typeof id === 'string' ? {} : ((id as { config?: Record<string, unknown> }).config ?? {});
  const k = typeof name === 'string' ? name.replace(/_/g, '').toLowerCase() : '';
  if (k === 'l1') return new L1(config);
  if (k === 'l2') return new L2(config);
  if (k === 'l1l2') {
    // Keras: the string 'l1_l2' means l1 = l2 = 0.01; a config gives its own factors (default 0).
    return typeof id === 'string' ? new L1L2({ l1: 0.01, l2: 0.01 }) : new L1L2(config);
  }
  throw new ValueError(
    `unknown regularizer ${JSON.stringify(name)}; expected 'l1', 'l2', 'l1l2' or { className: 'L1' | 'L2' | 'L1L2', config }`,
  );
}

/**
 * Regularizer factories with Keras-JS names.
 * @example layers.dense({ units: 10, kernelRegularizer: regularizers.l2({ l2: 1e-4 }) })
 */
export const regularizers = {
  l1: (config: { l1?: number } = {}) => new L1(config),
  l2: (config: { l2?: number } = {}) => new L2(config),
  /** Keras l1_l2: both default 0.01. */
  l1l2: (config: { l1?: number; l2?: number } = {}) => new L1L2({ l1: config.l1 ?? 0.01, l2: config.l2 ?? 0.01 }),
};

/** RMSprop (Keras 3 formulas), as an in-place loop over the Float32Arrays. */
import type { Variable } from '../../tensor/tensor.js';
import { checkNumber, Optimizer, type OptimizerOptions } from './optimizer.js';

export interface RMSpropOptions extends OptimizerOptions {
  /** Default 0.001. */
  learningRate?: OptimizerOptions['learningRate'];
  /** Discount of the squared-gradient average. Default 0.9. */
  rho?: number;
  /** Default 0. */
  momentum?: number;
  /** Default 1e-7 (added inside the square root). */
  epsilon?: number;
  /** Normalise by the variance estimate (v - mean(g)^2) instead of v. Default false. */
  centered?: boolean;
}

/**
 * Keras 3 RMSprop: v = rho v + (1 - rho) g^2; (centered: a = rho a + (1 - rho) g, d = v - a^2 + eps;
 * else d = v + eps); inc = lr g / sqrt(d); with momentum: mom = momentum * mom + inc, w -= mom; else w -= inc.
 */
export class RMSprop extends Optimizer {
  readonly className = 'RMSprop';
  rho: number;
  momentum: number;
  epsilon: number;
  centered: boolean;

  constructor(options: RMSpropOptions = {}) {
    super(options, 0.001, 'RMSprop');
    this.rho = checkNumber(options.rho ?? 0.9, 'RMSprop', 'rho', 0, 1);
    this.momentum = checkNumber(options.momentum ?? 0, 'RMSprop', 'momentum', 0, 1);
    this.epsilon = checkNumber(options.epsilon ?? 1e-7, 'RMSprop', 'epsilon', 0);
    this.centered = options.centered ?? false;
  }

  protected updateVariable(v: Variable, param: Float32Array, grad: Float32Array, lr: number): void {
    const vel = this.slot(v, 'velocity');
    const mom = this.momentum > 0 ? this.slot(v, 'momentum') : null;
    const avg = this.centered ? this.slot(v, 'average_gradient') : null;
    const { rho, momentum, epsilon } = this;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      const vi = rho * vel[i]! + (1 - rho) * g * g;
      vel[i] = vi;
      let denom: number;
      if (avg) {
        const ai = rho * avg[i]! + (1 - rho) * g;
        avg[i] = ai;
        denom = vi - ai * ai + epsilon;
      } else denom = vi + epsilon;
      const inc = (lr * g) / Math.sqrt(denom);
      if (mom) {
        const mi = momentum * mom[i]! + inc;
        mom[i] = mi;
        param[i]! -= mi;
      } else param[i]! -= inc;
    }
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      rho: this.rho,
      momentum: this.momentum,
      epsilon: this.epsilon,
      centered: this.centered,
    };
  }
}

/**
 * RMSprop.
 * @example const opt = optimizers.rmsprop({ learningRate: 1e-3, rho: 0.9 })
 */
export function rmsprop(options: RMSpropOptions = {}): RMSprop {
  return new RMSprop(options);
}

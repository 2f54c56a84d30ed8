/** Adadelta (Keras 3 formulas), as an in-place loop over the Float32Arrays. */
import type { Variable } from '../../tensor/tensor.js';
import { checkNumber, Optimizer, type OptimizerOptions } from './optimizer.js';

export interface AdadeltaOptions extends OptimizerOptions {
  /** Default 0.001. */
  learningRate?: OptimizerOptions['learningRate'];
  /** Decay of the running averages. Default 0.95. */
  rho?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

/**
 * Keras 3 Adadelta: Eg = rho Eg + (1 - rho) g^2; d = -sqrt(Ed + eps) / sqrt(Eg + eps) * g;
 * Ed = rho Ed + (1 - rho) d^2; w += lr * d.
 */
export class Adadelta extends Optimizer {
  readonly className = 'Adadelta';
  rho: number;
  epsilon: number;

  constructor(options: AdadeltaOptions = {}) {
    super(options, 0.001, 'Adadelta');
    this.rho = checkNumber(options.rho ?? 0.95, 'Adadelta', 'rho', 0, 1);
    this.epsilon = checkNumber(options.epsilon ?? 1e-7, 'Adadelta', 'epsilon', 0);
  }

  protected updateVariable(v: Variable, param: Float32Array, grad: Float32Array, lr: number): void {
    const eg = this.slot(v, 'accumulated_grad');
    const ed = this.slot(v, 'accumulated_delta_var');
    const { rho, epsilon } = this;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      const egi = rho * eg[i]! + (1 - rho) * g * g;
      eg[i] = egi;
      const d = (-Math.sqrt(ed[i]! + epsilon) / Math.sqrt(egi + epsilon)) * g;
      ed[i] = rho * ed[i]! + (1 - rho) * d * d;
      param[i]! += lr * d;
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rho: this.rho, epsilon: this.epsilon };
  }
}

/**
 * Adadelta.
 * @example const opt = optimizers.adadelta({ learningRate: 1 })
 */
export function adadelta(options: AdadeltaOptions = {}): Adadelta {
  return new Adadelta(options);
}

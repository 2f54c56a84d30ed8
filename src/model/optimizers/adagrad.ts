/** Adagrad (Keras 3 formulas), as an in-place loop over the Float32Arrays. */
import type { Variable } from '../../tensor/tensor.js';
import { checkNumber, Optimizer, type OptimizerOptions } from './optimizer.js';

export interface AdagradOptions extends OptimizerOptions {
  /** Default 0.001. */
  learningRate?: OptimizerOptions['learningRate'];
  /** Starting value of the squared-gradient accumulator. Default 0.1. */
  initialAccumulatorValue?: number;
  /** Default 1e-7 (added inside the square root). */
  epsilon?: number;
}

/** Keras 3 Adagrad: acc += g^2; w -= lr * g / sqrt(acc + eps). */
export class Adagrad extends Optimizer {
  readonly className = 'Adagrad';
  initialAccumulatorValue: number;
  epsilon: number;

  constructor(options: AdagradOptions = {}) {
    super(options, 0.001, 'Adagrad');
    this.initialAccumulatorValue = checkNumber(
      options.initialAccumulatorValue ?? 0.1,
      'Adagrad',
      'initialAccumulatorValue',
      0,
    );
    this.epsilon = checkNumber(options.epsilon ?? 1e-7, 'Adagrad', 'epsilon', 0);
  }

  protected updateVariable(v: Variable, param: Float32Array, grad: Float32Array, lr: number): void {
    const acc = this.slot(v, 'accumulator', this.initialAccumulatorValue);
    const eps = this.epsilon;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      const a = acc[i]! + g * g;
      acc[i] = a;
      param[i]! -= (lr * g) / Math.sqrt(a + eps);
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

/**
 * Adagrad.
 * @example const opt = optimizers.adagrad({ learningRate: 0.01 })
 */
export function adagrad(options: AdagradOptions = {}): Adagrad {
  return new Adagrad(options);
}

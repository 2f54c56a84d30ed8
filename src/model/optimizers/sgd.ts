/** SGD with optional (Nesterov) momentum, on the fused in-place backend kernel. */
import { backend } from '../../backend/index.js';
import type { Variable } from '../../tensor/tensor.js';
import { checkNumber, Optimizer, type OptimizerOptions } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  /** Default 0.01. */
  learningRate?: OptimizerOptions['learningRate'];
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** Default false. */
  nesterov?: boolean;
}

/**
 * Keras 3 SGD: v = momentum * v - lr * g; w += v (Nesterov: w += momentum * v - lr * g);
 * without momentum w -= lr * g. One native call per weight.
 */
export class SGD extends Optimizer {
  readonly className = 'SGD';
  momentum: number;
  nesterov: boolean;

  constructor(options: SGDOptions = {}) {
    super(options, 0.01, 'SGD');
    this.momentum = checkNumber(options.momentum ?? 0, 'SGD', 'momentum', 0, 1);
    this.nesterov = options.nesterov ?? false;
  }

  protected updateVariable(v: Variable, param: Float32Array, grad: Float32Array, lr: number): void {
    const velocity = this.momentum !== 0 ? this.slot(v, 'momentum') : null;
    backend().sgdUpdate(param, grad, velocity, lr, this.momentum, this.nesterov);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), momentum: this.momentum, nesterov: this.nesterov };
  }
}

/**
 * Stochastic gradient descent.
 * @example const opt = optimizers.sgd({ learningRate: 0.1, momentum: 0.9 })
 */
export function sgd(options: SGDOptions = {}): SGD {
  return new SGD(options);
}

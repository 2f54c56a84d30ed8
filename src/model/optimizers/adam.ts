/**
 * The Adam family with Keras 3 formulas: Adam and AdamW (fused in-place backend kernel),
 * Adamax and Nadam (in-place loops over the Float32Arrays, no tensor temporaries).
 */
import { backend } from '../../backend/index.js';
import type { Variable } from '../../tensor/tensor.js';
import { checkNumber, Optimizer, type OptimizerOptions } from './optimizer.js';

export interface AdamOptions extends OptimizerOptions {
  /** Default 0.001. */
  learningRate?: OptimizerOptions['learningRate'];
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (added outside the square root). */
  epsilon?: number;
  /** Use the running maximum of v (AMSGrad). Default false. */
  amsgrad?: boolean;
}

function betas(options: AdamOptions, where: string): { beta1: number; beta2: number; epsilon: number } {
  return {
    beta1: checkNumber(options.beta1 ?? 0.9, where, 'beta1', 0, 1),
    beta2: checkNumber(options.beta2 ?? 0.999, where, 'beta2', 0, 1),
    epsilon: checkNumber(options.epsilon ?? 1e-7, where, 'epsilon', 0),
  };
}

/**
 * Keras 3 Adam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
 * w -= alpha * m / (sqrt(v) + eps) with alpha = lr * sqrt(1 - b2^t) / (1 - b1^t).
 */
export class Adam extends Optimizer {
  readonly className: string = 'Adam';
  beta1: number;
  beta2: number;
  epsilon: number;
  amsgrad: boolean;

  constructor(options: AdamOptions = {}, defaultName = 'Adam') {
    super(options, 0.001, defaultName);
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon } = betas(options, defaultName));
    this.amsgrad = options.amsgrad ?? false;
    this.fusedWeightDecay = !this.amsgrad;
  }

  protected updateVariable(
    v: Variable,
    param: Float32Array,
    grad: Float32Array,
    lr: number,
    step: number,
    weightDecay: number,
  ): void {
    const m = this.slot(v, 'm');
    const vv = this.slot(v, 'v');
    if (!this.amsgrad) {
      backend().adamUpdate(param, grad, m, vv, {
        lr,
        beta1: this.beta1,
        beta2: this.beta2,
        epsilon: this.epsilon,
        step,
        weightDecay,
      });
      return;
    }
    const vhat = this.slot(v, 'vhat');
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const alpha = (lr * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      const mi = m[i]! + (g - m[i]!) * (1 - b1);
      const vi = vv[i]! + (g * g - vv[i]!) * (1 - b2);
      m[i] = mi;
      vv[i] = vi;
      const vh = Math.max(vhat[i]!, vi);
      vhat[i] = vh;
      param[i]! -= (alpha * mi) / (Math.sqrt(vh) + eps);
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}

export interface AdamWOptions extends AdamOptions {
  /** Default 0.004. */
  weightDecay?: number;
}

/** Keras 3 AdamW: Adam with decoupled weight decay (w -= w * weightDecay * lr before the step), default 0.004. */
export class AdamW extends Adam {
  override readonly className: string = 'AdamW';

  constructor(options: AdamWOptions = {}) {
    super({ ...options, weightDecay: options.weightDecay ?? 0.004 }, 'AdamW');
  }
}

/**
 * Keras 3 Adamax: m += (g - m)(1 - b1); u = max(b2 * u, |g|); w -= lr * m / ((1 - b1^t)(u + eps)).
 */
export class Adamax extends Optimizer {
  readonly className = 'Adamax';
  beta1: number;
  beta2: number;
  epsilon: number;

  constructor(options: Omit<AdamOptions, 'amsgrad'> = {}) {
    super(options, 0.001, 'Adamax');
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon } = betas(options, 'Adamax'));
  }

  protected updateVariable(v: Variable, param: Float32Array, grad: Float32Array, lr: number, step: number): void {
    const m = this.slot(v, 'm');
    const u = this.slot(v, 'u');
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const c = lr / (1 - b1 ** step);
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      const mi = m[i]! + (g - m[i]!) * (1 - b1);
      const ui = Math.max(b2 * u[i]!, Math.abs(g));
      m[i] = mi;
      u[i] = ui;
      param[i]! -= (c * mi) / (ui + eps);
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Keras 3 Nadam: with mu_t = b1 (1 - 0.5 * 0.96^t) and u_product = prod mu_1..mu_t,
 * m_hat = mu_{t+1} m / (1 - u_product * mu_{t+1}) + (1 - mu_t) g / (1 - u_product),
 * v_hat = v / (1 - b2^t); w -= lr * m_hat / (sqrt(v_hat) + eps).
 */
export class Nadam extends Optimizer {
  readonly className = 'Nadam';
  beta1: number;
  beta2: number;
  epsilon: number;

  constructor(options: Omit<AdamOptions, 'amsgrad'> = {}) {
    super(options, 0.001, 'Nadam');
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon } = betas(options, 'Nadam'));
  }

  protected override beforeUpdates(step: number): void {
    const u = this.global('u_product', 1);
    u[0] = u[0]! * this.beta1 * (1 - 0.5 * 0.96 ** step);
  }

  protected updateVariable(v: Variable, param: Float32Array, grad: Float32Array, lr: number, step: number): void {
    const m = this.slot(v, 'm');
    const vv = this.slot(v, 'v');
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const ut = b1 * (1 - 0.5 * 0.96 ** step);
    const ut1 = b1 * (1 - 0.5 * 0.96 ** (step + 1));
    const uProduct = this.global('u_product', 1)[0]!;
    const uProduct1 = uProduct * ut1;
    const b2Power = b2 ** step;
    const cm = ut1 / (1 - uProduct1);
    const cg = (1 - ut) / (1 - uProduct);
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      const mi = m[i]! + (g - m[i]!) * (1 - b1);
      const vi = vv[i]! + (g * g - vv[i]!) * (1 - b2);
      m[i] = mi;
      vv[i] = vi;
      const mHat = cm * mi + cg * g;
      const vHat = vi / (1 - b2Power);
      param[i]! -= (mHat * lr) / (Math.sqrt(vHat) + eps);
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Adam.
 * @example model.compile({ optimizer: optimizers.adam({ learningRate: 1e-3 }), loss: 'mse' })
 */
export function adam(options: AdamOptions = {}): Adam {
  return new Adam(options);
}

/**
 * AdamW (decoupled weight decay, default 0.004).
 * @example const opt = optimizers.adamw({ learningRate: 1e-3, weightDecay: 0.01 })
 */
export function adamw(options: AdamWOptions = {}): AdamW {
  return new AdamW(options);
}

/**
 * Adamax (Adam with the infinity norm).
 * @example const opt = optimizers.adamax({ learningRate: 0.002 })
 */
export function adamax(options: Omit<AdamOptions, 'amsgrad'> = {}): Adamax {
  return new Adamax(options);
}

/**
 * Nadam (Adam with Nesterov momentum).
 * @example const opt = optimizers.nadam()
 */
export function nadam(options: Omit<AdamOptions, 'amsgrad'> = {}): Nadam {
  return new Nadam(options);
}

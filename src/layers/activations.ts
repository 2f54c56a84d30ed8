/**
 * Keras activation names -> the ops in src/ops/activations.ts. `getActivation('relu')` gives the
 * function; layers store the canonical Keras (snake_case) name in their config.
 */
import {
  elu,
  gelu,
  hardSigmoid,
  leakyRelu,
  logSoftmax,
  relu,
  relu6,
  selu,
  sigmoid,
  softmax,
  softplus,
  softsign,
  swish,
  tanh,
} from '../ops/activations.js';
import { ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** An activation: a function of one tensor, tagged with its Keras name. */
export interface ActivationFn {
  (x: Tensor): Tensor;
  /** Canonical Keras name ('relu', 'hard_sigmoid', ...). */
  readonly activationName: string;
}

const linear = (x: Tensor): Tensor => x;

const table: Record<string, (x: Tensor) => Tensor> = {
  linear,
  relu,
  relu6,
  sigmoid,
  tanh,
  softmax: (x) => softmax(x),
  log_softmax: (x) => logSoftmax(x),
  gelu,
  swish,
  silu: swish,
  elu: (x) => elu(x),
  selu,
  softplus,
  softsign,
  hard_sigmoid: hardSigmoid,
  leaky_relu: (x) => leakyRelu(x),
};

/** 'hardSigmoid' / 'hard_sigmoid' / 'HardSigmoid' -> 'hard_sigmoid'. */
function canonical(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/^leakyrelu$/, 'leaky_relu')
    .replace(/^logsoftmax$/, 'log_softmax')
    .replace(/^hardsigmoid$/, 'hard_sigmoid');
}

const cache = new Map<string, ActivationFn>();
/** The same functions by the name as given (no canonicalising regexes on a hit). */
const byName = new Map<string, ActivationFn>();

/**
 * The activation function for a Keras name (camelCase also accepted); null / undefined / 'linear' give identity.
 * @example const act = getActivation('relu'); act(tensor([-1, 2])) // [0, 2]
 */
export function getActivation(name: string | null | undefined): ActivationFn {
  const raw = name ?? 'linear';
  const hit = byName.get(raw);
  if (hit) return hit;
  const key = canonical(raw);
  let fn = cache.get(key);
  if (fn) {
    byName.set(raw, fn);
    return fn;
  }
  const f = table[key];
  if (!f) {
    throw new ValueError(
      `unknown activation ${JSON.stringify(name)}; expected one of ${Object.keys(table).join(', ')}`,
    );
  }
  fn = Object.assign((x: Tensor) => f(x), { activationName: key });
  cache.set(key, fn);
  byName.set(raw, fn);
  return fn;
}

/** True for relu (layers fuse it with their bias add). */
export function isRelu(fn: ActivationFn): boolean {
  return fn.activationName === 'relu';
}

/** True for the identity activation (layers skip calling it). */
export function isLinear(fn: ActivationFn): boolean {
  return fn.activationName === 'linear';
}

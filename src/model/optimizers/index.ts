/**
 * Optimizers (Keras 3 semantics and defaults) and learning-rate schedules.
 * @example model.compile({ optimizer: optimizers.adam({ learningRate: 1e-3 }), loss: 'mse' })
 * @example model.compile({ optimizer: 'sgd', loss: 'mse' })
 */
import { ValueError } from '../../tensor/errors.js';
import { Adadelta, adadelta } from './adadelta.js';
import { Adagrad, adagrad } from './adagrad.js';
import { Adam, Adamax, AdamW, adam, adamax, adamw, Nadam, nadam } from './adam.js';
import { learningRateFromConfig, Optimizer } from './optimizer.js';
import { RMSprop, rmsprop } from './rmsprop.js';
import { SGD, sgd } from './sgd.js';

export { Adadelta, type AdadeltaOptions } from './adadelta.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { Adam, Adamax, type AdamOptions, AdamW, type AdamWOptions, Nadam } from './adam.js';
export { Optimizer, type OptimizerOptions, type OptimizerWeight } from './optimizer.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export {
  type CosineDecayOptions,
  type ExponentialDecayOptions,
  type InverseTimeDecayOptions,
  isLearningRateSchedule,
  type LearningRateSchedule,
  type PiecewiseConstantOptions,
  type PolynomialDecayOptions,
  scheduleFromConfig,
  schedules,
} from './schedules.js';
export { SGD, type SGDOptions } from './sgd.js';

/** The optimizer factories, Keras names in camelCase. */
export const optimizers = { sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam };

type Ctor = new (config: Record<string, unknown>) => Optimizer;

const byKey: Record<string, Ctor> = {
  sgd: SGD as unknown as Ctor,
  adam: Adam as unknown as Ctor,
  adamw: AdamW as unknown as Ctor,
  rmsprop: RMSprop as unknown as Ctor,
  adagrad: Adagrad as unknown as Ctor,
  adadelta: Adadelta as unknown as Ctor,
  adamax: Adamax as unknown as Ctor,
  nadam: Nadam as unknown as Ctor,
};

function lookup(name: string): Ctor {
  const c = byKey[name.toLowerCase().replace(/[_-]/g, '')];
  if (!c) {
    throw new ValueError(
      `unknown optimizer '${name}', expected one of ${Object.keys(byKey).join(', ')} (or an Optimizer)`,
    );
  }
  return c;
}

/**
 * An optimizer from a name ('adam', 'SGD', 'rmsprop', ... with Keras defaults), an Optimizer
 * (returned as is), or a serialised `{ className, config }` (config as written by getConfig()).
 * @example getOptimizer('adam').currentLearningRate() // 0.001
 */
export function getOptimizer(id: string | Optimizer | { className: string; config?: object }): Optimizer {
  if (id instanceof Optimizer) return id;
  if (typeof id === 'string') return new (lookup(id))({});
  if (id !== null && typeof id === 'object' && typeof (id as { className?: unknown }).className === 'string') {
    const config = { ...((id.config ?? {}) as Record<string, unknown>) };
    const lr = learningRateFromConfig(config.learningRate);
    if (lr === undefined) delete config.learningRate;
    else config.learningRate = lr;
    for (const k of Object.keys(config)) if (config[k] === null) delete config[k];
    return new (lookup(id.className))(config);
  }
  throw new ValueError(
    `getOptimizer expected an optimizer name, an Optimizer or { className, config }, got ${JSON.stringify(id)}`,
  );
}

/**
 * Losses (Keras semantics): factories returning per-sample loss functions, and getLoss to
 * resolve the names compile() accepts ('mse', 'sparse_categorical_crossentropy', 'binaryCrossentropy', ...).
 * @example model.compile({ optimizer: 'adam', loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }) })
 */
import { ValueError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  categoricalHinge,
  cosineSimilarity,
  hinge,
  huber,
  kullbackLeiblerDivergence,
  type LossFunction,
  logCosh,
  makeLoss,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  meanSquaredLogarithmicError,
  poisson,
  sparseCategoricalCrossentropy,
  squaredHinge,
} from './losses.js';

export { type CrossentropyOptions, EPSILON, type LossFunction } from './losses.js';

/** The loss factories, Keras names in camelCase. */
export const losses = {
  sparseCategoricalCrossentropy,
  categoricalCrossentropy,
  binaryCrossentropy,
  meanSquaredError,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredLogarithmicError,
  huber,
  logCosh,
  kld: kullbackLeiblerDivergence,
  kullbackLeiblerDivergence,
  hinge,
  squaredHinge,
  categoricalHinge,
  cosineSimilarity,
  poisson,
};

type Factory = (config: never) => LossFunction;

/** Keys are lower case without '_' / '-', so snake_case, camelCase and class names all resolve. */
const byKey: Record<string, Factory> = {
  sparsecategoricalcrossentropy: sparseCategoricalCrossentropy,
  categoricalcrossentropy: categoricalCrossentropy,
  binarycrossentropy: binaryCrossentropy,
  bce: binaryCrossentropy,
  meansquarederror: meanSquaredError,
  mse: meanSquaredError,
  meanabsoluteerror: meanAbsoluteError,
  mae: meanAbsoluteError,
  meanabsolutepercentageerror: meanAbsolutePercentageError,
  mape: meanAbsolutePercentageError,
  meansquaredlogarithmicerror: meanSquaredLogarithmicError,
  msle: meanSquaredLogarithmicError,
  huber: huber,
  huberloss: huber,
  logcosh: logCosh,
  kld: kullbackLeiblerDivergence,
  kldivergence: kullbackLeiblerDivergence,
  kullbackleiblerdivergence: kullbackLeiblerDivergence,
  hinge: hinge,
  squaredhinge: squaredHinge,
  categoricalhinge: categoricalHinge,
  cosinesimilarity: cosineSimilarity,
  poisson: poisson,
};

function lookup(name: string): Factory {
  const f = byKey[name.toLowerCase().replace(/[_-]/g, '')];
  if (!f) throw new ValueError(`unknown loss '${name}', expected one of ${Object.keys(byKey).sort().join(', ')}`);
  return f;
}

function isLossFunction(value: unknown): value is LossFunction {
  return typeof value === 'function' && typeof (value as { getConfig?: unknown }).getConfig === 'function';
}

/**
 * A loss from a name (any of snake_case, camelCase or the Keras class name), a LossFunction
 * (returned as is), a plain function (yTrue, yPred) => per-sample losses (wrapped, named after
 * the function), or a serialised `{ className, config }`.
 * @example getLoss('sparse_categorical_crossentropy') // === losses.sparseCategoricalCrossentropy()
 */
export function getLoss(
  id: string | LossFunction | ((yTrue: Tensor, yPred: Tensor) => Tensor) | { className: string; config?: object },
): LossFunction {
  if (typeof id === 'string') return lookup(id)({} as never);
  if (isLossFunction(id)) return id;
  if (typeof id === 'function') {
    const fn = id as (yTrue: Tensor, yPred: Tensor) => Tensor;
    return makeLoss(fn.name || 'custom_loss', 'Custom', {}, fn);
  }
  if (id !== null && typeof id === 'object' && typeof (id as { className?: unknown }).className === 'string') {
    return lookup(id.className)((id.config ?? {}) as never);
  }
  throw new ValueError(
    `getLoss expected a loss name, a loss function or { className, config }, got ${JSON.stringify(id)}`,
  );
}

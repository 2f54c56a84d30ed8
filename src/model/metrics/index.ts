/**
 * Metrics (Keras semantics): streaming metric objects, and getMetric to resolve the names
 * compile() accepts, including 'accuracy' / 'acc' chosen from the loss and output shape.
 * @example model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] })
 */
import { ValueError } from '../../tensor/errors.js';
import { binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy } from '../losses/losses.js';
import {
  auc,
  binaryAccuracy,
  categoricalAccuracy,
  f1Score,
  fromLoss,
  isMetric,
  type Metric,
  mean,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  precision,
  recall,
  rootMeanSquaredError,
  sparseCategoricalAccuracy,
  sparseTopKCategoricalAccuracy,
  topKCategoricalAccuracy,
} from './metrics.js';

export { AUC, type AUCOptions, isMetric, Mean, type Metric } from './metrics.js';

/** The metric factories, Keras names in camelCase. */
export const metrics = {
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  topKCategoricalAccuracy,
  sparseTopKCategoricalAccuracy,
  precision,
  recall,
  f1Score,
  auc,
  meanSquaredError,
  mse: (options: { name?: string } = {}) => meanSquaredError({ name: options.name ?? 'mse' }),
  meanAbsoluteError,
  mae: (options: { name?: string } = {}) => meanAbsoluteError({ name: options.name ?? 'mae' }),
  meanAbsolutePercentageError,
  rootMeanSquaredError,
  rmse: (options: { name?: string } = {}) => rootMeanSquaredError({ name: options.name ?? 'rmse' }),
  mean,
  fromLoss,
};

/** What getMetric needs from compile(): the loss and the model output's shape. */
export interface MetricContext {
  /** The loss's name or class name (any case; e.g. 'sparse_categorical_crossentropy'). */
  lossName: string;
  outputShape: readonly (number | null)[];
}

const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');

type Kind = 'binary' | 'sparse' | 'categorical';

/** Keras's choice for 'accuracy' and 'crossentropy': binary, sparse categorical or categorical. */
function kindFor(context: MetricContext): Kind {
  const loss = norm(context.lossName ?? '');
  const last = context.outputShape?.[context.outputShape.length - 1];
  if (loss.includes('binarycrossentropy') || loss === 'bce' || last === 1) return 'binary';
  if (loss.includes('sparsecategorical')) return 'sparse';
  return 'categorical';
}

const byKey: Record<string, (name: string) => Metric> = {
  binaryaccuracy: (name) => binaryAccuracy({ name }),
  categoricalaccuracy: (name) => categoricalAccuracy({ name }),
  sparsecategoricalaccuracy: (name) => sparseCategoricalAccuracy({ name }),
  topkcategoricalaccuracy: (name) => topKCategoricalAccuracy({ name }),
  sparsetopkcategoricalaccuracy: (name) => sparseTopKCategoricalAccuracy({ name }),
  precision: (name) => precision({ name }),
  recall: (name) => recall({ name }),
  f1score: (name) => f1Score({ name }),
  auc: (name) => auc({ name }),
  meansquarederror: (name) => meanSquaredError({ name }),
  mse: (name) => meanSquaredError({ name }),
  meanabsoluteerror: (name) => meanAbsoluteError({ name }),
  mae: (name) => meanAbsoluteError({ name }),
  meanabsolutepercentageerror: (name) => meanAbsolutePercentageError({ name }),
  mape: (name) => meanAbsolutePercentageError({ name }),
  rootmeansquarederror: (name) => rootMeanSquaredError({ name }),
  rmse: (name) => rootMeanSquaredError({ name }),
  binarycrossentropy: (name) => fromLoss(binaryCrossentropy(), name),
  categoricalcrossentropy: (name) => fromLoss(categoricalCrossentropy(), name),
  sparsecategoricalcrossentropy: (name) => fromLoss(sparseCategoricalCrossentropy(), name),
  mean: (name) => mean({ name }),
};

/**
 * A metric from a Metric (returned as is) or a name. 'accuracy' / 'acc' become binaryAccuracy
 * when the loss is binary crossentropy or the output has 1 unit, sparseCategoricalAccuracy when
 * the loss is sparse categorical crossentropy, else categoricalAccuracy, keeping the name given;
 * 'crossentropy' / 'ce' resolve the same way. Other names: snake_case, camelCase or class names
 * ('mse', 'mean_absolute_error', 'AUC', 'precision', ...), named as written.
 * @example getMetric('accuracy', { lossName: 'sparse_categorical_crossentropy', outputShape: [null, 10] })
 */
export function getMetric(id: string | Metric, context: MetricContext): Metric {
  if (isMetric(id)) return id;
  if (typeof id !== 'string') {
    throw new ValueError(`getMetric expected a metric name or a Metric, got ${JSON.stringify(id)}`);
  }
  const key = norm(id);
  if (key === 'accuracy' || key === 'acc') {
    const kind = kindFor(context);
    if (kind === 'binary') return binaryAccuracy({ name: id });
    return kind === 'sparse' ? sparseCategoricalAccuracy({ name: id }) : categoricalAccuracy({ name: id });
  }
  if (key === 'crossentropy' || key === 'ce') {
    const kind = kindFor(context);
    const loss =
      kind === 'binary'
        ? binaryCrossentropy()
        : kind === 'sparse'
          ? sparseCategoricalCrossentropy()
          : categoricalCrossentropy();
    return fromLoss(loss, id);
  }
  const f = byKey[key];
  if (!f) {
    throw new ValueError(
      `unknown metric '${id}', expected one of accuracy, crossentropy, ${Object.keys(byKey).sort().join(', ')}`,
    );
  }
  return f(id);
}

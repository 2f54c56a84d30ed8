/**
 * Internal: resolving compile() arguments (names or objects) into one loss, weight and metric
 * list per model output, and the softmax + cross-entropy fusion decision.
 */
import type { Layer, ShapeLike } from '../layers/layer.js';
import { ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { getLoss, type LossFunction } from './losses/index.js';
import { getMetric, type Metric } from './metrics/index.js';
import { getOptimizer, type Optimizer } from './optimizers/index.js';

export type LossId =
  | string
  | LossFunction
  | ((yTrue: Tensor, yPred: Tensor) => Tensor)
  | { className: string; config?: object };
export type MetricId = string | Metric;
export type OptimizerId = string | Optimizer | { className: string; config?: Record<string, unknown> };

/** Arguments of `model.compile`. */
export interface CompileArgs {
  /** 'adam', 'sgd', ... an Optimizer (`optimizers.adam({ learningRate: 1e-3 })`) or `{ className, config }`. */
  optimizer: OptimizerId;
  /** One loss for every output, a list (one per output) or keyed by output name. */
  loss: LossId | LossId[] | Record<string, LossId>;
  /** Metrics for every output (a flat list), one list per output, or keyed by output name. */
  metrics?: MetricId[] | MetricId[][] | Record<string, MetricId | MetricId[]>;
  /** Weights of the outputs' losses in the total loss (default 1 each). */
  lossWeights?: number[] | Record<string, number>;
}

/** How output i's loss is computed from pre-softmax logits by the fused op (or null: not fused). */
export type Fusion = 'sparse' | 'categorical' | null;

export interface CompiledOutput {
  name: string;
  loss: LossFunction;
  lossWeight: number;
  metricIds: MetricId[];
  /** Resolved on first use, once the output shape is known. */
  metrics: Metric[] | null;
  /** Log keys: `accuracy` for a single output, `<output>_accuracy` for several. */
  metricKeys: string[];
  lossKey: string;
  fusion: Fusion;
}

export interface Compiled {
  args: CompileArgs;
  optimizer: Optimizer;
  outputs: CompiledOutput[];
}

function perOutput<T>(
  value: T | T[] | Record<string, T> | undefined,
  names: readonly string[],
  field: string,
  isItem: (v: unknown) => boolean,
  fallback: T,
): T[] {
  if (value === undefined) return names.map(() => fallback);
  if (Array.isArray(value)) {
    if (value.length !== names.length) {
      throw new ValueError(
        `compile: ${field} has ${value.length} entries, expected one per model output (${names.length}: ${names.join(', ')})`,
      );
    }
    return value;
  }
  if (isItem(value)) return names.map(() => value as T);
  const rec = value as Record<string, T>;
  const unknown = Object.keys(rec).filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw new ValueError(
      `compile: ${field} names unknown output(s) ${unknown.join(', ')}; the outputs are ${names.join(', ')}`,
    );
  }
  return names.map((n) => (n in rec ? (rec[n] as T) : fallback));
}

const isLossItem = (v: unknown) =>
  typeof v === 'string' ||
  typeof v === 'function' ||
  (v !== null && typeof v === 'object' && typeof (v as { className?: unknown }).className === 'string');

export function resolveCompile(args: CompileArgs, outputNames: readonly string[]): Compiled {
  if (!args || args.optimizer === undefined)
    throw new ValueError('compile expected an optimizer (e.g. { optimizer: "adam" }), got none');
  if (args.loss === undefined)
    throw new ValueError('compile expected a loss (e.g. { loss: "sparseCategoricalCrossentropy" }), got none');
  const optimizer = getOptimizer(args.optimizer as Parameters<typeof getOptimizer>[0]);
  const lossIds = perOutput<LossId | null>(args.loss as LossId, outputNames, 'loss', isLossItem, null);
  const weights = perOutput<number>(args.lossWeights, outputNames, 'lossWeights', (v) => typeof v === 'number', 1);
  let metricLists: MetricId[][];
  const m = args.metrics;
  if (m === undefined) metricLists = outputNames.map(() => []);
  else if (Array.isArray(m)) {
    const nested = m.length > 0 && m.every((e) => Array.isArray(e));
    metricLists = nested
      ? perOutput(m as MetricId[][], outputNames, 'metrics', () => false, [])
      : outputNames.map(() => m as MetricId[]);
  } else {
    metricLists = perOutput<MetricId | MetricId[]>(m, outputNames, 'metrics', () => false, []).map((e) =>
      Array.isArray(e) ? e : [e],
    );
  }
  const multi = outputNames.length > 1;
  const outputs = outputNames.map((name, i): CompiledOutput => {
    const id = lossIds[i];
    if (id === null || id === undefined) {
      throw new ValueError(`compile: no loss given for output '${name}'; expected a loss for every output`);
    }
    const loss = getLoss(id);
    return {
      name,
      loss,
      lossWeight: weights[i] as number,
      metricIds: metricLists[i] as MetricId[],
      metrics: null,
      metricKeys: [],
      lossKey: multi ? `${name}_loss` : 'loss',
      fusion: null,
    };
  });
  return { args, optimizer, outputs };
}

/** Resolve the metric objects of an output once its shape is known. */
export function resolveMetrics(out: CompiledOutput, outputShape: ShapeLike, multi: boolean): Metric[] {
  if (out.metrics) return out.metrics;
  const metrics = out.metricIds.map((id) => getMetric(id, { lossName: out.loss.name, outputShape }));
  out.metrics = metrics;
  out.metricKeys = metrics.map((mt) => (multi ? `${out.name}_${mt.name}` : mt.name));
  return metrics;
}

const norm = (s: string) => s.toLowerCase().replace(/[_\s-]/g, '');

/** The fused-op choice for a loss applied to the output of `layer` (a Dense with softmax?), or null. */
export function fusionFor(loss: LossFunction, layer: Layer | null): Fusion {
  if (layer?.className !== 'Dense' || loss.fromLogits) return null;
  if ((layer as { activityRegularizer?: unknown }).activityRegularizer) return null;
  const config = loss.getConfig?.() as { fromLogits?: boolean; labelSmoothing?: number; axis?: number } | undefined;
  if (config?.fromLogits || (config?.labelSmoothing ?? 0) !== 0 || (config?.axis ?? -1) !== -1) return null;
  const act = layer.getConfig().activation as unknown;
  const actName =
    typeof act === 'string'
      ? act
      : act && typeof act === 'object'
        ? String((act as { className?: string; name?: string }).className ?? (act as { name?: string }).name ?? '')
        : '';
  if (norm(actName) !== 'softmax') return null;
  const name = norm(loss.name);
  if (name === 'sparsecategoricalcrossentropy') return 'sparse';
  if (name === 'categoricalcrossentropy') return 'categorical';
  return null;
}

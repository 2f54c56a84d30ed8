/**
 * Model: a Layer made of layers (so models nest), with the Keras training API: compile, fit,
 * evaluate, predict, trainOnBatch, summary, getWeights / setWeights and a JSON config.
 * Sequential (sequential.ts) and Functional (functional.ts) say how the layers connect;
 * the training step and the loops live in step.ts and training.ts.
 */
import { type CallContext, Layer, type LayerArgs, layerFromConfig, type ShapeLike } from '../layers/layer.js';
import { add } from '../ops/arithmetic.js';
import { newArray } from '../tensor/dtype.js';
import { inScope, noGrad, scope } from '../tensor/engine.js';
import { ValueError } from '../tensor/errors.js';
import { Tensor, type Variable } from '../tensor/tensor.js';
import type { CallbackLike, Logs } from './callbacks/callback.js';
import { type CompileArgs, type Compiled, fusionFor, resolveCompile, resolveMetrics } from './compile.js';
import { countSamples, RowBatcher, type TensorOrList, toTensorList } from './data.js';
import type { History } from './history.js';
import type { Optimizer } from './optimizers/index.js';
import type { ProgressStream } from './progress.js';
import { StepRunner } from './step.js';
import { summaryLines } from './summary.js';
import { evaluateDataset, type FitDataset, fit } from './training.js';

/** Options of `model.fit`. */
export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the samples (the last ones, before shuffling) held out for validation. */
  validationSplit?: number;
  /** [x, y] or [x, y, sampleWeight] or a dataset, evaluated at the end of each epoch. */
  validationData?: [TensorOrList, TensorOrList] | [TensorOrList, TensorOrList, Tensor] | FitDataset;
  shuffle?: boolean;
  /** Loss weight per class index (single-output models). */
  classWeight?: Record<number, number>;
  /** One weight per sample, shape [samples]. */
  sampleWeight?: Tensor;
  initialEpoch?: number;
  callbacks?: CallbackLike[];
  /** 0 silent, 1 progress bar (one line per epoch when stdout is not a TTY), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Steps per epoch (datasets: batches taken per epoch, continuing the iterator across epochs). */
  stepsPerEpoch?: number;
  /** Validation batches per epoch for a validation dataset (default: all). */
  validationSteps?: number;
  validationBatchSize?: number;
  /** Where verbose output goes (default process.stdout). */
  progressStream?: ProgressStream;
}

export interface EvaluateArgs {
  batchSize?: number;
  sampleWeight?: Tensor;
  /** Batches of a dataset to evaluate (default all). */
  steps?: number;
}

export interface PredictArgs {
  batchSize?: number;
}

export type Prediction = Tensor | Tensor[];

const INFER_CTX: CallContext = { training: false, mask: null };

export abstract class Model extends Layer {
  /** Set to true (e.g. by a callback) to end fit after the current batch/epoch. */
  stopTraining = false;
  /** The History of the last fit call. */
  history: History | null = null;
  /** @internal the resolved compile arguments. */
  compiled: Compiled | null = null;
  /** @internal */
  runner: StepRunner | null = null;
  private modelTrainable = true;

  constructor(args: LayerArgs = {}) {
    super(args);
    this.modelTrainable = args.trainable ?? true;
  }

  /** The layers, in order (for functional models, topological order including InputLayers). */
  abstract get layers(): Layer[];
  /** @internal names of the inputs (keys for name-keyed x). */
  abstract get inputNames(): string[];
  /** @internal names of the outputs (keys for name-keyed y, log prefixes). */
  abstract get outputNames(): string[];
  /** Whether predict returns a list. */
  abstract get multiOutput(): boolean;
  /** @internal the output shapes (batch dim null); the model must be built. */
  abstract outputShapes(): ShapeLike[];
  /** @internal build the layers from the inputs' shapes (no-op once built). */
  abstract buildFromShapes(shapes: ShapeLike[]): void;
  /**
   * @internal run the layers. `fused[i]` asks for output i as the logits before its Dense
   * layer's softmax (the fused cross-entropy path).
   */
  abstract forward(xs: Tensor[], ctx: CallContext, fused?: readonly boolean[] | null): Tensor[];
  /** @internal the layer producing output i when its value is not used elsewhere (fusion candidate). */
  abstract fusableOutputLayer(i: number): Layer | null;
  /** @internal rows for summary(). */
  abstract summaryRows(): { name: string; shape: string; params: number; connected?: string }[];

  override call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor | Tensor[] {
    const outs = this.forward(Array.isArray(inputs) ? inputs : [inputs], ctx);
    return this.multiOutput ? outs : (outs[0] as Tensor);
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const list = Array.isArray(inputShape[0]) ? (inputShape as ShapeLike[]) : [inputShape as ShapeLike];
    this.buildFromShapes(list);
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike | ShapeLike[] {
    this.ensureBuilt(inputShape);
    const shapes = this.outputShapes();
    return this.multiOutput ? shapes : (shapes[0] as ShapeLike);
  }

  override get trainable(): boolean {
    return this.modelTrainable;
  }

  /** Setting it sets every layer's flag too (Keras: freezing a model freezes its layers). */
  override set trainable(value: boolean) {
    this.modelTrainable = value;
    for (const l of this.layers ?? []) l.trainable = value;
    if (this.runner) this.runner.invalidate();
  }

  /** Every weight of every layer, each once (shared layers), in layer order. */
  override get weights(): Variable[] {
    const seen = new Set<Variable>();
    for (const l of this.layers) for (const w of l.weights) seen.add(w);
    return [...seen];
  }

  override get trainableWeights(): Variable[] {
    if (!this.modelTrainable) return [];
    const seen = new Set<Variable>();
    for (const l of this.layers) for (const w of l.trainableWeights) seen.add(w);
    return [...seen];
  }

  override get nonTrainableWeights(): Variable[] {
    const trainable = new Set(this.trainableWeights);
    return this.weights.filter((w) => !trainable.has(w));
  }

  override regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const l of this.layers) {
      const r = l.regularizationLoss();
      if (r) total = total ? add(total, r) : r;
    }
    return total;
  }

  override applyConstraints(): void {
    for (const l of this.layers) l.applyConstraints();
  }

  /** The layer called `name`, or at position `index`. */
  getLayer(name: string): Layer;
  getLayer(index: number): Layer;
  getLayer(key: string | number): Layer {
    const layers = this.layers;
    const found = typeof key === 'number' ? layers[key] : layers.find((l) => l.name === key);
    if (!found) {
      throw new ValueError(
        `${this.name}.getLayer: no layer ${typeof key === 'number' ? `at index ${key} (${layers.length} layers)` : `named '${key}'; layers: ${layers.map((l) => l.name).join(', ')}`}`,
      );
    }
    return found;
  }

  /**
   * Configure training.
   * @example model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   */
  compile(args: CompileArgs): void {
    this.compiled = resolveCompile(args, this.outputNames);
    this.runner = null;
  }

  /** The optimizer given to compile. */
  get optimizer(): Optimizer {
    return this.requireCompiled('optimizer').optimizer;
  }

  /** @internal */
  requireCompiled(where: string): Compiled {
    if (!this.compiled)
      throw new ValueError(
        `${this.name}.${where}: the model must be compiled first (model.compile({ optimizer, loss }))`,
      );
    return this.compiled;
  }

  /** @internal build from data, resolve metrics and fusion: what every training/eval entry point needs. */
  prepare(xs: readonly Tensor[], where: string): StepRunner {
    if (!this.built)
      this.ensureBuilt(xs.length === 1 ? dynamicBatch((xs[0] as Tensor).shape) : xs.map((x) => dynamicBatch(x.shape)));
    const compiled = this.requireCompiled(where);
    if (!this.runner) {
      const shapes = this.outputShapes();
      compiled.outputs.forEach((o, i) => {
        resolveMetrics(o, shapes[i] as ShapeLike, compiled.outputs.length > 1);
        o.fusion = fusionFor(o.loss, this.fusableOutputLayer(i));
      });
      this.runner = new StepRunner(this, compiled);
    }
    return this.runner;
  }

  /**
   * Train for `epochs` over x / y (tensors) or over a dataset (any AsyncIterable of `{ x, y }` or `[x, y]`).
   * @example
   * const history = await model.fit(x, y, { epochs: 10, batchSize: 32, validationSplit: 0.1 });
   * history.history.val_loss; // one value per epoch
   */
  fit(x: TensorOrList, y: TensorOrList, args?: FitArgs): Promise<History>;
  fit(dataset: FitDataset, args?: FitArgs): Promise<History>;
  fit(a: TensorOrList | FitDataset, b?: TensorOrList | FitArgs, c?: FitArgs): Promise<History> {
    return fit(this, a, b, c);
  }

  /**
   * One optimizer step on one batch; returns the batch's `{ loss, ...metrics }` (metrics reset first).
   * @example const { loss } = model.trainOnBatch(xBatch, yBatch);
   */
  trainOnBatch(
    x: TensorOrList,
    y: TensorOrList,
    args: { sampleWeight?: Tensor; classWeight?: Record<number, number> } = {},
  ): Logs {
    const xs = toTensorList(x, this.inputNames, 'x', `${this.name}.trainOnBatch`);
    const ys = toTensorList(y, this.outputNames, 'y', `${this.name}.trainOnBatch`);
    const runner = this.prepare(xs, 'trainOnBatch');
    runner.resetMetrics();
    const n = countSamples(
      [
        { what: 'x', list: xs },
        { what: 'y', list: ys },
      ],
      `${this.name}.trainOnBatch`,
    );
    runner.resetLoss();
    scope(
      () => runner.train(xs, ys, runner.sampleWeights(ys, args.sampleWeight ?? null, args.classWeight ?? null, n)),
      () => [],
    );
    return runner.logs();
  }

  /** Loss and metrics of one batch, without training. */
  testOnBatch(x: TensorOrList, y: TensorOrList, args: { sampleWeight?: Tensor } = {}): Logs {
    return this.evaluate(x, y, { batchSize: Number.MAX_SAFE_INTEGER, ...args });
  }

  /**
   * Loss and metrics over x / y in batches: `{ loss, accuracy, ... }` (compiled metric names).
   * @example model.evaluate(xTest, yTest, { batchSize: 128 }).accuracy
   */
  evaluate(x: TensorOrList, y: TensorOrList, args: EvaluateArgs = {}): Logs {
    const where = `${this.name}.evaluate`;
    const xs = toTensorList(x, this.inputNames, 'x', where);
    const ys = toTensorList(y, this.outputNames, 'y', where);
    const n = countSamples(
      [
        { what: 'x', list: xs },
        { what: 'y', list: ys },
      ],
      where,
    );
    const runner = this.prepare(xs, 'evaluate');
    const batchSize = checkBatchSize(args.batchSize ?? 32, where);
    runner.resetMetrics();
    runner.resetLoss();
    const xb = xs.map((t) => new RowBatcher(t));
    const yb = ys.map((t) => new RowBatcher(t));
    const wb = args.sampleWeight ? new RowBatcher(args.sampleWeight) : null;
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        scope(
          () =>
            runner.test(
              xb.map((b) => b.take(start, end, null)),
              yb.map((b) => b.take(start, end, null)),
              wb ? wb.take(start, end, null) : null,
            ),
          () => [],
        );
      }
    });
    return runner.logs();
  }

  /**
   * Loss and metrics over a dataset (an AsyncIterable of `{ x, y }` / `[x, y]` batches).
   * @example const { loss } = await model.evaluateDataset(testBatches);
   */
  evaluateDataset(dataset: FitDataset, args: { steps?: number | undefined } = {}): Promise<Logs> {
    return evaluateDataset(this, dataset, args.steps);
  }

  /**
   * Outputs for x, computed in batches (default 32) and concatenated.
   * @example const probs = model.predict(xTest) as Tensor; // [samples, classes]
   */
  predict(x: TensorOrList, args: PredictArgs = {}): Prediction {
    const where = `${this.name}.predict`;
    const xs = toTensorList(x, this.inputNames, 'x', where);
    const n = countSamples([{ what: 'x', list: xs }], where);
    if (!this.built)
      this.ensureBuilt(xs.length === 1 ? dynamicBatch((xs[0] as Tensor).shape) : xs.map((t) => dynamicBatch(t.shape)));
    const batchSize = checkBatchSize(args.batchSize ?? 32, where);
    if (n <= batchSize) return this.predictOnBatch(xs);
    const batchers = xs.map((t) => new RowBatcher(t));
    let results: Tensor[] | null = null;
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        scope(
          () => {
            const outs = this.forward(
              batchers.map((b) => b.take(start, end, null)),
              INFER_CTX,
            );
            if (!results) results = outs.map((o) => newOutput(o, n));
            outs.forEach((o, i) => {
              const rs = o.size / (end - start);
              (results as Tensor[])[i]?.data.set(o.data, start * rs);
            });
          },
          () => [],
        );
      }
    });
    const res = results as unknown as Tensor[];
    return this.multiOutput ? res : (res[0] as Tensor);
  }

  /** Outputs for one batch (no batching). */
  predictOnBatch(x: TensorOrList): Prediction {
    const xs = toTensorList(x, this.inputNames, 'x', `${this.name}.predictOnBatch`);
    if (!this.built)
      this.ensureBuilt(xs.length === 1 ? dynamicBatch((xs[0] as Tensor).shape) : xs.map((t) => dynamicBatch(t.shape)));
    const run = () => noGrad(() => this.forward(xs, INFER_CTX));
    const outs = inScope() ? run() : scope(run);
    return this.multiOutput ? outs : (outs[0] as Tensor);
  }

  /**
   * Print the Keras summary table: Layer (type) | Output Shape | Param #, and the totals.
   * @example model.summary(); // or model.summary((line) => lines.push(line))
   */
  summary(printFn: (line: string) => void = console.log): void {
    for (const line of summaryLines(this)) printFn(line);
  }

  /** The architecture as Keras-like JSON: `{ className, config }`. */
  toConfig(): { className: string; config: Record<string, unknown> } {
    return { className: this.className, config: this.getConfig() };
  }

  /** Rebuild a model (fresh weights) from `toConfig()` output. */
  static fromConfig(json: { className: string; config: Record<string, unknown> }): Model {
    const layer = layerFromConfig(json.className, json.config);
    if (!(layer instanceof Model)) {
      throw new ValueError(`Model.fromConfig expected a model class (Sequential, Functional), got '${json.className}'`);
    }
    return layer;
  }

  /** The compile arguments as JSON (model.json `trainingConfig`), or null when not compiled. */
  trainingConfig(): Record<string, unknown> | null {
    if (!this.compiled) return null;
    const c = this.compiled;
    const lossOf = (o: (typeof c.outputs)[number]) =>
      o.loss.className && o.loss.className !== 'Custom'
        ? { className: o.loss.className, config: o.loss.getConfig() }
        : o.loss.name;
    const metricName = (m: unknown) => (typeof m === 'string' ? m : (m as { name: string }).name);
    return {
      optimizerConfig: { className: c.optimizer.className, config: c.optimizer.getConfig() },
      loss: c.outputs.length === 1 ? lossOf(c.outputs[0] as (typeof c.outputs)[number]) : c.outputs.map(lossOf),
      metrics:
        c.outputs.length === 1
          ? (c.outputs[0]?.metricIds ?? []).map(metricName)
          : c.outputs.map((o) => o.metricIds.map(metricName)),
      lossWeights: c.outputs.map((o) => o.lossWeight),
    };
  }
}

/** A data shape with the batch dim made unknown (null). */
export function dynamicBatch(shape: readonly number[]): ShapeLike {
  return [null, ...shape.slice(1)];
}

function checkBatchSize(b: number, where: string): number {
  if (!Number.isInteger(b) || b < 1) throw new ValueError(`${where}: batchSize must be a positive integer, got ${b}`);
  return b;
}

function newOutput(first: Tensor, n: number): Tensor {
  const rows = first.shape[0] as number;
  const rs = rows === 0 ? 0 : first.size / rows;
  const shape = [n, ...first.shape.slice(1)];
  const data = newArray(first.dtype, n * rs);
  return new Tensor(data, shape, first.dtype);
}

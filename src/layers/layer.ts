/**
 * Layer: the Keras contract. A layer builds its weights on first call (from the input
 * shape), runs `call` eagerly on tensors, or, given symbolic tensors, records a node of
 * the functional graph. `getConfig` + the registry give the model.json round trip.
 */

import { add } from '../ops/arithmetic.js';
import { scalar, zeros } from '../tensor/creation.js';
import type { DType } from '../tensor/dtype.js';
import { noGrad } from '../tensor/engine.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Tensor, Variable } from '../tensor/tensor.js';
import { SymbolicTensor } from './symbolic.js';

/** A shape with null for unknown dims (the batch dim, variable sequence lengths). */
export type ShapeLike = readonly (number | null)[];

export interface Initializer {
  readonly className: string;
  init(shape: readonly number[], dtype: DType): Tensor;
  getConfig(): Record<string, unknown>;
}

export interface Regularizer {
  readonly className: string;
  /** The penalty for one weight: a scalar tensor, differentiable. */
  loss(weight: Tensor): Tensor;
  getConfig(): Record<string, unknown>;
}

export interface Constraint {
  readonly className: string;
  /** The projected weight values (run after each optimizer step, without gradients). */
  apply(weight: Tensor): Tensor;
  getConfig(): Record<string, unknown>;
}

export interface LayerArgs {
  name?: string;
  trainable?: boolean;
  /** Shape of one sample, without the batch dim (Keras `inputShape`). */
  inputShape?: readonly (number | null)[];
  batchInputShape?: ShapeLike;
  batchSize?: number;
  dtype?: DType;
}

export interface CallContext {
  /** True inside fit / trainOnBatch: dropout drops, batch norm uses batch statistics. */
  training: boolean;
  /** Optional mask (issue: sequence models), [batch, time] bool. */
  mask?: Tensor | null;
}

export interface WeightOptions {
  initializer: Initializer;
  trainable?: boolean;
  regularizer?: Regularizer | null;
  constraint?: Constraint | null;
  dtype?: DType;
}

interface LayerWeight {
  variable: Variable;
  regularizer: Regularizer | null;
  constraint: Constraint | null;
}

const nameCounters = new Map<string, number>();

/** Keras naming: dense, dense_1, dense_2, ... */
export function uniqueName(base: string): string {
  const n = nameCounters.get(base) ?? 0;
  nameCounters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** 'Conv2D' -> 'conv2d', 'BatchNormalization' -> 'batch_normalization' (Keras default names). */
export function snakeCase(className: string): string {
  return className
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/(\d)_d$/, '$1d');
}

export abstract class Layer {
  /** The Keras class name, e.g. 'Dense'; the registry key for deserialisation. */
  abstract readonly className: string;
  name: string;
  built = false;
  readonly batchInputShape: ShapeLike | undefined;
  readonly dtype: DType;
  private _trainable: boolean;
  private readonly weightList: LayerWeight[] = [];
  /** Whether the layer consumes a list of tensors (merge layers). */
  readonly multiInput: boolean = false;

  constructor(args: LayerArgs = {}, defaultName?: string) {
    this.name = args.name ?? uniqueName(defaultName ?? snakeCase(new.target.name));
    this._trainable = args.trainable ?? true;
    this.dtype = args.dtype ?? 'float32';
    if (args.batchInputShape) this.batchInputShape = [...args.batchInputShape];
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
  }

  get trainable(): boolean {
    return this._trainable;
  }

  set trainable(value: boolean) {
    this._trainable = value;
    for (const w of this.weightList) w.variable.requiresGrad = value && w.variable.trainable;
  }

  /** The computation. `inputs` is an array for multi-input layers. */
  abstract call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor | Tensor[];

  /** Create weights for this input shape. Subclasses call addWeight, then super.build. */
  build(_inputShape: ShapeLike | ShapeLike[]): void {
    this.built = true;
  }

  /**
   * Output shape for an input shape. The default runs `call` on zeros with batch 1 (no
   * gradient) and puts the batch dim back as null; layers override when that is wasteful.
   */
  computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike | ShapeLike[] {
    const concrete = (s: ShapeLike) => {
      if (s.slice(1).some((d) => d === null)) {
        throw new ShapeError(
          `${this.name} cannot infer its output shape from ${fmtShape(s.map((d) => d ?? -1))}: override computeOutputShape`,
        );
      }
      return zeros([1, ...(s.slice(1) as number[])]);
    };
    const probe = isShapeList(inputShape) ? inputShape.map(concrete) : concrete(inputShape);
    const out = noGrad(() => this.call(probe, { training: false }));
    const withBatch = (t: Tensor, s: ShapeLike): ShapeLike => [s[0] ?? null, ...t.shape.slice(1)];
    const first = isShapeList(inputShape) ? (inputShape[0] as ShapeLike) : inputShape;
    return Array.isArray(out) ? out.map((t) => withBatch(t, first)) : withBatch(out as Tensor, first);
  }

  /** Keras-like config (constructor arguments), JSON-serialisable. */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: this.dtype };
    if (this.batchInputShape) config.batchInputShape = this.batchInputShape;
    return config;
  }

  /** Create a weight variable named `<layer>/<name>`. */
  addWeight(name: string, shape: readonly number[], options: WeightOptions): Variable {
    const dtype = options.dtype ?? 'float32';
    const initial = noGrad(() => options.initializer.init(shape, dtype));
    const trainable = options.trainable ?? true;
    const v = new Variable(initial, { name: `${this.name}/${name}`, trainable });
    v.requiresGrad = trainable && this._trainable && dtype === 'float32';
    this.weightList.push({
      variable: v,
      regularizer: options.regularizer ?? null,
      constraint: options.constraint ?? null,
    });
    return v;
  }

  /** All weights in creation order (Keras order: e.g. kernel then bias). */
  get weights(): Variable[] {
    return this.weightList.map((w) => w.variable);
  }

  get trainableWeights(): Variable[] {
    return this._trainable ? this.weightList.filter((w) => w.variable.trainable).map((w) => w.variable) : [];
  }

  get nonTrainableWeights(): Variable[] {
    return this.weightList.filter((w) => !this._trainable || !w.variable.trainable).map((w) => w.variable);
  }

  /** Copies of the weight values, in Keras order and layout. */
  getWeights(): Tensor[] {
    return this.weights.map((v) => new Tensor(v.data.slice(), v.shape, v.dtype));
  }

  /** Set weight values (same count, shapes and order as getWeights). */
  setWeights(values: readonly Tensor[]): void {
    const ws = this.weights;
    if (values.length !== ws.length) {
      throw new ValueError(`${this.name}.setWeights expected ${ws.length} tensors, got ${values.length}`);
    }
    ws.forEach((v, i) => {
      const t = values[i] as Tensor;
      if (t.size !== v.size || t.shape.some((d, k) => d !== v.shape[k])) {
        throw new ShapeError(
          `${this.name}.setWeights: weight ${v.name} expected shape ${fmtShape(v.shape)}, got ${fmtShape(t.shape)}`,
        );
      }
      v.assign(t.dtype === v.dtype ? t : new Tensor(Float32Array.from(t.data), t.shape, 'float32'));
    });
  }

  countParams(): number {
    return this.weights.reduce((n, v) => n + v.size, 0);
  }

  /** Sum of this layer's weight regularisation penalties (a scalar), or null when it has none. */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const w of this.weightList) {
      if (!w.regularizer) continue;
      const l = w.regularizer.loss(w.variable);
      total = total ? add(total, l) : l;
    }
    return total;
  }

  /** Project weights onto their constraints (after an optimizer step). */
  applyConstraints(): void {
    for (const w of this.weightList) {
      if (w.constraint) w.variable.assign(noGrad(() => (w.constraint as Constraint).apply(w.variable)));
    }
  }

  /** Build on first use from the input's shape, checking it against batchInputShape. */
  ensureBuilt(inputShape: ShapeLike | ShapeLike[]): void {
    if (this.built) return;
    this.build(inputShape);
    this.built = true;
  }

  /**
   * Call the layer: on tensors, runs it (building first if needed); on symbolic tensors
   * (functional API), records a graph node and returns symbolic outputs.
   */
  apply(inputs: Tensor | Tensor[], ctx?: Partial<CallContext>): Tensor | Tensor[];
  apply(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor | SymbolicTensor[];
  apply(
    inputs: Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[],
    ctx: Partial<CallContext> = {},
  ): Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length > 0 && list.every((x) => x instanceof SymbolicTensor)) {
      const sym = list as SymbolicTensor[];
      const shapes = sym.map((s) => s.shape);
      const inShape = Array.isArray(inputs) ? shapes : (shapes[0] as ShapeLike);
      this.ensureBuilt(inShape);
      const outShape = this.computeOutputShape(inShape);
      if (isShapeList(outShape)) {
        return outShape.map((s, i) => new SymbolicTensor(s, 'float32', this, sym, i));
      }
      return new SymbolicTensor(outShape, 'float32', this, sym, 0);
    }
    if (list.some((x) => x instanceof SymbolicTensor)) {
      throw new ValueError(`${this.name} got a mix of symbolic and concrete tensors; pass one kind`);
    }
    const ts = list as Tensor[];
    const shapes: ShapeLike[] = ts.map((t) => t.shape);
    this.ensureBuilt(Array.isArray(inputs) ? shapes : (shapes[0] as ShapeLike));
    return this.call(inputs as Tensor | Tensor[], { training: ctx.training ?? false, mask: ctx.mask ?? null });
  }

  /** A scalar zero, for layers whose regularisation sum is empty. */
  protected static zero(): Tensor {
    return scalar(0);
  }
}

export function isShapeList(s: ShapeLike | ShapeLike[]): s is ShapeLike[] {
  return s.length > 0 && Array.isArray(s[0]);
}

type LayerFactory = (config: Record<string, unknown>) => Layer;
const registry = new Map<string, LayerFactory>();

/** Register a layer class for model.json deserialisation: registerLayer('Dense', (c) => new Dense(c)). */
export function registerLayer(className: string, factory: LayerFactory): void {
  registry.set(className, factory);
}

export function layerFromConfig(className: string, config: Record<string, unknown>): Layer {
  const f = registry.get(className);
  if (!f) {
    throw new ValueError(
      `unknown layer class '${className}' in the model config; known: ${[...registry.keys()].sort().join(', ')}`,
    );
  }
  return f(config);
}

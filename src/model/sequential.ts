/** Sequential: a plain stack of layers, each feeding the next (Keras `keras.Sequential`). */

import type { Conv2D } from '../layers/conv.js';
import {
  type CallContext,
  type Layer,
  type LayerArgs,
  layerFromConfig,
  registerLayer,
  type ShapeLike,
} from '../layers/layer.js';
import type { MaxPooling2D } from '../layers/pooling.js';
import { SymbolicTensor } from '../layers/symbolic.js';
import { ShapeError, ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { convThenMaxPool, isConvPoolPair } from './conv-pool.js';
import { denseLogits } from './dense-logits.js';
import { Model } from './model.js';
import { formatShape } from './summary.js';

/** Options of `sequential()`. */
export interface SequentialArgs extends LayerArgs {
  layers?: Layer[];
}

/** Layers that compute a mask for the next layer (e.g. Embedding with maskZero, Masking). */
interface MaskingLayer {
  computeMask(inputs: Tensor, mask: Tensor | null): Tensor | null;
}

function hasComputeMask(l: Layer): l is Layer & MaskingLayer {
  return typeof (l as unknown as Partial<MaskingLayer>).computeMask === 'function';
}

export class Sequential extends Model {
  readonly className: string = 'Sequential';
  private readonly stack: Layer[] = [];
  private modelInputShape: ShapeLike | null = null;
  /** Output shape of each layer, once built. */
  private shapes: ShapeLike[] = [];
  private masking = false;

  constructor(args: SequentialArgs = {}) {
    super(args);
    if (this.batchInputShape) this.modelInputShape = [...this.batchInputShape];
    for (const l of args.layers ?? []) this.add(l);
  }

  /**
   * Append a layer (or an `input({ shape })` placeholder / InputLayer, which fixes the input shape).
   * The model builds as soon as the input shape is known.
   */
  add(layer: Layer | SymbolicTensor): this {
    if (layer instanceof SymbolicTensor) {
      this.setInputShape(layer.shape);
      return this;
    }
    if (layer === (this as Layer)) throw new ValueError(`${this.name}.add: a model cannot contain itself`);
    if (layer.className === 'InputLayer') {
      if (layer.batchInputShape) this.setInputShape(layer.batchInputShape);
      return this;
    }
    if (this.stack.length === 0 && !this.modelInputShape && layer.batchInputShape)
      this.modelInputShape = [...layer.batchInputShape];
    this.stack.push(layer);
    this.masking ||= hasComputeMask(layer);
    this.runner = null;
    if (this.built) {
      const prev = this.shapes[this.shapes.length - 1] ?? (this.modelInputShape as ShapeLike);
      layer.ensureBuilt(prev);
      this.shapes.push(layer.computeOutputShape(prev) as ShapeLike);
    } else if (this.modelInputShape) this.ensureBuilt(this.modelInputShape);
    return this;
  }

  /** Remove the last layer. */
  pop(): Layer {
    const l = this.stack.pop();
    if (!l) throw new ValueError(`${this.name}.pop: the model has no layers`);
    this.shapes.pop();
    this.runner = null;
    return l;
  }

  private setInputShape(shape: ShapeLike): void {
    if (this.stack.length > 0) {
      throw new ValueError(
        `${this.name}.add: an input placeholder must come before the first layer, got it after ${this.stack.length} layer(s)`,
      );
    }
    this.modelInputShape = [...shape];
  }

  get layers(): Layer[] {
    return this.stack;
  }

  get inputNames(): string[] {
    return [`${this.stack[0]?.name ?? this.name}_input`];
  }

  get outputNames(): string[] {
    return [this.stack[this.stack.length - 1]?.name ?? this.name];
  }

  get multiOutput(): boolean {
    return false;
  }

  /** The input shape (batch dim null), once known. */
  get inputShape(): ShapeLike | null {
    return this.modelInputShape;
  }

  outputShapes(): ShapeLike[] {
    this.requireBuilt('outputShapes');
    return [this.shapes[this.shapes.length - 1] ?? (this.modelInputShape as ShapeLike)];
  }

  private requireBuilt(where: string): void {
    if (!this.built) {
      throw new ValueError(
        `${this.name}.${where}: the model is not built yet; give the first layer an inputShape, add input({ shape }), or call fit/predict first`,
      );
    }
  }

  buildFromShapes(shapes: ShapeLike[]): void {
    if (shapes.length !== 1) throw new ValueError(`${this.name} (Sequential) takes one input, got ${shapes.length}`);
    const shape = shapes[0] as ShapeLike;
    const expected = this.modelInputShape;
    if (
      expected &&
      (expected.length !== shape.length || expected.some((d, i) => d !== null && shape[i] !== null && d !== shape[i]))
    ) {
      throw new ShapeError(`${this.name} expected input of shape ${formatShape(expected)}, got ${formatShape(shape)}`);
    }
    if (this.stack.length === 0) throw new ValueError(`${this.name}: cannot build a Sequential model with no layers`);
    this.modelInputShape = expected ?? [...shape];
    let s: ShapeLike = [null, ...(this.modelInputShape.slice(1) as (number | null)[])];
    this.shapes = [];
    for (const l of this.stack) {
      l.ensureBuilt(s);
      s = l.computeOutputShape(s) as ShapeLike;
      if (Array.isArray(s[0]))
        throw new ValueError(`${this.name}: layer ${l.name} has several outputs; use the functional API`);
      this.shapes.push(s);
    }
    this.built = true;
  }

  forward(xs: Tensor[], ctx: CallContext, fused?: readonly boolean[] | null): Tensor[] {
    if (xs.length !== 1) throw new ValueError(`${this.name} (Sequential) takes one input, got ${xs.length}`);
    let h = xs[0] as Tensor;
    const stack = this.stack;
    const last = fused?.[0] ? stack.length - 1 : stack.length;
    let mask: Tensor | null = ctx.mask ?? null;
    for (let i = 0; i < last; i++) {
      const l = stack[i] as Layer;
      const c = this.masking ? { training: ctx.training, mask } : ctx;
      if (!this.masking && i + 1 < last && isConvPoolPair(l, stack[i + 1])) {
        const pooled = convThenMaxPool(l as Conv2D, stack[i + 1] as MaxPooling2D, h, c);
        if (pooled) {
          h = pooled;
          i++;
          continue;
        }
      }
      const out = l.built ? l.call(h, c) : l.apply(h, c);
      if (Array.isArray(out))
        throw new ValueError(`${this.name}: layer ${l.name} returned several outputs; use the functional API`);
      if (this.masking) mask = hasComputeMask(l) ? l.computeMask(h, mask) : mask;
      h = out;
    }
    if (last < stack.length) h = denseLogits(stack[last] as Layer, h);
    return [h];
  }

  fusableOutputLayer(i: number): Layer | null {
    return i === 0 ? (this.stack[this.stack.length - 1] ?? null) : null;
  }

  summaryRows(): { name: string; shape: string; params: number }[] {
    return this.stack.map((l, i) => ({
      name: `${l.name} (${l.className})`,
      shape: this.shapes[i] ? formatShape(this.shapes[i] as ShapeLike) : '?',
      params: l.countParams(),
    }));
  }

  override getConfig(): Record<string, unknown> {
    const layers: { className: string; config: Record<string, unknown> }[] = [];
    const first = this.stack[0];
    if (this.modelInputShape && !first?.batchInputShape) {
      layers.push({
        className: 'InputLayer',
        config: { batchInputShape: this.modelInputShape, dtype: this.dtype, name: `${first?.name ?? this.name}_input` },
      });
    }
    for (const l of this.stack) layers.push({ className: l.className, config: l.getConfig() });
    return { name: this.name, trainable: this.trainable, layers };
  }

  /** Rebuild from `getConfig()` (fresh weights). */
  static override fromConfig(
    json: { className: string; config: Record<string, unknown> } | Record<string, unknown>,
  ): Sequential {
    const config = ('className' in json && 'config' in json ? json.config : json) as Record<string, unknown>;
    const entries = config.layers;
    if (!Array.isArray(entries))
      throw new ValueError(`Sequential.fromConfig expected config.layers to be an array, got ${typeof entries}`);
    const m = new Sequential({ name: config.name as string | undefined });
    for (const e of entries as { className: string; config: Record<string, unknown> }[]) {
      if (e.className === 'InputLayer') {
        const shape = (e.config.batchInputShape ?? e.config.batchShape) as ShapeLike | undefined;
        if (!shape) throw new ValueError(`Sequential.fromConfig: InputLayer config lacks batchInputShape`);
        m.add(new SymbolicTensor(shape, 'float32', m, [], 0));
      } else m.add(layerFromConfig(e.className, e.config));
    }
    if (config.trainable === false) m.trainable = false;
    return m;
  }
}

registerLayer('Sequential', (config) => Sequential.fromConfig(config));

/**
 * A linear stack of layers.
 * @example
 * const model = sequential([dense({ units: 64, activation: 'relu', inputShape: [100] }), dense({ units: 10, activation: 'softmax' })]);
 * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
 */
export function sequential(layers: Layer[] = [], args: Omit<SequentialArgs, 'layers'> = {}): Sequential {
  return new Sequential({ ...args, layers });
}

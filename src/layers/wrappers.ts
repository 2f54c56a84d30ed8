/**
 * Wrappers: Bidirectional (a recurrent layer run forwards and a copy run backwards, outputs
 * merged) and TimeDistributed (a layer applied to every time step).
 */
import { add, mul } from '../ops/arithmetic.js';
import { concat, reshape, reverse } from '../ops/shape-ops.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import type { Tensor, Variable } from '../tensor/tensor.js';
import { type CallContext, Layer, type LayerArgs, layerFromConfig, registerLayer, type ShapeLike } from './layer.js';
import { RecurrentLayer } from './recurrent.js';
import { getMask, passThroughMask, setMask } from './recurrent-mask.js';
import { singleShape } from './utils.js';

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;

/** A layer given as an instance or as its serialised { className, config }. */
export type LayerSpec = Layer | { className: string; config: Record<string, unknown> };

function toLayer(spec: LayerSpec, where: string): Layer {
  if (spec instanceof Layer) return spec;
  if (spec && typeof spec === 'object' && typeof spec.className === 'string') {
    return layerFromConfig(spec.className, spec.config ?? {});
  }
  throw new ValueError(`${where} expected layer to be a Layer or { className, config }, got ${JSON.stringify(spec)}`);
}

/** Weights of wrapped layers, each once. */
abstract class Wrapper extends Layer {
  protected abstract get inner(): Layer[];
  override get weights(): Variable[] {
    return [...new Set(this.inner.flatMap((l) => l.weights))];
  }
  override get trainableWeights(): Variable[] {
    return this.trainable ? [...new Set(this.inner.flatMap((l) => l.trainableWeights))] : [];
  }
  override get nonTrainableWeights(): Variable[] {
    const t = new Set(this.trainableWeights);
    return this.weights.filter((w) => !t.has(w));
  }
  override get trainable(): boolean {
    return super.trainable;
  }
  override set trainable(v: boolean) {
    super.trainable = v;
    for (const l of this.inner ?? []) if (l) l.trainable = v;
  }
  override regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const l of this.inner) {
      const r = l.regularizationLoss();
      if (r) total = total ? add(total, r) : r;
    }
    return total;
  }
  override applyConstraints(): void {
    for (const l of this.inner) l.applyConstraints();
  }
}

export interface BidirectionalArgs extends LayerArgs {
  /** The recurrent layer (LSTM, GRU, SimpleRNN) run forwards. */
  layer: LayerSpec;
  /** How the two directions are combined (default 'concat'); null returns [forward, backward]. */
  mergeMode?: MergeMode;
  /** The layer run backwards (default: a copy of `layer` with goBackwards flipped). */
  backwardLayer?: LayerSpec;
}

/**
 * Runs a recurrent layer over the sequence in both directions and merges the outputs.
 * With returnSequences the backward outputs are re-reversed so step t of both align.
 * Weights: the forward layer's, then the backward layer's.
 * @example new Bidirectional({ layer: new LSTM({ units: 32 }), mergeMode: 'concat' }).apply(x) // [batch, 64]
 */
export class Bidirectional extends Wrapper {
  readonly className = 'Bidirectional';
  readonly forwardLayer: RecurrentLayer;
  readonly backwardLayer: RecurrentLayer;
  readonly mergeMode: MergeMode;

  constructor(args: BidirectionalArgs) {
    super(args);
    const f = toLayer(args.layer, this.name);
    if (!(f instanceof RecurrentLayer)) {
      throw new ValueError(`${this.name} expected a recurrent layer (LSTM, GRU, SimpleRNN), got ${f.className}`);
    }
    const mm = args.mergeMode === undefined ? 'concat' : args.mergeMode;
    if (!['concat', 'sum', 'mul', 'ave', null].includes(mm)) {
      throw new ValueError(
        `${this.name} expected mergeMode 'concat' | 'sum' | 'mul' | 'ave' | null, got ${JSON.stringify(mm)}`,
      );
    }
    this.mergeMode = mm;
    const cfg = f.getConfig();
    // Keras names: forward_<layer>, backward_<layer>
    const baseName = f.name;
    if (!baseName.startsWith('forward_')) f.name = `forward_${baseName}`;
    this.forwardLayer = f;
    const b = args.backwardLayer
      ? toLayer(args.backwardLayer, this.name)
      : layerFromConfig(f.className, {
          ...cfg,
          name: `backward_${baseName.replace(/^forward_/, '')}`,
          goBackwards: !f.goBackwards,
        });
    if (!(b instanceof RecurrentLayer)) {
      throw new ValueError(`${this.name} expected backwardLayer to be a recurrent layer, got ${b.className}`);
    }
    if (b.returnSequences !== f.returnSequences || b.returnState !== f.returnState) {
      throw new ValueError(
        `${this.name}: the forward and backward layers must agree on returnSequences and returnState`,
      );
    }
    this.backwardLayer = b;
  }

  protected get inner(): Layer[] {
    return [this.forwardLayer, this.backwardLayer];
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    this.forwardLayer.ensureBuilt(inputShape);
    this.backwardLayer.ensureBuilt(inputShape);
    super.build(inputShape);
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor | Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const x = list[0] as Tensor;
    const mask = ctx.mask ?? getMask(x);
    const sub = { training: ctx.training, mask };
    // initial states: [x, ...forwardStates, ...backwardStates]
    const n = this.forwardLayer.stateCount;
    const fIn = list.length > 1 ? [x, ...list.slice(1, 1 + n)] : x;
    const bIn = list.length > 1 ? [x, ...list.slice(1 + n, 1 + 2 * n)] : x;
    if (list.length > 1 && list.length !== 1 + 2 * n) {
      throw new ValueError(
        `${this.name} expected ${2 * n} initial states (forward then backward), got ${list.length - 1}`,
      );
    }
    const fo = this.forwardLayer.call(fIn, sub);
    const bo = this.backwardLayer.call(bIn, sub);
    const fl = Array.isArray(fo) ? fo : [fo];
    const bl = Array.isArray(bo) ? bo : [bo];
    const yf = fl[0] as Tensor;
    let yb = bl[0] as Tensor;
    if (this.forwardLayer.returnSequences) yb = reverse(yb, 1);
    let y: Tensor | Tensor[];
    switch (this.mergeMode) {
      case 'concat':
        y = concat([yf, yb], -1);
        break;
      case 'sum':
        y = add(yf, yb);
        break;
      case 'mul':
        y = mul(yf, yb);
        break;
      case 'ave':
        y = mul(add(yf, yb), 0.5);
        break;
      default:
        y = [yf, yb];
    }
    if (mask && this.forwardLayer.returnSequences) for (const t of Array.isArray(y) ? y : [y]) setMask(t, mask);
    if (!this.forwardLayer.returnState) return y;
    return [...(Array.isArray(y) ? y : [y]), ...fl.slice(1), ...bl.slice(1)];
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike | ShapeLike[] {
    const fs = this.forwardLayer.computeOutputShape(inputShape);
    const list = (Array.isArray(fs[0]) ? fs : [fs]) as ShapeLike[];
    const out = list[0] as ShapeLike;
    const last = out[out.length - 1] as number;
    const merged: ShapeLike[] =
      this.mergeMode === null ? [out, out] : [[...out.slice(0, -1), this.mergeMode === 'concat' ? 2 * last : last]];
    const states = list.slice(1);
    const all = [...merged, ...states, ...states];
    return all.length === 1 ? (all[0] as ShapeLike) : all;
  }

  /** The mask passed on: the input's with returnSequences, else none (Keras). */
  computeMask(inputs: Tensor | Tensor[], mask: Tensor | null): Tensor | null {
    const x = Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs;
    return this.forwardLayer.returnSequences ? (mask ?? getMask(x)) : null;
  }

  resetStates(): void {
    this.forwardLayer.resetStates();
    this.backwardLayer.resetStates();
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      layer: { className: this.forwardLayer.className, config: this.forwardLayer.getConfig() },
      backwardLayer: { className: this.backwardLayer.className, config: this.backwardLayer.getConfig() },
      mergeMode: this.mergeMode,
    };
  }
}

export interface TimeDistributedArgs extends LayerArgs {
  /** The layer applied to every time step (input [batch, time, ...] -> layer on [batch * time, ...]). */
  layer: LayerSpec;
}

/**
 * Applies a layer to every step of a sequence: [batch, time, ...] -> [batch, time, ...layer output].
 * @example new TimeDistributed({ layer: new Dense({ units: 8 }) }).apply(x) // [batch, time, 8]
 */
export class TimeDistributed extends Wrapper {
  readonly className = 'TimeDistributed';
  readonly layer: Layer;
  constructor(args: TimeDistributedArgs) {
    super(args);
    this.layer = toLayer(args.layer, this.name);
  }
  protected get inner(): Layer[] {
    return [this.layer];
  }
  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const s = singleShape(inputShape, this.name);
    if (s.length < 3) {
      throw new ShapeError(`${this.name} expected input of rank >= 3 [batch, time, ...], got rank ${s.length}`);
    }
    this.layer.ensureBuilt([null, ...s.slice(2)]);
    super.build(inputShape);
  }
  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs;
    if (x.rank < 3) {
      throw new ShapeError(`${this.name} expected input of rank >= 3 [batch, time, ...], got ${fmtShape(x.shape)}`);
    }
    const [B, T] = x.shape as [number, number];
    const y = this.layer.call(reshape(x, [B * T, ...x.shape.slice(2)]), { training: ctx.training, mask: null });
    const yt = Array.isArray(y) ? (y[0] as Tensor) : y;
    const out = reshape(yt, [B, T, ...yt.shape.slice(1)]);
    const mask = ctx.mask ?? getMask(x);
    if (mask) setMask(out, mask);
    return out;
  }
  /** The input's mask, unchanged. */
  computeMask(inputs: Tensor | Tensor[], mask: Tensor | null): Tensor | null {
    return passThroughMask(inputs, mask);
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = singleShape(inputShape, this.name);
    const inner = this.layer.computeOutputShape([null, ...s.slice(2)]) as ShapeLike;
    return [s[0] ?? null, s[1] ?? null, ...inner.slice(1)];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: { className: this.layer.className, config: this.layer.getConfig() } };
  }
}

registerLayer('Bidirectional', (c) => new Bidirectional(c as unknown as BidirectionalArgs));
registerLayer('TimeDistributed', (c) => new TimeDistributed(c as unknown as TimeDistributedArgs));

/**
 * Attention layers: MultiHeadAttention (Keras semantics and weight layout), PositionalEmbedding,
 * TokenAndPositionEmbedding and a TransformerEncoder block (keras-hub semantics, post-norm by
 * default) built from them with Dense and LayerNormalization.
 *
 * Masks: padding masks attached by embedding({ maskZero }) / tokenAndPositionEmbedding flow into
 * the attention as Keras does (query mask [B, Tq] and value mask [B, Tk] combine with an explicit
 * attentionMask [B, Tq, Tk] and the causal mask); masked scores get -1e9 before the softmax.
 */

import { softmax } from '../ops/activations.js';
import { add, mul } from '../ops/arithmetic.js';
import { matmul } from '../ops/matmul.js';
import { dropout } from '../ops/random-ops.js';
import { cast, gather, reshape, slice, transpose } from '../ops/shape-ops.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Tensor, type Variable } from '../tensor/tensor.js';
import { Dense } from './core.js';
import type { InitializerIdentifier } from './initializers.js';
import { type CallContext, type Initializer, Layer, type LayerArgs, registerLayer, type ShapeLike } from './layer.js';
import { LayerNormalization } from './normalization.js';
import { getMask, passThroughMask, setMask } from './recurrent-mask.js';
import { initOf, positiveInt, ser, singleShape } from './utils.js';

/** Adds the sub-layers' weights to a composite layer's. */
abstract class Composite extends Layer {
  protected abstract get parts(): Layer[];
  override get weights(): Variable[] {
    return [...new Set([...super.weights, ...this.parts.flatMap((l) => l.weights)])];
  }
  override get trainableWeights(): Variable[] {
    return this.trainable
      ? [...new Set([...super.trainableWeights, ...this.parts.flatMap((l) => l.trainableWeights)])]
      : [];
  }
  override get nonTrainableWeights(): Variable[] {
    const t = new Set(this.trainableWeights);
    return this.weights.filter((w) => !t.has(w));
  }
  override regularizationLoss(): Tensor | null {
    let total = super.regularizationLoss();
    for (const l of this.parts) {
      const r = l.regularizationLoss();
      if (r) total = total ? add(total, r) : r;
    }
    return total;
  }
  override applyConstraints(): void {
    super.applyConstraints();
    for (const l of this.parts) l.applyConstraints();
  }
}

export interface MultiHeadAttentionArgs extends LayerArgs {
  numHeads: number;
  /** Size of each head for query and key. */
  keyDim: number;
  /** Size of each head for value (default keyDim). */
  valueDim?: number;
  /** Dropout on the attention probabilities (training only). */
  dropout?: number;
  useBias?: boolean;
  /** Last dim of the output (default the query's last dim). */
  outputShape?: number;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  /** Convenience (not a Keras constructor argument): apply the causal mask on every call. */
  useCausalMask?: boolean;
  seed?: number;
}

export interface AttentionCallOptions {
  /** Defaults to value. */
  key?: Tensor;
  /** [batch, Tq, Tk] bool / 0-1: true where query i may attend to key j. */
  attentionMask?: Tensor | null;
  /** Mask out future positions (j > i). */
  useCausalMask?: boolean;
  training?: boolean;
  /** Padding mask of the query [batch, Tq] (default: the one attached to the query tensor). */
  queryMask?: Tensor | null;
  /** Padding mask of the value [batch, Tk] (default: the one attached to the value tensor). */
  valueMask?: Tensor | null;
}

/**
 * Multi-head attention (Keras layout: query/key/value kernels [dim, heads, headDim] with biases
 * [heads, headDim]; output kernel [heads, valueDim, outDim], bias [outDim]).
 * apply(x) is self-attention; apply([query, value]) or apply([query, value, key]) cross-attention.
 * @example
 * const mha = new MultiHeadAttention({ numHeads: 4, keyDim: 32 });
 * mha.apply(x).shape // x.shape; mha.attend(q, v, { useCausalMask: true }) returns { output, scores }
 */
export class MultiHeadAttention extends Layer {
  readonly className = 'MultiHeadAttention';
  override readonly multiInput = true;
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropoutRate: number;
  readonly useBias: boolean;
  readonly outputDim: number | null;
  readonly useCausalMask: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly seed: number | undefined;
  private seedCounter = 0;
  queryKernel: Variable | null = null;
  queryBias: Variable | null = null;
  keyKernel: Variable | null = null;
  keyBias: Variable | null = null;
  valueKernel: Variable | null = null;
  valueBias: Variable | null = null;
  outputKernel: Variable | null = null;
  outputBias: Variable | null = null;
  private dims: [number, number, number] = [0, 0, 0];

  constructor(args: MultiHeadAttentionArgs) {
    super(args);
    this.numHeads = positiveInt(args.numHeads, this.name, 'numHeads');
    this.keyDim = positiveInt(args.keyDim, this.name, 'keyDim');
    this.valueDim = args.valueDim === undefined ? this.keyDim : positiveInt(args.valueDim, this.name, 'valueDim');
    this.dropoutRate = args.dropout ?? 0;
    if (!(this.dropoutRate >= 0 && this.dropoutRate < 1)) {
      throw new ValueError(`${this.name} expected dropout in [0, 1), got ${args.dropout}`);
    }
    this.useBias = args.useBias ?? true;
    this.outputDim = args.outputShape === undefined ? null : positiveInt(args.outputShape, this.name, 'outputShape');
    this.useCausalMask = args.useCausalMask ?? false;
    this.kernelInitializer = initOf(args.kernelInitializer, 'glorotUniform');
    this.biasInitializer = initOf(args.biasInitializer, 'zeros');
    this.seed = args.seed;
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const list = Array.isArray(inputShape[0]) ? (inputShape as ShapeLike[]) : [inputShape as ShapeLike];
    const last = (s: ShapeLike | undefined, what: string): number => {
      const d = s?.[s.length - 1];
      if (s?.length !== 3 || d === null || d === undefined) {
        throw new ShapeError(
          `${this.name} expected ${what} of rank 3 [batch, time, features] with known features, got ${s ? fmtShape(s.map((v) => v ?? -1)) : 'none'}`,
        );
      }
      return d;
    };
    const dq = last(list[0], 'query');
    const dv = last(list[1] ?? list[0], 'value');
    const dk = last(list[2] ?? list[1] ?? list[0], 'key');
    this.dims = [dq, dv, dk];
    const H = this.numHeads;
    const w = (name: string, shape: number[], bias: boolean) =>
      this.addWeight(name, shape, { initializer: bias ? this.biasInitializer : this.kernelInitializer });
    this.queryKernel = w('query/kernel', [dq, H, this.keyDim], false);
    if (this.useBias) this.queryBias = w('query/bias', [H, this.keyDim], true);
    this.keyKernel = w('key/kernel', [dk, H, this.keyDim], false);
    if (this.useBias) this.keyBias = w('key/bias', [H, this.keyDim], true);
    this.valueKernel = w('value/kernel', [dv, H, this.valueDim], false);
    if (this.useBias) this.valueBias = w('value/bias', [H, this.valueDim], true);
    const out = this.outputDim ?? dq;
    this.outputKernel = w('attention_output/kernel', [H, this.valueDim, out], false);
    if (this.useBias) this.outputBias = w('attention_output/bias', [out], true);
    super.build(inputShape);
  }

  /** [B, T, D] -> [B, H, T, headDim] through kernel [D, H, headDim]. */
  private project(x: Tensor, kernel: Variable, bias: Variable | null, headDim: number): Tensor {
    const [B, T, D] = x.shape as [number, number, number];
    let y = matmul(reshape(x, [B * T, D]), reshape(kernel, [D, this.numHeads * headDim]));
    if (bias) y = add(y, reshape(bias, [this.numHeads * headDim]));
    return transpose(reshape(y, [B, T, this.numHeads, headDim]), [0, 2, 1, 3]);
  }

  /**
   * The attention with every option: returns the output [B, Tq, outDim] and the attention
   * probabilities [B, heads, Tq, Tk].
   */
  attend(query: Tensor, value: Tensor, options: AttentionCallOptions = {}): { output: Tensor; scores: Tensor } {
    const key = options.key ?? value;
    for (const [t, what] of [
      [query, 'query'],
      [value, 'value'],
      [key, 'key'],
    ] as const) {
      if (t.rank !== 3) {
        throw new ShapeError(
          `${this.name} expected ${what} of rank 3 [batch, time, features], got ${fmtShape(t.shape)}`,
        );
      }
    }
    if (!this.built) this.ensureBuilt([query.shape, value.shape, key.shape]);
    const [dq, dv, dk] = this.dims;
    if (query.shape[2] !== dq || value.shape[2] !== dv || key.shape[2] !== dk) {
      throw new ShapeError(
        `${this.name} was built for query/value/key features ${dq}/${dv}/${dk}, got ${fmtShape(query.shape)}, ${fmtShape(value.shape)}, ${fmtShape(key.shape)}`,
      );
    }
    const [B, Tq] = query.shape as [number, number];
    const Tk = key.shape[1] as number;
    if (value.shape[1] !== Tk || value.shape[0] !== B || key.shape[0] !== B) {
      throw new ShapeError(
        `${this.name} expected value and key with the same batch and length, got ${fmtShape(value.shape)} and ${fmtShape(key.shape)} for query ${fmtShape(query.shape)}`,
      );
    }
    const q = mul(
      this.project(query, this.queryKernel as Variable, this.queryBias, this.keyDim),
      1 / Math.sqrt(this.keyDim),
    );
    const k = this.project(key, this.keyKernel as Variable, this.keyBias, this.keyDim);
    const v = this.project(value, this.valueKernel as Variable, this.valueBias, this.valueDim);
    let scores = matmul(q, k, { transposeB: true }); // [B, H, Tq, Tk]
    const maskBias = this.maskBias(B, Tq, Tk, {
      ...options,
      queryMask: options.queryMask === undefined ? getMask(query) : options.queryMask,
      valueMask: options.valueMask === undefined ? getMask(value) : options.valueMask,
    });
    if (maskBias) scores = add(scores, maskBias);
    let probs = softmax(scores, { axis: -1 });
    const training = options.training ?? false;
    if (training && this.dropoutRate > 0) {
      probs = dropout(probs, this.dropoutRate, this.seed === undefined ? {} : { seed: this.seed + this.seedCounter++ });
    }
    const o = matmul(probs, v); // [B, H, Tq, V]
    const merged = reshape(transpose(o, [0, 2, 1, 3]), [B * Tq, this.numHeads * this.valueDim]);
    const outDim = this.outputDim ?? dq;
    let out = matmul(merged, reshape(this.outputKernel as Variable, [this.numHeads * this.valueDim, outDim]));
    if (this.outputBias) out = add(out, this.outputBias);
    const output = reshape(out, [B, Tq, outDim]);
    const qm = options.queryMask === undefined ? getMask(query) : options.queryMask;
    if (qm) setMask(output, qm);
    return { output, scores: probs };
  }

  /** [B, 1, Tq, Tk] additive bias (0 or -1e9) from the masks, or null when nothing is masked. */
  private maskBias(B: number, Tq: number, Tk: number, o: AttentionCallOptions): Tensor | null {
    const causal = o.useCausalMask ?? this.useCausalMask;
    const am = o.attentionMask ?? null;
    const qm = o.queryMask ?? null;
    const vm = o.valueMask ?? null;
    if (!causal && !am && !qm && !vm) return null;
    if (am && (am.size !== B * Tq * Tk || am.rank !== 3)) {
      throw new ShapeError(
        `${this.name} expected attentionMask of shape [${B}, ${Tq}, ${Tk}], got ${fmtShape(am.shape)}`,
      );
    }
    if (qm && qm.size !== B * Tq)
      throw new ShapeError(`${this.name} expected a query mask [${B}, ${Tq}], got ${fmtShape(qm.shape)}`);
    if (vm && vm.size !== B * Tk)
      throw new ShapeError(`${this.name} expected a value mask [${B}, ${Tk}], got ${fmtShape(vm.shape)}`);
    const bias = new Float32Array(B * Tq * Tk);
    const ad = am?.data;
    const qd = qm?.data;
    const vd = vm?.data;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < Tq; i++) {
        for (let j = 0; j < Tk; j++) {
          const idx = (b * Tq + i) * Tk + j;
          let ok = true;
          if (ad && !ad[idx]) ok = false;
          if (causal && j > i) ok = false;
          if (qd && !qd[b * Tq + i]) ok = false;
          if (vd && !vd[b * Tk + j]) ok = false;
          if (!ok) bias[idx] = -1e9;
        }
      }
    }
    return new Tensor(bias, [B, 1, Tq, Tk], 'float32');
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length < 1 || list.length > 3) {
      throw new ValueError(
        `${this.name} expected [query], [query, value] or [query, value, key], got ${list.length} tensors`,
      );
    }
    const query = list[0] as Tensor;
    const value = list[1] ?? query;
    const key = list[2] ?? value;
    const selfMask = list.length === 1 ? (ctx.mask ?? getMask(query)) : undefined;
    return this.attend(query, value, {
      key,
      training: ctx.training,
      ...(selfMask !== undefined ? { queryMask: selfMask, valueMask: selfMask } : {}),
    }).output;
  }

  /** The query's mask passes through. */
  computeMask(inputs: Tensor | Tensor[], mask: Tensor | null): Tensor | null {
    return passThroughMask(inputs, mask);
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const list = Array.isArray(inputShape[0]) ? (inputShape as ShapeLike[]) : [inputShape as ShapeLike];
    const q = list[0] as ShapeLike;
    return [q[0] ?? null, q[1] ?? null, this.outputDim ?? (q[2] as number)];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropoutRate,
      useBias: this.useBias,
      outputShape: this.outputDim ?? undefined,
      useCausalMask: this.useCausalMask,
      kernelInitializer: ser(this.kernelInitializer),
      biasInitializer: ser(this.biasInitializer),
      seed: this.seed,
    };
  }
}

export interface PositionalEmbeddingArgs extends LayerArgs {
  /** The longest sequence (number of learned positions). */
  sequenceLength: number;
  /** 'learned' (a trainable [sequenceLength, dim] table, keras-hub PositionEmbedding) or 'sinusoidal' (fixed). */
  mode?: 'learned' | 'sinusoidal';
  initializer?: InitializerIdentifier;
}

/**
 * Adds a position embedding to [batch, time, dim] inputs: x + P[:time]. The mask passes through.
 * @example new PositionalEmbedding({ sequenceLength: 128 }).apply(tokens) // same shape
 */
export class PositionalEmbedding extends Layer {
  readonly className = 'PositionalEmbedding';
  readonly sequenceLength: number;
  readonly mode: 'learned' | 'sinusoidal';
  readonly initializer: Initializer;
  positions: Tensor | null = null;

  constructor(args: PositionalEmbeddingArgs) {
    super(args);
    this.sequenceLength = positiveInt(args.sequenceLength, this.name, 'sequenceLength');
    this.mode = args.mode ?? 'learned';
    if (this.mode !== 'learned' && this.mode !== 'sinusoidal') {
      throw new ValueError(`${this.name} expected mode 'learned' or 'sinusoidal', got ${JSON.stringify(args.mode)}`);
    }
    this.initializer = initOf(args.initializer, 'glorotUniform');
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const s = singleShape(inputShape, this.name);
    const d = s[s.length - 1];
    if (s.length !== 3 || d === null || d === undefined) {
      throw new ShapeError(
        `${this.name} expected input of rank 3 [batch, time, dim] with known dim, got rank ${s.length}`,
      );
    }
    if (this.mode === 'learned') {
      this.positions = this.addWeight('embeddings', [this.sequenceLength, d], { initializer: this.initializer });
    } else {
      const p = new Float32Array(this.sequenceLength * d);
      for (let t = 0; t < this.sequenceLength; t++) {
        for (let i = 0; i < d; i++) {
          const angle = t / 10000 ** ((2 * Math.floor(i / 2)) / d);
          p[t * d + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
        }
      }
      this.positions = new Tensor(p, [this.sequenceLength, d], 'float32');
    }
    super.build(inputShape);
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs;
    const T = x.shape[1] as number;
    if (x.rank !== 3 || T > this.sequenceLength) {
      throw new ShapeError(
        `${this.name} expected [batch, time <= ${this.sequenceLength}, dim], got ${fmtShape(x.shape)}`,
      );
    }
    const p = this.positions as Tensor;
    const pos = T === this.sequenceLength ? p : slice(p, [0, 0], [T, p.shape[1] as number]);
    const out = add(x, pos);
    const m = ctx.mask ?? getMask(x);
    if (m) setMask(out, m);
    return out;
  }

  computeMask(inputs: Tensor | Tensor[], mask: Tensor | null): Tensor | null {
    return passThroughMask(inputs, mask);
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return singleShape(inputShape, this.name);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      sequenceLength: this.sequenceLength,
      mode: this.mode,
      initializer: ser(this.initializer),
    };
  }
}

export interface TokenAndPositionEmbeddingArgs extends LayerArgs {
  vocabularySize: number;
  sequenceLength: number;
  embeddingDim: number;
  /** Token 0 is padding: the output carries a mask. */
  maskZero?: boolean;
  embeddingsInitializer?: InitializerIdentifier;
}

/**
 * Token embedding plus learned position embedding (keras-hub TokenAndPositionEmbedding):
 * int ids [batch, time] -> [batch, time, embeddingDim].
 * @example new TokenAndPositionEmbedding({ vocabularySize: 5000, sequenceLength: 64, embeddingDim: 32, maskZero: true })
 */
export class TokenAndPositionEmbedding extends Layer {
  readonly className = 'TokenAndPositionEmbedding';
  readonly vocabularySize: number;
  readonly sequenceLength: number;
  readonly embeddingDim: number;
  readonly maskZero: boolean;
  readonly embeddingsInitializer: Initializer;
  tokenEmbeddings: Variable | null = null;
  positionEmbeddings: Variable | null = null;

  constructor(args: TokenAndPositionEmbeddingArgs) {
    super(args);
    this.vocabularySize = positiveInt(args.vocabularySize, this.name, 'vocabularySize');
    this.sequenceLength = positiveInt(args.sequenceLength, this.name, 'sequenceLength');
    this.embeddingDim = positiveInt(args.embeddingDim, this.name, 'embeddingDim');
    this.maskZero = args.maskZero ?? false;
    this.embeddingsInitializer = initOf(args.embeddingsInitializer, 'uniform');
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    this.tokenEmbeddings = this.addWeight('token_embedding/embeddings', [this.vocabularySize, this.embeddingDim], {
      initializer: this.embeddingsInitializer,
    });
    this.positionEmbeddings = this.addWeight(
      'position_embedding/embeddings',
      [this.sequenceLength, this.embeddingDim],
      {
        initializer: this.embeddingsInitializer,
      },
    );
    super.build(inputShape);
  }

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs;
    if (x.rank !== 2 || (x.shape[1] as number) > this.sequenceLength) {
      throw new ShapeError(
        `${this.name} expected ids [batch, time <= ${this.sequenceLength}], got ${fmtShape(x.shape)}`,
      );
    }
    if (x.dtype === 'bool') throw new DTypeError(`${this.name} expected int32 ids, got bool`);
    const ids = x.dtype === 'int32' ? x : cast(x, 'int32');
    const d = ids.data;
    for (let i = 0; i < d.length; i++) {
      if ((d[i] as number) < 0 || (d[i] as number) >= this.vocabularySize) {
        throw new ValueError(
          `${this.name} got id ${d[i]} at flat index ${i}, expected ids in [0, ${this.vocabularySize})`,
        );
      }
    }
    const T = x.shape[1] as number;
    const tok = gather(this.tokenEmbeddings as Variable, ids, { axis: 0 });
    const pe = this.positionEmbeddings as Variable;
    const out = add(tok, T === this.sequenceLength ? pe : slice(pe, [0, 0], [T, this.embeddingDim]));
    const m = this.computeMask(ids, null);
    if (m) setMask(out, m);
    return out;
  }

  computeMask(ids: Tensor | Tensor[], _mask: Tensor | null): Tensor | null {
    if (!this.maskZero) return null;
    const x = Array.isArray(ids) ? (ids[0] as Tensor) : ids;
    const m = new Uint8Array(x.size);
    const d = x.data;
    for (let i = 0; i < d.length; i++) m[i] = d[i] !== 0 ? 1 : 0;
    return new Tensor(m, x.shape, 'bool');
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return [...singleShape(inputShape, this.name), this.embeddingDim];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      vocabularySize: this.vocabularySize,
      sequenceLength: this.sequenceLength,
      embeddingDim: this.embeddingDim,
      maskZero: this.maskZero,
      embeddingsInitializer: ser(this.embeddingsInitializer),
    };
  }
}

export interface TransformerEncoderArgs extends LayerArgs {
  numHeads: number;
  /** Hidden size of the feed-forward network. */
  intermediateDim: number;
  dropout?: number;
  activation?: string;
  layerNormEpsilon?: number;
  /** Pre-norm (LayerNorm before attention / feed-forward) instead of the default post-norm. */
  normalizeFirst?: boolean;
  seed?: number;
}

/**
 * A transformer encoder block (keras-hub TransformerEncoder): self-attention with residual and
 * LayerNorm, then Dense(intermediateDim, activation) -> Dense(dim) with residual and LayerNorm.
 * Padding masks attached to the input are used by the attention and passed on.
 * @example new TransformerEncoder({ numHeads: 4, intermediateDim: 256 }).apply(x) // x.shape
 */
export class TransformerEncoder extends Composite {
  readonly className = 'TransformerEncoder';
  readonly numHeads: number;
  readonly intermediateDim: number;
  readonly dropoutRate: number;
  readonly activation: string;
  readonly layerNormEpsilon: number;
  readonly normalizeFirst: boolean;
  readonly seed: number | undefined;
  private seedCounter = 0;
  attention: MultiHeadAttention | null = null;
  attentionNorm: LayerNormalization | null = null;
  ffIn: Dense | null = null;
  ffOut: Dense | null = null;
  ffNorm: LayerNormalization | null = null;

  constructor(args: TransformerEncoderArgs) {
    super(args);
    this.numHeads = positiveInt(args.numHeads, this.name, 'numHeads');
    this.intermediateDim = positiveInt(args.intermediateDim, this.name, 'intermediateDim');
    this.dropoutRate = args.dropout ?? 0;
    if (!(this.dropoutRate >= 0 && this.dropoutRate < 1)) {
      throw new ValueError(`${this.name} expected dropout in [0, 1), got ${args.dropout}`);
    }
    this.activation = args.activation ?? 'relu';
    this.layerNormEpsilon = args.layerNormEpsilon ?? 1e-5;
    this.normalizeFirst = args.normalizeFirst ?? false;
    this.seed = args.seed;
  }

  protected get parts(): Layer[] {
    return [this.attention, this.attentionNorm, this.ffIn, this.ffOut, this.ffNorm].filter(
      (l): l is NonNullable<typeof l> => l !== null,
    ) as Layer[];
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const s = singleShape(inputShape, this.name);
    const d = s[s.length - 1];
    if (s.length !== 3 || d === null || d === undefined) {
      throw new ShapeError(
        `${this.name} expected input of rank 3 [batch, time, dim] with known dim, got rank ${s.length}`,
      );
    }
    if (d % this.numHeads !== 0) {
      throw new ValueError(`${this.name} expected the input dim (${d}) to be divisible by numHeads (${this.numHeads})`);
    }
    const n = this.name;
    this.attention = new MultiHeadAttention({
      name: `${n}/self_attention`,
      numHeads: this.numHeads,
      keyDim: d / this.numHeads,
      dropout: this.dropoutRate,
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
    });
    this.attentionNorm = new LayerNormalization({
      name: `${n}/self_attention_layer_norm`,
      epsilon: this.layerNormEpsilon,
    });
    this.ffIn = new Dense({
      name: `${n}/feedforward_intermediate_dense`,
      units: this.intermediateDim,
      activation: this.activation,
    });
    this.ffOut = new Dense({ name: `${n}/feedforward_output_dense`, units: d });
    this.ffNorm = new LayerNormalization({ name: `${n}/feedforward_layer_norm`, epsilon: this.layerNormEpsilon });
    this.attention.ensureBuilt([s, s, s]);
    this.attentionNorm.ensureBuilt(s);
    this.ffIn.ensureBuilt(s);
    this.ffOut.ensureBuilt([s[0] ?? null, s[1] ?? null, this.intermediateDim]);
    this.ffNorm.ensureBuilt(s);
    super.build(inputShape);
  }

  private drop(x: Tensor, training: boolean): Tensor {
    if (!training || this.dropoutRate === 0) return x;
    return dropout(x, this.dropoutRate, this.seed === undefined ? {} : { seed: this.seed * 7919 + this.seedCounter++ });
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs;
    if (x.rank !== 3) throw new ShapeError(`${this.name} expected input [batch, time, dim], got ${fmtShape(x.shape)}`);
    const mask = ctx.mask ?? getMask(x);
    const sub = { training: ctx.training, mask: null };
    const att = this.attention as MultiHeadAttention;
    const n1 = this.attentionNorm as LayerNormalization;
    const n2 = this.ffNorm as LayerNormalization;
    let h = x;
    let a = this.normalizeFirst ? (n1.call(h) as Tensor) : h;
    a = att.attend(a, a, { training: ctx.training, queryMask: mask, valueMask: mask }).output;
    h = add(h, this.drop(a, ctx.training));
    if (!this.normalizeFirst) h = n1.call(h) as Tensor;
    let f = this.normalizeFirst ? (n2.call(h) as Tensor) : h;
    f = (this.ffOut as Dense).call((this.ffIn as Dense).call(f, sub), sub);
    h = add(h, this.drop(f, ctx.training));
    if (!this.normalizeFirst) h = n2.call(h) as Tensor;
    if (mask) setMask(h, mask);
    return h;
  }

  computeMask(inputs: Tensor | Tensor[], mask: Tensor | null): Tensor | null {
    return passThroughMask(inputs, mask);
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return singleShape(inputShape, this.name);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      intermediateDim: this.intermediateDim,
      dropout: this.dropoutRate,
      activation: this.activation,
      layerNormEpsilon: this.layerNormEpsilon,
      normalizeFirst: this.normalizeFirst,
      seed: this.seed,
    };
  }
}

registerLayer('MultiHeadAttention', (c) => new MultiHeadAttention(c as unknown as MultiHeadAttentionArgs));
registerLayer('PositionalEmbedding', (c) => new PositionalEmbedding(c as unknown as PositionalEmbeddingArgs));
registerLayer(
  'TokenAndPositionEmbedding',
  (c) => new TokenAndPositionEmbedding(c as unknown as TokenAndPositionEmbeddingArgs),
);
registerLayer('TransformerEncoder', (c) => new TransformerEncoder(c as unknown as TransformerEncoderArgs));

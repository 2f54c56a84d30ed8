/**
 * Embedding (integer ids -> dense vectors, optional mask on id 0) and Masking (mask the steps whose
 * features all equal maskValue). Both attach their mask to the output (see recurrent-mask.ts) so
 * recurrent layers, attention and masked pooling downstream skip the padded steps.
 */
import { mul as mulConst } from '../ops/arithmetic.js';
import { cast, gather } from '../ops/shape-ops.js';
import { DTypeError, fmtShape, ShapeError, ValueError as ValueError_ } from '../tensor/errors.js';
import { Tensor, type Variable } from '../tensor/tensor.js';
import type { ConstraintIdentifier } from './constraints.js';
import type { InitializerIdentifier } from './initializers.js';
import {
  type CallContext,
  type Constraint,
  type Initializer,
  Layer,
  type LayerArgs,
  type Regularizer,
  registerLayer,
  type ShapeLike,
} from './layer.js';
import { getMask, setMask } from './recurrent-mask.js';
import type { RegularizerIdentifier } from './regularizers.js';
import { conOf, initOf, positiveInt, regOf, ser, single, singleShape } from './utils.js';

export interface EmbeddingArgs extends LayerArgs {
  /** Vocabulary size: ids are in [0, inputDim). */
  inputDim: number;
  /** Size of each vector. */
  outputDim: number;
  embeddingsInitializer?: InitializerIdentifier;
  embeddingsRegularizer?: RegularizerIdentifier | null;
  embeddingsConstraint?: ConstraintIdentifier | null;
  /** Treat id 0 as padding: the output carries a mask (false where the id is 0). */
  maskZero?: boolean;
  /** Length of the input sequences (Keras inputLength), sets inputShape. */
  inputLength?: number;
}

/**
 * Integer ids [batch, ...] -> vectors [batch, ..., outputDim] (weight `embeddings` [inputDim, outputDim]).
 * @example
 * const emb = new Embedding({ inputDim: 1000, outputDim: 16, maskZero: true });
 * emb.apply(tensor([[5, 7, 0]], [1, 3], 'int32')).shape // [1, 3, 16], mask [[true, true, false]]
 */
export class Embedding extends Layer {
  readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  readonly embeddingsInitializer: Initializer;
  readonly embeddingsRegularizer: Regularizer | null;
  readonly embeddingsConstraint: Constraint | null;
  readonly inputLength: number | null;
  embeddings: Variable | null = null;

  constructor(args: EmbeddingArgs) {
    super(
      args.inputLength != null && !args.inputShape && !args.batchInputShape
        ? { ...args, inputShape: [args.inputLength] }
        : args,
    );
    this.inputDim = positiveInt(args.inputDim, this.name, 'inputDim');
    this.outputDim = positiveInt(args.outputDim, this.name, 'outputDim');
    this.maskZero = args.maskZero ?? false;
    this.inputLength = args.inputLength ?? null;
    this.embeddingsInitializer = initOf(args.embeddingsInitializer, 'uniform');
    this.embeddingsRegularizer = regOf(args.embeddingsRegularizer);
    this.embeddingsConstraint = conOf(args.embeddingsConstraint);
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], {
      initializer: this.embeddingsInitializer,
      regularizer: this.embeddingsRegularizer,
      constraint: this.embeddingsConstraint,
    });
    super.build(inputShape);
  }

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = single(inputs, this.name);
    const ids = x.dtype === 'int32' ? x : cast(x, 'int32');
    const d = ids.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i] as number;
      if (v < 0 || v >= this.inputDim) {
        throw new ValueError_(
          `${this.name} got id ${v} at flat index ${i}, expected ids in [0, ${this.inputDim}) (inputDim ${this.inputDim})`,
        );
      }
    }
    const out = gather(this.embeddings as Variable, ids, { axis: 0 });
    if (this.maskZero) setMask(out, this.computeMask(ids));
    return out;
  }

  /** The mask for ids: true where the id is not 0 (null without maskZero). */
  computeMask(ids: Tensor, _mask: Tensor | null = null): Tensor | null {
    if (!this.maskZero) return null;
    const m = new Uint8Array(ids.size);
    const d = ids.data;
    for (let i = 0; i < d.length; i++) m[i] = d[i] !== 0 ? 1 : 0;
    return new Tensor(m, ids.shape, 'bool');
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return [...singleShape(inputShape, this.name), this.outputDim];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      maskZero: this.maskZero,
      inputLength: this.inputLength,
      embeddingsInitializer: ser(this.embeddingsInitializer),
      embeddingsRegularizer: ser(this.embeddingsRegularizer),
      embeddingsConstraint: ser(this.embeddingsConstraint),
    };
  }
}

export interface MaskingArgs extends LayerArgs {
  /** Steps whose features all equal this are masked (default 0). */
  maskValue?: number;
}

/**
 * Masks time steps whose every feature equals maskValue: they are zeroed in the output and
 * skipped by recurrent layers downstream. Input [batch, time, features].
 * @example new Masking({ maskValue: 0 }).apply(x) // same values, mask attached
 */
export class Masking extends Layer {
  readonly className = 'Masking';
  readonly maskValue: number;
  constructor(args: MaskingArgs = {}) {
    super(args);
    this.maskValue = args.maskValue ?? 0;
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this.name);
    if (x.rank < 3) {
      throw new ShapeError(
        `${this.name} expected input of rank >= 3 [batch, time, features], got ${fmtShape(x.shape)}`,
      );
    }
    if (x.dtype !== 'float32') throw new DTypeError(`${this.name} expected float32 input, got ${x.dtype}`);
    const mask = this.computeMask(x, ctx.mask ?? getMask(x));
    const steps = mask.size;
    const feat = x.size / steps;
    const keepW = new Float32Array(x.size);
    const md = mask.data;
    for (let s = 0; s < steps; s++) if (md[s]) keepW.fill(1, s * feat, (s + 1) * feat);
    const out = mulConst(x, new Tensor(keepW, x.shape, 'float32'));
    setMask(out, mask);
    return out;
  }

  /** true where some feature differs from maskValue (and the incoming mask), shape x.shape without the last dim. */
  computeMask(x: Tensor, prev: Tensor | null = null): Tensor {
    const feat = x.shape[x.rank - 1] as number;
    const steps = x.size / feat;
    const d = x.data;
    const m = new Uint8Array(steps);
    for (let s = 0; s < steps; s++) {
      for (let f = 0; f < feat; f++) {
        if (d[s * feat + f] !== this.maskValue) {
          m[s] = 1;
          break;
        }
      }
    }
    if (prev) for (let s = 0; s < steps; s++) if (!prev.data[s]) m[s] = 0;
    return new Tensor(m, x.shape.slice(0, -1), 'bool');
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return singleShape(inputShape, this.name);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maskValue: this.maskValue };
  }
}

registerLayer('Embedding', (c) => new Embedding(c as unknown as EmbeddingArgs));
registerLayer('Masking', (c) => new Masking(c as MaskingArgs));

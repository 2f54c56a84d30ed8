/**
 * Recurrent layers with Keras semantics and weight layout: SimpleRNN, LSTM, GRU.
 * Weights: `kernel` [features, G*units], `recurrentKernel` [units, G*units], `bias` ([G*units];
 * GRU with resetAfter: [2, 3*units], input bias then recurrent bias). Gate order i, f, c, o (LSTM)
 * and z, r, h (GRU). The input projection of all steps is one GEMM; the time loop is one fused op
 * (src/ops/rnn.ts, native kernels in native/rnn.cc), forward and backward through time.
 *
 * Options: returnSequences, returnState, goBackwards, stateful (with resetStates), initial states
 * (pass [x, h0] or [x, h0, c0] to apply / call), and masks from embedding({ maskZero }) or masking.
 */
import { add, mul } from '../ops/arithmetic.js';
import { matmul } from '../ops/matmul.js';
import { type RecurrentActivation, type RecurrentCell, recurrence } from '../ops/rnn.js';
import { reshape, reverse, slice } from '../ops/shape-ops.js';
import { noGrad } from '../tensor/engine.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Random } from '../tensor/random.js';
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
import { conOf, fmtShapeLike, initOf, positiveInt, regOf, ser, singleShape } from './utils.js';

export interface RecurrentArgs extends LayerArgs {
  units: number;
  /** SimpleRNN: 'tanh' (default), 'relu' or 'linear'. LSTM / GRU: 'tanh' only. */
  activation?: string;
  /** LSTM / GRU: 'sigmoid' only. */
  recurrentActivation?: string;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  recurrentInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  recurrentRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
  kernelConstraint?: ConstraintIdentifier | null;
  recurrentConstraint?: ConstraintIdentifier | null;
  biasConstraint?: ConstraintIdentifier | null;
  /** Output every step [batch, time, units] instead of the last [batch, units]. */
  returnSequences?: boolean;
  /** Also return the final state(s): [output, h] or, for the LSTM, [output, h, c]. */
  returnState?: boolean;
  /** Process the sequence in reverse (the output sequence is in processing order, as Keras). */
  goBackwards?: boolean;
  /** Carry the final states of one batch into the next call (fixed batch size); resetStates() clears. */
  stateful?: boolean;
  /** Fraction of the input features dropped in training (one mask per sequence, shared by all steps, as Keras). */
  dropout?: number;
  /** Fraction of the recurrent state dropped where h_{t-1} enters the recurrent kernel (training; one mask per sequence). */
  recurrentDropout?: number;
  /** Seed of the dropout masks. */
  seed?: number;
  /** Accepted for Keras compatibility; the fused op never unrolls. */
  unroll?: boolean;
  /** LSTM: add 1 to the forget-gate bias at initialisation (default true). */
  unitForgetBias?: boolean;
  /** GRU: only true (the Keras default, cuDNN-compatible) is supported. */
  resetAfter?: boolean;
}

const GATES: Record<RecurrentCell, number> = { lstm: 4, gru: 3, simpleRnn: 1 };

/** Shared machinery of SimpleRNN, LSTM and GRU. */
export abstract class RecurrentLayer extends Layer {
  abstract readonly cell: RecurrentCell;
  readonly units: number;
  readonly activationName: string;
  readonly recurrentActivationName: string;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly stateful: boolean;
  readonly unitForgetBias: boolean;
  readonly resetAfter: boolean;
  readonly kernelInitializer: Initializer;
  readonly recurrentInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly recurrentRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  readonly recurrentConstraint: Constraint | null;
  readonly biasConstraint: Constraint | null;
  kernel: Variable | null = null;
  recurrentKernel: Variable | null = null;
  bias: Variable | null = null;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly seed: number | null;
  private rng: Random;
  /** Stateful layers: the states carried to the next call (h, and c for the LSTM). */
  states: Tensor[] | null = null;
  protected inputDim = -1;

  constructor(args: RecurrentArgs, defaults: { activation: string }) {
    super(args);
    this.units = positiveInt(args.units, this.name, 'units');
    this.activationName = args.activation ?? defaults.activation;
    this.recurrentActivationName = args.recurrentActivation ?? 'sigmoid';
    this.useBias = args.useBias ?? true;
    this.returnSequences = args.returnSequences ?? false;
    this.returnState = args.returnState ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.stateful = args.stateful ?? false;
    this.unitForgetBias = args.unitForgetBias ?? true;
    this.resetAfter = args.resetAfter ?? true;
    this.dropout = args.dropout ?? 0;
    this.recurrentDropout = args.recurrentDropout ?? 0;
    for (const [f, v] of [
      ['dropout', this.dropout],
      ['recurrentDropout', this.recurrentDropout],
    ] as const) {
      if (!(v >= 0 && v < 1)) throw new ValueError(`${this.name} expected ${f} in [0, 1), got ${v}`);
    }
    this.seed = args.seed ?? null;
    this.rng = new Random(this.seed ?? undefined);
    this.kernelInitializer = initOf(args.kernelInitializer, 'glorotUniform');
    this.recurrentInitializer = initOf(args.recurrentInitializer, 'orthogonal');
    this.biasInitializer = initOf(args.biasInitializer, 'zeros');
    this.kernelRegularizer = regOf(args.kernelRegularizer);
    this.recurrentRegularizer = regOf(args.recurrentRegularizer);
    this.biasRegularizer = regOf(args.biasRegularizer);
    this.kernelConstraint = conOf(args.kernelConstraint);
    this.recurrentConstraint = conOf(args.recurrentConstraint);
    this.biasConstraint = conOf(args.biasConstraint);
  }

  /** Number of state tensors (1, or 2 for the LSTM). */
  get stateCount(): number {
    return this.cell === 'lstm' ? 2 : 1;
  }

  protected validateActivations(): void {
    if (this.cell === 'simpleRnn') {
      if (!['tanh', 'relu', 'linear'].includes(this.activationName)) {
        throw new ValueError(
          `${this.name} expected activation 'tanh', 'relu' or 'linear' (fused kernel), got ${JSON.stringify(this.activationName)}`,
        );
      }
      return;
    }
    if (this.activationName !== 'tanh' || this.recurrentActivationName !== 'sigmoid') {
      throw new ValueError(
        `${this.name} expected activation 'tanh' and recurrentActivation 'sigmoid' (fused kernel), got ${JSON.stringify(this.activationName)} and ${JSON.stringify(this.recurrentActivationName)}`,
      );
    }
    if (this.cell === 'gru' && !this.resetAfter) {
      throw new ValueError(`${this.name}: resetAfter false is not supported, expected true (the Keras default)`);
    }
  }

  override build(inputShape: ShapeLike | ShapeLike[]): void {
    const list = Array.isArray(inputShape[0]) ? (inputShape as ShapeLike[]) : [inputShape as ShapeLike];
    const s = list[0] as ShapeLike;
    const last = s[s.length - 1];
    if (s.length !== 3 || last === null || last === undefined) {
      throw new ShapeError(
        `${this.name} expected input of rank 3 [batch, time, features] with known features, got ${fmtShapeLike(s)}`,
      );
    }
    this.inputDim = last;
    const G = GATES[this.cell] * this.units;
    this.kernel = this.addWeight('kernel', [last, G], {
      initializer: this.kernelInitializer,
      regularizer: this.kernelRegularizer,
      constraint: this.kernelConstraint,
    });
    this.recurrentKernel = this.addWeight('recurrentKernel', [this.units, G], {
      initializer: this.recurrentInitializer,
      regularizer: this.recurrentRegularizer,
      constraint: this.recurrentConstraint,
    });
    if (this.useBias) {
      const shape = this.cell === 'gru' ? [2, G] : [G];
      this.bias = this.addWeight('bias', shape, {
        initializer: this.biasInitializer,
        regularizer: this.biasRegularizer,
        constraint: this.biasConstraint,
      });
      if (this.cell === 'lstm' && this.unitForgetBias) {
        const d = this.bias.data;
        for (let u = this.units; u < 2 * this.units; u++) d[u] = (d[u] as number) + 1;
      }
    }
    super.build(inputShape);
  }

  /** Clear the carried states of a stateful layer (or set them). */
  resetStates(states?: Tensor[] | null): void {
    this.states = states ? states.map((s) => new Tensor(Float32Array.from(s.data), s.shape, 'float32')) : null;
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor | Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const x = list[0] as Tensor;
    if (x.rank !== 3 || x.shape[2] !== this.inputDim) {
      throw new ShapeError(`${this.name} expected input [batch, time, ${this.inputDim}], got ${fmtShape(x.shape)}`);
    }
    const [B, T, F] = x.shape as [number, number, number];
    const U = this.units;
    const G = GATES[this.cell] * U;
    let initial: (Tensor | null)[] = list.slice(1);
    if (initial.length > 0 && initial.length !== this.stateCount) {
      throw new ValueError(
        `${this.name} expected ${this.stateCount} initial state tensor(s) after the input, got ${initial.length}`,
      );
    }
    if (initial.length === 0 && this.stateful && this.states) {
      if (this.states[0]?.shape[0] !== B) {
        throw new ShapeError(
          `${this.name} is stateful with batch ${this.states[0]?.shape[0]}, got a batch of ${B} (call resetStates() first)`,
        );
      }
      initial = this.states;
    }
    if (T === 0) throw new ShapeError(`${this.name} expected at least one time step, got ${fmtShape(x.shape)}`);
    let mask = ctx.mask ?? getMask(x);
    let xs = x;
    if (ctx.training && this.dropout > 0) {
      // one [batch, 1, features] mask for the whole sequence (Keras), inverted scaling
      const keepP = 1 - this.dropout;
      const m = new Float32Array(B * F);
      for (let i = 0; i < m.length; i++) m[i] = this.rng.next() < keepP ? 1 / keepP : 0;
      xs = mul(xs, new Tensor(m, [B, 1, F], 'float32'));
    }
    if (this.goBackwards) {
      xs = reverse(xs, 1);
      if (mask) mask = noGrad(() => reverse(mask as Tensor, 1));
    }
    let xp = matmul(reshape(xs, [B * T, F]), this.kernel as Variable);
    let recurrentBias: Tensor | null = null;
    if (this.bias) {
      if (this.cell === 'gru') {
        xp = add(xp, reshape(slice(this.bias, [0, 0], [1, G]), [G]));
        recurrentBias = reshape(slice(this.bias, [1, 0], [1, G]), [G]);
      } else xp = add(xp, this.bias);
    } else if (this.cell === 'gru') recurrentBias = new Tensor(new Float32Array(G), [G], 'float32');
    let recurrentMask: Tensor | null = null;
    if (ctx.training && this.recurrentDropout > 0) {
      const keepP = 1 - this.recurrentDropout;
      const m = new Float32Array(B * U);
      for (let i = 0; i < m.length; i++) m[i] = this.rng.next() < keepP ? 1 / keepP : 0;
      recurrentMask = new Tensor(m, [B, U], 'float32');
    }
    const out = recurrence(this.cell, reshape(xp, [B, T, G]), this.recurrentKernel as Variable, {
      recurrentMask,
      initialH: initial[0] ?? null,
      initialC: this.cell === 'lstm' ? (initial[1] ?? null) : null,
      recurrentBias,
      mask,
      activation: this.activationName as RecurrentActivation,
    });
    const OW = this.cell === 'lstm' ? 2 * U : U;
    const seq = this.cell === 'lstm' ? slice(out, [0, 0, 0], [B, T, U]) : out;
    const lastH = reshape(slice(out, [0, T - 1, 0], [B, 1, U]), [B, U]);
    const states = [lastH];
    if (this.cell === 'lstm') states.push(reshape(slice(out, [0, T - 1, U], [B, 1, OW - U]), [B, U]));
    if (this.stateful) this.resetStates(states);
    let output: Tensor;
    if (this.returnSequences) {
      output = seq;
      if (mask) setMask(output, mask);
    } else output = lastH;
    return this.returnState ? [output, ...states] : output;
  }

  /** The mask passed on: the input's with returnSequences, else none (Keras). */
  computeMask(inputs: Tensor | Tensor[], mask: Tensor | null): Tensor | null {
    const x = Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs;
    return this.returnSequences ? (mask ?? getMask(x)) : null;
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike | ShapeLike[] {
    const list = Array.isArray(inputShape[0]) ? (inputShape as ShapeLike[]) : [inputShape as ShapeLike];
    const s = singleShape(list[0] as ShapeLike, this.name);
    const b = s[0] ?? null;
    const out: ShapeLike = this.returnSequences ? [b, s[1] ?? null, this.units] : [b, this.units];
    if (!this.returnState) return out;
    return [out, ...new Array(this.stateCount).fill([b, this.units])];
  }

  override getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      ...super.getConfig(),
      units: this.units,
      activation: this.activationName,
      useBias: this.useBias,
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      goBackwards: this.goBackwards,
      stateful: this.stateful,
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      seed: this.seed,
      kernelInitializer: ser(this.kernelInitializer),
      recurrentInitializer: ser(this.recurrentInitializer),
      biasInitializer: ser(this.biasInitializer),
      kernelRegularizer: ser(this.kernelRegularizer),
      recurrentRegularizer: ser(this.recurrentRegularizer),
      biasRegularizer: ser(this.biasRegularizer),
      kernelConstraint: ser(this.kernelConstraint),
      recurrentConstraint: ser(this.recurrentConstraint),
      biasConstraint: ser(this.biasConstraint),
    };
    if (this.cell !== 'simpleRnn') c.recurrentActivation = this.recurrentActivationName;
    if (this.cell === 'lstm') c.unitForgetBias = this.unitForgetBias;
    if (this.cell === 'gru') c.resetAfter = this.resetAfter;
    return c;
  }
}

/**
 * Fully connected RNN: h_t = activation(x_t W + h_{t-1} R + b).
 * @example new SimpleRNN({ units: 8, returnSequences: true }).apply(x) // [batch, time, 8]
 */
export class SimpleRNN extends RecurrentLayer {
  readonly className = 'SimpleRNN';
  readonly cell = 'simpleRnn' as const;
  constructor(args: RecurrentArgs) {
    super(args, { activation: 'tanh' });
    this.validateActivations();
  }
}

/**
 * Long short-term memory (Keras LSTM: gates i, f, c, o; unitForgetBias).
 * @example new LSTM({ units: 64 }).apply(x) // [batch, 64]; with returnState: [out, h, c]
 */
export class LSTM extends RecurrentLayer {
  readonly className = 'LSTM';
  readonly cell = 'lstm' as const;
  constructor(args: RecurrentArgs) {
    super(args, { activation: 'tanh' });
    this.validateActivations();
  }
}

/**
 * Gated recurrent unit (Keras GRU, resetAfter: gates z, r, h; bias [2, 3 * units]).
 * h = z * h_prev + (1 - z) * tanh(x W_h + b_h + r * (h_prev R_h + rb_h)).
 * @example new GRU({ units: 32, returnSequences: true }).apply(x) // [batch, time, 32]
 */
export class GRU extends RecurrentLayer {
  readonly className = 'GRU';
  readonly cell = 'gru' as const;
  constructor(args: RecurrentArgs) {
    super(args, { activation: 'tanh' });
    this.validateActivations();
  }
}

registerLayer('SimpleRNN', (c) => new SimpleRNN(c as unknown as RecurrentArgs));
registerLayer('LSTM', (c) => new LSTM(c as unknown as RecurrentArgs));
registerLayer('GRU', (c) => new GRU(c as unknown as RecurrentArgs));

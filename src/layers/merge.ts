/**
 * Merge layers (multi-input): Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.
 * Inputs broadcast like the elementwise ops; `call` takes Tensor[].
 */
import { add, div, maximum, minimum, mul, sub } from '../ops/arithmetic.js';
import { concat } from '../ops/shape-ops.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { isShapeList, Layer, type LayerArgs, registerLayer, type ShapeLike } from './layer.js';
import { fmtShapeLike } from './utils.js';

/** Broadcast shapes with unknown (null) dims. */
function broadcastLike(shapes: readonly ShapeLike[], layer: string): ShapeLike {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: (number | null)[] = [];
  for (let i = 0; i < rank; i++) {
    let d: number | null = 1;
    let unknown = false;
    for (const s of shapes) {
      const k = s.length - rank + i;
      if (k < 0) continue;
      const v = s[k] as number | null;
      if (v === null) {
        unknown = true;
        continue;
      }
      if (v === 1) continue;
      if (d !== 1 && d !== v) {
        throw new ShapeError(`${layer} got inputs of incompatible shapes ${shapes.map(fmtShapeLike).join(', ')}`);
      }
      d = v;
    }
    out.push(unknown && d === 1 ? null : d);
  }
  return out;
}

abstract class Merge extends Layer {
  override readonly multiInput = true;
  /** Fewest inputs accepted. */
  protected readonly minInputs: number = 2;
  protected readonly maxInputs: number = Number.POSITIVE_INFINITY;

  protected list(inputs: Tensor | Tensor[]): Tensor[] {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    if (xs.length < this.minInputs || xs.length > this.maxInputs) {
      const want = this.maxInputs === this.minInputs ? `${this.minInputs}` : `at least ${this.minInputs}`;
      throw new ValueError(`${this.name} expected ${want} input tensors, got ${xs.length}`);
    }
    return xs;
  }

  protected shapes(inputShape: ShapeLike | ShapeLike[]): ShapeLike[] {
    if (!isShapeList(inputShape)) {
      throw new ValueError(`${this.name} expected a list of input shapes, got one shape ${fmtShapeLike(inputShape)}`);
    }
    if (inputShape.length < this.minInputs || inputShape.length > this.maxInputs) {
      throw new ValueError(
        `${this.name} expected ${this.minInputs === this.maxInputs ? '' : 'at least '}${this.minInputs} inputs, got ${inputShape.length}`,
      );
    }
    return inputShape;
  }

  protected abstract merge(xs: Tensor[]): Tensor;

  call(inputs: Tensor | Tensor[]): Tensor {
    return this.merge(this.list(inputs));
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    return broadcastLike(this.shapes(inputShape), this.name);
  }
}

function fold(xs: Tensor[], f: (a: Tensor, b: Tensor) => Tensor): Tensor {
  let acc = xs[0] as Tensor;
  for (let i = 1; i < xs.length; i++) acc = f(acc, xs[i] as Tensor);
  return acc;
}

/**
 * Elementwise sum of the inputs.
 * @example new Add().apply([a, b])
 */
export class Add extends Merge {
  readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  protected merge(xs: Tensor[]): Tensor {
    return fold(xs, add);
  }
}

/** inputs[0] - inputs[1] (exactly two inputs). */
export class Subtract extends Merge {
  readonly className = 'Subtract';
  protected override readonly maxInputs = 2;
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  protected merge(xs: Tensor[]): Tensor {
    return sub(xs[0] as Tensor, xs[1] as Tensor);
  }
}

/** Elementwise product of the inputs. */
export class Multiply extends Merge {
  readonly className = 'Multiply';
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  protected merge(xs: Tensor[]): Tensor {
    return fold(xs, mul);
  }
}

/** Elementwise mean of the inputs. */
export class Average extends Merge {
  readonly className = 'Average';
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  protected merge(xs: Tensor[]): Tensor {
    return div(fold(xs, add), xs.length);
  }
}

/** Elementwise maximum of the inputs. */
export class Maximum extends Merge {
  readonly className = 'Maximum';
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  protected merge(xs: Tensor[]): Tensor {
    return fold(xs, maximum);
  }
}

/** Elementwise minimum of the inputs. */
export class Minimum extends Merge {
  readonly className = 'Minimum';
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  protected merge(xs: Tensor[]): Tensor {
    return fold(xs, minimum);
  }
}

export interface ConcatenateArgs extends LayerArgs {
  /** Default -1. */
  axis?: number;
}

/**
 * Joins the inputs along `axis` (default -1); other dims must match.
 * @example new Concatenate({ axis: -1 }).apply([a, b])
 */
export class Concatenate extends Merge {
  readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis))
      throw new ValueError(`${this.name} expected an integer axis, got ${JSON.stringify(args.axis)}`);
  }
  private normAxis(rank: number): number {
    const a = this.axis < 0 ? this.axis + rank : this.axis;
    if (a < 0 || a >= rank) throw new ValueError(`${this.name} got axis ${this.axis} for inputs of rank ${rank}`);
    return a;
  }
  protected merge(xs: Tensor[]): Tensor {
    const rank = (xs[0] as Tensor).rank;
    const a = this.normAxis(rank);
    for (const x of xs) {
      if (x.rank !== rank || x.shape.some((d, i) => i !== a && d !== (xs[0] as Tensor).shape[i])) {
        throw new ShapeError(
          `${this.name} expected inputs matching except on axis ${this.axis}, got ${xs.map((t) => fmtShape(t.shape)).join(', ')}`,
        );
      }
    }
    return concat(xs, a);
  }
  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const shapes = this.shapes(inputShape);
    const first = shapes[0] as ShapeLike;
    const a = this.normAxis(first.length);
    const out: (number | null)[] = [...first];
    let total: number | null = 0;
    for (const s of shapes) {
      if (s.length !== first.length) {
        throw new ShapeError(
          `${this.name} expected inputs of the same rank, got ${shapes.map(fmtShapeLike).join(', ')}`,
        );
      }
      for (let i = 0; i < s.length; i++) {
        if (i === a) continue;
        const v = s[i] ?? null;
        const o = out[i] ?? null;
        if (v !== null && o !== null && v !== o) {
          throw new ShapeError(
            `${this.name} expected inputs matching except on axis ${this.axis}, got ${shapes.map(fmtShapeLike).join(', ')}`,
          );
        }
        if (o === null) out[i] = v;
      }
      const d = s[a] ?? null;
      total = total === null || d === null ? null : total + d;
    }
    out[a] = total;
    return out;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

registerLayer('Add', (c) => new Add(c));
registerLayer('Subtract', (c) => new Subtract(c));
registerLayer('Multiply', (c) => new Multiply(c));
registerLayer('Average', (c) => new Average(c));
registerLayer('Maximum', (c) => new Maximum(c));
registerLayer('Minimum', (c) => new Minimum(c));
registerLayer('Concatenate', (c) => new Concatenate(c as ConcatenateArgs));

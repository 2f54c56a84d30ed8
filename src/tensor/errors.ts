/**
 * Typed errors. Every message names the op or field, what it received and what it expected,
 * so a user (or a server answering with 4xx) can say exactly what was wrong.
 */
export class TesseraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A shape did not fit: `ShapeError: matmul expected a.shape[1] == b.shape[0], got [2,3] and [4,5]`. */
export class ShapeError extends TesseraError {}

/** A dtype did not fit: `DTypeError: sparseSoftmaxCrossEntropy expected int32 labels, got float32`. */
export class DTypeError extends TesseraError {}

/** An argument had a value outside what the op accepts (negative size, unknown padding, ...). */
export class ValueError extends TesseraError {}

/** A tensor was used after its buffer went back to the pool at the end of an internal scope. */
export class DisposedError extends TesseraError {}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

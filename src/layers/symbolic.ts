/**
 * SymbolicTensor: a placeholder flowing through layers in the functional API
 * (`const x = input({ shape: [784] }); const y = dense.apply(x)`). It records which
 * layer made it and from which inputs, so `model({ inputs, outputs })` can walk the graph.
 */
import type { DType } from '../tensor/dtype.js';
import type { Layer, ShapeLike } from './layer.js';

let nextId = 0;

export class SymbolicTensor {
  readonly id = nextId++;
  constructor(
    /** Shape with null for unknown dims (batch first). */
    readonly shape: ShapeLike,
    readonly dtype: DType,
    /** The layer that produced it (an InputLayer for model inputs). */
    readonly sourceLayer: Layer,
    /** The symbolic inputs of that layer call (empty for an input). */
    readonly inputs: readonly SymbolicTensor[],
    /** Which output of a multi-output layer this is. */
    readonly outputIndex: number,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
}

/** Every op family; importing this module also attaches the chainable Tensor methods. */
import { setGradientAccumulator } from '../autograd/tape.js';
import { add } from './arithmetic.js';

export * from './activations.js';
export * from './arithmetic.js';
export * from './bias.js';
export * from './compare.js';
export * from './conv.js';
export * from './conv-pool.js';
export * from './losses.js';
export * from './math.js';
export * from './matmul.js';
export * from './pool.js';
export * from './random-ops.js';
export * from './reduce.js';
export * from './shape-ops.js';

setGradientAccumulator(add);

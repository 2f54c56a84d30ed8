/**
 * Tessera: tensors, autograd, native CPU kernels, Keras-style models and a model server.
 * Everything public is exported from here: `import { tensor, matmul, sequential } from 'tessera'`.
 */

export { grad, gradients, grads, type ValueAndGrads, valueAndGrad, variableGrads } from './autograd/tape.js';
export { type BackendName, getBackend, hasNativeBackend, setBackend } from './backend/index.js';
export * from './data/index.js';
export * from './io/index.js';
export * from './layers/index.js';
export * from './model/index.js';
export * from './ops/index.js';
export * from './serve/index.js';
export * from './tensor/creation.js';
export * from './tensor/dtype.js';
export { type EngineStats, engineStats, noGrad } from './tensor/engine.js';
export * from './tensor/errors.js';
export { Random, setSeed } from './tensor/random.js';
export { broadcastShapes } from './tensor/shape.js';
export { type GradNode, isTensor, type NestedArray, Tensor, Variable } from './tensor/tensor.js';

/**
 * Tessera: tensors, autograd, native CPU kernels, Keras-style models and a model server.
 * Everything public is exported from here: `import { tensor, matmul, sequential } from 'tessera'`.
 */
export * from './tensor/dtype.js';
export * from './tensor/errors.js';
export { setSeed, Random } from './tensor/random.js';
export * from './tensor/creation.js';
export { Tensor, Variable, isTensor, type NestedArray, type GradNode } from './tensor/tensor.js';
export { noGrad, engineStats, type EngineStats } from './tensor/engine.js';
export { broadcastShapes } from './tensor/shape.js';
export { getBackend, setBackend, hasNativeBackend, type BackendName } from './backend/index.js';
export { gradients, grad, grads, valueAndGrad, variableGrads, type ValueAndGrads } from './autograd/tape.js';
export * from './ops/index.js';

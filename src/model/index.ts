/**
 * Models and training: sequential / functional models, compile / fit / evaluate / predict,
 * callbacks, and the optimizers, losses and metrics namespaces.
 */
export * from './callbacks/index.js';
export type { CompileArgs, LossId, MetricId, OptimizerId } from './compile.js';
export type { TensorOrList } from './data.js';
export { Functional, type FunctionalArgs, model } from './functional.js';
export { History } from './history.js';
export * from './losses/index.js';
export * from './metrics/index.js';
export { type EvaluateArgs, type FitArgs, Model, type PredictArgs, type Prediction } from './model.js';
export * from './optimizers/index.js';
export type { ProgressStream } from './progress.js';
export { Sequential, type SequentialArgs, sequential } from './sequential.js';
export type { DatasetElement, FitDataset } from './training.js';

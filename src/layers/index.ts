/**
 * Keras-style layers. Classes (Dense, Conv2D, ...) plus the `layers` namespace of factories with
 * Keras-JS names, and the `initializers`, `regularizers`, `constraints` namespaces.
 * Factories whose names would clash with ops (add, maximum, dropout, ...) live only in `layers`.
 * @example
 * const x = input({ shape: [28, 28, 1] });
 * const h = layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(x);
 */

import {
  Conv1D,
  Conv2D,
  type ConvArgs,
  DepthwiseConv2D,
  type DepthwiseConv2DArgs,
  SeparableConv2D,
  type SeparableConv2DArgs,
} from './conv.js';
import {
  Activation,
  type ActivationArgs,
  Dense,
  type DenseArgs,
  Dropout,
  type DropoutArgs,
  Flatten,
  InputLayer,
  type InputLayerArgs,
  input,
  Permute,
  type PermuteArgs,
  RepeatVector,
  Reshape,
  type ReshapeArgs,
} from './core.js';
import type { LayerArgs } from './layer.js';
import { Add, Average, Concatenate, type ConcatenateArgs, Maximum, Minimum, Multiply, Subtract } from './merge.js';
import {
  BatchNormalization,
  type BatchNormalizationArgs,
  LayerNormalization,
  type LayerNormalizationArgs,
} from './normalization.js';
import {
  AveragePooling1D,
  AveragePooling2D,
  GlobalAveragePooling1D,
  GlobalAveragePooling2D,
  GlobalMaxPooling1D,
  GlobalMaxPooling2D,
  type GlobalPoolingArgs,
  MaxPooling1D,
  MaxPooling2D,
  type Pooling1DArgs,
  type Pooling2DArgs,
} from './pooling.js';
import { sequenceLayers } from './recurrent-index.js';
import {
  Cropping2D,
  type Cropping2DArgs,
  UpSampling2D,
  type UpSampling2DArgs,
  ZeroPadding2D,
  type ZeroPadding2DArgs,
} from './reshaping.js';

export * from './activations.js';
export * from './constraints.js';
export * from './conv.js';
export * from './core.js';
export * from './initializers.js';
export * from './layer.js';
export * from './merge.js';
export * from './normalization.js';
export * from './pooling.js';
export * from './recurrent-index.js';
export * from './regularizers.js';
export * from './reshaping.js';
export { SymbolicTensor } from './symbolic.js';

/**
 * Layer factories with Keras-JS (tfjs) names: `layers.dense({ units: 10 })` is `new Dense({ units: 10 })`.
 * @example
 * const model = [layers.dense({ units: 64, activation: 'relu', inputShape: [100] }), layers.dropout({ rate: 0.5 }), layers.dense({ units: 10 })];
 */
export const layers = {
  ...sequenceLayers,
  input,
  inputLayer: (args: InputLayerArgs) => new InputLayer(args),
  dense: (args: DenseArgs) => new Dense(args),
  activation: (args: ActivationArgs) => new Activation(args),
  dropout: (args: DropoutArgs) => new Dropout(args),
  flatten: (args: LayerArgs = {}) => new Flatten(args),
  reshape: (args: ReshapeArgs) => new Reshape(args),
  permute: (args: PermuteArgs) => new Permute(args),
  repeatVector: (args: LayerArgs & { n: number }) => new RepeatVector(args),
  conv1d: (args: ConvArgs) => new Conv1D(args),
  conv2d: (args: ConvArgs) => new Conv2D(args),
  depthwiseConv2d: (args: DepthwiseConv2DArgs) => new DepthwiseConv2D(args),
  separableConv2d: (args: SeparableConv2DArgs) => new SeparableConv2D(args),
  maxPooling1d: (args: Pooling1DArgs = {}) => new MaxPooling1D(args),
  maxPooling2d: (args: Pooling2DArgs = {}) => new MaxPooling2D(args),
  averagePooling1d: (args: Pooling1DArgs = {}) => new AveragePooling1D(args),
  averagePooling2d: (args: Pooling2DArgs = {}) => new AveragePooling2D(args),
  globalAveragePooling1d: (args: GlobalPoolingArgs = {}) => new GlobalAveragePooling1D(args),
  globalAveragePooling2d: (args: GlobalPoolingArgs = {}) => new GlobalAveragePooling2D(args),
  globalMaxPooling1d: (args: GlobalPoolingArgs = {}) => new GlobalMaxPooling1D(args),
  globalMaxPooling2d: (args: GlobalPoolingArgs = {}) => new GlobalMaxPooling2D(args),
  batchNormalization: (args: BatchNormalizationArgs = {}) => new BatchNormalization(args),
  layerNormalization: (args: LayerNormalizationArgs = {}) => new LayerNormalization(args),
  zeroPadding2d: (args: ZeroPadding2DArgs = {}) => new ZeroPadding2D(args),
  upSampling2d: (args: UpSampling2DArgs = {}) => new UpSampling2D(args),
  cropping2d: (args: Cropping2DArgs = {}) => new Cropping2D(args),
  add: (args: LayerArgs = {}) => new Add(args),
  subtract: (args: LayerArgs = {}) => new Subtract(args),
  multiply: (args: LayerArgs = {}) => new Multiply(args),
  average: (args: LayerArgs = {}) => new Average(args),
  maximum: (args: LayerArgs = {}) => new Maximum(args),
  minimum: (args: LayerArgs = {}) => new Minimum(args),
  concatenate: (args: ConcatenateArgs = {}) => new Concatenate(args),
};

/**
 * The two seed programs' models (the Keras "hello world" pair), shared by `tessera demo` and
 * bench/train.ts. examples/seed-dense.ts and examples/seed-cnn.ts spell the same thing out
 * against the public API.
 */
import { layers } from '../layers/index.js';
import type { Model } from '../model/model.js';
import { sequential } from '../model/sequential.js';

/** dense 64 relu [100] -> dense 64 relu -> dense 10 softmax (MNIST downsampled to 10x10). */
export function seedDenseModel(): Model {
  return sequential([
    layers.dense({ units: 64, activation: 'relu', inputShape: [100] }),
    layers.dense({ units: 64, activation: 'relu' }),
    layers.dense({ units: 10, activation: 'softmax' }),
  ]);
}

/** conv 32 3x3 relu -> maxpool 2 -> conv 64 3x3 relu -> maxpool 2 -> flatten -> dense 64 relu -> dense 10 softmax. */
export function seedCnnModel(): Model {
  return sequential([
    layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    layers.maxPooling2d({ poolSize: 2 }),
    layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    layers.maxPooling2d({ poolSize: 2 }),
    layers.flatten(),
    layers.dense({ units: 64, activation: 'relu' }),
    layers.dense({ units: 10, activation: 'softmax' }),
  ]);
}

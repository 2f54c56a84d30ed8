/** Datasets and input pipelines: `Dataset`, `tensorDataset`, and the `datasets` namespace. */
import { mnistFromIdx, readIdx } from './idx.js';
import { iris } from './iris.js';
import { mnist } from './mnist.js';

export {
  type Batched,
  type BatchOptions,
  collate,
  Dataset,
  fromArrays,
  type ShuffleOptions,
  sliceRows,
  takeRows,
  tensorDataset,
} from './dataset.js';
export { IdxError, mnistFromIdx, parseIdx, readIdx } from './idx.js';
export type { IrisData } from './iris.js';
export { MNIST_TEST_FRACTION, type MnistData, type MnistOptions } from './mnist.js';

/**
 * Built-in data sets (all local: nothing is downloaded).
 * @example
 * const { xTrain, yTrain, xTest, yTest } = datasets.mnist();   // 8,000 / 2,000 fixed split
 * const { x, y } = datasets.iris();
 */
export const datasets = { mnist, iris, mnistFromIdx, readIdx };

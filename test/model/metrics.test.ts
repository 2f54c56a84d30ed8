import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random, ShapeError, type Tensor, tensor, ValueError } from 'tessera';
import { getMetric, type Metric, metrics } from '../../src/model/metrics/index.js';
import { assertClose } from '../helpers/gradcheck.js';

function close(actual: number, expected: number, tol = 1e-6, what = 'metric') {
  assertClose([actual], [expected], tol, what);
}

/** Result after feeding the batches in order. */
function run(m: Metric, batches: [Tensor, Tensor, Tensor?][]): number {
  m.resetState();
  for (const [t, p, w] of batches) m.updateState(t, p, w ?? null);
  return m.result();
}

describe('accuracy metrics', () => {
  it('binaryAccuracy with the default and a custom threshold, [batch] or [batch, 1]', () => {
    const t = tensor([1, 0, 1, 0]);
    const p = tensor([0.8, 0.6, 0.4, 0.1]);
    close(run(metrics.binaryAccuracy(), [[t, p]]), 0.5);
    close(run(metrics.binaryAccuracy({ threshold: 0.3 }), [[t, p]]), 0.75);
    close(run(metrics.binaryAccuracy(), [[tensor([[1], [0], [1], [0]]), tensor([[0.8], [0.6], [0.4], [0.1]])]]), 0.5);
    assert.equal(metrics.binaryAccuracy().name, 'binary_accuracy');
  });

  it('streaming over two batches equals one batch; resetState clears', () => {
    const m = metrics.binaryAccuracy();
    const one = run(m, [[tensor([1, 0, 1, 0, 1]), tensor([0.8, 0.6, 0.4, 0.1, 0.9])]]);
    const two = run(m, [
      [tensor([1, 0]), tensor([0.8, 0.6])],
      [tensor([1, 0, 1]), tensor([0.4, 0.1, 0.9])],
    ]);
    close(one, 0.6);
    close(two, one);
    m.resetState();
    assert.equal(m.result(), 0);
  });

  it('sample weights weight each sample', () => {
    // correct: [1, 0, 0, 1], weights [1, 1, 3, 0] -> 1 / 5
    const r = run(metrics.binaryAccuracy(), [
      [tensor([1, 0, 1, 0]), tensor([0.8, 0.6, 0.4, 0.1]), tensor([1, 1, 3, 0])],
    ]);
    close(r, 0.2);
    assert.throws(
      () => metrics.binaryAccuracy().updateState(tensor([1, 0, 1]), tensor([1, 0, 1]), tensor([1, 2])),
      ShapeError,
    );
  });

  const oneHot = tensor([
    [0, 1, 0],
    [1, 0, 0],
    [0, 0, 1],
  ]);
  const probs = tensor([
    [0.1, 0.8, 0.1],
    [0.3, 0.6, 0.1],
    [0.2, 0.2, 0.6],
  ]);

  it('categoricalAccuracy and sparseCategoricalAccuracy', () => {
    close(run(metrics.categoricalAccuracy(), [[oneHot, probs]]), 2 / 3);
    close(run(metrics.sparseCategoricalAccuracy(), [[tensor([1, 0, 2], [3], 'int32'), probs]]), 2 / 3);
    close(run(metrics.sparseCategoricalAccuracy(), [[tensor([[1], [0], [2]]), probs]]), 2 / 3);
    // weighted: only the wrong row counts
    close(run(metrics.sparseCategoricalAccuracy(), [[tensor([1, 0, 2], [3], 'int32'), probs, tensor([0, 1, 0])]]), 0);
    assert.throws(() => metrics.sparseCategoricalAccuracy().updateState(tensor([1, 0]), probs), ShapeError);
  });

  it('top-k accuracies', () => {
    close(run(metrics.topKCategoricalAccuracy({ k: 1 }), [[oneHot, probs]]), 2 / 3);
    close(run(metrics.topKCategoricalAccuracy({ k: 2 }), [[oneHot, probs]]), 1);
    close(run(metrics.sparseTopKCategoricalAccuracy({ k: 1 }), [[tensor([1, 0, 2], [3], 'int32'), probs]]), 2 / 3);
    // k 2: row 0 label 1 (0.8) in, row 1 label 2 (lowest) out, row 2 label 2 (0.6) in
    close(run(metrics.sparseTopKCategoricalAccuracy({ k: 2 }), [[tensor([1, 2, 2], [3], 'int32'), probs]]), 2 / 3);
    // ties count as in (in_top_k): row 0 label 0 scores 0.1 like class 2, only 0.8 is higher
    close(
      run(metrics.sparseTopKCategoricalAccuracy({ k: 2 }), [[tensor([0], [1], 'int32'), tensor([[0.1, 0.8, 0.1]])]]),
      1,
    );
    assert.throws(() => metrics.topKCategoricalAccuracy({ k: 0 }), ValueError);
  });
});

describe('regression metrics', () => {
  const t = tensor([
    [0, 1],
    [2, 2],
  ]);
  const p = tensor([
    [1, 1],
    [2, 4],
  ]);

  it('mse / mae / rmse / mape', () => {
    close(run(metrics.meanSquaredError(), [[t, p]]), 1.25);
    close(run(metrics.meanAbsoluteError(), [[t, p]]), 0.75);
    close(run(metrics.rootMeanSquaredError(), [[t, p]]), Math.sqrt(1.25));
    close(run(metrics.meanAbsolutePercentageError(), [[tensor([[2, 4]]), tensor([[1, 5]])]]), 37.5, 1e-5);
    assert.equal(metrics.mse().name, 'mse');
    assert.equal(metrics.rmse().name, 'rmse');
  });

  it('weighted and streaming', () => {
    // per-sample mse [0.5, 2], weights [1, 3]
    close(run(metrics.meanSquaredError(), [[t, p, tensor([1, 3])]]), (0.5 + 6) / 4);
    const twoBatches = run(metrics.rootMeanSquaredError(), [
      [tensor([[0, 1]]), tensor([[1, 1]])],
      [tensor([[2, 2]]), tensor([[2, 4]])],
    ]);
    close(twoBatches, Math.sqrt(1.25));
  });

  it('mean: running weighted mean of numbers or tensors', () => {
    const m = metrics.mean({ name: 'loss' });
    m.updateState(0.5);
    m.updateState(1.5);
    close(m.result(), 1);
    m.updateState(4, 2); // weight 2
    close(m.result(), (0.5 + 1.5 + 8) / 4);
    m.resetState();
    m.updateState(tensor([1, 2, 3]), tensor([1, 0, 1]));
    close(m.result(), 2);
    assert.equal(m.name, 'loss');
  });
});

describe('precision / recall / f1', () => {
  // pred > 0.5 at 0, 1, 3, 6, 7: TP {0, 1, 6} = 3, FP {3, 7} = 2, FN {2} = 1, TN {4, 5} = 2
  const t = tensor([1, 1, 1, 0, 0, 0, 1, 0]);
  const p = tensor([0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.6, 0.55]);

  it('on a known confusion matrix', () => {
    close(run(metrics.precision(), [[t, p]]), 3 / 5);
    close(run(metrics.recall(), [[t, p]]), 3 / 4);
    close(run(metrics.f1Score(), [[t, p]]), 2 / 3);
    // threshold 0.75: positives {0, 1}: TP 2, FP 0, FN 2
    close(run(metrics.precision({ thresholds: 0.75 }), [[t, p]]), 1);
    close(run(metrics.recall({ thresholds: [0.75] }), [[t, p]]), 0.5);
  });

  it('streaming, weights, classId and the empty case', () => {
    const halves = run(metrics.precision(), [
      [tensor([1, 1, 1, 0]), tensor([0.9, 0.8, 0.3, 0.7])],
      [tensor([0, 0, 1, 0]), tensor([0.2, 0.1, 0.6, 0.55])],
    ]);
    close(halves, 3 / 5);
    // weight 3 on the false positive at index 3: TP 3, FP 3 + 1 = 4
    const w = tensor([1, 1, 1, 3, 1, 1, 1, 1]);
    close(run(metrics.precision(), [[t, p, w]]), 3 / 7);
    const two = tensor([
      [1, 0],
      [0, 1],
      [0, 1],
    ]);
    const scores = tensor([
      [0.9, 0.8],
      [0.2, 0.7],
      [0.7, 0.1],
    ]);
    // class 1 column: truth [0, 1, 1], pred [0.8, 0.7, 0.1] -> TP 1, FP 1, FN 1
    close(run(metrics.precision({ classId: 1 }), [[two, scores]]), 0.5);
    close(run(metrics.recall({ classId: 1 }), [[two, scores]]), 0.5);
    assert.equal(run(metrics.precision(), [[tensor([1, 0]), tensor([0.1, 0.2])]]), 0);
    assert.throws(() => metrics.precision({ classId: 5 }).updateState(two, scores), /classId 5/);
  });
});

describe('AUC', () => {
  it('perfect, inverted and a hand-worked ranking', () => {
    const t = tensor([0, 0, 1, 1]);
    close(run(metrics.auc(), [[t, tensor([0.1, 0.2, 0.8, 0.9])]]), 1, 1e-6);
    close(run(metrics.auc(), [[t, tensor([0.9, 0.8, 0.2, 0.1])]]), 0, 1e-6);
    // positives {0.4, 0.8}, negatives {0.1, 0.6}: 3 of 4 pairs ranked right
    close(run(metrics.auc(), [[tensor([0, 1, 0, 1]), tensor([0.1, 0.4, 0.6, 0.8])]]), 0.75, 1e-6);
    close(run(metrics.auc({ curve: 'PR' }), [[t, tensor([0.1, 0.2, 0.8, 0.9])]]), 1, 1e-6);
  });

  it('a random classifier scores about 0.5 (ROC) and the positive rate (PR)', () => {
    const r = new Random(123);
    const n = 4000;
    const labels = new Float32Array(n);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = r.next() < 0.3 ? 1 : 0;
      scores[i] = r.next();
    }
    const roc = run(metrics.auc(), [[tensor(labels), tensor(scores)]]);
    assert.ok(Math.abs(roc - 0.5) < 0.04, `random ROC AUC ${roc}`);
    const pr = run(metrics.auc({ curve: 'PR' }), [[tensor(labels), tensor(scores)]]);
    assert.ok(Math.abs(pr - 0.3) < 0.05, `random PR AUC ${pr}`);
  });

  it('streams over batches and weights like repeated samples', () => {
    const t = tensor([0, 1, 0, 1, 1, 0]);
    const p = tensor([0.3, 0.4, 0.6, 0.8, 0.2, 0.1]);
    const one = run(metrics.auc(), [[t, p]]);
    const two = run(metrics.auc(), [
      [tensor([0, 1, 0]), tensor([0.3, 0.4, 0.6])],
      [tensor([1, 1, 0]), tensor([0.8, 0.2, 0.1])],
    ]);
    close(two, one, 1e-9);
    const weighted = run(metrics.auc(), [[t, p, tensor([1, 1, 2, 1, 1, 1])]]);
    const repeated = run(metrics.auc(), [[tensor([0, 1, 0, 1, 1, 0, 0]), tensor([0.3, 0.4, 0.6, 0.8, 0.2, 0.1, 0.6])]]);
    close(weighted, repeated, 1e-9);
    assert.throws(() => metrics.auc({ numThresholds: 1 }), ValueError);
    assert.throws(() => metrics.auc({ curve: 'XY' as 'ROC' }), /curve/);
  });
});

describe('getMetric', () => {
  // Binary and categorical accuracy disagree on this batch: binary 0.5, categorical 1.
  const t = tensor([[0, 1]]);
  const p = tensor([[0.6, 0.9]]);

  it("'accuracy' follows the loss and output shape, keeping the name", () => {
    const bin = getMetric('accuracy', { lossName: 'binary_crossentropy', outputShape: [null, 2] });
    assert.equal(bin.name, 'accuracy');
    close(run(bin, [[t, p]]), 0.5);
    const cat = getMetric('accuracy', { lossName: 'categorical_crossentropy', outputShape: [null, 2] });
    close(run(cat, [[t, p]]), 1);
    const sparse = getMetric('acc', { lossName: 'SparseCategoricalCrossentropy', outputShape: [null, 2] });
    assert.equal(sparse.name, 'acc');
    close(run(sparse, [[tensor([0], [1], 'int32'), p]]), 0);
    // one output unit means binary whatever the loss
    const oneUnit = getMetric('accuracy', { lossName: 'mse', outputShape: [null, 1] });
    close(run(oneUnit, [[tensor([[1], [0]]), tensor([[0.7], [0.7]])]]), 0.5);
  });

  it("'crossentropy' resolves like accuracy", () => {
    const ce = getMetric('crossentropy', { lossName: 'sparse_categorical_crossentropy', outputShape: [null, 2] });
    close(run(ce, [[tensor([1], [1], 'int32'), tensor([[0.2, 0.8]])]]), -Math.log(0.8), 1e-5);
  });

  it('resolves other names and passes metrics through', () => {
    const ctx = { lossName: 'mse', outputShape: [null, 3] };
    const mse = getMetric('mse', ctx);
    assert.equal(mse.name, 'mse');
    close(run(mse, [[tensor([[0, 1]]), tensor([[1, 1]])]]), 0.5);
    assert.equal(getMetric('mean_absolute_error', ctx).name, 'mean_absolute_error');
    assert.equal(getMetric('AUC', ctx).name, 'AUC');
    assert.equal(getMetric('sparse_top_k_categorical_accuracy', ctx).name, 'sparse_top_k_categorical_accuracy');
    const m = metrics.recall();
    assert.equal(getMetric(m, ctx), m);
    assert.throws(() => getMetric('accuracyy', ctx), /unknown metric 'accuracyy'/);
  });
});

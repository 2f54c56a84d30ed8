import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShapeError, sigmoid, softmax, type Tensor, tensor, ValueError } from 'tessera';
import { getLoss, losses } from '../../src/model/losses/index.js';
import { assertClose, gradCheck } from '../helpers/gradcheck.js';

const vals = (t: Tensor) => Array.from(t.dataSync() as Float32Array);
const ln = Math.log;

describe('regression losses (per sample, mean over the last axis)', () => {
  it('meanSquaredError / meanAbsoluteError', () => {
    const t = tensor([
      [0, 1],
      [1, 1],
    ]);
    const p = tensor([
      [1, 1],
      [1, 3],
    ]);
    const mse = losses.meanSquaredError()(t, p);
    assert.deepEqual(mse.shape, [2]);
    assertClose(vals(mse), [0.5, 2]);
    assertClose(vals(losses.meanAbsoluteError()(t, p)), [0.5, 1]);
  });

  it('[batch] labels against a [batch, 1] output give [batch] losses (and the other way round)', () => {
    const l = losses.meanSquaredError()(tensor([1, 2, 3]), tensor([[1], [0], [5]]));
    assert.deepEqual(l.shape, [3]);
    assertClose(vals(l), [0, 4, 4]);
    assertClose(vals(losses.meanSquaredError()(tensor([[1], [2]]), tensor([3, 2]))), [4, 0]);
    assert.throws(
      () => losses.meanSquaredError()(tensor([1, 2]), tensor([[1, 2, 3]])),
      (e: Error) => {
        assert.ok(e instanceof ShapeError);
        assert.match(e.message, /mean_squared_error.*\[1, 3\].*\[2\]/);
        return true;
      },
    );
  });

  it('meanAbsolutePercentageError and meanSquaredLogarithmicError', () => {
    assertClose(vals(losses.meanAbsolutePercentageError()(tensor([[2, 4]]), tensor([[1, 5]]))), [37.5], 1e-5);
    assertClose(vals(losses.meanSquaredLogarithmicError()(tensor([[0]]), tensor([[Math.E - 1]]))), [1], 1e-5);
  });

  it('huber: quadratic inside delta, linear outside', () => {
    const t = tensor([[0, 0]]);
    const p = tensor([[0.5, 3]]);
    assertClose(vals(losses.huber()(t, p)), [(0.125 + 2.5) / 2]);
    assertClose(vals(losses.huber({ delta: 2 })(t, p)), [(0.125 + (2 * 3 - 2)) / 2]);
    assert.throws(() => losses.huber({ delta: 0 }), ValueError);
  });

  it('logCosh, stable for large errors', () => {
    const l = losses.logCosh()(tensor([[0, 0]]), tensor([[1, -2]]));
    assertClose(vals(l), [(ln(Math.cosh(1)) + ln(Math.cosh(2))) / 2], 1e-5);
    assertClose(vals(losses.logCosh()(tensor([[0]]), tensor([[200]]))), [200 - Math.LN2], 1e-6);
  });

  it('poisson', () => {
    assertClose(vals(losses.poisson()(tensor([[1, 2]]), tensor([[1, 4]]))), [(1 + 4 - 2 * ln(4)) / 2], 1e-5);
  });
});

describe('probabilistic and margin losses', () => {
  it('kld sums over the last axis, with clipping', () => {
    const l = losses.kld()(tensor([[0.5, 0.5]]), tensor([[0.25, 0.75]]));
    assertClose(vals(l), [0.5 * ln(2) + 0.5 * ln(2 / 3)], 1e-5);
    // yTrue 0 contributes 0 (clipped to 1e-7 * log(1e-7 / p) ~ 0)
    assertClose(vals(losses.kullbackLeiblerDivergence()(tensor([[1, 0]]), tensor([[0.5, 0.5]]))), [ln(2)], 1e-5);
  });

  it('hinge and squaredHinge (0/1 labels converted to -1/1)', () => {
    const p = tensor([[0.5, 0.5]]);
    assertClose(vals(losses.hinge()(tensor([[1, -1]]), p)), [1]);
    assertClose(vals(losses.hinge()(tensor([[1, 0]]), p)), [1]);
    assertClose(vals(losses.squaredHinge()(tensor([[1, -1]]), p)), [1.25]);
  });

  it('categoricalHinge', () => {
    assertClose(vals(losses.categoricalHinge()(tensor([[0, 1]]), tensor([[0.3, 0.6]]))), [0.7], 1e-6);
  });

  it('cosineSimilarity has the Keras sign (aligned = -1)', () => {
    const l = losses.cosineSimilarity()(
      tensor([
        [1, 0],
        [1, 1],
      ]),
      tensor([
        [2, 0],
        [-1, 0],
      ]),
    );
    assertClose(vals(l), [-1, Math.SQRT1_2], 1e-6);
  });
});

describe('crossentropies', () => {
  it('binaryCrossentropy on probabilities', () => {
    assertClose(
      vals(losses.binaryCrossentropy()(tensor([[1], [0]]), tensor([[0.9], [0.2]]))),
      [-ln(0.9), -ln(0.8)],
      1e-5,
    );
    assertClose(
      vals(losses.binaryCrossentropy()(tensor([[1, 0]]), tensor([[0.9, 0.2]]))),
      [(-ln(0.9) - ln(0.8)) / 2],
      1e-5,
    );
    // probabilities clipped to [1e-7, 1 - 1e-7]
    assertClose(vals(losses.binaryCrossentropy()(tensor([[1]]), tensor([[0]]))), [-ln(1e-7)], 1e-4);
  });

  it('binaryCrossentropy fromLogits equals the probability version, and is stable at extreme logits', () => {
    const z = tensor([[0, 1, 1]]);
    const x = tensor([[-2, 0.5, 3]]);
    const a = losses.binaryCrossentropy({ fromLogits: true })(z, x);
    const b = losses.binaryCrossentropy()(z, sigmoid(x));
    assertClose(vals(a), vals(b), 1e-5);
    const extreme = losses.binaryCrossentropy({ fromLogits: true })(tensor([[0, 1]]), tensor([[100, -100]]));
    assertClose(vals(extreme), [100], 1e-6);
    const right = losses.binaryCrossentropy({ fromLogits: true })(tensor([[1, 0]]), tensor([[100, -100]]));
    assertClose(vals(right), [0], 1e-6);
    assert.equal(losses.binaryCrossentropy({ fromLogits: true }).fromLogits, true);
  });

  it('binaryCrossentropy label smoothing: z (1 - s) + s / 2', () => {
    const l = losses.binaryCrossentropy({ labelSmoothing: 0.2 })(tensor([[1]]), tensor([[0.6]]));
    assertClose(vals(l), [-(0.9 * ln(0.6) + 0.1 * ln(0.4))], 1e-5);
  });

  it('categoricalCrossentropy on (unnormalised) probabilities', () => {
    const t = tensor([[0, 1, 0]]);
    assertClose(vals(losses.categoricalCrossentropy()(t, tensor([[0.2, 0.7, 0.1]]))), [-ln(0.7)], 1e-5);
    assertClose(vals(losses.categoricalCrossentropy()(t, tensor([[0.4, 1.4, 0.2]]))), [-ln(0.7)], 1e-5);
  });

  it('categoricalCrossentropy fromLogits equals softmax + probabilities; stable; label smoothing', () => {
    const t = tensor([
      [0, 1, 0],
      [0.2, 0.3, 0.5],
    ]);
    const x = tensor([
      [1, 2, -1],
      [0, 3, 1],
    ]);
    const a = losses.categoricalCrossentropy({ fromLogits: true })(t, x);
    assert.deepEqual(a.shape, [2]);
    assertClose(vals(a), vals(losses.categoricalCrossentropy()(t, softmax(x))), 1e-5);
    const extreme = losses.categoricalCrossentropy({ fromLogits: true })(tensor([[0, 1]]), tensor([[1000, -1000]]));
    assertClose(vals(extreme), [2000], 1e-6);
    const s = losses.categoricalCrossentropy({ labelSmoothing: 0.3 })(tensor([[0, 1, 0]]), tensor([[0.25, 0.5, 0.25]]));
    // smoothed labels [0.1, 0.8, 0.1]
    assertClose(vals(s), [-(0.2 * ln(0.25) + 0.8 * ln(0.5))], 1e-5);
  });

  it('sparseCategoricalCrossentropy: int32 or float labels, [batch] or [batch, 1]', () => {
    const p = tensor([
      [0.2, 0.8],
      [0.6, 0.4],
    ]);
    const want = [-ln(0.8), -ln(0.6)];
    assertClose(vals(losses.sparseCategoricalCrossentropy()(tensor([1, 0], [2], 'int32'), p)), want, 1e-5);
    assertClose(vals(losses.sparseCategoricalCrossentropy()(tensor([[1], [0]]), p)), want, 1e-5);
    assertClose(vals(losses.sparseCategoricalCrossentropy()(tensor([1, 0]), p)), want, 1e-5);
    // probability 0 of the true class is clipped to 1e-7
    assertClose(
      vals(losses.sparseCategoricalCrossentropy()(tensor([0], [1], 'int32'), tensor([[0, 1]]))),
      [-ln(1e-7)],
      1e-4,
    );
    assert.throws(
      () => losses.sparseCategoricalCrossentropy()(tensor([2], [1], 'int32'), tensor([[0.5, 0.5]])),
      /label 2/,
    );
    assert.throws(() => losses.sparseCategoricalCrossentropy()(tensor([1, 0, 1], [3], 'int32'), p), ShapeError);
  });

  it('sparseCategoricalCrossentropy fromLogits equals the probability version and is stable', () => {
    const labels = tensor([2, 0, 1], [3], 'int32');
    const x = tensor([
      [1, 2, 3],
      [0.5, -1, 0],
      [4, 4, 4],
    ]);
    const a = losses.sparseCategoricalCrossentropy({ fromLogits: true })(labels, x);
    assertClose(vals(a), vals(losses.sparseCategoricalCrossentropy()(labels, softmax(x))), 1e-5);
    assertClose(
      vals(losses.sparseCategoricalCrossentropy({ fromLogits: true })(tensor([[1]]), tensor([[500, -500]]))),
      [1000],
      1e-6,
    );
  });
});

describe('gradients of losses (finite differences)', () => {
  const t2 = tensor([
    [0.2, 0.9, 0.4],
    [0.7, 0.1, 0.6],
  ]);
  const p2 = tensor([
    [0.5, 0.3, 0.8],
    [0.35, 0.65, 0.15],
  ]);
  const cases: [string, () => (t: Tensor, p: Tensor) => Tensor, Tensor, Tensor][] = [
    ['mse', () => losses.meanSquaredError(), t2, p2],
    ['mae', () => losses.meanAbsoluteError(), t2, p2],
    ['mape', () => losses.meanAbsolutePercentageError(), t2, p2],
    ['msle', () => losses.meanSquaredLogarithmicError(), t2, p2],
    ['huber', () => losses.huber({ delta: 0.3 }), t2, p2],
    ['logCosh', () => losses.logCosh(), t2, p2],
    ['kld', () => losses.kld(), t2, p2],
    ['poisson', () => losses.poisson(), t2, p2],
    ['hinge', () => losses.hinge(), tensor([[1, -1, 1]]), tensor([[0.3, -0.2, 1.5]])],
    ['squaredHinge', () => losses.squaredHinge(), tensor([[1, -1, 1]]), tensor([[0.3, 0.2, -0.5]])],
    ['categoricalHinge', () => losses.categoricalHinge(), tensor([[0, 1, 0]]), tensor([[0.3, 0.6, 0.1]])],
    ['cosineSimilarity', () => losses.cosineSimilarity(), t2, p2],
    ['binaryCrossentropy', () => losses.binaryCrossentropy(), t2, p2],
    [
      'binaryCrossentropy logits',
      () => losses.binaryCrossentropy({ fromLogits: true }),
      t2,
      tensor([
        [-2, 0.5, 3],
        [1, -0.7, 0.2],
      ]),
    ],
    ['categoricalCrossentropy', () => losses.categoricalCrossentropy(), t2, p2],
    ['categoricalCrossentropy logits', () => losses.categoricalCrossentropy({ fromLogits: true }), t2, p2],
    ['sparse CE', () => losses.sparseCategoricalCrossentropy(), tensor([2, 0], [2], 'int32'), p2],
    [
      'sparse CE logits',
      () => losses.sparseCategoricalCrossentropy({ fromLogits: true }),
      tensor([2, 0], [2], 'int32'),
      p2,
    ],
  ];
  for (const [name, make, t, p] of cases) {
    it(name, () => {
      const loss = make();
      gradCheck((yPred) => loss(t, yPred), [p], { eps: 1e-3 });
    });
  }
});

describe('getLoss', () => {
  it('resolves snake_case, camelCase, class names and short aliases', () => {
    for (const id of ['mse', 'mean_squared_error', 'meanSquaredError', 'MeanSquaredError']) {
      assert.equal(getLoss(id).name, 'mean_squared_error', id);
    }
    assert.equal(getLoss('sparse_categorical_crossentropy').name, 'sparse_categorical_crossentropy');
    assert.equal(getLoss('mae').name, 'mean_absolute_error');
    assert.equal(getLoss('binaryCrossentropy').className, 'BinaryCrossentropy');
    assert.equal(getLoss('kl_divergence').name, 'kl_divergence');
    assert.equal(getLoss('huber_loss').name, 'huber_loss');
    assert.throws(() => getLoss('msee'), /unknown loss 'msee'/);
  });

  it('passes loss functions through, wraps plain functions, rebuilds from { className, config }', () => {
    const l = losses.huber({ delta: 2 });
    assert.equal(getLoss(l), l);
    const rebuilt = getLoss({ className: l.className as string, config: l.getConfig() });
    assertClose(vals(rebuilt(tensor([[0]]), tensor([[3]]))), [4]);
    const bce = getLoss({ className: 'BinaryCrossentropy', config: { fromLogits: true } });
    assert.equal(bce.fromLogits, true);
    const custom = getLoss(function myLoss(t: Tensor, p: Tensor) {
      return losses.meanAbsoluteError()(t, p);
    });
    assert.equal(custom.name, 'myLoss');
    assertClose(vals(custom(tensor([[1]]), tensor([[3]]))), [2]);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gradients, tensor } from 'tessera';
import { constraints, Dense, getConstraint, getRegularizer, regularizers } from '../../src/layers/index.js';
import { assertClose } from '../helpers/gradcheck.js';

const w = tensor([
  [1, -2],
  [3, 0.5],
]);

describe('regularizers', () => {
  test('l1 / l2 / l1l2 penalties with Keras default factors 0.01', () => {
    assertClose([regularizers.l1().loss(w).item()], [0.01 * 6.5]);
    assertClose([regularizers.l2().loss(w).item()], [0.01 * (1 + 4 + 9 + 0.25)]);
    assertClose([regularizers.l1l2().loss(w).item()], [0.01 * 6.5 + 0.01 * 14.25]);
    assertClose([regularizers.l2({ l2: 1e-4 }).loss(w).item()], [1e-4 * 14.25], 1e-6);
  });

  test('getRegularizer resolves names and { className, config }; configs round-trip', () => {
    assert.equal(getRegularizer('l2').className, 'L2');
    assert.deepEqual(getRegularizer('l1_l2').getConfig(), { l1: 0.01, l2: 0.01 });
    const r = getRegularizer({ className: 'L1L2', config: { l1: 0.5 } });
    assert.deepEqual(r.getConfig(), { l1: 0.5, l2: 0 });
    assert.deepEqual(getRegularizer({ className: 'L2', config: regularizers.l2({ l2: 3 }).getConfig() }).getConfig(), {
      l2: 3,
    });
    assert.throws(() => getRegularizer('l3'), /unknown regularizer "l3"/);
    assert.throws(() => regularizers.l2({ l2: -1 }), /expected l2 to be a finite number >= 0, got -1/);
  });

  test('the penalty is differentiable: d(l2 * sum(w^2))/dw = 2 * l2 * w', () => {
    const d = new Dense({ units: 2, inputShape: [2], kernelRegularizer: regularizers.l2({ l2: 0.5 }) });
    d.apply(tensor([[1, 1]]));
    d.setWeights([w, tensor([0, 0])]);
    const loss = d.regularizationLoss();
    assert.ok(loss);
    assertClose([loss.item()], [0.5 * 14.25]);
    const [g] = gradients(loss, [d.kernel!]);
    assertClose(g!.dataSync(), [1, -2, 3, 0.5]);
  });
});

describe('constraints', () => {
  test('maxNorm rescales columns (axis 0) whose norm exceeds maxValue', () => {
    // Column norms: sqrt(1 + 9) = 3.162, sqrt(4 + 0.25) = 2.06.
    const out = constraints.maxNorm({ maxValue: 2 }).apply(w).dataSync();
    const s0 = 2 / (Math.sqrt(10) + 1e-7);
    const s1 = 2 / (Math.sqrt(4.25) + 1e-7);
    assertClose(out, [1 * s0, -2 * s1, 3 * s0, 0.5 * s1], 1e-5);
    const small = constraints.maxNorm({ maxValue: 10 }).apply(w).dataSync();
    assertClose(small, [1, -2, 3, 0.5], 1e-5);
  });

  test('nonNeg zeroes negatives; unitNorm normalises along axis; minMaxNorm clamps norms', () => {
    assertClose(constraints.nonNeg().apply(w).dataSync(), [1, 0, 3, 0.5]);
    const u = constraints.unitNorm({ axis: 1 }).apply(w).dataSync();
    assertClose(u, [1 / Math.sqrt(5), -2 / Math.sqrt(5), 3 / Math.sqrt(9.25), 0.5 / Math.sqrt(9.25)], 1e-5);
    const m = constraints.minMaxNorm({ minValue: 2.5, maxValue: 3 }).apply(w).dataSync();
    const s0 = 3 / Math.sqrt(10);
    const s1 = 2.5 / Math.sqrt(4.25);
    assertClose(m, [s0, -2 * s1, 3 * s0, 0.5 * s1], 1e-5);
  });

  test('getConstraint resolves names; layer.applyConstraints projects the weights in place', () => {
    assert.equal(getConstraint('max_norm').className, 'MaxNorm');
    assert.equal(getConstraint('nonNeg').className, 'NonNeg');
    assert.deepEqual(getConstraint({ className: 'MaxNorm', config: { maxValue: 3, axis: [0, 1] } }).getConfig(), {
      maxValue: 3,
      axis: [0, 1],
    });
    assert.throws(() => getConstraint('positive'), /unknown constraint "positive"/);
    const d = new Dense({
      units: 2,
      inputShape: [2],
      kernelConstraint: 'nonNeg',
      biasConstraint: constraints.nonNeg(),
    });
    d.apply(tensor([[1, 1]]));
    d.setWeights([w, tensor([-1, 2])]);
    d.applyConstraints();
    assertClose(d.kernel!.dataSync(), [1, 0, 3, 0.5]);
    assertClose(d.bias!.dataSync(), [0, 2]);
  });
});

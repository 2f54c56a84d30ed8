import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValueError } from 'tessera';
import { scheduleFromConfig, schedules } from '../../src/model/optimizers/index.js';
import { assertClose } from '../helpers/gradcheck.js';

const at = (s: (step: number) => number, steps: number[]) => steps.map((t) => s(t));

describe('learning-rate schedules', () => {
  it('exponentialDecay, continuous and staircase', () => {
    const s = schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    assertClose(at(s, [0, 5, 10, 20]), [0.1, 0.1 * Math.SQRT1_2, 0.05, 0.025], 1e-9);
    const st = schedules.exponentialDecay({
      initialLearningRate: 0.1,
      decaySteps: 10,
      decayRate: 0.5,
      staircase: true,
    });
    assertClose(at(st, [9, 10, 15, 29]), [0.1, 0.05, 0.05, 0.025], 1e-9);
    assert.equal(s.className, 'ExponentialDecay');
  });

  it('inverseTimeDecay', () => {
    const s = schedules.inverseTimeDecay({ initialLearningRate: 1, decaySteps: 2, decayRate: 0.5 });
    assertClose(at(s, [0, 3, 4]), [1, 1 / 1.75, 0.5], 1e-9);
    const st = schedules.inverseTimeDecay({ initialLearningRate: 1, decaySteps: 2, decayRate: 0.5, staircase: true });
    assertClose(at(st, [1, 3, 4]), [1, 1 / 1.5, 0.5], 1e-9);
  });

  it('polynomialDecay: clamped after decaySteps, or cycling', () => {
    const s = schedules.polynomialDecay({ initialLearningRate: 1, decaySteps: 10, endLearningRate: 0, power: 2 });
    assertClose(at(s, [0, 5, 10, 20]), [1, 0.25, 0, 0], 1e-9);
    const lin = schedules.polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10 });
    // default end 1e-4, power 1
    assertClose(at(lin, [5]), [(0.1 - 1e-4) * 0.5 + 1e-4], 1e-9);
    const cyc = schedules.polynomialDecay({
      initialLearningRate: 1,
      decaySteps: 10,
      endLearningRate: 0,
      power: 2,
      cycle: true,
    });
    // step 15: decay steps stretched to 20 -> (1 - 15/20)^2
    assertClose(at(cyc, [0, 5, 15]), [1, 0.25, 0.0625], 1e-9);
  });

  it('piecewiseConstant: values[i] while step <= boundaries[i]', () => {
    const s = schedules.piecewiseConstant({ boundaries: [10, 20], values: [1, 0.5, 0.1] });
    assert.deepEqual(at(s, [0, 10, 11, 20, 21, 1000]), [1, 1, 0.5, 0.5, 0.1, 0.1]);
    assert.throws(() => schedules.piecewiseConstant({ boundaries: [10], values: [1] }), ValueError);
    assert.throws(() => schedules.piecewiseConstant({ boundaries: [10, 5], values: [1, 2, 3] }), /increasing/);
  });

  it('cosineDecay with alpha', () => {
    const s = schedules.cosineDecay({ initialLearningRate: 1, decaySteps: 10, alpha: 0.1 });
    // 0.5 (1 + cos(pi/2)) = 0.5 -> 0.9 * 0.5 + 0.1
    assertClose(at(s, [0, 5, 10, 100]), [1, 0.55, 0.1, 0.1], 1e-9);
    const plain = schedules.cosineDecay({ initialLearningRate: 2, decaySteps: 4 });
    // step 1: 0.5 (1 + cos(pi/4))
    assertClose(at(plain, [1]), [2 * 0.5 * (1 + Math.SQRT1_2)], 1e-9);
  });

  it('cosineDecay with Keras 3 linear warm-up', () => {
    const s = schedules.cosineDecay({ initialLearningRate: 0, decaySteps: 10, warmupTarget: 1, warmupSteps: 4 });
    // warm-up 0 -> 1 over 4 steps, then cosine from 1 over 10 more steps
    assertClose(at(s, [0, 2, 4, 9, 14, 100]), [0, 0.5, 1, 0.5, 0, 0], 1e-9);
  });

  it('configs round-trip through scheduleFromConfig', () => {
    const all = [
      schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.9, staircase: true }),
      schedules.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.9 }),
      schedules.polynomialDecay({ initialLearningRate: 0.1, decaySteps: 3, power: 0.5, cycle: true }),
      schedules.piecewiseConstant({ boundaries: [2, 4], values: [0.3, 0.2, 0.1] }),
      schedules.cosineDecay({ initialLearningRate: 0.1, decaySteps: 7, alpha: 0.2, warmupTarget: 0.5, warmupSteps: 3 }),
    ];
    for (const s of all) {
      const back = scheduleFromConfig(JSON.parse(JSON.stringify({ className: s.className, config: s.getConfig() })));
      assert.deepEqual(back.getConfig(), s.getConfig());
      assertClose(at(back, [0, 1, 2, 3, 5, 8, 13]), at(s, [0, 1, 2, 3, 5, 8, 13]), 0, s.className);
    }
    assert.throws(() => scheduleFromConfig({ className: 'Nope', config: {} }), /unknown learning-rate schedule 'Nope'/);
  });

  it('rejects bad arguments naming the field', () => {
    assert.throws(
      () => schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 }),
      /decaySteps/,
    );
    assert.throws(
      () => schedules.cosineDecay({ initialLearningRate: 0.1, decaySteps: 5, warmupSteps: -1 }),
      /warmupSteps/,
    );
  });
});

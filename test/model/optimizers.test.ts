import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { div, ShapeError, square, sum, type Tensor, tensor, ValueError, Variable } from 'tessera';
import { getOptimizer, type Optimizer, optimizers, schedules } from '../../src/model/optimizers/index.js';
import { scope } from '../../src/tensor/engine.js';
import { assertClose } from '../helpers/gradcheck.js';

const v = (values: number[], name?: string) => new Variable(tensor(values), name ? { name } : {});
const vals = (t: Tensor) => Array.from(t.dataSync() as Float32Array);

/** Run `steps` updates of f(w) = sum(w^2) / 2 (gradient = w). */
function runQuadratic(opt: Optimizer, w: Variable, steps: number): number[][] {
  const trace: number[][] = [];
  for (let s = 0; s < steps; s++) {
    opt.applyGradients([[w, tensor(vals(w))]]);
    trace.push(vals(w));
  }
  return trace;
}

describe('SGD', () => {
  it('plain: w -= lr * g', () => {
    const w = v([1, 2]);
    const opt = optimizers.sgd({ learningRate: 0.1 });
    opt.applyGradients([[w, tensor([0.5, -1])]]);
    assertClose(vals(w), [0.95, 2.1], 1e-6);
    assert.equal(opt.iterations, 1);
  });

  it('defaults are Keras (lr 0.01, momentum 0, nesterov false)', () => {
    const c = optimizers.sgd().getConfig();
    assert.equal(c.learningRate, 0.01);
    assert.equal(c.momentum, 0);
    assert.equal(c.nesterov, false);
  });

  it('momentum 0.9 lr 0.1 on w^2/2 from w=1 (Keras doc): 0.9, then 0.72', () => {
    // v1 = -0.1 * 1 = -0.1, w1 = 0.9; v2 = 0.9 * -0.1 - 0.1 * 0.9 = -0.18, w2 = 0.72
    const w = v([1]);
    const trace = runQuadratic(optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), w, 3);
    // v3 = 0.9 * -0.18 - 0.1 * 0.72 = -0.234, w3 = 0.486
    assertClose(trace.flat(), [0.9, 0.72, 0.486], 1e-6);
  });

  it('minimize() differentiates the loss: the Keras doc example through autograd', () => {
    const w = v([1]);
    const opt = optimizers.sgd({ learningRate: 0.1, momentum: 0.9 });
    const loss = () => div(sum(square(w)), 2);
    const l0 = opt.minimize(loss, [w]);
    assertClose(vals(l0), [0.5], 1e-7);
    assertClose(vals(w), [0.9], 1e-6);
    opt.minimize(loss, [w]);
    assertClose(vals(w), [0.72], 1e-6);
    const w2 = v([1, 2]);
    assert.throws(() => opt.minimize(() => square(w2), [w2]), /scalar/);
  });

  it('nesterov: w += momentum * v - lr * g', () => {
    const w = v([1]);
    const trace = runQuadratic(optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }), w, 2);
    // step 1: v = -0.1; w = 1 + 0.9 * -0.1 - 0.1 = 0.81
    // step 2: g = 0.81; v = -0.09 - 0.081 = -0.171; w = 0.81 + 0.9 * -0.171 - 0.081 = 0.5751
    assertClose(trace.flat(), [0.81, 0.5751], 1e-6);
  });

  it('weight decay: w -= w * wd * lr before the step', () => {
    const w = v([1, -2]);
    optimizers.sgd({ learningRate: 0.1, weightDecay: 0.1 }).applyGradients([[w, tensor([0, 1])]]);
    // [1 - 0.01, -2 + 0.02 - 0.1]
    assertClose(vals(w), [0.99, -2.08], 1e-6);
  });

  it('excludeFromWeightDecay skips variables by name', () => {
    const k = v([1], 'dense/kernel');
    const b = v([1], 'dense/bias');
    const opt = optimizers.sgd({ learningRate: 0.1, weightDecay: 0.5 });
    opt.excludeFromWeightDecay(['bias']);
    opt.applyGradients([
      [k, tensor([0])],
      [b, tensor([0])],
    ]);
    assertClose([...vals(k), ...vals(b)], [0.95, 1], 1e-6);
  });
});

/** Textbook Adam with Keras's epsilon placement: eps is scaled by sqrt(1 - b2^t) in hat space. */
function adamReference(w0: number, grads: number[], lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-7, wd = 0): number[] {
  let w = w0;
  let m = 0;
  let s = 0;
  const out: number[] = [];
  grads.forEach((g, i) => {
    const t = i + 1;
    w = w * (1 - wd * lr);
    m = b1 * m + (1 - b1) * g;
    s = b2 * s + (1 - b2) * g * g;
    const mHat = m / (1 - b1 ** t);
    const sHat = s / (1 - b2 ** t);
    w -= (lr * mHat) / (Math.sqrt(sHat) + eps / Math.sqrt(1 - b2 ** t));
    out.push(w);
  });
  return out;
}

describe('Adam / AdamW / Adamax / Nadam', () => {
  it('Adam defaults are Keras (0.001, 0.9, 0.999, 1e-7)', () => {
    const c = optimizers.adam().getConfig();
    assert.deepEqual([c.learningRate, c.beta1, c.beta2, c.epsilon, c.amsgrad], [0.001, 0.9, 0.999, 1e-7, false]);
  });

  it('Adam first step moves each weight by about lr * sign(g)', () => {
    const w = v([1, -2, 3]);
    optimizers.adam({ learningRate: 0.1 }).applyGradients([[w, tensor([0.5, -4, 1e-3])]]);
    // alpha = lr * sqrt(1 - 0.999) / 0.1; m = 0.1 g; sqrt(v) = sqrt(0.001) |g| -> step = lr * g / (|g| + eps / sqrt(0.001))
    const step = (g: number) => (0.1 * g) / (Math.abs(g) + 1e-7 / Math.sqrt(0.001));
    assertClose(vals(w), [1 - step(0.5), -2 - step(-4), 3 - step(1e-3)], 1e-6);
  });

  it('Adam three steps on gradients 1, -0.5, 2', () => {
    const w = v([1]);
    const opt = optimizers.adam({ learningRate: 0.01 });
    const got: number[] = [];
    for (const g of [1, -0.5, 2]) {
      opt.applyGradients([[w, tensor([g])]]);
      got.push(vals(w)[0]!);
    }
    assertClose(got, adamReference(1, [1, -0.5, 2], 0.01), 1e-6);
  });

  it('AdamW decays decoupled (default weightDecay 0.004)', () => {
    const opt = optimizers.adamw({ learningRate: 0.1 });
    assert.equal(opt.getConfig().weightDecay, 0.004);
    const w = v([2]);
    const got: number[] = [];
    for (const g of [1, 1]) {
      opt.applyGradients([[w, tensor([g])]]);
      got.push(vals(w)[0]!);
    }
    assertClose(got, adamReference(2, [1, 1], 0.1, 0.9, 0.999, 1e-7, 0.004), 1e-6);
    // with zero gradient only the decay acts... and adam with weightDecay 0 does not decay
    const a = v([2]);
    optimizers.adam({ learningRate: 0.1 }).applyGradients([[a, tensor([0])]]);
    assertClose(vals(a), [2], 1e-7);
  });

  it('amsgrad keeps the running max of v', () => {
    const w = v([0]);
    const opt = optimizers.adam({ learningRate: 0.1, amsgrad: true });
    opt.applyGradients([[w, tensor([1])]]);
    const w1 = vals(w)[0]!;
    opt.applyGradients([[w, tensor([0.01])]]);
    const w2 = vals(w)[0]!;
    // step 2 by hand: m = 0.09 + 0.001 = 0.091; v = 0.999e-3 + 1e-7 = 0.0009991 < vhat = 0.001
    const alpha = (0.1 * Math.sqrt(1 - 0.999 ** 2)) / (1 - 0.9 ** 2);
    assertClose([w2 - w1], [(-alpha * 0.091) / (Math.sqrt(0.001) + 1e-7)], 1e-5);
    const names = opt.getWeights().map((x) => x.name.split('/').pop());
    assert.ok(names.includes('vhat'));
  });

  it('Adamax: m += (g - m)(1 - b1); u = max(b2 u, |g|); w -= lr m / ((1 - b1^t)(u + eps))', () => {
    const w = v([1]);
    const opt = optimizers.adamax({ learningRate: 0.1 });
    opt.applyGradients([[w, tensor([2])]]);
    // m = 0.2, u = 2, w = 1 - 0.1 * 0.2 / (0.1 * 2) = 0.9
    assertClose(vals(w), [0.9], 1e-6);
    opt.applyGradients([[w, tensor([-1])]]);
    // m = 0.18 - 0.1 = 0.08, u = max(1.998, 1) = 1.998, w = 0.9 - 0.1 * 0.08 / (0.19 * 1.998)
    assertClose(vals(w), [0.9 - 0.008 / (0.19 * 1.998)], 1e-6);
  });

  it('Nadam first two steps match the Keras 3 formula', () => {
    const w = v([1]);
    const opt = optimizers.nadam({ learningRate: 0.1 });
    const b1 = 0.9;
    const b2 = 0.999;
    const mu = (t: number) => b1 * (1 - 0.5 * 0.96 ** t);
    let wRef = 1;
    let m = 0;
    let s = 0;
    let prod = 1;
    for (const [i, g] of [1, 0.5].entries()) {
      const t = i + 1;
      opt.applyGradients([[w, tensor([g])]]);
      prod *= mu(t);
      m = b1 * m + (1 - b1) * g;
      s = b2 * s + (1 - b2) * g * g;
      const mHat = (mu(t + 1) * m) / (1 - prod * mu(t + 1)) + ((1 - mu(t)) * g) / (1 - prod);
      wRef -= (0.1 * mHat) / (Math.sqrt(s / (1 - b2 ** t)) + 1e-7);
      assertClose(vals(w), [wRef], 1e-6, `step ${t}`);
    }
    assert.ok(opt.getWeights().some((x) => x.name === 'u_product'));
  });
});

describe('RMSprop / Adagrad / Adadelta', () => {
  it('RMSprop plain, eps inside the sqrt', () => {
    const w = v([1]);
    const opt = optimizers.rmsprop({ learningRate: 0.1 });
    opt.applyGradients([[w, tensor([1])]]);
    // v = 0.1; w = 1 - 0.1 / sqrt(0.1 + 1e-7)
    const w1 = 1 - 0.1 / Math.sqrt(0.1 + 1e-7);
    assertClose(vals(w), [w1], 1e-6);
    opt.applyGradients([[w, tensor([2])]]);
    // v = 0.09 + 0.4 = 0.49; w -= 0.2 / sqrt(0.49 + 1e-7)
    assertClose(vals(w), [w1 - 0.2 / Math.sqrt(0.49 + 1e-7)], 1e-6);
  });

  it('RMSprop centered and with momentum', () => {
    const w = v([1]);
    optimizers.rmsprop({ learningRate: 0.1, centered: true }).applyGradients([[w, tensor([1])]]);
    // v = 0.1, a = 0.1, denom = 0.1 - 0.01 + 1e-7
    assertClose(vals(w), [1 - 0.1 / Math.sqrt(0.09 + 1e-7)], 1e-6);
    const u = v([1]);
    const opt = optimizers.rmsprop({ learningRate: 0.1, momentum: 0.5 });
    opt.applyGradients([[u, tensor([1])]]);
    opt.applyGradients([[u, tensor([1])]]);
    const inc1 = 0.1 / Math.sqrt(0.1 + 1e-7);
    const inc2 = 0.1 / Math.sqrt(0.19 + 1e-7);
    // mom1 = inc1; mom2 = 0.5 inc1 + inc2
    assertClose(vals(u), [1 - inc1 - (0.5 * inc1 + inc2)], 1e-6);
  });

  it('Adagrad: acc starts at 0.1, w -= lr g / sqrt(acc + eps)', () => {
    const w = v([1, 1]);
    const opt = optimizers.adagrad({ learningRate: 0.1 });
    opt.applyGradients([[w, tensor([1, -3])]]);
    assertClose(vals(w), [1 - 0.1 / Math.sqrt(1.1 + 1e-7), 1 + 0.3 / Math.sqrt(9.1 + 1e-7)], 1e-6);
    opt.applyGradients([[w, tensor([1, 0])]]);
    assertClose([vals(w)[0]!], [1 - 0.1 / Math.sqrt(1.1 + 1e-7) - 0.1 / Math.sqrt(2.1 + 1e-7)], 1e-6, 'adagrad step 2');
  });

  it('Adadelta two steps', () => {
    const w = v([1]);
    const opt = optimizers.adadelta({ learningRate: 1, rho: 0.95 });
    const eps = 1e-7;
    let eg = 0;
    let ed = 0;
    let ref = 1;
    for (const g of [1, 1]) {
      opt.applyGradients([[w, tensor([g])]]);
      eg = 0.95 * eg + 0.05 * g * g;
      const d = (-Math.sqrt(ed + eps) / Math.sqrt(eg + eps)) * g;
      ed = 0.95 * ed + 0.05 * d * d;
      ref += d;
    }
    assertClose(vals(w), [ref], 1e-6);
    assert.ok(ref < 1 && ref > 0.99, 'adadelta moves slowly at first');
  });
});

describe('gradient clipping', () => {
  it('clipValue clips elementwise and leaves the gradient tensor untouched', () => {
    const w = v([0, 0, 0]);
    const g = tensor([2, -3, 0.1]);
    optimizers.sgd({ learningRate: 1, clipValue: 0.5 }).applyGradients([[w, g]]);
    assertClose(vals(w), [-0.5, 0.5, -0.1], 1e-6);
    assertClose(vals(g), [2, -3, Math.fround(0.1)], 0);
  });

  it('clipNorm rescales each gradient to at most that norm', () => {
    const a = v([0, 0]);
    const b = v([0]);
    optimizers.sgd({ learningRate: 1, clipNorm: 1 }).applyGradients([
      [a, tensor([3, 4])],
      [b, tensor([0.5])],
    ]);
    assertClose([...vals(a), ...vals(b)], [-0.6, -0.8, -0.5], 1e-6);
  });

  it('globalClipNorm rescales all gradients together', () => {
    const a = v([0, 0]);
    const b = v([0]);
    // global norm sqrt(9 + 16 + 25 + 50) = 10 -> scale 0.5
    optimizers.sgd({ learningRate: 1, globalClipNorm: 5 }).applyGradients([
      [a, tensor([3, 4])],
      [b, tensor([Math.sqrt(75)])],
    ]);
    assertClose([...vals(a), ...vals(b)], [-1.5, -2, -0.5 * Math.sqrt(75)], 1e-5);
    // under the threshold nothing changes
    const c = v([0]);
    optimizers.sgd({ learningRate: 1, globalClipNorm: 5 }).applyGradients([[c, tensor([3])]]);
    assertClose(vals(c), [-3], 1e-6);
  });

  it('only one clipping option may be set', () => {
    assert.throws(() => optimizers.sgd({ clipNorm: 1, clipValue: 1 }), ValueError);
    assert.throws(() => optimizers.adam({ clipNorm: -1 }), /clipNorm/);
  });
});

describe('applyGradients contract', () => {
  it('skips null gradients, validates shapes and dtypes', () => {
    const a = v([1]);
    const b = v([1]);
    const opt = optimizers.sgd({ learningRate: 1 });
    opt.applyGradients([
      [a, null],
      [b, tensor([1])],
    ]);
    assertClose([...vals(a), ...vals(b)], [1, 0], 0);
    assert.throws(() => opt.applyGradients([[a, tensor([1, 2])]]), ShapeError);
    assert.throws(() => opt.applyGradients([[a, tensor([1], [1], 'int32')]]), /float32/);
  });

  it('slots created inside a scope survive it (never recycled)', () => {
    const w = v([1]);
    const opt = optimizers.adam({ learningRate: 0.01 });
    const ref = v([1]);
    const refOpt = optimizers.adam({ learningRate: 0.01 });
    for (let s = 0; s < 3; s++) {
      scope(() => {
        opt.applyGradients([[w, tensor([1 + s])]]);
      });
      refOpt.applyGradients([[ref, tensor([1 + s])]]);
    }
    assertClose(vals(w), vals(ref), 0);
    for (const { tensor: t } of opt.getWeights()) assert.equal(t.isDisposed, false);
  });

  it('learning-rate schedules are evaluated at iterations (0 on the first step); a number can be assigned', () => {
    const w = v([0]);
    const opt = optimizers.sgd({ learningRate: schedules.piecewiseConstant({ boundaries: [0], values: [1, 0.5] }) });
    assert.equal(opt.currentLearningRate(), 1);
    opt.applyGradients([[w, tensor([1])]]);
    assertClose(vals(w), [-1], 1e-7);
    assert.equal(opt.currentLearningRate(), 0.5);
    opt.applyGradients([[w, tensor([1])]]);
    assertClose(vals(w), [-1.5], 1e-7);
    opt.learningRate = 0.1; // what reduceLROnPlateau does
    opt.applyGradients([[w, tensor([1])]]);
    assertClose(vals(w), [-1.6], 1e-6);
  });
});

describe('save / restore', () => {
  for (const [id, make] of Object.entries({
    sgdMomentum: () => optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }),
    adam: () => optimizers.adam({ learningRate: 0.05 }),
    adamw: () => optimizers.adamw({ learningRate: 0.05 }),
    rmsprop: () => optimizers.rmsprop({ learningRate: 0.05, momentum: 0.5, centered: true }),
    adagrad: () => optimizers.adagrad({ learningRate: 0.1 }),
    adadelta: () => optimizers.adadelta({ learningRate: 1 }),
    adamax: () => optimizers.adamax({ learningRate: 0.05 }),
    nadam: () => optimizers.nadam({ learningRate: 0.05 }),
  })) {
    it(`${id}: getWeights/setWeights into a fresh optimizer continues identically`, () => {
      const w = v([1, -2], 'dense/kernel');
      const b = v([0.5], 'dense/bias');
      const a = make();
      const grads = (s: number) => [tensor([0.3 * s + 0.1, -0.2]), tensor([1 / (s + 1)])];
      for (let s = 0; s < 2; s++) {
        const [gw, gb] = grads(s);
        a.applyGradients([
          [w, gw!],
          [b, gb!],
        ]);
      }
      const saved = a.getWeights().map(({ name, tensor: t }) => ({
        name,
        tensor: tensor(Float32Array.from(t.dataSync() as ArrayLike<number>), t.shape, t.dtype),
      }));
      assert.ok(saved.some((x) => x.name === 'iterations' && x.tensor.dataSync()[0] === 2));
      assert.ok(saved.every((x) => x.name === 'iterations' || x.name === 'u_product' || x.name.startsWith('dense/')));
      // a fresh optimizer and copies of the variables
      const w2 = v(vals(w), 'dense/kernel');
      const b2 = v(vals(b), 'dense/bias');
      const c = getOptimizer({ className: a.className, config: a.getConfig() });
      assert.equal(c.className, a.className);
      c.setWeights(saved);
      assert.equal(c.iterations, 2);
      for (let s = 2; s < 4; s++) {
        const [gw, gb] = grads(s);
        a.applyGradients([
          [w, gw!],
          [b, gb!],
        ]);
        c.applyGradients([
          [w2, gw!],
          [b2, gb!],
        ]);
      }
      assertClose([...vals(w2), ...vals(b2)], [...vals(w), ...vals(b)], 1e-7);
    });
  }

  it('slot names are "<variable>/<slot>"', () => {
    const w = v([1], 'dense/kernel');
    const opt = optimizers.adam();
    opt.applyGradients([[w, tensor([1])]]);
    assert.deepEqual(
      opt.getWeights().map((x) => x.name),
      ['iterations', 'dense/kernel/m', 'dense/kernel/v'],
    );
  });
});

describe('getOptimizer', () => {
  it('resolves names case-insensitively with Keras defaults', () => {
    assert.equal(getOptimizer('adam').className, 'Adam');
    assert.equal(getOptimizer('SGD').currentLearningRate(), 0.01);
    assert.equal(getOptimizer('RMSprop').className, 'RMSprop');
    assert.equal(getOptimizer('adamw').className, 'AdamW');
    assert.equal(getOptimizer('nadam').className, 'Nadam');
    const o = optimizers.adagrad();
    assert.equal(getOptimizer(o), o);
    assert.throws(() => getOptimizer('adamm'), /unknown optimizer 'adamm'/);
  });

  it('round-trips a config with a schedule', () => {
    const a = optimizers.sgd({
      learningRate: schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 }),
      momentum: 0.8,
      clipNorm: 2,
    });
    const json = JSON.parse(JSON.stringify({ className: a.className, config: a.getConfig() }));
    const b = getOptimizer(json);
    assert.deepEqual(b.getConfig(), a.getConfig());
    b.iterations = 10;
    assertClose([b.currentLearningRate()], [0.05], 1e-9);
  });
});

/** LearningRateScheduler: set the learning rate at each epoch from fn(epoch, lr) (Keras). */
import { ValueError } from '../../tensor/errors.js';
import { Callback, type Logs } from './callback.js';
import { currentLearningRate } from './monitor.js';

export class LearningRateScheduler extends Callback {
  constructor(
    readonly schedule: (epoch: number, lr: number) => number,
    readonly verbose = 0,
  ) {
    super();
    if (typeof schedule !== 'function')
      throw new ValueError(`learningRateScheduler expected a function (epoch, lr) => lr, got ${typeof schedule}`);
  }

  override onEpochBegin(epoch: number): undefined {
    const opt = this.model?.optimizer;
    if (!opt) return undefined;
    const lr = currentLearningRate(opt.learningRate, 'learningRateScheduler');
    const next = this.schedule(epoch, lr);
    if (typeof next !== 'number' || !Number.isFinite(next) || next < 0) {
      throw new ValueError(
        `learningRateScheduler: the schedule returned ${String(next)} for epoch ${epoch}, expected a finite number >= 0`,
      );
    }
    opt.learningRate = next;
    if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${next}.`);
    return undefined;
  }

  override onEpochEnd(_epoch: number, logs: Logs = {}): undefined {
    const lr = this.model?.optimizer.learningRate;
    if (typeof lr === 'number') logs.learning_rate = lr;
    return undefined;
  }
}

/**
 * Set the learning rate at the start of each epoch.
 * @example callbacks: [learningRateScheduler((epoch, lr) => (epoch < 10 ? lr : lr * 0.9))]
 */
export function learningRateScheduler(
  schedule: (epoch: number, lr: number) => number,
  verbose = 0,
): LearningRateScheduler {
  return new LearningRateScheduler(schedule, verbose);
}

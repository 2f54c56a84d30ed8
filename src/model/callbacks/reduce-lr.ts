/** ReduceLROnPlateau: multiply the learning rate by `factor` when a value plateaus (Keras). */
import { ValueError } from '../../tensor/errors.js';
import { Callback, type Logs } from './callback.js';
import { currentLearningRate, improvement, type MonitorMode, resolveMode, warnMissing, worst } from './monitor.js';

export interface ReduceLROnPlateauArgs {
  monitor?: string;
  /** New lr = lr * factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  mode?: MonitorMode;
  /** Minimum change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound on the learning rate (default 0). */
  minLr?: number;
  verbose?: number;
}

export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly verbose: number;
  private readonly mode: 'min' | 'max';
  private readonly better: (c: number, r: number) => boolean;
  wait = 0;
  cooldownCounter = 0;
  best = Number.POSITIVE_INFINITY;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.factor = args.factor ?? 0.1;
    if (!(this.factor < 1 && this.factor >= 0)) {
      throw new ValueError(
        `reduceLROnPlateau: factor must be in [0, 1) (it multiplies the learning rate), got ${args.factor}`,
      );
    }
    this.patience = args.patience ?? 10;
    this.minDelta = args.minDelta ?? 1e-4;
    this.cooldown = args.cooldown ?? 0;
    this.minLr = args.minLr ?? 0;
    this.verbose = args.verbose ?? 0;
    this.mode = resolveMode(args.mode, this.monitor, 'reduceLROnPlateau');
    this.better = improvement(this.mode, this.minDelta);
  }

  override onTrainBegin(): undefined {
    this.best = worst(this.mode);
    this.wait = 0;
    this.cooldownCounter = 0;
    return undefined;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): undefined {
    const opt = this.model?.optimizer;
    if (!opt) return undefined;
    const lr = currentLearningRate(opt.learningRate, 'reduceLROnPlateau');
    logs.learning_rate = lr;
    const current = logs[this.monitor];
    if (current === undefined) {
      warnMissing('reduceLROnPlateau', this.monitor, logs);
      return undefined;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (this.better(current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait++;
      if (this.wait >= this.patience && lr > this.minLr) {
        const next = Math.max(lr * this.factor, this.minLr);
        opt.learningRate = next;
        if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${next}.`);
        this.cooldownCounter = this.cooldown;
        this.wait = 0;
      }
    }
    return undefined;
  }
}

/**
 * Lower the learning rate when `monitor` stops improving.
 * @example callbacks: [reduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 2, minLr: 1e-5 })]
 */
export function reduceLROnPlateau(args: ReduceLROnPlateauArgs = {}): ReduceLROnPlateau {
  return new ReduceLROnPlateau(args);
}

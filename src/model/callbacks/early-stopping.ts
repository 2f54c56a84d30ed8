/** EarlyStopping: stop when a monitored value stops improving (Keras `EarlyStopping`). */
import { ValueError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Callback, type Logs } from './callback.js';
import { improvement, type MonitorMode, resolveMode, warnMissing, worst } from './monitor.js';

export interface EarlyStoppingArgs {
  /** Default 'val_loss'. */
  monitor?: string;
  /** Minimum change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  mode?: MonitorMode;
  /** Training stops if the value does not beat this baseline within `patience` epochs. */
  baseline?: number | null;
  /** Put back the weights of the best epoch when stopping (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before monitoring starts (default 0). */
  startFromEpoch?: number;
  verbose?: number;
}

export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly verbose: number;
  private readonly mode: 'min' | 'max';
  private readonly better: (c: number, r: number) => boolean;
  wait = 0;
  best = Number.POSITIVE_INFINITY;
  bestEpoch = 0;
  /** The epoch training stopped at (0 when it was not stopped). */
  stoppedEpoch = 0;
  private bestWeights: Tensor[] | null = null;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new ValueError(`earlyStopping: patience must be a non-negative integer, got ${args.patience}`);
    }
    this.baseline = args.baseline ?? null;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
    this.startFromEpoch = args.startFromEpoch ?? 0;
    this.verbose = args.verbose ?? 0;
    this.mode = resolveMode(args.mode, this.monitor, 'earlyStopping');
    this.better = improvement(this.mode, this.minDelta);
  }

  override onTrainBegin(): undefined {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = worst(this.mode);
    this.bestWeights = null;
    this.bestEpoch = 0;
    return undefined;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): undefined {
    const current = logs[this.monitor];
    if (current === undefined) {
      warnMissing('earlyStopping', this.monitor, logs);
      return undefined;
    }
    if (epoch < this.startFromEpoch) return undefined;
    const model = this.model;
    if (this.restoreBestWeights && this.bestWeights === null && model) this.bestWeights = model.getWeights();
    this.wait++;
    if (this.better(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights && model) this.bestWeights = model.getWeights();
      if (this.baseline === null || this.better(current, this.baseline)) this.wait = 0;
      return undefined;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      if (model) {
        model.stopTraining = true;
        if (this.restoreBestWeights && this.bestWeights) {
          if (this.verbose > 0)
            console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
          model.setWeights(this.bestWeights);
        }
      }
    }
    return undefined;
  }

  override onTrainEnd(): undefined {
    if (this.stoppedEpoch > 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    return undefined;
  }
}

/**
 * Stop training when `monitor` has not improved for `patience` epochs.
 * @example await model.fit(x, y, { epochs: 100, validationSplit: 0.2, callbacks: [earlyStopping({ patience: 3, restoreBestWeights: true })] });
 */
export function earlyStopping(args: EarlyStoppingArgs = {}): EarlyStopping {
  return new EarlyStopping(args);
}

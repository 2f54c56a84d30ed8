/** TerminateOnNaN: stop training as soon as the loss is NaN or infinite (Keras). */
import { Callback, type Logs } from './callback.js';

export class TerminateOnNaN extends Callback {
  /** The batch training stopped at, or null. */
  stoppedAt: number | null = null;

  override onBatchEnd(batch: number, logs: Logs = {}): undefined {
    const loss = logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      console.warn(`Batch ${batch}: invalid loss ${loss}, terminating training`);
      this.stoppedAt = batch;
      if (this.model) this.model.stopTraining = true;
    }
    return undefined;
  }
}

/**
 * Stop training on a NaN / infinite loss.
 * @example callbacks: [terminateOnNaN()]
 */
export function terminateOnNaN(): TerminateOnNaN {
  return new TerminateOnNaN();
}

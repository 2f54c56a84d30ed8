/** History: what fit returns; the logs of every epoch (Keras `History`). */
import { Callback, type Logs } from './callbacks/callback.js';

/**
 * The record of a fit call: `history.epoch` (epoch indices) and `history.history.<key>` (one value
 * per epoch for `loss`, each metric, `val_loss`, ...).
 * @example
 * const h = await model.fit(x, y, { epochs: 5 });
 * console.log(h.history.loss.at(-1), h.epoch); // 0.12 [0, 1, 2, 3, 4]
 */
export class History extends Callback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};

  override onTrainBegin(): undefined {
    this.epoch = [];
    this.history = {};
    return undefined;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): undefined {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) {
      let list = this.history[k];
      if (!list) {
        list = [];
        this.history[k] = list;
      }
      list.push(v);
    }
    return undefined;
  }
}

/** Training callbacks (Keras `keras.callbacks`) and the `callbacks` namespace. */
import { CSVLogger, csvLogger } from './csv-logger.js';
import { EarlyStopping, earlyStopping } from './early-stopping.js';
import { LearningRateScheduler, learningRateScheduler } from './lr-scheduler.js';
import { ModelCheckpoint, modelCheckpoint } from './model-checkpoint.js';
import { ReduceLROnPlateau, reduceLROnPlateau } from './reduce-lr.js';
import { TerminateOnNaN, terminateOnNaN } from './terminate-on-nan.js';

export { Callback, type CallbackLike, type CallbackParams, type Logs } from './callback.js';
export { CSVLogger, type CSVLoggerArgs, csvLogger } from './csv-logger.js';
export { EarlyStopping, type EarlyStoppingArgs, earlyStopping } from './early-stopping.js';
export { LearningRateScheduler, learningRateScheduler } from './lr-scheduler.js';
export { ModelCheckpoint, type ModelCheckpointArgs, modelCheckpoint } from './model-checkpoint.js';
export type { MonitorMode } from './monitor.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauArgs, reduceLROnPlateau } from './reduce-lr.js';
export { TerminateOnNaN, terminateOnNaN } from './terminate-on-nan.js';

/**
 * The callback factories.
 * @example await model.fit(x, y, { callbacks: [callbacks.earlyStopping({ patience: 2 })] });
 */
export const callbacks = {
  earlyStopping,
  modelCheckpoint,
  reduceLROnPlateau,
  learningRateScheduler,
  csvLogger,
  terminateOnNaN,
  EarlyStopping,
  ModelCheckpoint,
  ReduceLROnPlateau,
  LearningRateScheduler,
  CSVLogger,
  TerminateOnNaN,
};

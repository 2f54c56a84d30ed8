/** Internal: the "is this better?" logic shared by earlyStopping, modelCheckpoint and reduceLROnPlateau. */
import { ValueError } from '../../tensor/errors.js';

export type MonitorMode = 'auto' | 'min' | 'max';

/** Resolve 'auto' like Keras: max for accuracy/AUC-like metrics, min otherwise. */
export function resolveMode(mode: MonitorMode | undefined, monitor: string, where: string): 'min' | 'max' {
  const m = mode ?? 'auto';
  if (m !== 'auto' && m !== 'min' && m !== 'max')
    throw new ValueError(`${where}: mode must be 'auto', 'min' or 'max', got '${String(m)}'`);
  if (m !== 'auto') return m;
  const name = monitor.replace(/^val_/, '');
  return /(^|_)(acc|accuracy|auc|precision|recall|f1|fbeta)/.test(name) || name.endsWith('accuracy') ? 'max' : 'min';
}

/** better(current, reference): improved by more than minDelta in the mode's direction. */
export function improvement(mode: 'min' | 'max', minDelta: number): (current: number, reference: number) => boolean {
  const d = Math.abs(minDelta);
  return mode === 'min' ? (c, r) => c < r - d : (c, r) => c > r + d;
}

export function worst(mode: 'min' | 'max'): number {
  return mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

const warned = new Set<string>();

/** Warn once per (callback, monitor) that the monitored value is missing from the logs. */
export function warnMissing(where: string, monitor: string, logs: Record<string, number>): void {
  const key = `${where}:${monitor}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(
    `${where}: monitored '${monitor}' is not in the logs (available: ${Object.keys(logs).join(', ') || 'none'}); skipping`,
  );
}

export function currentLearningRate(lr: unknown, where: string): number {
  if (typeof lr !== 'number') {
    throw new ValueError(`${where} needs an optimizer with a numeric learningRate, got a learning-rate schedule`);
  }
  return lr;
}

/** ModelCheckpoint: save the model (or its weights) at the end of epochs (Keras `ModelCheckpoint`). */
import { ValueError } from '../../tensor/errors.js';
import type { Model } from '../model.js';
import { Callback, type Logs } from './callback.js';
import { improvement, type MonitorMode, resolveMode, warnMissing, worst } from './monitor.js';

export interface ModelCheckpointArgs {
  /** Folder to save to; may hold `{epoch}`, `{epoch:02d}`, `{val_loss:.4f}` placeholders. */
  filepath: string;
  monitor?: string;
  /** Only save when `monitor` improves (default false: every epoch). */
  saveBestOnly?: boolean;
  /** Save only the weights (model.saveWeights / io saveWeights) instead of the whole model. */
  saveWeightsOnly?: boolean;
  mode?: MonitorMode;
  /** Only save when the monitored value beats this (with saveBestOnly). */
  initialValueThreshold?: number;
  verbose?: number;
}

type SaveFn = (model: Model, path: string) => Promise<unknown> | unknown;

/** The io module is below the model layer: load it only when a checkpoint is written. */
async function saver(weightsOnly: boolean, model: Model): Promise<SaveFn> {
  const m = model as unknown as Record<string, unknown>;
  const method = weightsOnly ? 'saveWeights' : 'save';
  if (typeof m[method] === 'function')
    return (mod, path) => (mod as unknown as Record<string, (p: string) => unknown>)[method]?.(path);
  const spec = '../../io/save.js';
  const io = (await import(spec)) as Record<string, unknown>;
  const fn = io[weightsOnly ? 'saveWeights' : 'saveModel'];
  if (typeof fn !== 'function') {
    throw new ValueError(
      `modelCheckpoint: ${weightsOnly ? 'saveWeightsOnly needs saveWeights' : 'saving needs saveModel'} from src/io/save, which is not available`,
    );
  }
  return fn as SaveFn;
}

/** Fill `{epoch:02d}` / `{val_loss:.4f}` placeholders (epoch is 1-based, as in Keras). */
export function formatFilepath(template: string, epoch: number, logs: Logs): string {
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (whole, key: string, fmt: string | undefined) => {
    const value = key === 'epoch' ? epoch + 1 : logs[key];
    if (value === undefined) return whole;
    if (!fmt) return String(value);
    const m = /^(0?)(\d*)(?:\.(\d+))?([dfe])$/.exec(fmt);
    if (!m) return String(value);
    const [, zero, width, prec, kind] = m;
    let s =
      kind === 'd'
        ? String(Math.round(value))
        : kind === 'e'
          ? value.toExponential(Number(prec ?? 6))
          : value.toFixed(Number(prec ?? 6));
    if (width) s = s.padStart(Number(width), zero ? '0' : ' ');
    return s;
  });
}

export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  readonly verbose: number;
  private readonly better: (c: number, r: number) => boolean;
  best: number;
  /** Paths written so far, in order. */
  readonly saved: string[] = [];

  constructor(args: ModelCheckpointArgs) {
    super();
    if (!args || typeof args.filepath !== 'string' || args.filepath === '') {
      throw new ValueError(`modelCheckpoint expected { filepath: string }, got ${JSON.stringify(args)}`);
    }
    this.filepath = args.filepath;
    this.monitor = args.monitor ?? 'val_loss';
    this.saveBestOnly = args.saveBestOnly ?? false;
    this.saveWeightsOnly = args.saveWeightsOnly ?? false;
    this.verbose = args.verbose ?? 0;
    const mode = resolveMode(args.mode, this.monitor, 'modelCheckpoint');
    this.better = improvement(mode, 0);
    this.best = args.initialValueThreshold ?? worst(mode);
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const model = this.model;
    if (!model) return;
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (current === undefined) {
        warnMissing('modelCheckpoint', this.monitor, logs);
        return;
      }
      if (!this.better(current, this.best)) return;
      if (this.verbose > 0)
        console.log(`Epoch ${epoch + 1}: ${this.monitor} improved from ${this.best} to ${current}, saving model`);
      this.best = current;
    }
    const path = formatFilepath(this.filepath, epoch, logs);
    const save = await saver(this.saveWeightsOnly, model);
    await save(model, path);
    this.saved.push(path);
  }
}

/**
 * Save the model each epoch, or only when `monitor` improves.
 * @example callbacks: [modelCheckpoint({ filepath: 'ckpt/best', monitor: 'val_loss', saveBestOnly: true })]
 */
export function modelCheckpoint(args: ModelCheckpointArgs): ModelCheckpoint {
  return new ModelCheckpoint(args);
}

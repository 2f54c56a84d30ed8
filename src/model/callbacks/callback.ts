/**
 * Callback: hooks into fit / evaluate (Keras `keras.callbacks.Callback`). Subclass it, or pass a
 * plain object with any of the hooks: `{ onEpochEnd(epoch, logs) { ... } }`.
 * Hooks may return a promise; fit awaits it before going on.
 */
import type { Model } from '../model.js';

/** Values logged by fit / evaluate: `loss`, metric names, `val_loss`, `val_<metric>`, ... */
export type Logs = Record<string, number>;

/** The run's parameters, given to callbacks through `setParams` before onTrainBegin. */
export interface CallbackParams {
  epochs: number;
  /** Steps per epoch, or null when unknown (a dataset in its first epoch). */
  steps: number | null;
  verbose: number;
  samples?: number;
}

/** What fit accepts as a callback: a Callback, or any object with some of the hooks. */
export interface CallbackLike {
  setModel?(model: Model): void;
  setParams?(params: CallbackParams): void;
  onTrainBegin?(logs?: Logs): unknown;
  onTrainEnd?(logs?: Logs): unknown;
  onEpochBegin?(epoch: number, logs?: Logs): unknown;
  onEpochEnd?(epoch: number, logs?: Logs): unknown;
  onBatchBegin?(batch: number, logs?: Logs): unknown;
  onBatchEnd?(batch: number, logs?: Logs): unknown;
  onTestBegin?(logs?: Logs): unknown;
  onTestEnd?(logs?: Logs): unknown;
}

/**
 * Base class for callbacks. `this.model` is the model being trained.
 * @example
 * class Printer extends Callback {
 *   override onEpochEnd(epoch: number, logs?: Logs) { console.log(epoch, logs?.loss); }
 * }
 * await model.fit(x, y, { callbacks: [new Printer()] });
 */
export class Callback implements CallbackLike {
  model: Model | null = null;
  params: CallbackParams = { epochs: 1, steps: null, verbose: 0 };

  setModel(model: Model): void {
    this.model = model;
  }

  setParams(params: CallbackParams): void {
    this.params = params;
  }

  onTrainBegin(_logs?: Logs): unknown {
    return undefined;
  }
  onTrainEnd(_logs?: Logs): unknown {
    return undefined;
  }
  onEpochBegin(_epoch: number, _logs?: Logs): unknown {
    return undefined;
  }
  onEpochEnd(_epoch: number, _logs?: Logs): unknown {
    return undefined;
  }
  onBatchBegin(_batch: number, _logs?: Logs): unknown {
    return undefined;
  }
  onBatchEnd(_batch: number, _logs?: Logs): unknown {
    return undefined;
  }
  onTestBegin(_logs?: Logs): unknown {
    return undefined;
  }
  onTestEnd(_logs?: Logs): unknown {
    return undefined;
  }
}

type Hook = 'onTrainBegin' | 'onTrainEnd' | 'onEpochBegin' | 'onEpochEnd' | 'onBatchBegin' | 'onBatchEnd';

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

/** True when `cb` overrides `hook` (a plain object defining it, or a subclass overriding the no-op). */
function defines(cb: CallbackLike, hook: Hook): boolean {
  const fn = cb[hook];
  if (typeof fn !== 'function') return false;
  return !(cb instanceof Callback) || fn !== Callback.prototype[hook];
}

/** Internal: the callbacks of one fit call, dispatching each hook to those that define it. */
export class CallbackList {
  private readonly byHook = new Map<Hook, CallbackLike[]>();

  constructor(readonly callbacks: CallbackLike[]) {
    const hooks: Hook[] = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'];
    for (const h of hooks)
      this.byHook.set(
        h,
        callbacks.filter((c) => defines(c, h)),
      );
  }

  setModel(model: Model): void {
    for (const c of this.callbacks) c.setModel ? c.setModel(model) : ((c as { model?: Model }).model = model);
  }

  setParams(params: CallbackParams): void {
    for (const c of this.callbacks)
      c.setParams ? c.setParams(params) : ((c as { params?: CallbackParams }).params = params);
  }

  /** Whether any callback wants per-batch hooks (fit skips building batch logs otherwise). */
  get wantsBatches(): boolean {
    return (this.byHook.get('onBatchBegin')?.length ?? 0) + (this.byHook.get('onBatchEnd')?.length ?? 0) > 0;
  }

  /** Run a hook on every callback defining it; returns a promise only if some hook returned one. */
  call(hook: Hook, arg0?: number | Logs, arg1?: Logs): Promise<void> | undefined {
    const list = this.byHook.get(hook) as CallbackLike[];
    let pending: Promise<void> | undefined;
    for (const c of list) {
      const fn = c[hook] as (a?: unknown, b?: unknown) => unknown;
      if (pending) {
        pending = pending.then(() => fn.call(c, arg0, arg1)).then(() => undefined);
        continue;
      }
      const r = fn.call(c, arg0, arg1);
      if (isThenable(r)) pending = Promise.resolve(r).then(() => undefined);
    }
    return pending;
  }
}

/**
 * Learning-rate schedules with Keras 3 semantics. A schedule is a function of the optimizer's
 * step count (`optimizer.iterations` before the update: 0 on the first step) giving the
 * learning rate, plus `getConfig()` for model.json.
 */
import { ValueError } from '../../tensor/errors.js';

/** A learning rate as a function of the step (0-based), serialisable with getConfig(). */
export interface LearningRateSchedule {
  (step: number): number;
  /** The Keras class name, e.g. 'ExponentialDecay'. */
  readonly className: string;
  getConfig(): Record<string, unknown>;
}

function makeSchedule(
  className: string,
  config: Record<string, unknown>,
  fn: (step: number) => number,
): LearningRateSchedule {
  const s = ((step: number) => fn(step)) as LearningRateSchedule;
  Object.defineProperty(s, 'className', { value: className, enumerable: true });
  Object.defineProperty(s, 'getConfig', { value: () => ({ ...config }) });
  return s;
}

function positive(value: unknown, schedule: string, field: string): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new ValueError(`${schedule} expected ${field} to be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function finite(value: unknown, schedule: string, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${schedule} expected ${field} to be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export interface ExponentialDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in discrete intervals (floor(step / decaySteps)). Default false. */
  staircase?: boolean;
}

/**
 * lr = initialLearningRate * decayRate ^ (step / decaySteps) (the exponent floored when staircase).
 * @example const lr = schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.5 }); lr(100) // 0.05
 */
export function exponentialDecay(options: ExponentialDecayOptions): LearningRateSchedule {
  const name = 'exponentialDecay';
  const init = finite(options.initialLearningRate, name, 'initialLearningRate');
  const decaySteps = positive(options.decaySteps, name, 'decaySteps');
  const decayRate = finite(options.decayRate, name, 'decayRate');
  const staircase = options.staircase ?? false;
  return makeSchedule('ExponentialDecay', { initialLearningRate: init, decaySteps, decayRate, staircase }, (step) => {
    let p = step / decaySteps;
    if (staircase) p = Math.floor(p);
    return init * decayRate ** p;
  });
}

export interface InverseTimeDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  staircase?: boolean;
}

/**
 * lr = initialLearningRate / (1 + decayRate * step / decaySteps) (the ratio floored when staircase).
 * @example schedules.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 })(2) // 0.05
 */
export function inverseTimeDecay(options: InverseTimeDecayOptions): LearningRateSchedule {
  const name = 'inverseTimeDecay';
  const init = finite(options.initialLearningRate, name, 'initialLearningRate');
  const decaySteps = positive(options.decaySteps, name, 'decaySteps');
  const decayRate = finite(options.decayRate, name, 'decayRate');
  const staircase = options.staircase ?? false;
  return makeSchedule('InverseTimeDecay', { initialLearningRate: init, decaySteps, decayRate, staircase }, (step) => {
    let p = step / decaySteps;
    if (staircase) p = Math.floor(p);
    return init / (1 + decayRate * p);
  });
}

export interface PolynomialDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  /** Default 0.0001. */
  endLearningRate?: number;
  /** Default 1 (linear). */
  power?: number;
  /** Restart the decay every decaySteps (stretched to ceil(step / decaySteps) * decaySteps). Default false. */
  cycle?: boolean;
}

/**
 * lr = (initial - end) * (1 - min(step, decaySteps) / decaySteps) ^ power + end.
 * @example schedules.polynomialDecay({ initialLearningRate: 1, decaySteps: 10, endLearningRate: 0 })(5) // 0.5
 */
export function polynomialDecay(options: PolynomialDecayOptions): LearningRateSchedule {
  const name = 'polynomialDecay';
  const init = finite(options.initialLearningRate, name, 'initialLearningRate');
  const decaySteps = positive(options.decaySteps, name, 'decaySteps');
  const end = finite(options.endLearningRate ?? 0.0001, name, 'endLearningRate');
  const power = finite(options.power ?? 1, name, 'power');
  const cycle = options.cycle ?? false;
  return makeSchedule(
    'PolynomialDecay',
    { initialLearningRate: init, decaySteps, endLearningRate: end, power, cycle },
    (step) => {
      let steps = decaySteps;
      let s = step;
      if (cycle) {
        const multiplier = s === 0 ? 1 : Math.ceil(s / decaySteps);
        steps = decaySteps * multiplier;
      } else {
        s = Math.min(s, decaySteps);
      }
      return (init - end) * (1 - s / steps) ** power + end;
    },
  );
}

export interface PiecewiseConstantOptions {
  /** Increasing step boundaries. */
  boundaries: readonly number[];
  /** One more value than boundaries: values[0] for step <= boundaries[0], ..., the last for step > the last boundary. */
  values: readonly number[];
}

/**
 * A constant learning rate per interval of steps.
 * @example schedules.piecewiseConstant({ boundaries: [100], values: [0.1, 0.01] })(101) // 0.01
 */
export function piecewiseConstant(options: PiecewiseConstantOptions): LearningRateSchedule {
  const { boundaries, values } = options;
  if (!Array.isArray(boundaries) || !Array.isArray(values) || values.length !== boundaries.length + 1) {
    throw new ValueError(
      `piecewiseConstant expected values to have one more element than boundaries, got ${Array.isArray(boundaries) ? boundaries.length : typeof boundaries} boundaries and ${Array.isArray(values) ? values.length : typeof values} values`,
    );
  }
  for (let i = 1; i < boundaries.length; i++) {
    if (!((boundaries[i] as number) > (boundaries[i - 1] as number))) {
      throw new ValueError(`piecewiseConstant expected increasing boundaries, got ${JSON.stringify(boundaries)}`);
    }
  }
  const b = [...boundaries];
  const v = [...values];
  return makeSchedule('PiecewiseConstant', { boundaries: b, values: v }, (step) => {
    for (let i = 0; i < b.length; i++) if (step <= (b[i] as number)) return v[i] as number;
    return v[v.length - 1] as number;
  });
}

export interface CosineDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  /** The floor, as a fraction of the learning rate decayed from. Default 0. */
  alpha?: number;
  /** With warm-up: the rate reached linearly from initialLearningRate over warmupSteps, then decayed from. */
  warmupTarget?: number | null;
  /** Default 0. */
  warmupSteps?: number;
}

/**
 * Cosine decay with optional linear warm-up (Keras 3): without warmupTarget,
 * lr = init * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decaySteps) / decaySteps)) + alpha);
 * with it, lr rises linearly from init to warmupTarget over warmupSteps, then decays from
 * warmupTarget over the next decaySteps.
 * @example schedules.cosineDecay({ initialLearningRate: 1, decaySteps: 10 })(5) // 0.5
 */
export function cosineDecay(options: CosineDecayOptions): LearningRateSchedule {
  const name = 'cosineDecay';
  const init = finite(options.initialLearningRate, name, 'initialLearningRate');
  const decaySteps = positive(options.decaySteps, name, 'decaySteps');
  const alpha = finite(options.alpha ?? 0, name, 'alpha');
  const warmupTarget = options.warmupTarget ?? null;
  if (warmupTarget !== null) finite(warmupTarget, name, 'warmupTarget');
  const warmupSteps = options.warmupSteps ?? 0;
  if (typeof warmupSteps !== 'number' || !(warmupSteps >= 0)) {
    throw new ValueError(`${name} expected warmupSteps >= 0, got ${JSON.stringify(warmupSteps)}`);
  }
  const decay = (step: number, from: number): number => {
    const cosine = 0.5 * (1 + Math.cos((Math.PI * step) / decaySteps));
    return from * ((1 - alpha) * cosine + alpha);
  };
  return makeSchedule(
    'CosineDecay',
    { initialLearningRate: init, decaySteps, alpha, warmupTarget, warmupSteps },
    (step) => {
      if (warmupTarget === null) return decay(Math.min(step, decaySteps), init);
      const s = Math.min(step, decaySteps + warmupSteps);
      if (s < warmupSteps) return (warmupTarget - init) * (s / warmupSteps) + init;
      return decay(s - warmupSteps, warmupTarget);
    },
  );
}

const factories: Record<string, (config: never) => LearningRateSchedule> = {
  ExponentialDecay: exponentialDecay,
  InverseTimeDecay: inverseTimeDecay,
  PolynomialDecay: polynomialDecay,
  PiecewiseConstant: piecewiseConstant,
  CosineDecay: cosineDecay,
};

/** Rebuild a schedule from `{ className, config }` (as written by getConfig in model.json). */
export function scheduleFromConfig(spec: { className: string; config: object }): LearningRateSchedule {
  const f = factories[spec.className];
  if (!f) {
    throw new ValueError(
      `unknown learning-rate schedule '${spec.className}', expected one of ${Object.keys(factories).join(', ')}`,
    );
  }
  return f(spec.config as never);
}

export function isLearningRateSchedule(value: unknown): value is LearningRateSchedule {
  return typeof value === 'function' && typeof (value as { getConfig?: unknown }).getConfig === 'function';
}

/** The learning-rate schedules, Keras names in camelCase. */
export const schedules = {
  exponentialDecay,
  inverseTimeDecay,
  polynomialDecay,
  piecewiseConstant,
  cosineDecay,
  fromConfig: scheduleFromConfig,
};

/**
 * Weight initializers with Keras names, defaults and fan computation, plus `getInitializer`
 * resolving 'glorotUniform' / 'glorot_uniform' / 'GlorotUniform' / { className, config }.
 *
 * Fans follow Keras: a [in, out] matrix has fanIn = in, fanOut = out; a conv kernel
 * [kh, kw, in, out] has fanIn = kh * kw * in and fanOut = kh * kw * out.
 */
import { full, randomNormal, randomUniform, truncatedNormal } from '../tensor/creation.js';
import type { DType } from '../tensor/dtype.js';
import { ValueError } from '../tensor/errors.js';
import { rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import type { Initializer } from './layer.js';

export type { Initializer } from './layer.js';

/** Keras fan computation: [fanIn, fanOut]. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0] as number, shape[0] as number];
  if (shape.length === 2) return [shape[0] as number, shape[1] as number];
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i] as number;
  return [(shape[shape.length - 2] as number) * receptive, (shape[shape.length - 1] as number) * receptive];
}

function checkFloat(name: string, dtype: DType): void {
  if (dtype !== 'float32') throw new ValueError(`${name} initializer expected dtype float32, got ${dtype}`);
}

/** Fills with 0. */
export class Zeros implements Initializer {
  readonly className = 'Zeros';
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return full(shape, 0, dtype);
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Fills with 1. */
export class Ones implements Initializer {
  readonly className = 'Ones';
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return full(shape, 1, dtype);
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Fills with `value` (default 0). */
export class Constant implements Initializer {
  readonly className = 'Constant';
  readonly value: number;
  constructor(config: { value?: number } = {}) {
    this.value = config.value ?? 0;
  }
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return full(shape, this.value, dtype);
  }
  getConfig(): Record<string, unknown> {
    return { value: this.value };
  }
}

export interface SeedConfig {
  seed?: number | null;
}

/** Normal draws with `mean` (0) and `stddev` (0.05, the Keras default). */
export class RandomNormal implements Initializer {
  readonly className = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;
  readonly seed: number | null;
  constructor(config: { mean?: number; stddev?: number } & SeedConfig = {}) {
    this.mean = config.mean ?? 0;
    this.stddev = config.stddev ?? 0.05;
    this.seed = config.seed ?? null;
  }
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    checkFloat(this.className, dtype);
    return randomNormal(shape, { mean: this.mean, stddev: this.stddev, seed: this.seed ?? undefined });
  }
  getConfig(): Record<string, unknown> {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed };
  }
}

/** Uniform draws in [minval, maxval) (Keras defaults -0.05, 0.05). */
export class RandomUniform implements Initializer {
  readonly className = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;
  readonly seed: number | null;
  constructor(config: { minval?: number; maxval?: number } & SeedConfig = {}) {
    this.minval = config.minval ?? -0.05;
    this.maxval = config.maxval ?? 0.05;
    this.seed = config.seed ?? null;
  }
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    checkFloat(this.className, dtype);
    return randomUniform(shape, { minval: this.minval, maxval: this.maxval, seed: this.seed ?? undefined });
  }
  getConfig(): Record<string, unknown> {
    return { minval: this.minval, maxval: this.maxval, seed: this.seed };
  }
}

/** Normal draws re-drawn outside two standard deviations (Keras defaults mean 0, stddev 0.05). */
export class TruncatedNormal implements Initializer {
  readonly className = 'TruncatedNormal';
  readonly mean: number;
  readonly stddev: number;
  readonly seed: number | null;
  constructor(config: { mean?: number; stddev?: number } & SeedConfig = {}) {
    this.mean = config.mean ?? 0;
    this.stddev = config.stddev ?? 0.05;
    this.seed = config.seed ?? null;
  }
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    checkFloat(this.className, dtype);
    return truncatedNormal(shape, { mean: this.mean, stddev: this.stddev, seed: this.seed ?? undefined });
  }
  getConfig(): Record<string, unknown> {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed };
  }
}

export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
export type ScalingDistribution = 'truncatedNormal' | 'untruncatedNormal' | 'uniform';

export interface VarianceScalingConfig extends SeedConfig {
  scale?: number;
  /** 'fanIn' | 'fanOut' | 'fanAvg' (Keras 'fan_in', ... accepted). */
  mode?: FanMode | 'fan_in' | 'fan_out' | 'fan_avg';
  /** 'truncatedNormal' | 'untruncatedNormal' | 'uniform' (Keras 'truncated_normal', ... accepted; 'normal' = truncated). */
  distribution?: ScalingDistribution | 'truncated_normal' | 'untruncated_normal' | 'normal';
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Keras VarianceScaling: draws with variance scale / n, n the fan chosen by `mode`.
 * Truncated normal uses stddev sqrt(scale / n) / 0.8796... (the stddev of a unit normal cut at 2).
 */
export class VarianceScaling implements Initializer {
  readonly className: string = 'VarianceScaling';
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: ScalingDistribution;
  readonly seed: number | null;
  constructor(config: VarianceScalingConfig = {}) {
    this.scale = config.scale ?? 1;
    const mode = camel(config.mode ?? 'fanIn');
    let dist = camel(config.distribution ?? 'truncatedNormal');
    if (dist === 'normal') dist = 'truncatedNormal';
    if (!(this.scale > 0)) throw new ValueError(`VarianceScaling expected scale > 0, got ${config.scale}`);
    if (mode !== 'fanIn' && mode !== 'fanOut' && mode !== 'fanAvg') {
      throw new ValueError(
        `VarianceScaling expected mode 'fanIn', 'fanOut' or 'fanAvg', got ${JSON.stringify(config.mode)}`,
      );
    }
    if (dist !== 'truncatedNormal' && dist !== 'untruncatedNormal' && dist !== 'uniform') {
      throw new ValueError(
        `VarianceScaling expected distribution 'truncatedNormal', 'untruncatedNormal' or 'uniform', got ${JSON.stringify(config.distribution)}`,
      );
    }
    this.mode = mode;
    this.distribution = dist;
    this.seed = config.seed ?? null;
  }
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    checkFloat(this.className, dtype);
    const [fanIn, fanOut] = computeFans(shape);
    const n = this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
    const variance = this.scale / Math.max(1, n);
    const seed = this.seed ?? undefined;
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      return randomUniform(shape, { minval: -limit, maxval: limit, seed });
    }
    if (this.distribution === 'untruncatedNormal') return randomNormal(shape, { stddev: Math.sqrt(variance), seed });
    return truncatedNormal(shape, { stddev: Math.sqrt(variance) / 0.8796256610342398, seed });
  }
  getConfig(): Record<string, unknown> {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed };
  }
}

/** Builds the Keras presets (GlorotUniform, HeNormal, ...) on VarianceScaling: config is just the seed. */
function preset(className: string, scale: number, mode: FanMode, distribution: ScalingDistribution) {
  return class extends VarianceScaling {
    override readonly className = className;
    constructor(config: SeedConfig = {}) {
      super({ scale, mode, distribution, seed: config.seed ?? null });
    }
    override getConfig(): Record<string, unknown> {
      return { seed: this.seed };
    }
  };
}

/** Uniform in ±sqrt(6 / (fanIn + fanOut)). The Keras default kernel initializer. */
export const GlorotUniform = preset('GlorotUniform', 1, 'fanAvg', 'uniform');
/** Truncated normal with stddev sqrt(2 / (fanIn + fanOut)). */
export const GlorotNormal = preset('GlorotNormal', 1, 'fanAvg', 'truncatedNormal');
/** Uniform in ±sqrt(6 / fanIn). */
export const HeUniform = preset('HeUniform', 2, 'fanIn', 'uniform');
/** Truncated normal with stddev sqrt(2 / fanIn). */
export const HeNormal = preset('HeNormal', 2, 'fanIn', 'truncatedNormal');
/** Uniform in ±sqrt(3 / fanIn). */
export const LecunUniform = preset('LecunUniform', 1, 'fanIn', 'uniform');
/** Truncated normal with stddev sqrt(1 / fanIn). */
export const LecunNormal = preset('LecunNormal', 1, 'fanIn', 'truncatedNormal');

/**
 * A (semi-)orthogonal matrix times `gain`: the kernel flattened to [prod(shape[:-1]), shape[-1]]
 * has orthonormal columns (or rows, when it is wide). From the QR decomposition of a normal draw.
 */
export class Orthogonal implements Initializer {
  readonly className = 'Orthogonal';
  readonly gain: number;
  readonly seed: number | null;
  constructor(config: { gain?: number } & SeedConfig = {}) {
    this.gain = config.gain ?? 1;
    this.seed = config.seed ?? null;
  }
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    checkFloat(this.className, dtype);
    if (shape.length < 2) {
      throw new ValueError(`Orthogonal initializer expected a shape of rank >= 2, got [${shape.join(', ')}]`);
    }
    const cols = shape[shape.length - 1] as number;
    let rows = 1;
    for (let i = 0; i < shape.length - 1; i++) rows *= shape[i] as number;
    // Work on the tall orientation [m, n] with m >= n, then transpose back if needed.
    const m = Math.max(rows, cols);
    const n = Math.min(rows, cols);
    const r = rng(this.seed ?? undefined);
    const a = new Float64Array(m * n); // column-major: column j at a[j*m ... j*m+m)
    for (let i = 0; i < a.length; i++) a[i] = r.normal();
    // Modified Gram-Schmidt (with re-orthogonalisation): Q's columns, sign-fixed like QR with diag(R) > 0.
    for (let j = 0; j < n; j++) {
      const cj = j * m;
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < j; k++) {
          const ck = k * m;
          let dot = 0;
          for (let i = 0; i < m; i++) dot += (a[ck + i] as number) * (a[cj + i] as number);
          for (let i = 0; i < m; i++) a[cj + i] = (a[cj + i] as number) - dot * (a[ck + i] as number);
        }
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += (a[cj + i] as number) ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < m; i++) a[cj + i] = (a[cj + i] as number) / norm;
    }
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        // Tall: out[i, j] = Q[i, j]; wide: out[i, j] = Q[j, i] (Q is [cols, rows]).
        const v = rows >= cols ? (a[j * m + i] as number) : (a[i * m + j] as number);
        out[i * cols + j] = this.gain * v;
      }
    }
    return new Tensor(out, [...shape], 'float32');
  }
  getConfig(): Record<string, unknown> {
    return { gain: this.gain, seed: this.seed };
  }
}

/** The identity matrix times `gain` (2-D shapes only). */
export class Identity implements Initializer {
  readonly className = 'Identity';
  readonly gain: number;
  constructor(config: { gain?: number } = {}) {
    this.gain = config.gain ?? 1;
  }
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (shape.length !== 2)
      throw new ValueError(`Identity initializer expected a 2-D shape, got [${shape.join(', ')}]`);
    const [r, c] = shape as [number, number];
    const t = full(shape, 0, dtype);
    for (let i = 0; i < Math.min(r, c); i++) t.data[i * c + i] = this.gain;
    return t;
  }
  getConfig(): Record<string, unknown> {
    return { gain: this.gain };
  }
}

type InitializerFactory = (config: Record<string, unknown>) => Initializer;

const byClassName: Record<string, InitializerFactory> = {
  Zeros: () => new Zeros(),
  Ones: () => new Ones(),
  Constant: (c) => new Constant(c),
  RandomNormal: (c) => new RandomNormal(c),
  RandomUniform: (c) => new RandomUniform(c),
  TruncatedNormal: (c) => new TruncatedNormal(c),
  VarianceScaling: (c) => new VarianceScaling(c),
  GlorotUniform: (c) => new GlorotUniform(c),
  GlorotNormal: (c) => new GlorotNormal(c),
  HeUniform: (c) => new HeUniform(c),
  HeNormal: (c) => new HeNormal(c),
  LecunUniform: (c) => new LecunUniform(c),
  LecunNormal: (c) => new LecunNormal(c),
  Orthogonal: (c) => new Orthogonal(c),
  Identity: (c) => new Identity(c),
};

/** 'glorot_uniform' / 'glorotUniform' / 'GlorotUniform' -> 'glorotuniform' (lookup key). */
function key(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

const byKey = new Map<string, string>(Object.keys(byClassName).map((k) => [key(k), k]));
byKey.set('zero', 'Zeros');
byKey.set('one', 'Ones');
byKey.set('normal', 'RandomNormal');
byKey.set('uniform', 'RandomUniform');
byKey.set('eye', 'Identity');

export type InitializerIdentifier = string | Initializer | { className: string; config?: Record<string, unknown> };

/**
 * Resolve an initializer from a name (camelCase, Keras snake_case or class name), an instance,
 * or a serialised `{ className, config }`.
 * @example getInitializer('he_normal'); getInitializer({ className: 'Constant', config: { value: 0.1 } })
 */
export function getInitializer(id: InitializerIdentifier): Initializer {
  if (typeof id === 'object' && id !== null && typeof (id as Initializer).init === 'function') return id as Initializer;
  const className = typeof id === 'string' ? id : (id as { className?: unknown })?.className;
  const config = typeof id === 'string' ? {} : ((id as { config?: Record<string, unknown> }).config ?? {});
  const resolved = typeof className === 'string' ? byKey.get(key(className)) : undefined;
  if (!resolved) {
    throw new ValueError(
      `unknown initializer ${JSON.stringify(typeof id === 'string' ? id : className)}; expected one of ${Object.keys(byClassName).join(', ')} (camelCase or snake_case names also accepted)`,
    );
  }
  return (byClassName[resolved] as InitializerFactory)(config);
}

/** Serialise an initializer as Keras does: { className, config }. */
export function serializeInitializer(init: Initializer): { className: string; config: Record<string, unknown> } {
  return { className: init.className, config: init.getConfig() };
}

/**
 * Initializer factories with Keras-JS names.
 * @example layers.dense({ units: 8, kernelInitializer: initializers.heNormal({ seed: 1 }) })
 */
export const initializers = {
  zeros: () => new Zeros(),
  ones: () => new Ones(),
  constant: (config: { value?: number } = {}) => new Constant(config),
  randomNormal: (config: ConstructorParameters<typeof RandomNormal>[0] = {}) => new RandomNormal(config),
  randomUniform: (config: ConstructorParameters<typeof RandomUniform>[0] = {}) => new RandomUniform(config),
  truncatedNormal: (config: ConstructorParameters<typeof TruncatedNormal>[0] = {}) => new TruncatedNormal(config),
  varianceScaling: (config: VarianceScalingConfig = {}) => new VarianceScaling(config),
  glorotUniform: (config: SeedConfig = {}) => new GlorotUniform(config),
  glorotNormal: (config: SeedConfig = {}) => new GlorotNormal(config),
  heUniform: (config: SeedConfig = {}) => new HeUniform(config),
  heNormal: (config: SeedConfig = {}) => new HeNormal(config),
  lecunUniform: (config: SeedConfig = {}) => new LecunUniform(config),
  lecunNormal: (config: SeedConfig = {}) => new LecunNormal(config),
  orthogonal: (config: { gain?: number } & SeedConfig = {}) => new Orthogonal(config),
  identity: (config: { gain?: number } = {}) => new Identity(config),
};

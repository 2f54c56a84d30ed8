/**
 * Optimizer: the Keras 3 base class. `applyGradients` clips the gradients (clipValue,
 * clipNorm or globalClipNorm), applies decoupled weight decay, updates every variable in
 * place and increments `iterations`. Per-variable state (slots: momentum, moments, ...)
 * is created lazily on a variable's first update as untracked Float32Arrays held by
 * non-trainable Variables, so it outlives the engine's per-step scope and is never recycled.
 */
import { variableGrads } from '../../autograd/tape.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../../tensor/errors.js';
import { Tensor, Variable } from '../../tensor/tensor.js';
import { isLearningRateSchedule, type LearningRateSchedule, scheduleFromConfig } from './schedules.js';

/** Options every optimizer accepts (Keras base optimizer arguments). */
export interface OptimizerOptions {
  learningRate?: number | LearningRateSchedule;
  /** Decoupled weight decay: before each update w -= w * weightDecay * lr. */
  weightDecay?: number | null;
  /** Clip each gradient to this L2 norm. */
  clipNorm?: number | null;
  /** Clip each gradient element to [-clipValue, clipValue]. */
  clipValue?: number | null;
  /** Scale all gradients together so their joint L2 norm is at most this. */
  globalClipNorm?: number | null;
  name?: string;
}

/** A saved optimizer weight: a slot `<variable name>/<slot>` or 'iterations'. */
export interface OptimizerWeight {
  name: string;
  tensor: Tensor;
}

function optionalPositive(value: unknown, where: string, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value > 0)) {
    throw new ValueError(`${where} expected ${field} to be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkNumber(value: unknown, where: string, field: string, min: number, max = Infinity): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new ValueError(`${where} expected ${field} ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export abstract class Optimizer {
  /** The Keras class name ('SGD', 'Adam', ...), the key for getOptimizer({ className, config }). */
  abstract readonly className: string;
  /** A number, or a schedule of the step; callbacks (reduceLROnPlateau) may assign a number. */
  learningRate: number | LearningRateSchedule;
  /** Number of applyGradients calls so far. */
  iterations = 0;
  weightDecay?: number;
  clipNorm?: number;
  clipValue?: number;
  globalClipNorm?: number;
  name: string;
  /** Slot names per update ('m', 'v', ...) keyed by variable. */
  protected readonly slots = new Map<Variable, Map<string, Variable>>();
  /** Optimizer-wide state saved with the slots (e.g. Nadam's u_product). */
  protected readonly globals = new Map<string, Float32Array>();
  /** setWeights values for slots not created yet, by name. */
  private readonly pending = new Map<string, Tensor>();
  private excluded: string[] = [];
  /** Scratch for clipped gradients, reused across variables and steps. */
  private scratch = new Float32Array(0);
  /** True when the subclass folds weight decay into its own kernel (Adam / AdamW). */
  protected fusedWeightDecay = false;

  constructor(options: OptimizerOptions, defaultLearningRate: number, defaultName: string) {
    const where = defaultName;
    const lr = options.learningRate ?? defaultLearningRate;
    if (!isLearningRateSchedule(lr)) checkNumber(lr, where, 'learningRate', 0);
    this.learningRate = lr;
    this.name = options.name ?? defaultName;
    const wd = options.weightDecay;
    if (wd !== undefined && wd !== null) this.weightDecay = checkNumber(wd, where, 'weightDecay', 0);
    this.clipNorm = optionalPositive(options.clipNorm, where, 'clipNorm');
    this.clipValue = optionalPositive(options.clipValue, where, 'clipValue');
    this.globalClipNorm = optionalPositive(options.globalClipNorm, where, 'globalClipNorm');
    const set = [this.clipNorm, this.clipValue, this.globalClipNorm].filter((v) => v !== undefined).length;
    if (set > 1) {
      throw new ValueError(
        `${where}: only one of clipNorm, clipValue and globalClipNorm can be set, got clipNorm ${this.clipNorm}, clipValue ${this.clipValue}, globalClipNorm ${this.globalClipNorm}`,
      );
    }
  }

  /** The learning rate for the next update: the schedule at `iterations`, or the number. */
  currentLearningRate(): number {
    const lr = this.learningRate;
    return typeof lr === 'number' ? lr : lr(this.iterations);
  }

  /** Skip weight decay for variables whose name contains any of these strings (e.g. 'bias', 'gamma'). */
  excludeFromWeightDecay(names: readonly string[]): void {
    this.excluded = [...names];
  }

  /**
   * Update each variable in place from its gradient (null gradients are skipped), then
   * increment `iterations`.
   * @example opt.applyGradients([[w, grad]])
   */
  applyGradients(pairs: readonly (readonly [Variable, Tensor | null | undefined])[]): void {
    const work: [Variable, Float32Array][] = [];
    for (const [v, g] of pairs) {
      if (g === null || g === undefined) continue;
      if (!(v instanceof Variable))
        throw new ValueError(`${this.className}.applyGradients expected Variables, got ${typeof v}`);
      if (v.dtype !== 'float32' || g.dtype !== 'float32') {
        throw new DTypeError(
          `${this.className}.applyGradients expected float32 variable and gradient for '${v.name}', got ${v.dtype} variable and ${g.dtype} gradient`,
        );
      }
      if (g.size !== v.size) {
        throw new ShapeError(
          `${this.className}.applyGradients: gradient for '${v.name}' has shape ${fmtShape(g.shape)}, expected the variable's ${fmtShape(v.shape)}`,
        );
      }
      work.push([v, g.data as Float32Array]);
    }
    const lr = this.currentLearningRate();
    const step = this.iterations + 1;
    let globalScale = 1;
    if (this.globalClipNorm !== undefined) {
      let sq = 0;
      for (const [, g] of work) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
      const norm = Math.sqrt(sq);
      if (norm > this.globalClipNorm) globalScale = this.globalClipNorm / norm;
    }
    this.beforeUpdates(step);
    for (const [v, g] of work) {
      const grad = this.clipped(g, globalScale);
      const param = v.data as Float32Array;
      const wd =
        this.weightDecay !== undefined && this.weightDecay > 0 && this.usesWeightDecay(v) ? this.weightDecay : 0;
      if (wd !== 0 && !this.fusedWeightDecay) {
        const f = wd * lr;
        for (let i = 0; i < param.length; i++) param[i]! -= param[i]! * f;
      }
      this.updateVariable(v, param, grad, lr, step, wd);
    }
    this.iterations = step;
  }

  /**
   * Differentiate f() with respect to `variables` and apply one update; returns f's value.
   * @example const w = variable([1]); optimizers.sgd({ learningRate: 0.1 }).minimize(() => sum(square(w)), [w])
   */
  minimize(f: () => Tensor, variables: readonly Variable[]): Tensor {
    const { value, grads } = variableGrads(f, variables);
    if (value.size !== 1) {
      throw new ShapeError(
        `${this.className}.minimize expected f to return a scalar loss, got shape ${fmtShape(value.shape)}`,
      );
    }
    this.applyGradients(variables.map((v) => [v, grads.get(v) ?? null] as const));
    return value;
  }

  private usesWeightDecay(v: Variable): boolean {
    for (const n of this.excluded) if (v.name.includes(n)) return false;
    return true;
  }

  /** The gradient after clipValue / clipNorm / global scaling (a scratch copy when any applies). */
  private clipped(g: Float32Array, globalScale: number): Float32Array {
    const n = g.length;
    if (this.clipValue !== undefined) {
      const out = this.scratchOf(n);
      const c = this.clipValue;
      for (let i = 0; i < n; i++) {
        const x = g[i]!;
        out[i] = Math.min(c, Math.max(x, -c));
      }
      return out;
    }
    let scale = globalScale;
    if (this.clipNorm !== undefined) {
      let sq = 0;
      for (let i = 0; i < n; i++) sq += g[i]! * g[i]!;
      const norm = Math.sqrt(sq);
      if (norm > this.clipNorm) scale = this.clipNorm / norm;
    }
    if (scale === 1) return g;
    const out = this.scratchOf(n);
    for (let i = 0; i < n; i++) out[i] = g[i]! * scale;
    return out;
  }

  private scratchOf(n: number): Float32Array {
    if (this.scratch.length < n) this.scratch = new Float32Array(n);
    return this.scratch.subarray(0, n);
  }

  /** Hook run once per applyGradients before the per-variable updates (step is 1-based). */
  protected beforeUpdates(_step: number): void {}

  /**
   * Update one variable in place. `param` is v's data, `grad` the (clipped) gradient, lr the
   * learning rate of this step, step the 1-based step, weightDecay the decay to fold in when
   * fusedWeightDecay (0 when none applies to v).
   */
  protected abstract updateVariable(
    v: Variable,
    param: Float32Array,
    grad: Float32Array,
    lr: number,
    step: number,
    weightDecay: number,
  ): void;

  /** The slot `name` of variable v (created on first use, filled with init, or a pending setWeights value). */
  protected slot(v: Variable, name: string, init = 0): Float32Array {
    let m = this.slots.get(v);
    if (!m) this.slots.set(v, (m = new Map()));
    let s = m.get(name);
    if (!s) {
      const full = `${v.name}/${name}`;
      const data = new Float32Array(v.size);
      const saved = this.pending.get(full);
      if (saved) {
        if (saved.size !== v.size) {
          throw new ShapeError(
            `${this.className}: saved slot '${full}' has shape ${fmtShape(saved.shape)}, expected the variable's ${fmtShape(v.shape)}`,
          );
        }
        data.set(saved.data);
        this.pending.delete(full);
      } else if (init !== 0) data.fill(init);
      // Constructed directly (not Tensor.empty): untracked by any scope, never recycled.
      s = new Variable(new Tensor(data, v.shape, 'float32'), { name: full, trainable: false });
      m.set(name, s);
    }
    return s.data as Float32Array;
  }

  /** Optimizer-wide state (created with `init` on first use, or from a pending setWeights value). */
  protected global(name: string, init: number): Float32Array {
    let g = this.globals.get(name);
    if (!g) {
      g = new Float32Array(1);
      const saved = this.pending.get(name);
      if (saved) {
        g[0] = saved.data[0] as number;
        this.pending.delete(name);
      } else g[0] = init;
      this.globals.set(name, g);
    }
    return g;
  }

  /**
   * The slot variables, optimizer-wide state and 'iterations', for saving. Names are stable:
   * '<variable name>/<slot>' (e.g. 'dense/kernel/m'), 'iterations', and globals such as 'u_product'.
   */
  getWeights(): OptimizerWeight[] {
    const out: OptimizerWeight[] = [
      { name: 'iterations', tensor: new Tensor(Int32Array.of(this.iterations), [], 'int32') },
    ];
    for (const [name, g] of this.globals) out.push({ name, tensor: new Tensor(Float32Array.from(g), [], 'float32') });
    for (const m of this.slots.values()) for (const s of m.values()) out.push({ name: s.name, tensor: s });
    return out;
  }

  /**
   * Restore what getWeights returned (matched by name). Slots of variables not updated yet are
   * kept and used when the slot is created, so a fresh optimizer continues exactly.
   */
  setWeights(weights: readonly OptimizerWeight[]): void {
    const byName = new Map<string, Variable>();
    for (const m of this.slots.values()) for (const s of m.values()) byName.set(s.name, s);
    for (const { name, tensor } of weights) {
      if (name === 'iterations') {
        this.iterations = Number(tensor.data[0] ?? 0);
        continue;
      }
      const g = this.globals.get(name);
      if (g) {
        g[0] = tensor.data[0] as number;
        continue;
      }
      const s = byName.get(name);
      if (s) {
        if (s.size !== tensor.size) {
          throw new ShapeError(
            `${this.className}.setWeights: '${name}' has shape ${fmtShape(tensor.shape)}, expected ${fmtShape(s.shape)}`,
          );
        }
        (s.data as Float32Array).set(tensor.data);
        continue;
      }
      this.pending.set(name, new Tensor(Float32Array.from(tensor.data), tensor.shape, 'float32'));
    }
  }

  /** The constructor options, for model.json; getOptimizer({ className, config }) rebuilds it. */
  getConfig(): Record<string, unknown> {
    const lr = this.learningRate;
    return {
      name: this.name,
      learningRate: typeof lr === 'number' ? lr : { className: lr.className, config: lr.getConfig() },
      weightDecay: this.weightDecay ?? null,
      clipNorm: this.clipNorm ?? null,
      clipValue: this.clipValue ?? null,
      globalClipNorm: this.globalClipNorm ?? null,
    };
  }
}

/** Turn a serialised learningRate ({ className, config }) back into a schedule; numbers pass through. */
export function learningRateFromConfig(value: unknown): number | LearningRateSchedule | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' || isLearningRateSchedule(value)) return value;
  if (typeof value === 'object' && typeof (value as { className?: unknown }).className === 'string') {
    const v = value as { className: string; config?: object };
    return scheduleFromConfig({ className: v.className, config: v.config ?? {} });
  }
  throw new ValueError(
    `optimizer config expected learningRate to be a number or a schedule config, got ${JSON.stringify(value)}`,
  );
}

/**
 * A model version's runner on the HTTP thread, for lone requests (opt-in: config.json
 * "inlineWhenIdle"; by default the HTTP event loop never runs a kernel). At light load (one client,
 * or requests that never overlap) a worker round trip is two thread hops, each waking a sleeping
 * thread, which cost more than a small model's whole forward pass; run where the request was
 * decoded, the answer skips both. Only small, fast, synchronous models of fixed-size rows qualify
 * (LocalRunner.load), and ModelVersion runs a request here only when its rows fit LOCAL_MAX_US, so
 * the HTTP thread is never held for long.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setWinogradInference, winogradInference } from '../ops/conv-pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { runnerInputs, runnerOutputs } from './execute.js';
import type { ModelRunner, OutputTensor, RunnerModule, TensorSpec, WireTensor } from './types.js';

/** Largest model folder (bytes on disk) loaded a second time on the HTTP thread. */
export const LOCAL_MAX_BYTES = 32 * 1024 * 1024;

/** Longest execution (µs, estimated from the warmed-up single-row one) allowed to hold the HTTP thread. */
export const LOCAL_MAX_US = 1000;

/**
 * Slowest first (cold) execution on a worker for which a copy is loaded here at all: the copy's own
 * first execution, similar, blocks this thread once, at load.
 */
export const LOCAL_COLD_MAX_US = 100_000;

/** Warm-up executions before timing (V8's optimising tiers need a few). */
const WARM_UPS = 8;

export class LocalRunner {
  private constructor(
    private readonly runner: ModelRunner,
    private readonly winograd: boolean,
    /** A warmed-up single-row execution's time, µs. */
    readonly warmUs: number,
  ) {}

  /**
   * Load a second copy of a version on this thread and warm it up on `sample` (one row); null when
   * it does not qualify: an input of strings or with a variable dim past the first (its execution
   * time would depend on the request), a folder over LOCAL_MAX_BYTES, an asynchronous runner, a
   * warmed-up execution slower than LOCAL_MAX_US, or any failure (the workers serve it as before).
   */
  static async load(
    runnerModule: string,
    dir: string,
    winograd: boolean,
    inputs: readonly TensorSpec[],
    sample: WireTensor[],
  ): Promise<LocalRunner | null> {
    try {
      if (inputs.some((s) => s.dtype === 'string' || s.shape.slice(1).some((d) => d === null))) return null;
      if (folderBytes(dir) > LOCAL_MAX_BYTES) return null;
      const mod = (await import(runnerModule)) as RunnerModule;
      const local = new LocalRunner(await mod.createRunner(dir), winograd, 0);
      // The fastest of the later warm-ups: a preempted one says nothing about the model.
      let us = Number.POSITIVE_INFINITY;
      for (let i = 0; i < WARM_UPS; i++) {
        const t0 = performance.now();
        if (local.run(sample) === null) return null;
        const t = (performance.now() - t0) * 1000;
        if (t > 50 * LOCAL_MAX_US) return null;
        if (i >= WARM_UPS / 2) us = Math.min(us, t);
      }
      return us <= LOCAL_MAX_US ? new LocalRunner(local.runner, winograd, Math.max(us, 1)) : null;
    } catch {
      return null;
    }
  }

  /** Run a batch on this thread: its outputs (copies), or null when the runner answered asynchronously. */
  run(inputs: WireTensor[]): OutputTensor[] | null {
    const before = winogradInference();
    setWinogradInference(this.winograd);
    try {
      const result = this.runner.infer(runnerInputs(inputs).inputs);
      if (result instanceof Promise) {
        result.catch(() => {});
        return null;
      }
      return runnerOutputs(this.runner, result as Record<string, Tensor>);
    } finally {
      setWinogradInference(before);
    }
  }
}

/** Bytes of the files under a folder (not following links). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += statSync(p).size;
    if (total > LOCAL_MAX_BYTES) break;
  }
  return total;
}

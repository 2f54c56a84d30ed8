/**
 * A model version's runner on the HTTP thread, for lone requests. At light load (one client, or
 * requests that never overlap) a worker round trip is two thread hops, each waking a sleeping
 * thread, which cost more than a small model's whole forward pass; run where the request was
 * decoded, the answer skips both. Only small, fast, synchronous models qualify (LocalRunner.load),
 * so the HTTP thread is never held for long; ModelVersion decides when to use it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setWinogradInference, winogradInference } from '../ops/conv-pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { runnerInputs, runnerOutputs } from './execute.js';
import type { ModelRunner, OutputTensor, RunnerModule, WireTensor } from './types.js';

/** Largest model folder (bytes on disk) loaded a second time on the HTTP thread. */
export const LOCAL_MAX_BYTES = 32 * 1024 * 1024;

/** Slowest warmed-up single-row execution (µs) allowed to hold the HTTP thread. */
export const LOCAL_MAX_US = 1000;

/** Warm-up executions before timing (V8's optimising tiers need a few). */
const WARM_UPS = 8;

export class LocalRunner {
  private constructor(
    private readonly runner: ModelRunner,
    private readonly winograd: boolean,
    /** The last warm-up's time, µs. */
    readonly warmUs: number,
  ) {}

  /**
   * Load a second copy of a version on this thread and warm it up on `sample` (one row); null when
   * it does not qualify: a folder over LOCAL_MAX_BYTES, an asynchronous runner, a warmed-up
   * execution slower than LOCAL_MAX_US, or any failure (the workers serve it as before).
   */
  static async load(
    runnerModule: string,
    dir: string,
    winograd: boolean,
    sample: WireTensor[],
  ): Promise<LocalRunner | null> {
    try {
      if (folderBytes(dir) > LOCAL_MAX_BYTES) return null;
      const mod = (await import(runnerModule)) as RunnerModule;
      const local = new LocalRunner(await mod.createRunner(dir), winograd, 0);
      let us = Number.POSITIVE_INFINITY;
      for (let i = 0; i < WARM_UPS; i++) {
        const t0 = performance.now();
        if (local.run(sample) === null) return null;
        us = (performance.now() - t0) * 1000;
        if (us > 50 * LOCAL_MAX_US) return null;
      }
      return us <= LOCAL_MAX_US ? new LocalRunner(local.runner, winograd, us) : null;
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

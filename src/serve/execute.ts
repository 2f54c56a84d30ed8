/**
 * One execution of a ModelRunner, shared by the worker threads (worker.ts) and the HTTP thread's
 * own runner for lone requests (local-runner.ts): wire tensors in, copied output tensors out.
 */
import type { DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import type { ModelRunner, OutputTensor, WireTensor } from './types.js';

/** The runner's inputs for a batch of wire tensors, and its rows (the largest leading dim). */
export function runnerInputs(wire: readonly WireTensor[]): { inputs: Record<string, Tensor | string[]>; rows: number } {
  const inputs: Record<string, Tensor | string[]> = {};
  let rows = 0;
  for (const w of wire) {
    inputs[w.name] = Array.isArray(w.data) ? w.data : new Tensor(w.data, w.shape, w.dtype as DType);
    rows = Math.max(rows, w.shape[0] ?? 1);
  }
  return { inputs, rows };
}

/**
 * Every signature output of a result, in signature order, each a copy: the result may live in a
 * pooled buffer, and the copy is what a worker transfers.
 */
export function runnerOutputs(runner: ModelRunner, result: Record<string, Tensor>): OutputTensor[] {
  const outputs: OutputTensor[] = [];
  for (const spec of runner.signature.outputs) {
    const t = result[spec.name];
    if (!t) throw new Error(`the model returned no output '${spec.name}'`);
    outputs.push({ name: spec.name, dtype: t.dtype, shape: [...t.shape], data: t.dataSync().slice() });
  }
  return outputs;
}

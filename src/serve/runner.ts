/**
 * The default ModelRunner: a saved Tessera model folder (model.json + weights.safetensors),
 * loaded with loadModel and run with predictOnBatch. Runs inside a worker thread.
 */
import '../layers/activations.js';
import '../layers/conv.js';
import '../layers/core.js';
import '../layers/merge.js';
import '../layers/normalization.js';
import '../layers/pooling.js';
import '../layers/reshaping.js';
import '../model/functional.js';
import '../model/sequential.js';
import '../ops/index.js';
import { loadModel, readModelJson } from '../io/save.js';
import { assertDType } from '../tensor/dtype.js';
import { ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModelRunner, ServingSignature, TensorSpec } from './types.js';

/** The serving signature recorded in a saved model's model.json. */
export function signatureOf(dir: string): ServingSignature {
  const json = readModelJson(dir);
  const conv = (
    list: { name: string; shape: (number | null)[]; dtype: string }[] | undefined,
    what: string,
  ): TensorSpec[] => {
    if (!Array.isArray(list) || list.length === 0) {
      throw new ValueError(`model '${dir}': model.json has no ${what} signature (save a built model)`);
    }
    return list.map((s) => ({
      name: s.name,
      dtype: assertDType(s.dtype, `model.json signature ${what} '${s.name}'`),
      shape: [...s.shape],
    }));
  };
  return { inputs: conv(json.signature?.inputs, 'input'), outputs: conv(json.signature?.outputs, 'output') };
}

/** A ModelRunner whose infer is synchronous (a saved Tessera model). */
export interface SavedModelRunner extends ModelRunner {
  infer(inputs: Record<string, Tensor>): Record<string, Tensor>;
}

/**
 * Load a saved model as a ModelRunner (what each serving worker does).
 * @example const runner = await createRunner('models/mnist/1'); runner.infer({ input: x });
 */
export async function createRunner(dir: string): Promise<SavedModelRunner> {
  const signature = signatureOf(dir);
  const model = await loadModel(dir, { compile: false });
  return {
    signature,
    infer(inputs: Record<string, Tensor>): Record<string, Tensor> {
      const xs = signature.inputs.map((s) => inputs[s.name] as Tensor);
      const out = model.predictOnBatch(xs.length === 1 ? (xs[0] as Tensor) : xs);
      const list = Array.isArray(out) ? out : [out];
      const result: Record<string, Tensor> = {};
      signature.outputs.forEach((s, i) => {
        result[s.name] = list[i] as Tensor;
      });
      return result;
    },
  };
}

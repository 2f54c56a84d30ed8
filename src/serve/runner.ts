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
import '../layers/embedding.js';
import '../layers/recurrent-index.js';
import '../layers/text.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, readModelJson } from '../io/save.js';
import { type Layer, layerFromConfig } from '../layers/layer.js';
import type { Model } from '../model/model.js';
import { sequential } from '../model/sequential.js';
import { assertDType } from '../tensor/dtype.js';
import { ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModelRunner, ServingDType, ServingSignature, TensorSpec } from './types.js';

/** Layers that take raw JS strings (a served model starting with one has a 'string' input). */
const STRING_LAYERS = new Set(['TextVectorization', 'StringLookup']);

/** A saved text model's vectorizer kept next to it (the examples' convention): `<dir>/text_vectorization.json`. */
export const VECTORIZER_FILE = 'text_vectorization.json';

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
    return list.map((s) => {
      // Strings: a batch of texts, [batch] (Keras' [batch, 1] too).
      if (s.dtype === 'string') return { name: s.name, dtype: 'string' as ServingDType, shape: [s.shape[0] ?? null] };
      return {
        name: s.name,
        dtype: assertDType(s.dtype, `model.json signature ${what} '${s.name}'`) as ServingDType,
        shape: [...s.shape],
      };
    });
  };
  const sig = { inputs: conv(json.signature?.inputs, 'input'), outputs: conv(json.signature?.outputs, 'output') };
  if (existsSync(join(dir, VECTORIZER_FILE)) && sig.inputs.length === 1) {
    // The vectorizer runs in the server: the model takes raw strings.
    sig.inputs[0] = { name: (sig.inputs[0] as TensorSpec).name, dtype: 'string', shape: [null] };
  }
  return sig;
}

/**
 * The string front-end of a text model, if any: a first layer that takes strings (the rest of the
 * model then runs as a Sequential of the other layers), or a `text_vectorization.json` next to it.
 */
function stringFrontEnd(dir: string, model: Model): { vectorize: (s: string[]) => Tensor; model: Model } | null {
  const first = model.layers[0];
  if (first && STRING_LAYERS.has(first.className)) {
    const apply = (first as unknown as { apply(s: string[]): Tensor }).apply.bind(first);
    return { vectorize: (s) => apply(s), model: sequential(model.layers.slice(1) as Layer[]) };
  }
  const file = join(dir, VECTORIZER_FILE);
  if (existsSync(file)) {
    const tv = layerFromConfig('TextVectorization', JSON.parse(readFileSync(file, 'utf8'))) as unknown as {
      vectorize(s: string[]): Tensor;
    };
    return { vectorize: (s) => tv.vectorize(s), model };
  }
  return null;
}

/** A ModelRunner whose infer is synchronous (a saved Tessera model). */
export interface SavedModelRunner extends ModelRunner {
  infer(inputs: Record<string, Tensor | string[]>): Record<string, Tensor>;
}

/**
 * Load a saved model as a ModelRunner (what each serving worker does).
 * @example const runner = await createRunner('models/mnist/1'); runner.infer({ input: x });
 */
export async function createRunner(dir: string): Promise<SavedModelRunner> {
  const signature = signatureOf(dir);
  let model = await loadModel(dir, { compile: false });
  const front = signature.inputs.some((s) => s.dtype === 'string') ? stringFrontEnd(dir, model) : null;
  if (front) model = front.model;
  return {
    signature,
    infer(inputs: Record<string, Tensor | string[]>): Record<string, Tensor> {
      const xs = signature.inputs.map((s) => {
        const v = inputs[s.name] as Tensor | string[];
        if (!Array.isArray(v)) return v;
        if (!front)
          throw new ValueError(`model '${dir}': input '${s.name}' is strings but the model has no text front-end`);
        return front.vectorize(v);
      });
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

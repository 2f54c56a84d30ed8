/**
 * Saving and loading whole models: a folder with `model.json` (architecture, training config,
 * weight names, input/output signature) and `weights.safetensors` (the weights under their
 * variable names, plus the optimizer's slots under `optimizer/...` and `optimizer/iterations`).
 *
 * Saving is atomic: everything is written and fsynced into `<dir>.tmp-<pid>-<rand>` next to
 * the target, then renamed into place (an existing folder is renamed aside first and removed
 * last), so a reader never sees a half-written model.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { ShapeLike } from '../layers/layer.js';
import { Model } from '../model/model.js';
import type { OptimizerWeight } from '../model/optimizers/index.js';
import { fmtShape, TesseraError } from '../tensor/errors.js';
import type { Tensor, Variable } from '../tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';

/** A model folder could not be written or read; the message names the file and the problem. */
export class ModelIOError extends TesseraError {}

export const MODEL_FORMAT = 'tessera-model';
export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';
const OPT_PREFIX = 'optimizer/';

/** One input or output of a saved model. */
export interface SignatureEntry {
  name: string;
  /** Batch dim (and other unknown dims) as null. */
  shape: (number | null)[];
  dtype: string;
}

/** The contents of model.json. */
export interface ModelJson {
  format: typeof MODEL_FORMAT;
  tesseraVersion: string;
  modelConfig: { className: string; config: Record<string, unknown> };
  trainingConfig: Record<string, unknown> | null;
  weightNames: string[];
  signature: { inputs: SignatureEntry[]; outputs: SignatureEntry[] };
}

export interface LoadModelOptions {
  /** Recompile with the saved training config and restore the optimizer state (default true). */
  compile?: boolean;
}

let versionCache: string | undefined;

/** The version in tessera's package.json. */
export function tesseraVersion(): string {
  if (versionCache === undefined) {
    const pkg = createRequire(import.meta.url)('../../package.json') as { version?: string };
    versionCache = pkg.version ?? '0.0.0';
  }
  return versionCache;
}

interface SymbolicLike {
  shape: readonly (number | null)[];
  dtype?: string;
}

/** The model's input shapes (batch dim null): functional `inputs`, else the first layer's batchInputShape. */
export function inputSignature(model: Model): SignatureEntry[] {
  const names = model.inputNames;
  const inputs = (model as unknown as { inputs?: SymbolicLike[] }).inputs;
  if (Array.isArray(inputs) && inputs.length > 0 && inputs.every((s) => s && Array.isArray(s.shape))) {
    return inputs.map((s, i) => ({ name: names[i] ?? `input_${i}`, shape: [...s.shape], dtype: s.dtype ?? 'float32' }));
  }
  const shape = model.batchInputShape ?? model.layers.find((l) => l.batchInputShape)?.batchInputShape;
  if (!shape) return [];
  // A model whose first layer takes raw strings (TextVectorization, StringLookup) is served with a 'string' input.
  const first = model.layers[0];
  const dtype =
    first && (first.className === 'TextVectorization' || first.className === 'StringLookup')
      ? 'string'
      : (first?.dtype ?? 'float32');
  return [{ name: names[0] ?? 'input', shape: [...shape], dtype }];
}

function outputSignature(model: Model): SignatureEntry[] {
  if (!model.built) return [];
  const names = model.outputNames;
  return model.outputShapes().map((s, i) => ({ name: names[i] ?? `output_${i}`, shape: [...s], dtype: 'float32' }));
}

/** Unique safetensors names for the model's weights (variable names; duplicates get `#<k>`). */
function weightNamesOf(weights: readonly Variable[]): string[] {
  const seen = new Map<string, number>();
  return weights.map((w) => {
    const n = seen.get(w.name) ?? 0;
    seen.set(w.name, n + 1);
    return n === 0 ? w.name : `${w.name}#${n}`;
  });
}

function writeSynced(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the renames are still atomic.
  }
}

/** The bytes of model.json and weights.safetensors for a model (what saveModel writes). */
export function serializeModel(model: Model): { json: ModelJson; weights: Uint8Array } {
  if (!(model instanceof Model)) throw new ModelIOError(`saveModel expected a Model, got ${typeof model}`);
  if (!model.built) {
    throw new ModelIOError(
      `saveModel: model '${model.name}' is not built yet (no weights); give the first layer an inputShape or call it on data first`,
    );
  }
  const weights = model.weights;
  const names = weightNamesOf(weights);
  const tensors: Record<string, Tensor> = {};
  weights.forEach((w, i) => {
    tensors[names[i] as string] = w;
  });
  const trainingConfig = model.trainingConfig();
  if (model.compiled) {
    for (const { name, tensor } of model.optimizer.getWeights()) {
      const key = `${OPT_PREFIX}${name}`;
      if (key in tensors)
        throw new ModelIOError(`saveModel: optimizer weight '${name}' collides with a model weight name`);
      tensors[key] = tensor;
    }
  }
  const json: ModelJson = {
    format: MODEL_FORMAT,
    tesseraVersion: tesseraVersion(),
    modelConfig: model.toConfig(),
    trainingConfig,
    weightNames: names,
    signature: { inputs: inputSignature(model), outputs: outputSignature(model) },
  };
  return { json, weights: encodeSafetensors(tensors, { format: 'tessera', tesseraVersion: tesseraVersion() }) };
}

/**
 * Save a model to a folder (created or atomically replaced): model.json + weights.safetensors,
 * including the compile state and optimizer slots so training can resume exactly.
 * @example
 * await saveModel(model, 'models/mnist-cnn/1');
 * const again = await loadModel('models/mnist-cnn/1');
 */
export async function saveModel(model: Model, dir: string): Promise<void> {
  const { json, weights } = serializeModel(model);
  const target = resolve(dir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const rand = randomBytes(4).toString('hex');
  const tmp = `${target}.tmp-${process.pid}-${rand}`;
  const aside = `${target}.old-${process.pid}-${rand}`;
  mkdirSync(tmp);
  let movedAside = false;
  try {
    writeSynced(join(tmp, WEIGHTS_FILE), weights);
    writeSynced(join(tmp, MODEL_JSON), `${JSON.stringify(json, null, 2)}\n`);
    fsyncDir(tmp);
    if (existsSync(target)) {
      if (!statSync(target).isDirectory()) {
        throw new ModelIOError(`saveModel: '${target}' exists and is not a folder; refusing to replace it`);
      }
      renameSync(target, aside);
      movedAside = true;
    }
    renameSync(tmp, target);
    fsyncDir(parent);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (movedAside && !existsSync(target)) renameSync(aside, target);
    if (e instanceof TesseraError) throw e;
    throw new ModelIOError(`saveModel: writing '${target}' failed: ${(e as Error).message}`);
  }
  if (movedAside) rmSync(aside, { recursive: true, force: true });
}

/** Read and check `<dir>/model.json`. */
export function readModelJson(dir: string): ModelJson {
  const target = resolve(dir);
  if (!existsSync(target)) throw new ModelIOError(`loadModel: model folder '${target}' does not exist`);
  if (!statSync(target).isDirectory())
    throw new ModelIOError(`loadModel: '${target}' is not a folder (expected a model folder with ${MODEL_JSON})`);
  const path = join(target, MODEL_JSON);
  if (!existsSync(path)) throw new ModelIOError(`loadModel: '${path}' is missing (not a saved tessera model folder?)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelIOError(`loadModel: '${path}' is not valid JSON (${(e as Error).message})`);
  }
  const j = parsed as Partial<ModelJson>;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelIOError(
      `loadModel: '${path}' must hold a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`,
    );
  }
  if (j.format !== MODEL_FORMAT) {
    throw new ModelIOError(`loadModel: '${path}' has format ${JSON.stringify(j.format)}, expected '${MODEL_FORMAT}'`);
  }
  const mc = j.modelConfig;
  if (!mc || typeof mc !== 'object' || typeof mc.className !== 'string' || typeof mc.config !== 'object') {
    throw new ModelIOError(`loadModel: '${path}' has no valid modelConfig { className, config }`);
  }
  if (!Array.isArray(j.weightNames) || !j.weightNames.every((n) => typeof n === 'string')) {
    throw new ModelIOError(`loadModel: '${path}' expected weightNames to be an array of strings`);
  }
  return parsed as ModelJson;
}

function buildIfNeeded(model: Model, sig: SignatureEntry[], where: string): void {
  if (model.built) return;
  if (sig.length === 0)
    throw new ModelIOError(`${where}: the model is not built and model.json has no input signature`);
  const shapes = sig.map((s) => s.shape as ShapeLike);
  model.ensureBuilt(shapes.length === 1 ? (shapes[0] as ShapeLike) : shapes);
}

/**
 * Load a model saved by saveModel: architecture, weights, and (when it was compiled) the
 * compile state with the optimizer's slots, so `fit` continues where it stopped.
 * @example
 * const model = await loadModel('models/mnist-cnn/1');
 * model.predict(xTest);
 * await model.fit(xTrain, yTrain, { epochs: 1 }); // resumes with the saved Adam moments
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<Model> {
  const json = readModelJson(dir);
  const where = `loadModel '${resolve(dir)}'`;
  let model: Model;
  try {
    model = Model.fromConfig(json.modelConfig);
  } catch (e) {
    throw new ModelIOError(`${where}: cannot rebuild the architecture from ${MODEL_JSON}: ${(e as Error).message}`);
  }
  buildIfNeeded(model, json.signature?.inputs ?? [], where);
  const wpath = join(resolve(dir), WEIGHTS_FILE);
  if (!existsSync(wpath)) throw new ModelIOError(`loadModel: '${wpath}' is missing`);
  let tensors: Record<string, Tensor>;
  try {
    tensors = decodeSafetensors(readFileSync(wpath)).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new ModelIOError(`loadModel: '${wpath}' is malformed: ${e.message}`);
    throw e;
  }
  const weights = model.weights;
  const names = json.weightNames;
  if (names.length !== weights.length) {
    throw new ModelIOError(
      `loadModel: '${wpath}': model.json lists ${names.length} weights but the rebuilt model has ${weights.length}`,
    );
  }
  weights.forEach((v, i) => {
    const name = names[i] as string;
    const t = tensors[name];
    if (!t) throw new ModelIOError(`loadModel: '${wpath}' has no tensor '${name}'`);
    if (t.size !== v.size || t.shape.length !== v.shape.length || t.shape.some((d, k) => d !== v.shape[k])) {
      throw new ModelIOError(
        `loadModel: '${wpath}': weight '${name}' has shape ${fmtShape(t.shape)}, the model expects ${fmtShape(v.shape)}`,
      );
    }
    if (t.dtype !== v.dtype) {
      throw new ModelIOError(`loadModel: '${wpath}': weight '${name}' is ${t.dtype}, the model expects ${v.dtype}`);
    }
    v.assign(t);
  });
  const tc = json.trainingConfig;
  if (tc && (options.compile ?? true)) {
    try {
      model.compile({
        optimizer: tc.optimizerConfig as { className: string; config?: Record<string, unknown> },
        loss: tc.loss as string,
        metrics: tc.metrics as string[] | undefined,
        lossWeights: Array.isArray(tc.lossWeights) ? (tc.lossWeights as number[]) : undefined,
      });
    } catch (e) {
      throw new ModelIOError(`${where}: cannot compile with the saved trainingConfig: ${(e as Error).message}`);
    }
    const slots: OptimizerWeight[] = [];
    for (const [name, tensor] of Object.entries(tensors)) {
      if (name.startsWith(OPT_PREFIX)) slots.push({ name: name.slice(OPT_PREFIX.length), tensor });
    }
    model.optimizer.setWeights(slots);
  }
  return model;
}

/** The folder's name and its model.json, for tools (CLI, server) that list models. */
export function describeModelDir(dir: string): { name: string; json: ModelJson } {
  return { name: basename(resolve(dir)), json: readModelJson(dir) };
}

declare module '../model/model.js' {
  interface Model {
    /**
     * Save to a folder (model.json + weights.safetensors), atomically. Same as saveModel(model, dir).
     * @example await model.save('models/mnist-cnn/1');
     */
    save(dir: string): Promise<void>;
  }
}

if (!('save' in Model.prototype)) {
  Object.defineProperty(Model.prototype, 'save', {
    value: function save(this: Model, dir: string): Promise<void> {
      return saveModel(this, dir);
    },
    writable: true,
    configurable: true,
  });
}

/**
 * Shared types of the model server: tensor specs and signatures, the ModelRunner contract a
 * worker thread drives, per-model configuration (config.json) and wire tensors.
 */
import type { DType, TypedArray } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The dtype of a served input or output: a tensor dtype, or 'string' for raw-text inputs (models
 * whose first layer is TextVectorization / StringLookup): KServe BYTES, TF Serving DT_STRING.
 */
export type ServingDType = DType | 'string';

/** Values of a request tensor: a typed array, or JS strings for a 'string' input. */
export type WireData = TypedArray | string[];

/** One input or output of a served model. `null` (or -1 on the wire) marks a variable dim, e.g. the batch. */
export interface TensorSpec {
  name: string;
  dtype: ServingDType;
  shape: (number | null)[];
}

/** The named inputs and outputs of a served model. */
export interface ServingSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/**
 * What a worker thread runs: a loaded model. `infer` receives every signature input (batch first;
 * a 'string' input as a flat array of JS strings, one per row) and returns every signature output,
 * batch first, one row per input row.
 */
export interface ModelRunner {
  readonly signature: ServingSignature;
  infer(inputs: Record<string, Tensor | string[]>): Record<string, Tensor> | Promise<Record<string, Tensor>>;
}

/** A module that turns a saved model directory into a ModelRunner (default: src/serve/runner.ts). */
export interface RunnerModule {
  createRunner(dir: string): ModelRunner | Promise<ModelRunner>;
}

/** A tensor as it crosses the thread boundary: plain typed array, shape and dtype. */
export interface WireTensor {
  name: string;
  dtype: ServingDType;
  shape: number[];
  data: WireData;
}

/** A model output as it crosses the thread boundary (outputs are always tensors). */
export interface OutputTensor {
  name: string;
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

/** Which versions of a model are served (TF Serving's model_version_policy). */
export type VersionPolicy = { latest: number } | { all: true } | { specific: number[] };

/** `models/<name>/config.json`. Every field is optional. */
export interface ModelConfig {
  /** Largest batch (rows) one execution takes; 0 disables batching (default 32). */
  maxBatchSize: number;
  /** How long the first queued request waits for others to join its batch (default 0: only requests queued while the instances are busy batch together). */
  maxQueueDelayMs: number;
  /** Queued rows beyond which requests are refused with 429 (default 1024). */
  maxQueueSize: number;
  /** A request queued longer than this fails with 503 (default 30000 ms). */
  timeoutMs: number;
  /** Worker threads per version (default 1). */
  instanceCount: number;
  versionPolicy: VersionPolicy;
  /** Version labels: `{ "stable": 1, "canary": 2 }`. */
  labels: Record<string, number>;
  /**
   * How inference runs 3x3 convolutions that feed a max-pool: 'winograd' (default) uses Winograd
   * F(4x4, 3x3), about 2x faster on the seed CNN's second layer and agreeing with the direct
   * convolution to ~2e-6 of the outputs' scale; 'direct' gives model.predict's bits exactly. Either way a request's
   * answer does not depend on the batch it ran in.
   */
  convolution: 'winograd' | 'direct';
  /**
   * At light load, run a lone request on the HTTP thread instead of a worker (default false: the
   * HTTP event loop never runs a kernel). It saves the two thread hops of a worker round trip. Only
   * models of numeric, fixed-size rows whose folder is at most 32 MiB and whose warmed-up
   * single-row execution takes at most 1 ms qualify (they are loaded a second time for it), and
   * only requests whose rows fit that 1 ms run there.
   */
  inlineWhenIdle: boolean;
  /**
   * Class labels per output name (after renames), for the classification extension: a request
   * asking an output for its top classes gets "<value>:<index>:<label>" where the index has one.
   */
  classLabels?: Record<string, string[]>;
  /** Optional renames of the signature's input / output names, in signature order. */
  inputNames?: string[];
  outputNames?: string[];
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  maxBatchSize: 32,
  maxQueueDelayMs: 0,
  maxQueueSize: 1024,
  timeoutMs: 30_000,
  instanceCount: 1,
  convolution: 'winograd',
  inlineWhenIdle: false,
  versionPolicy: { latest: 1 },
  labels: {},
};

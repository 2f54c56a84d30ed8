/** Model files: safetensors encoding and model folders (model.json + weights.safetensors). */
export { type DecodedSafetensors, decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';
export {
  describeModelDir,
  type LoadModelOptions,
  loadModel,
  MODEL_FORMAT,
  ModelIOError,
  type ModelJson,
  readModelJson,
  type SignatureEntry,
  saveModel,
  serializeModel,
} from './save.js';

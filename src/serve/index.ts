/** The model server: `startServer` (what `tessera serve` runs) and its building blocks. */
export { type ApiKeyEntry, ApiKeys, hashApiKey, type Scope } from './auth.js';
export { HttpError } from './errors.js';
export { Metrics } from './metrics.js';
export { isValidModelName, ModelRepository, readModelConfig } from './repository.js';
export { type ModelServer, SERVER_VERSION, type ServerOptions, startServer } from './server.js';
export type {
  ModelConfig,
  ModelRunner,
  RunnerModule,
  ServingDType,
  ServingSignature,
  TensorSpec,
  VersionPolicy,
} from './types.js';

/**
 * Sequence and text layers, as factory functions for the `layers` namespace
 * (`layers.lstm({ units: 64, returnSequences: true })`), plus the classes and helpers.
 */
import {
  MultiHeadAttention,
  type MultiHeadAttentionArgs,
  PositionalEmbedding,
  type PositionalEmbeddingArgs,
  TokenAndPositionEmbedding,
  type TokenAndPositionEmbeddingArgs,
  TransformerEncoder,
  type TransformerEncoderArgs,
} from './attention.js';
import { Embedding, type EmbeddingArgs, Masking, type MaskingArgs } from './embedding.js';
import { GRU, LSTM, type RecurrentArgs, SimpleRNN } from './recurrent.js';
import {
  IntegerLookup,
  type IntegerLookupArgs,
  StringLookup,
  type StringLookupArgs,
  TextVectorization,
  type TextVectorizationArgs,
} from './text.js';
import { Bidirectional, type BidirectionalArgs, TimeDistributed, type TimeDistributedArgs } from './wrappers.js';

export { type RecurrenceOptions, type RecurrentCell, recurrence } from '../ops/rnn.js';
export {
  type PadSequencesOptions,
  padSequences,
  type SplitMode,
  type StandardizeMode,
  split as splitText,
  standardize,
} from '../text/index.js';
export * from './attention.js';
export * from './embedding.js';
export * from './recurrent.js';
export { getMask, setMask } from './recurrent-mask.js';
export * from './text.js';
export * from './wrappers.js';

/**
 * Factories for the sequence / text layers (merged into `layers`).
 * @example
 * const model = sequential([
 *   layers.embedding({ inputDim: 5000, outputDim: 32, maskZero: true }),
 *   layers.bidirectional({ layer: layers.lstm({ units: 32 }) }),
 *   layers.dense({ units: 1, activation: 'sigmoid' }),
 * ]);
 */
export const sequenceLayers = {
  embedding: (args: EmbeddingArgs) => new Embedding(args),
  masking: (args: MaskingArgs = {}) => new Masking(args),
  simpleRnn: (args: RecurrentArgs) => new SimpleRNN(args),
  lstm: (args: RecurrentArgs) => new LSTM(args),
  gru: (args: RecurrentArgs) => new GRU(args),
  bidirectional: (args: BidirectionalArgs) => new Bidirectional(args),
  timeDistributed: (args: TimeDistributedArgs) => new TimeDistributed(args),
  multiHeadAttention: (args: MultiHeadAttentionArgs) => new MultiHeadAttention(args),
  positionalEmbedding: (args: PositionalEmbeddingArgs) => new PositionalEmbedding(args),
  tokenAndPositionEmbedding: (args: TokenAndPositionEmbeddingArgs) => new TokenAndPositionEmbedding(args),
  transformerEncoder: (args: TransformerEncoderArgs) => new TransformerEncoder(args),
  textVectorization: (args: TextVectorizationArgs = {}) => new TextVectorization(args),
  stringLookup: (args: StringLookupArgs = {}) => new StringLookup(args),
  integerLookup: (args: IntegerLookupArgs = {}) => new IntegerLookup(args),
};

/**
 * Text preprocessing layers (Keras): TextVectorization (raw strings -> token ids, multi-hot,
 * counts or TF-IDF), StringLookup and IntegerLookup. They have no weights: the vocabulary (and
 * IDF weights) live in the config, so a saved model keeps them and a served model takes raw strings.
 * Tokenisation is Unicode-correct (see src/text/index.ts): characters are code points.
 *
 * These layers take JS strings, which are not tensors: call `apply(strings)` (or `vectorize`).
 */
import { tensor } from '../tensor/creation.js';
import { DTypeError, fmtShape, ValueError } from '../tensor/errors.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { type SplitMode, type StandardizeMode, split, standardize } from '../text/index.js';
import { type CallContext, Layer, type LayerArgs, registerLayer, type ShapeLike } from './layer.js';
import type { SymbolicTensor } from './symbolic.js';

/** Frequency-sorted vocabulary (ties by first appearance order, then code point order for stability). */
function topTokens(counts: Map<string, number>, limit: number | null): string[] {
  const list = [...counts.entries()];
  list.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const tokens = list.map((e) => e[0]);
  return limit === null ? tokens : tokens.slice(0, Math.max(0, limit));
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const ch of s) {
    h ^= ch.codePointAt(0) as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export type TextOutputMode = 'int' | 'multiHot' | 'count' | 'tfIdf';

export interface TextVectorizationArgs extends LayerArgs {
  /** Vocabulary size limit, including the padding and OOV tokens in 'int' mode (the OOV token otherwise). */
  maxTokens?: number | null;
  standardize?: StandardizeMode | ((s: string) => string);
  split?: SplitMode | ((s: string) => string[]);
  outputMode?: TextOutputMode;
  /** 'int' mode: pad (with 0, at the end) or truncate (keeping the first tokens) to this length. */
  outputSequenceLength?: number | null;
  /** Non-'int' modes: always output maxTokens columns. */
  padToMaxTokens?: boolean;
  /** The tokens (without the padding / OOV specials), instead of adapt(). */
  vocabulary?: readonly string[] | null;
  /** 'tfIdf' mode: one weight per vocabulary entry (OOV first), instead of adapt(). */
  idfWeights?: readonly number[] | null;
}

const PAD = '';
const OOV = '[UNK]';

/**
 * Raw strings -> model inputs. 'int': [batch, length] int32 token ids (0 padding, 1 OOV);
 * 'multiHot' / 'count' / 'tfIdf': [batch, vocabularySize] float32 (column 0 the OOV token).
 * @example
 * const tv = new TextVectorization({ maxTokens: 1000, outputSequenceLength: 4 });
 * tv.adapt(['the cat sat', 'the dog']);
 * tv.apply(['The cat!']) // int32 [[2, 3, 0, 0]]
 */
export class TextVectorization extends Layer {
  readonly className = 'TextVectorization';
  readonly maxTokens: number | null;
  readonly standardizeMode: StandardizeMode | ((s: string) => string);
  readonly splitMode: SplitMode | ((s: string) => string[]);
  readonly outputMode: TextOutputMode;
  readonly outputSequenceLength: number | null;
  readonly padToMaxTokens: boolean;
  private tokens: string[] = [];
  private index = new Map<string, number>();
  private idf: Float32Array | null = null;

  constructor(args: TextVectorizationArgs = {}) {
    super(args);
    this.maxTokens = args.maxTokens ?? null;
    if (this.maxTokens !== null && !(Number.isInteger(this.maxTokens) && this.maxTokens > 0)) {
      throw new ValueError(`${this.name} expected maxTokens to be a positive integer or null, got ${args.maxTokens}`);
    }
    this.standardizeMode = args.standardize === undefined ? 'lowerAndStripPunctuation' : args.standardize;
    this.splitMode = args.split === undefined ? 'whitespace' : args.split;
    this.outputMode = args.outputMode ?? 'int';
    if (!['int', 'multiHot', 'count', 'tfIdf'].includes(this.outputMode)) {
      throw new ValueError(
        `${this.name} expected outputMode 'int' | 'multiHot' | 'count' | 'tfIdf', got ${JSON.stringify(args.outputMode)}`,
      );
    }
    this.outputSequenceLength = args.outputSequenceLength ?? null;
    if (this.outputSequenceLength !== null) {
      if (this.outputMode !== 'int') {
        throw new ValueError(
          `${this.name}: outputSequenceLength is for outputMode 'int', got outputMode '${this.outputMode}'`,
        );
      }
      if (!(Number.isInteger(this.outputSequenceLength) && this.outputSequenceLength > 0)) {
        throw new ValueError(
          `${this.name} expected outputSequenceLength to be a positive integer, got ${args.outputSequenceLength}`,
        );
      }
    }
    this.padToMaxTokens = args.padToMaxTokens ?? false;
    if (this.padToMaxTokens && this.maxTokens === null) {
      throw new ValueError(`${this.name}: padToMaxTokens needs maxTokens`);
    }
    if (args.vocabulary) this.setVocabulary(args.vocabulary, args.idfWeights ?? null);
    this.built = true;
  }

  /** Number of special tokens before the vocabulary: '' and '[UNK]' in 'int' mode, '[UNK]' otherwise. */
  private get specials(): number {
    return this.outputMode === 'int' ? 2 : 1;
  }

  /** The full vocabulary including the special tokens, in index order. */
  getVocabulary(): string[] {
    return this.outputMode === 'int' ? [PAD, OOV, ...this.tokens] : [OOV, ...this.tokens];
  }

  vocabularySize(): number {
    return this.tokens.length + this.specials;
  }

  /** Set the tokens (specials at the start are accepted and skipped) and, for tfIdf, the IDF weights. */
  setVocabulary(vocabulary: readonly string[], idfWeights: readonly number[] | null = null): void {
    let list = [...vocabulary];
    if (list[0] === PAD && this.outputMode === 'int') list = list.slice(1);
    if (list[0] === OOV) list = list.slice(1);
    const seen = new Set<string>();
    for (const t of list) {
      if (typeof t !== 'string') throw new DTypeError(`${this.name}.setVocabulary expected strings, got ${typeof t}`);
      if (seen.has(t)) throw new ValueError(`${this.name}.setVocabulary got the token ${JSON.stringify(t)} twice`);
      seen.add(t);
    }
    if (this.maxTokens !== null && list.length + this.specials > this.maxTokens) {
      throw new ValueError(
        `${this.name}.setVocabulary got ${list.length + this.specials} entries (with specials), more than maxTokens ${this.maxTokens}`,
      );
    }
    this.tokens = list;
    this.index = new Map(list.map((t, i) => [t, i + this.specials]));
    if (this.outputMode === 'tfIdf') {
      if (!idfWeights) throw new ValueError(`${this.name}.setVocabulary in tfIdf mode needs idfWeights`);
      if (idfWeights.length !== this.vocabularySize()) {
        throw new ValueError(
          `${this.name}.setVocabulary expected ${this.vocabularySize()} idfWeights (OOV first), got ${idfWeights.length}`,
        );
      }
      this.idf = Float32Array.from(idfWeights);
    }
  }

  /** Standardise and split one string into tokens. */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') {
      throw new DTypeError(`${this.name} expected strings, got ${text === null ? 'null' : typeof text}`);
    }
    return split(standardize(text, this.standardizeMode), this.splitMode);
  }

  /**
   * Build the vocabulary from texts: the most frequent tokens up to maxTokens (tfIdf: also IDF
   * weights, log(1 + documents / (1 + documentFrequency)) as Keras).
   */
  adapt(data: Iterable<string>): this {
    const counts = new Map<string, number>();
    const docFreq = new Map<string, number>();
    let docs = 0;
    for (const text of data) {
      docs++;
      const toks = this.tokenize(text);
      for (const t of toks) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const t of new Set(toks)) docFreq.set(t, (docFreq.get(t) ?? 0) + 1);
    }
    counts.delete(PAD);
    counts.delete(OOV);
    const tokens = topTokens(counts, this.maxTokens === null ? null : this.maxTokens - this.specials);
    let idf: number[] | null = null;
    if (this.outputMode === 'tfIdf') {
      const w = tokens.map((t) => Math.log(1 + docs / (1 + (docFreq.get(t) ?? 0))));
      const oov = w.length > 0 ? w.reduce((a, b) => a + b, 0) / w.length : 0;
      idf = [oov, ...w];
    }
    this.setVocabulary(tokens, idf);
    return this;
  }

  /** Token ids of one string (no padding). */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.index.get(t) ?? 1);
  }

  /** Strings -> the output tensor (see the class doc). */
  vectorize(texts: string | readonly string[]): Tensor {
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list)) throw new DTypeError(`${this.name} expected a string or an array of strings`);
    if (this.outputMode === 'int') {
      const ids = list.map((s) => this.encode(s));
      const L = this.outputSequenceLength ?? ids.reduce((m, r) => Math.max(m, r.length), 0);
      const out = new Int32Array(list.length * L);
      ids.forEach((r, i) => {
        for (let j = 0; j < Math.min(L, r.length); j++) out[i * L + j] = r[j] as number;
      });
      return tensor(out, [list.length, L], 'int32');
    }
    const V = this.padToMaxTokens ? (this.maxTokens as number) : this.vocabularySize();
    const out = new Float32Array(list.length * V);
    list.forEach((s, i) => {
      for (const t of this.tokenize(s)) {
        const id = this.index.get(t) ?? 0;
        const k = i * V + id;
        out[k] = this.outputMode === 'multiHot' ? 1 : (out[k] as number) + 1;
      }
      if (this.outputMode === 'tfIdf' && this.idf) {
        for (let j = 0; j < this.idf.length; j++) out[i * V + j] = (out[i * V + j] as number) * (this.idf[j] as number);
      }
    });
    return tensor(out, [list.length, V], 'float32');
  }

  /** Strings give the vectorised tensor; symbolic inputs build the functional graph. */
  // biome-ignore lint/suspicious/noExplicitAny: widens the base overloads to accept strings
  override apply(inputs: any, _ctx?: Partial<CallContext>): any {
    if (typeof inputs === 'string' || (Array.isArray(inputs) && inputs.every((s) => typeof s === 'string'))) {
      return this.vectorize(inputs as string | string[]);
    }
    return super.apply(inputs as SymbolicTensor);
  }

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const t = Array.isArray(inputs) ? inputs[0] : inputs;
    throw new DTypeError(
      `${this.name} takes raw strings (apply(['some text', ...]) or vectorize), got a ${isTensor(t) ? `${t.dtype} tensor ${fmtShape(t.shape)}` : typeof t}`,
    );
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const b = (Array.isArray(inputShape[0]) ? (inputShape[0] as ShapeLike)[0] : (inputShape as ShapeLike)[0]) ?? null;
    if (this.outputMode === 'int') return [b, this.outputSequenceLength];
    return [b, this.padToMaxTokens ? this.maxTokens : this.vocabularySize()];
  }

  override getConfig(): Record<string, unknown> {
    const fnName = (f: unknown) => (typeof f === 'function' ? null : f);
    return {
      ...super.getConfig(),
      maxTokens: this.maxTokens,
      standardize: fnName(this.standardizeMode),
      split: fnName(this.splitMode),
      outputMode: this.outputMode,
      outputSequenceLength: this.outputSequenceLength,
      padToMaxTokens: this.padToMaxTokens,
      vocabulary: [...this.tokens],
      idfWeights: this.idf ? Array.from(this.idf) : null,
      ...(typeof this.standardizeMode === 'function' || typeof this.splitMode === 'function'
        ? { customCallables: 'standardize/split functions are not serialised; pass them again when loading' }
        : {}),
    };
  }
}

export type LookupOutputMode = 'int' | 'oneHot' | 'multiHot' | 'count';

interface LookupArgs<K> extends LayerArgs {
  /** The vocabulary, instead of adapt(). */
  vocabulary?: readonly K[] | null;
  /** Vocabulary size limit including mask and OOV indices. */
  maxTokens?: number | null;
  /** OOV buckets (default 1); with more, OOV keys hash into them. */
  numOovIndices?: number;
  /** A key mapped to index 0 (default none). */
  maskToken?: K | null;
  oovToken?: K;
  outputMode?: LookupOutputMode;
  /** Map indices back to keys. */
  invert?: boolean;
}

export type StringLookupArgs = LookupArgs<string>;
export type IntegerLookupArgs = LookupArgs<number>;

type Nested<K> = K | Nested<K>[];

abstract class Lookup<K extends string | number> extends Layer {
  readonly maxTokens: number | null;
  readonly numOovIndices: number;
  readonly maskToken: K | null;
  readonly oovToken: K;
  readonly outputMode: LookupOutputMode;
  readonly invert: boolean;
  protected keys: K[] = [];
  private index = new Map<K, number>();

  constructor(args: LookupArgs<K>, defaultOov: K) {
    super(args);
    this.maxTokens = args.maxTokens ?? null;
    this.numOovIndices = args.numOovIndices ?? 1;
    if (!(Number.isInteger(this.numOovIndices) && this.numOovIndices >= 0)) {
      throw new ValueError(
        `${this.name} expected numOovIndices to be a non-negative integer, got ${args.numOovIndices}`,
      );
    }
    this.maskToken = args.maskToken ?? null;
    this.oovToken = args.oovToken ?? defaultOov;
    this.outputMode = args.outputMode ?? 'int';
    if (!['int', 'oneHot', 'multiHot', 'count'].includes(this.outputMode)) {
      throw new ValueError(
        `${this.name} expected outputMode 'int' | 'oneHot' | 'multiHot' | 'count', got ${JSON.stringify(args.outputMode)}`,
      );
    }
    this.invert = args.invert ?? false;
    if (this.invert && this.outputMode !== 'int') throw new ValueError(`${this.name}: invert needs outputMode 'int'`);
    if (args.vocabulary) this.setVocabulary(args.vocabulary);
    this.built = true;
  }

  protected abstract checkKey(k: unknown): K;

  private get offset(): number {
    return (this.maskToken !== null ? 1 : 0) + this.numOovIndices;
  }

  /** [mask?, oov x numOovIndices, ...keys] in index order. */
  getVocabulary(): K[] {
    const out: K[] = [];
    if (this.maskToken !== null) out.push(this.maskToken);
    for (let i = 0; i < this.numOovIndices; i++) out.push(this.oovToken);
    return [...out, ...this.keys];
  }

  vocabularySize(): number {
    return this.keys.length + this.offset;
  }

  setVocabulary(vocabulary: readonly K[]): void {
    const list = vocabulary.map((k) => this.checkKey(k)).filter((k) => k !== this.maskToken && k !== this.oovToken);
    if (new Set(list).size !== list.length) throw new ValueError(`${this.name}.setVocabulary got repeated keys`);
    if (this.maxTokens !== null && list.length + this.offset > this.maxTokens) {
      throw new ValueError(
        `${this.name}.setVocabulary got ${list.length + this.offset} entries (with mask/OOV), more than maxTokens ${this.maxTokens}`,
      );
    }
    this.keys = list;
    this.index = new Map(list.map((k, i) => [k, i + this.offset]));
  }

  /** Build the vocabulary from data (most frequent first, up to maxTokens). */
  adapt(data: Iterable<Nested<K>> | Tensor): this {
    const counts = new Map<string, number>();
    const back = new Map<string, K>();
    const visit = (v: Nested<K>): void => {
      if (Array.isArray(v)) for (const x of v) visit(x);
      else {
        const k = this.checkKey(v);
        if (k === this.maskToken || k === this.oovToken) return;
        const s = String(k);
        back.set(s, k);
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
    };
    if (isTensor(data)) visit(Array.from(data.dataSync()) as K[]);
    else for (const v of data) visit(v);
    const top = topTokens(counts, this.maxTokens === null ? null : this.maxTokens - this.offset);
    this.setVocabulary(top.map((s) => back.get(s) as K));
    return this;
  }

  /** The index of one key. */
  lookup(key: K): number {
    if (this.maskToken !== null && key === this.maskToken) return 0;
    const i = this.index.get(key);
    if (i !== undefined) return i;
    if (this.numOovIndices === 0) {
      throw new ValueError(`${this.name} got the out-of-vocabulary key ${JSON.stringify(key)} with numOovIndices 0`);
    }
    const base = this.maskToken !== null ? 1 : 0;
    return base + (this.numOovIndices === 1 ? 0 : fnv1a(String(key)) % this.numOovIndices);
  }

  /** Keys (nested arrays) -> int32 indices of the same shape, or encoded [batch, vocab] floats. */
  encodeKeys(keys: Nested<K>): Tensor {
    const flat: number[] = [];
    const shape: number[] = [];
    const walk = (v: Nested<K>, depth: number): void => {
      if (Array.isArray(v)) {
        if (shape.length <= depth) shape.push(v.length);
        else if (shape[depth] !== v.length)
          throw new ValueError(`${this.name} expected a rectangular nested array of keys`);
        for (const x of v) walk(x, depth + 1);
      } else flat.push(this.lookup(this.checkKey(v)));
    };
    walk(keys, 0);
    if (this.outputMode === 'int') return tensor(flat, shape, 'int32');
    const V = this.vocabularySize();
    if (this.outputMode === 'oneHot') {
      const out = new Float32Array(flat.length * V);
      flat.forEach((id, i) => {
        out[i * V + id] = 1;
      });
      return tensor(out, [...shape, V], 'float32');
    }
    const rows = shape.length <= 1 ? 1 : (shape[0] as number);
    const per = flat.length / Math.max(rows, 1);
    const out = new Float32Array(rows * V);
    flat.forEach((id, i) => {
      const k = Math.floor(i / per) * V + id;
      out[k] = this.outputMode === 'multiHot' ? 1 : (out[k] as number) + 1;
    });
    return tensor(out, [rows, V], 'float32');
  }

  /** invert: indices -> keys (nested arrays). */
  decode(indices: Tensor | Nested<number>): Nested<K> {
    const vocab = this.getVocabulary();
    const arr = isTensor(indices) ? indices.toArray() : indices;
    const walk = (v: unknown): Nested<K> => {
      if (Array.isArray(v)) return v.map(walk);
      const i = v as number;
      if (!Number.isInteger(i) || i < 0 || i >= vocab.length) {
        throw new ValueError(`${this.name} (invert) got index ${i}, expected integers in [0, ${vocab.length})`);
      }
      return vocab[i] as K;
    };
    return walk(arr);
  }

  // biome-ignore lint/suspicious/noExplicitAny: widens the base overloads to accept raw keys
  override apply(inputs: any, ctx?: Partial<CallContext>): any {
    if (this.invert) return this.decode(inputs as Tensor);
    if (isTensor(inputs)) return this.call(inputs, { training: false });
    const symbolic = isSymbolic(inputs) || (Array.isArray(inputs) && inputs.length > 0 && isSymbolic(inputs[0]));
    if (!symbolic) return this.encodeKeys(Array.isArray(inputs) ? (inputs as Nested<K>) : [inputs as K]);
    return super.apply(inputs, ctx as Partial<CallContext>);
  }

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const t = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor;
    return this.encodeKeys(this.keysOfTensor(t));
  }

  protected keysOfTensor(t: Tensor): Nested<K> {
    throw new DTypeError(`${this.name} takes keys as JS values, got a ${t.dtype} tensor ${fmtShape(t.shape)}`);
  }

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as ShapeLike;
    if (this.outputMode === 'int') return s;
    if (this.outputMode === 'oneHot') return [...s, this.vocabularySize()];
    return [s[0] ?? null, this.vocabularySize()];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      vocabulary: [...this.keys],
      maxTokens: this.maxTokens,
      numOovIndices: this.numOovIndices,
      maskToken: this.maskToken,
      oovToken: this.oovToken,
      outputMode: this.outputMode,
      invert: this.invert,
    };
  }
}

function isSymbolic(v: unknown): boolean {
  return typeof v === 'object' && v !== null && 'sourceLayer' in v && 'outputIndex' in v;
}

/**
 * Strings -> integer indices (Keras StringLookup: [mask?, OOV, ...vocabulary]).
 * @example
 * const l = new StringLookup({ vocabulary: ['a', 'b'] });
 * l.apply(['b', 'z']) // int32 [2, 0]   (0 = '[UNK]')
 */
export class StringLookup extends Lookup<string> {
  readonly className = 'StringLookup';
  constructor(args: StringLookupArgs = {}) {
    super(args, '[UNK]');
  }
  protected checkKey(k: unknown): string {
    if (typeof k !== 'string') throw new DTypeError(`${this.name} expected string keys, got ${typeof k}`);
    return k;
  }
}

/**
 * Integers -> contiguous indices (Keras IntegerLookup: [mask?, OOV (-1), ...vocabulary]).
 * @example new IntegerLookup({ vocabulary: [12, 7] }).apply(tensor([7, 99], [2], 'int32')) // [2, 0]
 */
export class IntegerLookup extends Lookup<number> {
  readonly className = 'IntegerLookup';
  constructor(args: IntegerLookupArgs = {}) {
    super(args, -1);
  }
  protected checkKey(k: unknown): number {
    if (typeof k !== 'number' || !Number.isInteger(k)) {
      throw new DTypeError(`${this.name} expected integer keys, got ${JSON.stringify(k)}`);
    }
    return k;
  }
  protected override keysOfTensor(t: Tensor): Nested<number> {
    if (t.dtype === 'bool') throw new DTypeError(`${this.name} expected an int32 tensor, got bool`);
    return t.toArray() as Nested<number>;
  }
}

registerLayer('TextVectorization', (c) => new TextVectorization(c as TextVectorizationArgs));
registerLayer('StringLookup', (c) => new StringLookup(c as StringLookupArgs));
registerLayer('IntegerLookup', (c) => new IntegerLookup(c as IntegerLookupArgs));

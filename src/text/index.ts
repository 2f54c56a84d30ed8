/**
 * Text utilities: standardisation, splitting into tokens (Unicode-correct: characters are code
 * points, never UTF-16 units) and Keras `padSequences`.
 */
import { tensor } from '../tensor/creation.js';
import type { DType } from '../tensor/dtype.js';
import { ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';

export type StandardizeMode = 'lowerAndStripPunctuation' | 'lower' | 'stripPunctuation' | null;
export type SplitMode = 'whitespace' | 'character' | null;

// Unicode punctuation plus the ASCII symbols Keras strips ($ + < = > ^ ` | ~). Emoji (\p{So}) stay.
const PUNCT = /[\p{P}$+<=>^`|~]/gu;

/**
 * Keras TextVectorization standardisation: lowercase (Unicode) and/or strip punctuation.
 * @example standardize('Hello, World!') // 'hello world'
 */
export function standardize(
  text: string,
  mode: StandardizeMode | ((s: string) => string) = 'lowerAndStripPunctuation',
): string {
  if (typeof mode === 'function') return mode(text);
  const s = text.normalize('NFC');
  switch (mode) {
    case null:
      return s;
    case 'lower':
      return s.toLowerCase();
    case 'stripPunctuation':
      return s.replace(PUNCT, '');
    case 'lowerAndStripPunctuation':
      return s.toLowerCase().replace(PUNCT, '');
    default:
      throw new ValueError(
        `standardize expected 'lowerAndStripPunctuation' | 'lower' | 'stripPunctuation' | null or a function, got ${JSON.stringify(mode)}`,
      );
  }
}

/**
 * Split a string into tokens: on runs of whitespace, or into characters by Unicode code point
 * ('日本語' -> ['日', '本', '語'], '👍🏽' -> ['👍', '🏽']), or not at all (null).
 * @example split('a  b\tc') // ['a', 'b', 'c']
 */
export function split(text: string, mode: SplitMode | ((s: string) => string[]) = 'whitespace'): string[] {
  if (typeof mode === 'function') return mode(text);
  switch (mode) {
    case 'whitespace':
      return text.split(/\s+/u).filter((t) => t.length > 0);
    case 'character':
      return Array.from(text).filter((c) => !/^\s$/u.test(c));
    case null:
      return text.length > 0 ? [text] : [];
    default:
      throw new ValueError(
        `split expected 'whitespace' | 'character' | null or a function, got ${JSON.stringify(mode)}`,
      );
  }
}

export interface PadSequencesOptions {
  /** Length of every output row (default the longest sequence). */
  maxlen?: number;
  /** Where padding goes: 'pre' (default, Keras) or 'post'. */
  padding?: 'pre' | 'post';
  /** Which end long sequences lose: 'pre' (default, Keras) or 'post'. */
  truncating?: 'pre' | 'post';
  /** The padding value (default 0). */
  value?: number;
  dtype?: DType;
}

/**
 * Keras pad_sequences: a list of integer sequences -> [n, maxlen] tensor.
 * @example padSequences([[1, 2, 3], [4]], { maxlen: 2 }) // [[2, 3], [0, 4]]
 */
export function padSequences(sequences: readonly (readonly number[])[], options: PadSequencesOptions = {}): Tensor {
  const padding = options.padding ?? 'pre';
  const truncating = options.truncating ?? 'pre';
  for (const [name, v] of [
    ['padding', padding],
    ['truncating', truncating],
  ] as const) {
    if (v !== 'pre' && v !== 'post')
      throw new ValueError(`padSequences expected ${name} 'pre' or 'post', got ${JSON.stringify(v)}`);
  }
  if (!Array.isArray(sequences)) throw new ValueError('padSequences expected an array of number arrays');
  const maxlen = options.maxlen ?? sequences.reduce((m, s) => Math.max(m, s.length), 0);
  if (!Number.isInteger(maxlen) || maxlen < 0) {
    throw new ValueError(`padSequences expected maxlen to be a non-negative integer, got ${options.maxlen}`);
  }
  const value = options.value ?? 0;
  const out = new Array<number>(sequences.length * maxlen).fill(value);
  sequences.forEach((seq, i) => {
    if (!Array.isArray(seq))
      throw new ValueError(`padSequences expected sequence ${i} to be an array, got ${typeof seq}`);
    const kept =
      seq.length <= maxlen ? seq : truncating === 'pre' ? seq.slice(seq.length - maxlen) : seq.slice(0, maxlen);
    const start = padding === 'pre' ? maxlen - kept.length : 0;
    for (let j = 0; j < kept.length; j++) out[i * maxlen + start + j] = kept[j] as number;
  });
  return tensor(out, [sequences.length, maxlen], options.dtype ?? 'int32');
}

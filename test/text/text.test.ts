import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DTypeError, tensor, ValueError } from 'tessera';
import { layerFromConfig } from '../../src/layers/layer.js';
import { IntegerLookup, StringLookup, TextVectorization } from '../../src/layers/text.js';
import { padSequences, split, standardize } from '../../src/text/index.js';

describe('standardize and split', () => {
  test('lowercase and strip punctuation (Unicode), keep emoji', () => {
    assert.equal(standardize('Hello, World! ¿Qué tal?'), 'hello world qué tal');
    assert.equal(standardize('ÉCOLE «Été»', 'lower'), 'école «été»');
    assert.equal(standardize('a+b=c, "ok"', 'stripPunctuation'), 'abc ok');
    assert.equal(standardize('Nice 👍!'), 'nice 👍');
    assert.equal(standardize('Keep', null), 'Keep');
    assert.throws(() => standardize('x', 'upper' as never), ValueError);
  });

  test('whitespace and character splits by code point (CJK, emoji with surrogates)', () => {
    assert.deepEqual(split('a  b\tc\n'), ['a', 'b', 'c']);
    assert.deepEqual(split('日本語', 'character'), ['日', '本', '語']);
    // 😀 is one code point but two UTF-16 units; 👍🏽 is two code points (emoji + skin tone)
    assert.equal('😀'.length, 2);
    assert.deepEqual(split('我爱😀', 'character'), ['我', '爱', '😀']);
    assert.deepEqual(split('👍🏽', 'character'), ['👍', '🏽']);
    assert.deepEqual(split('𠮷野家', 'character'), ['𠮷', '野', '家']);
  });
});

describe('TextVectorization', () => {
  const corpus = ['The cat sat.', 'The dog sat!', 'the cat ran', 'a bird'];

  test('adapt sorts by frequency; int mode pads and truncates', () => {
    const tv = new TextVectorization({ outputSequenceLength: 4 });
    tv.adapt(corpus);
    // the:3, cat:2, sat:2, then a, bird, dog, ran (count 1, code point order)
    assert.deepEqual(tv.getVocabulary(), ['', '[UNK]', 'the', 'cat', 'sat', 'a', 'bird', 'dog', 'ran']);
    const y = tv.apply(['The CAT sat on the mat', 'dog']);
    assert.equal(y.dtype, 'int32');
    assert.deepEqual(y.toArray(), [
      [2, 3, 4, 1],
      [7, 0, 0, 0],
    ]);
    // without outputSequenceLength, the batch is padded to its longest row
    const free = new TextVectorization({ vocabulary: ['x', 'y'] });
    assert.deepEqual(free.apply(['y x x', 'x']).toArray(), [
      [3, 2, 2],
      [2, 0, 0],
    ]);
  });

  test('maxTokens limits the vocabulary including the specials', () => {
    const tv = new TextVectorization({ maxTokens: 4 });
    tv.adapt(corpus);
    assert.deepEqual(tv.getVocabulary(), ['', '[UNK]', 'the', 'cat']);
    assert.deepEqual(tv.apply('sat the').toArray(), [[1, 2]]);
  });

  test('multiHot, count and tfIdf', () => {
    const mh = new TextVectorization({ outputMode: 'multiHot', vocabulary: ['a', 'b', 'c'] });
    assert.deepEqual(mh.apply(['a a c z']).toArray(), [[1, 1, 0, 1]]);
    const ct = new TextVectorization({ outputMode: 'count', vocabulary: ['a', 'b', 'c'] });
    assert.deepEqual(ct.apply(['a a c z z z']).toArray(), [[3, 2, 0, 1]]);
    const tf = new TextVectorization({ outputMode: 'tfIdf' });
    tf.adapt(['a b', 'a', 'a c']);
    // docs 3; df(a)=3, df(b)=1, df(c)=1 -> idf = log(1 + 3/4), log(1 + 3/2)
    const ia = Math.log(1 + 3 / 4);
    const ib = Math.log(1 + 3 / 2);
    assert.deepEqual(tf.getVocabulary(), ['[UNK]', 'a', 'b', 'c']);
    const v = Array.from(tf.apply(['a a b']).dataSync() as Float32Array);
    assert.ok(Math.abs(v[1]! - 2 * ia) < 1e-6 && Math.abs(v[2]! - ib) < 1e-6 && v[3] === 0, String(v));
    const padded = new TextVectorization({
      outputMode: 'multiHot',
      maxTokens: 6,
      padToMaxTokens: true,
      vocabulary: ['a'],
    });
    assert.deepEqual(padded.apply(['a']).shape, [1, 6]);
  });

  test('CJK and emoji tokenise by code point with split character', () => {
    const tv = new TextVectorization({ split: 'character', standardize: 'lower' });
    tv.adapt(['日本語のテキスト', '我爱你😀😀', 'Ab']);
    const vocab = tv.getVocabulary();
    assert.ok(vocab.includes('😀') && vocab.includes('語') && vocab.includes('a'));
    assert.ok(!vocab.some((t) => t.length === 1 && /[\uD800-\uDFFF]/.test(t)), 'no lone surrogates');
    assert.equal(vocab[2], '😀'); // the most frequent token
    const ids = tv.apply(['😀語x']).toArray() as number[][];
    assert.deepEqual(ids[0], [2, vocab.indexOf('語'), 1]);
  });

  test('config round trip keeps the vocabulary; bad inputs are typed errors', () => {
    const tv = new TextVectorization({ maxTokens: 20, outputSequenceLength: 3 });
    tv.adapt(corpus);
    const copy = layerFromConfig('TextVectorization', JSON.parse(JSON.stringify(tv.getConfig()))) as TextVectorization;
    assert.deepEqual(copy.getVocabulary(), tv.getVocabulary());
    assert.deepEqual(copy.apply(['the bird']).toArray(), tv.apply(['the bird']).toArray());
    assert.throws(() => tv.apply(tensor([1, 2])), DTypeError);
    assert.throws(() => tv.vectorize([3 as unknown as string]), DTypeError);
    assert.throws(
      () => new TextVectorization({ outputMode: 'count', outputSequenceLength: 3 }),
      /outputSequenceLength/,
    );
    assert.deepEqual(tv.computeOutputShape([null]), [null, 3]);
  });
});

describe('StringLookup, IntegerLookup, padSequences', () => {
  test('StringLookup: OOV at 0, mask token, oneHot / multiHot, invert', () => {
    const l = new StringLookup({ vocabulary: ['a', 'b', 'c'] });
    assert.deepEqual(l.apply(['a', 'c', 'z']).toArray(), [1, 3, 0]);
    assert.deepEqual(l.apply([['b'], ['q']]).toArray(), [[2], [0]]);
    const m = new StringLookup({ vocabulary: ['a', 'b'], maskToken: '' });
    assert.deepEqual(m.getVocabulary(), ['', '[UNK]', 'a', 'b']);
    assert.deepEqual(m.apply(['', 'b', 'x']).toArray(), [0, 3, 1]);
    const oh = new StringLookup({ vocabulary: ['a', 'b'], outputMode: 'oneHot' });
    assert.deepEqual(oh.apply(['b']).toArray(), [[0, 0, 1]]);
    const mh = new StringLookup({ vocabulary: ['a', 'b'], outputMode: 'multiHot' });
    assert.deepEqual(
      mh
        .apply([
          ['a', 'b', 'a'],
          ['z', 'z', 'b'],
        ])
        .toArray(),
      [
        [0, 1, 1],
        [1, 0, 1],
      ],
    );
    const inv = new StringLookup({ vocabulary: ['a', 'b'], invert: true });
    assert.deepEqual(inv.apply(tensor([2, 0, 1], [3], 'int32')), ['b', '[UNK]', 'a']);
    const ad = new StringLookup().adapt(['x', 'y', 'y', 'z', 'y', 'z']);
    assert.deepEqual(ad.getVocabulary(), ['[UNK]', 'y', 'z', 'x']);
    const hashed = new StringLookup({ vocabulary: ['a'], numOovIndices: 3 });
    const h = hashed.apply(['q', 'q', 'a']).toArray() as number[];
    assert.ok(h[0]! < 3 && h[0] === h[1] && h[2] === 3);
  });

  test('IntegerLookup from tensors and arrays', () => {
    const l = new IntegerLookup({ vocabulary: [12, 7, 40] });
    assert.deepEqual(l.getVocabulary(), [-1, 12, 7, 40]);
    assert.deepEqual(l.apply(tensor([7, 99, 40], [3], 'int32')).toArray(), [2, 0, 3]);
    assert.deepEqual(l.apply([12, 12]).toArray(), [1, 1]);
    assert.throws(() => l.apply([1.5]), DTypeError);
    const ad = new IntegerLookup({ maskToken: 0 }).adapt(tensor([5, 5, 3, 0, 0, 0], [6], 'int32'));
    assert.deepEqual(ad.getVocabulary(), [0, -1, 5, 3]);
  });

  test('padSequences: Keras defaults pre-pad and pre-truncate', () => {
    assert.deepEqual(padSequences([[1, 2, 3], [4]]).toArray(), [
      [1, 2, 3],
      [0, 0, 4],
    ]);
    assert.deepEqual(padSequences([[1, 2, 3], [4]], { maxlen: 2 }).toArray(), [
      [2, 3],
      [0, 4],
    ]);
    assert.deepEqual(
      padSequences([[1, 2, 3], [4]], { maxlen: 2, padding: 'post', truncating: 'post', value: -1 }).toArray(),
      [
        [1, 2],
        [4, -1],
      ],
    );
    assert.throws(() => padSequences([[1]], { padding: 'middle' as never }), ValueError);
  });
});

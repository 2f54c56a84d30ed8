/** The server's fast JSON parser gives exactly JSON.parse's value, or undefined (then JSON.parse decides). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadNativeAddon } from '../../src/backend/native.js';
import { parseJsonFast, setNativeJsonScan } from '../../src/serve/json.js';

const same = (text: string) => {
  const fast = parseJsonFast(Buffer.from(text, 'utf8'));
  assert.notEqual(fast, undefined, `fast parser gave up on ${text}`);
  assert.deepEqual(fast, JSON.parse(text), text);
  return fast;
};

test('values and structure equal JSON.parse', () => {
  same('{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[0,0.15,-2.5,3e2]}],"id":"a"}');
  same(' [ 1 , 2 ,\n3 ]\t');
  same('[[1,2],[3,4],[]]');
  same('{"a":true,"b":false,"c":null,"d":{},"e":[],"f":"","g":[{"h":[-0.0]}]}');
  same('{"k":"caf\u00e9 \u{1F600}","esc":"a\\"b\\\\c\\n\\u00e9"}');
  same('[1,"two",3,[4]]');
  same('{"a":1,"a":2}'); // last duplicate wins, like JSON.parse
  assert.ok(Object.is((same('[-0]') as number[])[0], -0));
  assert.deepEqual(same('[1E2,1e-2,1.5e+3,-12.75]'), [100, 0.01, 1500, -12.75]);
});

/**
 * A list in parts of 24: the JavaScript loop leaves a body with more than 32 numbers outside its
 * exact fast path to JSON.parse, so its fallback is tested on parts within that limit.
 */
const parts = (list: string[]) =>
  Array.from({ length: Math.ceil(list.length / 24) }, (_, c) => list.slice(24 * c, 24 * c + 24));

/** A seeded uniform [0, 1) generator (an LCG), so the number texts are the same every run. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

test('short strings (reused from earlier bodies) are the ones each body holds', () => {
  // same length, first and last bytes (one cache slot), different middles; then back again
  const keys = ['axb', 'ayb', 'axb', 'a b', '', 'x', 'datatype', 'datatypf', 'FP32', 'FP16', 'FP32'];
  for (let round = 0; round < 3; round++) {
    for (const k of keys) same(`{"${k}":"${k}","n":["${k}","${k}x",""]}`);
  }
  same(`{"${'k'.repeat(24)}":1,"${'k'.repeat(25)}":2}`); // at and past the cached length
});

test('numbers are bit-exact against JSON.parse (fast path and fallback)', () => {
  const rand = lcg(12345);
  const texts: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const r = rand();
    const v = (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    if (r < 0.3) texts.push(v.toFixed(Math.floor(rand() * 8)));
    else if (r < 0.6) texts.push(String(v));
    else if (r < 0.8) texts.push(v.toExponential(Math.floor(rand() * 17)));
    else texts.push(String(Math.round(v * 1e6)));
  }
  texts.push('0.1', '0.30000000000000004', '123456789012345678', '1e400', '-1e-400', '9007199254740993', '5e-324');
  try {
    for (const native of [true, false]) {
      setNativeJsonScan(native);
      for (const chunk of parts(texts)) {
        const json = `[${chunk.join(',')}]`;
        const fast = parseJsonFast(Buffer.from(json)) as number[] | undefined;
        assert.ok(fast, `the fast parser gave up on ${json}`);
        const ref = JSON.parse(json) as number[];
        assert.equal(fast.length, ref.length);
        for (let i = 0; i < ref.length; i++)
          assert.ok(Object.is(fast[i], ref[i]), `${chunk[i]}: ${fast[i]} vs ${ref[i]}`);
      }
    }
  } finally {
    setNativeJsonScan(true);
  }
});

test('past 32 numbers outside the exact fast path, the JavaScript loop leaves the body to JSON.parse', () => {
  const long = Array.from({ length: 40 }, (_, i) => String(Math.fround(i / 7 + 0.01)));
  const json = Buffer.from(`{"data":[${long.join(',')}],"b":[${long.slice(0, 8).join(',')}]}`);
  const ref = JSON.parse(json.toString()) as { data: number[]; b: number[] };
  try {
    setNativeJsonScan(false);
    assert.equal(parseJsonFast(json), undefined);
    assert.equal(parseJsonFast(json, { typedData: true }), undefined);
    setNativeJsonScan(true); // the native scanner converts them itself
    assert.deepEqual(parseJsonFast(json), ref);
    const typed = parseJsonFast(json, { typedData: true }) as { data: Float64Array; b: number[] };
    assert.deepEqual([Array.from(typed.data), typed.b], [ref.data, ref.b]);
  } finally {
    setNativeJsonScan(true);
  }
});

test('invalid or unusual JSON is left to JSON.parse', () => {
  for (const bad of [
    '',
    '{',
    '[1,]',
    '[01]',
    '[1.]',
    '[.5]',
    '[+1]',
    '{"a":1,}',
    '{"a" 1}',
    '[1 2]',
    'tru',
    '"\u0001"',
    '{"__proto__":{"x":1}}',
    '[1] x',
    '\uFEFF[1]',
    '[NaN]',
  ]) {
    assert.equal(parseJsonFast(Buffer.from(bad, 'utf8')), undefined, bad);
  }
});

test('typedData: flat numeric "data" arrays come as Float64Array, anything else as JSON.parse gives it', () => {
  const text =
    '{"inputs":[{"name":"x","shape":[2,2],"data":[1,-0.5,3e2,0.1]},{"data":[[1,2]]},{"data":[1,"a"]},{"data":[]},{"data":7}],"shape":[1,2]}';
  const v = parseJsonFast(Buffer.from(text), { typedData: true }) as {
    inputs: { data: unknown; shape?: unknown }[];
    shape: unknown;
  };
  const ref = JSON.parse(text);
  const first = v.inputs[0]!.data;
  assert.ok(first instanceof Float64Array);
  assert.deepEqual(Array.from(first), ref.inputs[0].data);
  assert.deepEqual(v.inputs[0]!.shape, [2, 2]); // other keys stay plain arrays
  // nested: flattened by the native scanner, plain arrays from the JavaScript loop
  const nested = v.inputs[1]!.data;
  if (nested instanceof Float64Array) assert.deepEqual(Array.from(nested), [1, 2]);
  else assert.deepEqual(nested, [[1, 2]]);
  assert.deepEqual(v.inputs[2]!.data, [1, 'a']); // mixed: plain array
  assert.ok(v.inputs[3]!.data instanceof Float64Array && (v.inputs[3]!.data as Float64Array).length === 0);
  assert.equal(v.inputs[4]!.data, 7);
  assert.deepEqual(v.shape, [1, 2]);
  // A long array grows the scratch buffer and keeps every value.
  const big = Array.from({ length: 10000 }, (_, i) => i / 7);
  const got = parseJsonFast(Buffer.from(JSON.stringify({ data: big })), { typedData: true }) as { data: Float64Array };
  assert.deepEqual(Array.from(got.data), big);
});

test('typedData: FP32 "data" after its "datatype" comes as a Float32Array of JSON.parse values rounded to float32', (t) => {
  if (!loadNativeAddon()) return t.skip('native addon not built');
  const tensor = (datatype: string, data: string, first: 'datatype' | 'data' = 'datatype') =>
    first === 'datatype'
      ? `{"name":"x","shape":[1],"datatype":"${datatype}","data":${data}}`
      : `{"name":"x","shape":[1],"data":${data},"datatype":"${datatype}"}`;
  const decode = (text: string) =>
    (parseJsonFast(Buffer.from(text), { typedData: true }) as { inputs: { data: unknown }[] }).inputs.map(
      (i) => i.data,
    );
  // values at the edges of float32: beyond its range (an infinity), subnormal, halfway cases, -0
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.float({ noNaN: true, noDefaultInfinity: true }).map((f) => f * (1 + 2 ** -25)),
          fc.constantFrom(3.5e38, -3.5e38, 3.4028235677973366e38, 1e-45, 7e-46, 1.4e-45, -0, 0.1, 16777217),
        ),
        { minLength: 1, maxLength: 40 },
      ),
      (values) => {
        const data = `[${values.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}]`;
        const text = `{"inputs":[${tensor('FP32', data)},${tensor('FP64', data)},${tensor('FP32', data, 'data')}]}`;
        const [f32, f64, late] = decode(text);
        const ref = JSON.parse(data) as number[];
        assert.ok(f32 instanceof Float32Array, 'FP32 after its datatype: float32');
        assert.ok(f64 instanceof Float64Array, 'FP64: doubles');
        assert.ok(late instanceof Float64Array, 'FP32 before its datatype: doubles, as JSON.parse gives them');
        assert.equal(f32.length, ref.length);
        for (let i = 0; i < ref.length; i++) {
          assert.ok(Object.is(f32[i], Math.fround(ref[i] as number)), `${ref[i]}: ${f32[i]}`);
          assert.ok(Object.is(f64[i], ref[i]) && Object.is(late[i], ref[i]), String(ref[i]));
        }
      },
    ),
    { numRuns: 500, seed: 3 },
  );
  // a duplicate "datatype" after the data (the last one wins in JSON): JSON.parse's exact values
  const dup = '{"inputs":[{"datatype":"FP32","data":[16777217,0.1],"datatype":"INT32"}]}';
  assert.deepEqual(parseJsonFast(Buffer.from(dup), { typedData: true }), undefined);
  const [twice] = decode('{"inputs":[{"datatype":"INT32","data":[16777217],"datatype":"FP32","data":[0.1]}]}');
  assert.ok(twice instanceof Float32Array && twice[0] === Math.fround(0.1));
  // an element the native scanner leaves to JavaScript (beyond the double range): doubles throughout
  const [far] = decode(`{"inputs":[${tensor('FP32', '[1,1e400,2]')}]}`);
  assert.ok(far instanceof Float64Array);
  assert.deepEqual(Array.from(far), [1, Number.POSITIVE_INFINITY, 2]);
  // a long FP32 array grows its arena and keeps every value
  const big = Array.from({ length: 10000 }, (_, i) => i / 7);
  const [long] = decode(`{"inputs":[${tensor('FP32', JSON.stringify(big))}]}`);
  assert.ok(long instanceof Float32Array);
  assert.deepEqual(Array.from(long), big.map(Math.fround));
});

test('typed number arrays: native scanner and JavaScript loop both give JSON.parse bit for bit', () => {
  const rand = lcg(777);
  const texts: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const r = rand();
    const v = (rand() - 0.5) * 10 ** Math.floor(rand() * 30 - 15);
    if (r < 0.4) texts.push(v.toFixed(Math.floor(rand() * 8)));
    else if (r < 0.6) texts.push(String(v));
    else if (r < 0.7) texts.push(v.toExponential(Math.floor(rand() * 17)));
    else if (r < 0.8) texts.push(`${String(Math.round(v * 1e3))} `);
    else texts.push(`\n${(Math.round(rand() * 255) / 255).toFixed(2)}`);
  }
  texts.push('-0', '0', '0.000000000000000000001', '123456789012345', '1234567890123456', '0.1234567890123456');
  texts.push('-0.5', '999999999999999', '-99999999999999.9', '0.00000000000001', '1\t', '2\r\n', '0.1 ');
  const fastOnly = texts.filter((t) => !/[eE]/.test(t));
  try {
    for (const native of [true, false]) {
      setNativeJsonScan(native);
      // The JavaScript loop gets the lists in parts (see parts()).
      for (const list of native ? [texts, fastOnly] : [...parts(texts), ...parts(fastOnly)]) {
        const json = `{"a":{"data":[${list.join(',')}]},"b":{"data":[1.5,-2]},"c":[0.25,0.5]}`;
        const v = parseJsonFast(Buffer.from(json), { typedData: true }) as {
          a: { data: Float64Array };
          b: { data: Float64Array };
          c: number[];
        };
        const ref = JSON.parse(json);
        assert.ok(v.a.data instanceof Float64Array);
        assert.equal(v.a.data.length, list.length);
        for (let i = 0; i < list.length; i++)
          assert.ok(Object.is(v.a.data[i], ref.a.data[i]), `${list[i]}: ${v.a.data[i]} vs ${ref.a.data[i]}`);
        // a later array and an untyped one do not overwrite the first's values
        assert.deepEqual(Array.from(v.b.data), [1.5, -2]);
        assert.deepEqual(v.c, [0.25, 0.5]);
        if (list.includes('-0')) assert.ok(Object.is(v.a.data[list.indexOf('-0')], -0));
      }
      for (const bad of ['[01]', '[1.]', '[1,]', '[1 2]', '[-]', '[1,-]', '[0.5', '[1,2,3', '[1,,2]', '[1;2]']) {
        assert.equal(parseJsonFast(Buffer.from(`{"data":${bad}}`), { typedData: true }), undefined, bad);
      }
      // The same inside long arrays (past the first element, after many taken ones); and unusual valid forms.
      const pad = Array(20).fill('0.25').join(',');
      for (const bad of ['01', '1.', '.5', '1..2', '1.2.3', '-', '--1', '1-2', '0x1', '1 2', '00.5', '-01']) {
        const text = `{"data":[${pad},${bad},${pad}]}`;
        assert.equal(parseJsonFast(Buffer.from(text), { typedData: true }), undefined, bad);
      }
      for (const odd of ['1e5', '-2E-3', '12345678901234567890', '0.12345678901234567', '-0.0', '7 ', '8\n']) {
        const text = `{"data":[${pad},${odd},${pad}]}`;
        const got = parseJsonFast(Buffer.from(text), { typedData: true }) as { data: Float64Array };
        const ref = JSON.parse(text).data as number[];
        assert.equal(got.data.length, ref.length, odd);
        for (let i = 0; i < ref.length; i++) assert.ok(Object.is(got.data[i], ref[i]), `${odd}: ${got.data[i]}`);
      }
      assert.deepEqual(parseJsonFast(Buffer.from('{"data":[1,"x"]}'), { typedData: true }), { data: [1, 'x'] });
    }
  } finally {
    setNativeJsonScan(true);
  }
});

test('the native scanner itself converts full-precision and exponent numbers, as JSON.parse does', (t) => {
  const addon = loadNativeAddon();
  if (!addon) return t.skip('native addon not built');
  const rand = lcg(4242);
  const texts: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const r = rand();
    const v = (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    // what numpy clients send: float32 and float64 values printed in full (16-17 digits)
    if (r < 0.4) texts.push(String(Math.fround(v)));
    else if (r < 0.7) texts.push(String(v));
    else if (r < 0.9) texts.push(v.toExponential(Math.floor(rand() * 17)));
    else texts.push(`${String(Math.round(v * 1e21))}`);
  }
  texts.push('123456789012345678901234567890', '0.0000000000000000000000001', '-0.000000000000000000000000', '5e-324');
  texts.push('1.7976931348623157e308', '2.2250738585072014E-308', '1e+22', '1e23', '9007199254740993', '-0e-5');
  const body = Buffer.from(`[${texts.join(' , ')}]`);
  const out = new Float64Array(texts.length);
  const state = new Float64Array(2);
  const n = addon.jsonNumbers(body, 1, out, 0, state, 1);
  assert.equal(state[1], 1, `the scan stopped at byte ${state[0]} (status ${state[1]})`);
  assert.equal(n, texts.length);
  const ref = JSON.parse(body.toString()) as number[];
  for (let i = 0; i < n; i++) assert.ok(Object.is(out[i], ref[i]), `${texts[i]}: ${out[i]} vs ${ref[i]}`);
  // beyond the double range the scan stops there and leaves the element to the JavaScript parser
  for (const far of ['1e400', '-1e400', '1e-400']) {
    const b = Buffer.from(`[0.5,${far},1]`);
    addon.jsonNumbers(b, 1, out, 0, state, 1);
    assert.deepEqual([state[0], state[1]], [5, 0], far);
    assert.ok(Object.is((parseJsonFast(b) as number[])[1], JSON.parse(b.toString())[1]), far);
  }
  // a malformed exponent is a syntax error
  for (const bad of ['1e', '1e+', '1.5E-', '2ex']) {
    addon.jsonNumbers(Buffer.from(`[${bad}]`), 1, out, 0, state, 1);
    assert.equal(state[1], -1, bad);
  }
});

test('long fractions, with and without exponents, convert as JSON.parse does, up to the buffer end', (t) => {
  const addon = loadNativeAddon();
  if (!addon) return t.skip('native addon not built');
  const rand = lcg(77);
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(rand() * 10))).join('');
  const texts: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const sign = rand() < 0.3 ? '-' : '';
    const int = rand() < 0.5 ? '0' : String(1 + Math.floor(rand() * 999));
    const exp = rand() < 0.3 ? `e${rand() < 0.5 ? '-' : '+'}${Math.floor(rand() * 30)}` : '';
    texts.push(`${sign}${int}.${digits(1 + Math.floor(rand() * 40))}${exp}`);
  }
  texts.push(
    '0.00000000000000000000000000000000001',
    '0.1000000000000000055511151231257827',
    '1.9999999999999999999999',
  );
  const out = new Float64Array(texts.length);
  const state = new Float64Array(2);
  for (const sep of [',', ' ,\n']) {
    const body = Buffer.from(`[${texts.join(sep)}]`);
    const n = addon.jsonNumbers(body, 1, out, 0, state, 1);
    assert.equal(state[1], 1, `the scan stopped at byte ${state[0]} (status ${state[1]})`);
    const ref = JSON.parse(body.toString()) as number[];
    for (let i = 0; i < n; i++) assert.ok(Object.is(out[i], ref[i]), `${texts[i]}: ${out[i]} vs ${ref[i]}`);
  }
  // each alone, so that the number runs up to the last bytes of the buffer
  for (const text of texts.slice(0, 300)) {
    addon.jsonNumbers(Buffer.from(`[${text}]`), 1, out, 0, state, 1);
    assert.equal(state[1], 1, text);
    assert.ok(Object.is(out[0], JSON.parse(text)), text);
  }
  // what follows the digits still has to be a separator: bytes above ASCII are not digits
  for (const bad of [
    '0.12345678901234567890x',
    '0.1234567890123456789\u00e9',
    '0.1234567890123456789:',
    '0.1234567890123456789/',
  ]) {
    // followed by more digits: the scan must stop at the bad byte, not skip it
    addon.jsonNumbers(Buffer.from(`[${JSON.parse(`"${bad}"`)}1234567890123456]`), 1, out, 0, state, 1);
    assert.equal(state[1], -1, bad);
  }
});

/** The exact decimal text of the midpoint between a positive finite double and the next one up. */
function midpointText(d: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  // d = mant * 2^e (normal doubles), the midpoint (2 mant + 1) * 2^(e - 1)
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const e = (biased === 0 ? 1 : biased) - 1075;
  const odd = 2n * mant + 1n;
  if (e - 1 >= 0) return String(odd << BigInt(e - 1));
  // (2 mant + 1) / 2^k = (2 mant + 1) * 5^k / 10^k
  const k = 1 - e;
  const digits = String(odd * 5n ** BigInt(k)).padStart(k + 1, '0');
  return `${digits.slice(0, -k)}.${digits.slice(-k)}`;
}

/** `text` (a plain decimal) cut to n significant digits, and the same plus one unit in the last place. */
function cutNear(text: string, n: number): [string, string] {
  const [int, fracPart = ''] = text.split('.');
  const all = `${int}${fracPart}`;
  const lead = all.length - all.replace(/^0+/, '').length;
  const keep = Math.min(all.length, lead + n);
  const cut = all.slice(0, keep).padEnd(int!.length, '0');
  const up = (BigInt(cut) + 1n).toString().padStart(cut.length, '0');
  const place = (s: string) => {
    const i = s.length - Math.max(0, keep - int!.length);
    const whole = s.slice(0, int!.length + s.length - cut.length).replace(/^0+(?=\d)/, '');
    return i >= s.length || keep <= int!.length ? whole : `${whole}.${s.slice(s.length - (keep - int!.length))}`;
  };
  return [place(cut), place(up)];
}

test('numbers of 16-19 digits next to a midpoint between two doubles convert as JSON.parse does', (t) => {
  const addon = loadNativeAddon();
  if (!addon) return t.skip('native addon not built');
  const out = new Float64Array(1);
  const state = new Float64Array(2);
  const convert = (text: string) => {
    addon.jsonNumbers(Buffer.from(`[${text}]`), 1, out, 0, state, 1);
    assert.equal(state[1], 1, text);
    return out[0] as number;
  };
  // the halfway cases a 64-bit intermediate cannot settle: the exact midpoint, and its neighbours
  // 17 to 19 digits long on either side of it, for doubles across the range 1e-27 to 1e27
  fc.assert(
    fc.property(
      fc.double({ min: 1e-27, max: 1e27, noNaN: true }),
      fc.integer({ min: 16, max: 19 }),
      fc.boolean(),
      (d, n, minus) => {
        const mid = midpointText(d);
        for (const text of [mid, ...cutNear(mid, n)]) {
          const signed = minus ? `-${text}` : text;
          assert.ok(Object.is(convert(signed), JSON.parse(signed)), signed);
          // as an exponent form too: the digits with the point moved into e-notation
          const [int, frac = ''] = text.split('.');
          const expForm = `${minus ? '-' : ''}${`${int}${frac}`.replace(/^0+(?=\d)/, '')}e-${frac.length}`;
          assert.ok(Object.is(convert(expForm), JSON.parse(expForm)), expForm);
        }
      },
    ),
    { numRuns: 3000, seed: 5 },
  );
  // an exact tie between two doubles (2^53 + 1 is halfway between 2^53 and 2^53 + 2): even wins
  for (const text of ['9007199254740993', '9007199254740995', '9007199254740993e0', '900719925474099.3e1']) {
    assert.ok(Object.is(convert(text), JSON.parse(text)), text);
  }
});

test('the native scanner reads a body ending in a stopper byte (unchecked) as it reads one without (bounds-checked)', (t) => {
  const addon = loadNativeAddon();
  if (!addon) return t.skip('native addon not built');
  const scan = (text: string) => {
    const out = new Float64Array(64);
    const state = new Float64Array(2);
    const n = addon.jsonNumbers(Buffer.from(text, 'latin1'), 1, out, 0, state, 3);
    return { n, end: state[0], status: state[1], values: Array.from(out.subarray(0, Math.max(0, n))) };
  };
  // the bytes the rules consume, the structural ones, and a few that stop them
  const piece = fc.constantFrom(...'0123456789-+.eE[], \n'.split(''), '0.15', '12', '1e-3', '}', 'x', '"');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), fc.constantFrom('}', '} ', '}\n', 'x', '"'), (parts, tail) => {
      const text = `[${parts.join('')}`;
      // the same bytes, then a stopper (the unchecked scan) or not (the checked one, where bytes past
      // the end read as 0, which no rule takes either): the same numbers, stop and status
      assert.deepEqual(scan(text + tail), scan(text), text + tail);
    }),
    { numRuns: 3000, seed: 11 },
  );
  // a whole body: numbers then the object's closing brace
  const body = scan('[[0.5, 1], [2, -0.25]]}');
  assert.deepEqual([body.n, body.status, body.values], [4, 1, [0.5, 1, 2, -0.25]]);
});

test('nested "data" arrays: the native scanner flattens them row-major, anything unusual is left to the generic parser', (t) => {
  if (!loadNativeAddon()) return t.skip('native addon not built');
  const rand = lcg(99);
  const flat: number[] = [];
  // a random regular or ragged nesting, with whitespace and empty arrays between the numbers
  const gen = (depth: number): string => {
    if (depth === 0 || rand() < 0.2) {
      const v = Math.round((rand() - 0.5) * 1e4) / 1e3;
      flat.push(v);
      return String(v);
    }
    const parts = Array.from({ length: Math.floor(rand() * 4) }, () => gen(depth - 1));
    return `[${rand() < 0.3 ? ' ' : ''}${parts.join(rand() < 0.5 ? ',' : ' ,\n')}]`;
  };
  for (let c = 0; c < 200; c++) {
    flat.length = 0;
    const data = `[${gen(4)},${gen(3)}]`;
    const v = parseJsonFast(Buffer.from(`{"data":${data},"x":[[1]]}`), { typedData: true }) as {
      data: Float64Array;
      x: unknown;
    };
    assert.ok(v.data instanceof Float64Array, data);
    assert.deepEqual(Array.from(v.data), flat, data);
    assert.deepEqual(v.x, [[1]]); // not a "data" key: as JSON.parse gives it
  }
  // a 28x28 image nested as numpy's tolist() writes it
  const img = Array.from({ length: 784 }, (_, i) => ((i * 37) % 256) / 255);
  const tolist = [Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [img[y * 28 + x]]))];
  const got = parseJsonFast(Buffer.from(JSON.stringify({ data: tolist })), { typedData: true }) as {
    data: Float64Array;
  };
  assert.deepEqual(Array.from(got.data), img);
  // not all numbers, beyond the double range, or deeper than the scanner goes: the generic parser's plain arrays
  const deep = `${'['.repeat(100)}1${']'.repeat(100)}`;
  for (const odd of ['[[1,"a"]]', '[[1],[true]]', '[[1e400]]', '[[1],{"a":1}]', deep]) {
    const text = `{"data":${odd}}`;
    assert.deepEqual(parseJsonFast(Buffer.from(text), { typedData: true }), JSON.parse(text), odd);
  }
  // malformed: the fast parser gives up (JSON.parse then reports the error)
  for (const bad of ['[[1,2]', '[[1],]', '[[1]2]', '[[1]],', '[[,1]]', '[[1]]]', '[[01]]', '[[1.]]', '[]]']) {
    assert.equal(parseJsonFast(Buffer.from(`{"data":${bad}}`), { typedData: true }), undefined, bad);
  }
});

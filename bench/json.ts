/**
 * `npm run bench:json`: decoding a KServe V2 JSON request of one 28x28 image (784 numbers) with
 * the server's parser (src/serve/json.ts: native number scan, then its JavaScript loop alone)
 * against JSON.parse of the same bytes, for four ways clients write the numbers: two decimals
 * (0.15, the bench:serve body), float32 values printed in full (0.14509804546833038, what a numpy
 * float32 array's tolist() gives), the same nested as tolist() nests a [1, 28, 28, 1] array,
 * float64 values in full, and integers (raw pixels). Every
 * variant is checked against JSON.parse bit for bit first; where the fast parser gives up (the
 * JavaScript loop past 32 numbers outside its exact path), JSON.parse's time counts, as in the
 * server. With the native scan the FP32 numbers come as float32 (the conversion the codec makes
 * after JSON.parse is in its time, not in JSON.parse's). Medians of 7 interleaved rounds.
 */
import { parseJsonFast, setNativeJsonScan } from '../src/serve/json.js';

const ROUNDS = 7;
const CALLS = 2000;

const image = (f: (i: number) => number) => Array.from({ length: 784 }, (_, i) => f(i));
const body = (data: unknown) =>
  Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 28, 28, 1], datatype: 'FP32', data }] }));
/** As numpy's tolist() writes a [1, 28, 28, 1] array. */
const nested = (flat: number[]) => [
  Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [flat[y * 28 + x]])),
];
const pixel = (i: number) => (i * 37) % 256;
const bodies: [string, Buffer][] = [
  ['two decimals', body(image((i) => Math.round(pixel(i) / 2.56) / 100))],
  ['float32 in full', body(image((i) => Math.fround(pixel(i) / 255)))],
  ['float32 in full, nested', body(nested(image((i) => Math.fround(pixel(i) / 255))))],
  ['float64 in full', body(image((i) => pixel(i) / 255))],
  ['integers', body(image(pixel))],
];

type Parse = (b: Buffer) => unknown;
const reference: Parse = (b) => JSON.parse(b.toString('utf8'));
// As the server decodes a body: the fast parser, or JSON.parse where it gives up.
const fast =
  (native: boolean): Parse =>
  (b) => {
    setNativeJsonScan(native);
    return parseJsonFast(b, { typedData: true }) ?? reference(b);
  };
const parsers: [string, Parse][] = [
  ['tessera (native scan)', fast(true)],
  ['tessera (JS loop)', fast(false)],
  ['JSON.parse', reference],
];

/** The first input's numbers, flattened (nested data is flat in the server's parse, not in JSON.parse's). */
const dataOf = (v: unknown) => {
  const d = (v as { inputs: { data: unknown }[] }).inputs[0]!.data;
  return d instanceof Float64Array || d instanceof Float32Array ? d : ((d as unknown[]).flat(8) as number[]);
};

function timeUs(parse: Parse, b: Buffer): number {
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) parse(b);
  return ((performance.now() - t0) * 1000) / CALLS;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1] as number;

console.log(
  '| numbers | bytes | tessera (native scan) us | tessera (JS loop) us | JSON.parse us | native vs JSON.parse |',
);
console.log('|---|---:|---:|---:|---:|---:|');
for (const [label, b] of bodies) {
  const ref = dataOf(reference(b));
  for (const [name, parse] of parsers) {
    const got = dataOf(parse(b));
    // FP32 data the native scan reads straight into float32: JSON.parse's values rounded to float32
    const round = got instanceof Float32Array ? Math.fround : (x: number) => x;
    for (let i = 0; i < ref.length; i++) {
      const want = round(ref[i] as number);
      if (!Object.is(got[i], want)) throw new Error(`${name} on ${label}: value ${i} is ${got[i]}, not ${want}`);
    }
    timeUs(parse, b); // warm up
  }
  const runs = parsers.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < parsers.length; k++) runs[k]!.push(timeUs(parsers[k]![1], b));
  }
  const [nat, js, ref2] = runs.map(median) as [number, number, number];
  console.log(
    `| ${label} | ${b.length} | ${nat.toFixed(1)} | ${js.toFixed(1)} | ${ref2.toFixed(1)} | ${(ref2 / nat).toFixed(2)}x |`,
  );
}
setNativeJsonScan(true);

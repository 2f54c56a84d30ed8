import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, Tensor, tensor } from 'tessera';
import { halfToFloat } from '../../src/io/safetensors.js';

/** Build a file by hand: header object + raw buffer bytes. */
function build(header: unknown, buffer: Uint8Array, pad = true): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) while (new TextEncoder().encode(json).length % 8 !== 0) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(buffer, 8 + h.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeSafetensors(bytes),
    (e: unknown) => e instanceof SafetensorsError && pattern.test((e as Error).message),
  );
}

test('round trip keeps names, shapes, dtypes, values and metadata', () => {
  const a = tensor([
    [1.5, -2],
    [3, 4.25],
  ]);
  const b = tensor([7, -8, 2147483647], [3], 'int32');
  const c = tensor([true, false, true]);
  const s = tensor(3.5);
  const bytes = encodeSafetensors({ 'dense/kernel': a, ids: b, mask: c, scalar: s }, { format: 'pt', note: 'hi' });
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(Object.keys(tensors), ['dense/kernel', 'ids', 'mask', 'scalar']);
  assert.deepEqual(tensors['dense/kernel']?.shape, [2, 2]);
  assert.deepEqual(tensors['dense/kernel']?.toArray(), [
    [1.5, -2],
    [3, 4.25],
  ]);
  assert.equal(tensors.ids?.dtype, 'int32');
  assert.deepEqual(tensors.ids?.toArray(), [7, -8, 2147483647]);
  assert.equal(tensors.mask?.dtype, 'bool');
  assert.deepEqual(tensors.mask?.toArray(), [true, false, true]);
  assert.deepEqual(tensors.scalar?.shape, []);
  assert.equal(tensors.scalar?.item(), 3.5);
  assert.deepEqual(metadata, { format: 'pt', note: 'hi' });
});

test('decodes from a Node Buffer view at an odd offset (readFileSync pools small files)', () => {
  const bytes = encodeSafetensors({ a: tensor([1, 2, 3], [3]), b: tensor([4, 5], [2], 'int32') });
  const pool = Buffer.alloc(bytes.length + 8192);
  pool.set(bytes, 4097);
  const view = pool.subarray(4097, 4097 + bytes.length);
  const { tensors } = decodeSafetensors(view);
  assert.deepEqual(tensors.a?.toArray(), [1, 2, 3]);
  assert.deepEqual(tensors.b?.toArray(), [4, 5]);
  assert.equal(tensors.a?.dataSync().buffer.byteLength, 12);
});

test('encoded bytes follow the format exactly', () => {
  const bytes = encodeSafetensors({ w: tensor([1, 2], [2]) });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0, 'header padded to 8 bytes');
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.equal(text.trimEnd(), '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
  assert.match(text, /^\{.*\} *$/);
  assert.equal(bytes.length, 8 + n + 8);
  assert.deepEqual([...bytes.subarray(8 + n)], [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]); // 1.0f, 2.0f little-endian
});

test('decodes a hand-built file with every supported dtype', () => {
  const f64 = new Uint8Array(new Float64Array([0.5, -1.25]).buffer);
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]).buffer); // 1, -2, ~0.333, min subnormal
  const i64 = new Uint8Array(new BigInt64Array([-5n, 2147483647n]).buffer);
  const u8 = new Uint8Array([0, 255, 7]);
  const bool = new Uint8Array([1, 0]);
  const i32 = new Uint8Array(new Int32Array([-3]).buffer);
  const parts = [f64, f16, i64, i32, u8, bool];
  const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  const offs: [number, number][] = [];
  for (const p of parts) {
    buf.set(p, off);
    offs.push([off, off + p.length]);
    off += p.length;
  }
  const header = {
    __metadata__: { source: 'hand' },
    a: { dtype: 'F64', shape: [2], data_offsets: offs[0] },
    b: { dtype: 'F16', shape: [2, 2], data_offsets: offs[1] },
    c: { dtype: 'I64', shape: [2], data_offsets: offs[2] },
    d: { dtype: 'I32', shape: [1, 1], data_offsets: offs[3] },
    e: { dtype: 'U8', shape: [3], data_offsets: offs[4] },
    f: { dtype: 'BOOL', shape: [2], data_offsets: offs[5] },
  };
  const { tensors: t, metadata } = decodeSafetensors(build(header, buf));
  assert.deepEqual(metadata, { source: 'hand' });
  assert.equal(t.a?.dtype, 'float32');
  assert.deepEqual(t.a?.toArray(), [0.5, -1.25]);
  const b = t.b?.dataSync() as Float32Array;
  assert.equal(b[0], 1);
  assert.equal(b[1], -2);
  assert.ok(Math.abs((b[2] as number) - 0.33325) < 1e-4);
  assert.equal(b[3], Math.fround(2 ** -24));
  assert.equal(t.c?.dtype, 'int32');
  assert.deepEqual(t.c?.toArray(), [-5, 2147483647]);
  assert.deepEqual(t.d?.toArray(), [[-3]]);
  assert.equal(t.e?.dtype, 'int32');
  assert.deepEqual(t.e?.toArray(), [0, 255, 7]);
  assert.deepEqual(t.f?.toArray(), [true, false]);
});

test('halfToFloat handles infinities and NaN', () => {
  assert.equal(halfToFloat(0x7c00), Number.POSITIVE_INFINITY);
  assert.equal(halfToFloat(0xfc00), Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.equal(halfToFloat(0x7bff), 65504);
});

test('rejects malformed files with SafetensorsError', () => {
  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data = f32Bytes([1, 2]);
  rejects(new Uint8Array(5), /shorter than the 8-byte/);
  // header length beyond the file
  const big = build(ok, data);
  new DataView(big.buffer).setBigUint64(0, 1n << 40n, true);
  rejects(big, /longer than the rest of the file/);
  const huge = build(ok, data);
  new DataView(huge.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
  rejects(huge, /longer than the rest of the file/);
  rejects(build('{"w": [1, 2', data), /not valid JSON/);
  rejects(build('[1, 2, 3]', data), /must start with '\{'/);
  rejects(build('{}', new Uint8Array(0)).subarray(0, 9), /longer than the rest|too short/);
  rejects(build({ w: 5 }, data), /expected an object/);
  rejects(build({ w: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, data), /unknown dtype 'Q7'/);
  rejects(build({ w: { dtype: 'BF16', shape: [4], data_offsets: [0, 8] } }, data), /unsupported dtype 'BF16'/);
  rejects(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), /needs 12 bytes.*hold 8/);
  rejects(build({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, data), /non-negative integers/);
  rejects(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }, data), /past the end/);
  rejects(build({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data), /begin > end/);
  rejects(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data), /data_offsets \[begin, end\]/);
  // a shape that claims gigabytes is rejected before any allocation
  rejects(
    build({ w: { dtype: 'F32', shape: [1 << 20, 1 << 20, 1 << 20], data_offsets: [0, 8] } }, data),
    /more bytes than the whole data buffer/,
  );
  // overlap
  rejects(
    build(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      },
      data,
    ),
    /overlap/,
  );
  // hole at the start
  rejects(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data), /hole/);
  // trailing bytes not covered
  rejects(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data), /cover 4 bytes.*holds 8/);
  // truncated file: the data buffer is shorter than the header says
  const full = build(ok, data);
  rejects(full.subarray(0, full.length - 3), /past the end/);
  rejects(build({ __metadata__: { a: 1 } }, new Uint8Array(0)), /must be a string/);
  rejects(build({ __metadata__: [1] }, new Uint8Array(0)), /must be an object/);
  const i64 = new Uint8Array(new BigInt64Array([1n << 40n]).buffer);
  rejects(build({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, i64), /does not fit in int32/);
  rejects(build({ x: { dtype: 'BOOL', shape: [1], data_offsets: [0, 1] } }, new Uint8Array([2])), /expected 0 or 1/);
  const badUtf8 = build('{"a":1}', new Uint8Array(0));
  badUtf8[10] = 0xff;
  rejects(badUtf8, /UTF-8|JSON/);
});

test('encode refuses the reserved name and non-string metadata', () => {
  assert.throws(() => encodeSafetensors({ __metadata__: tensor([1]) }), SafetensorsError);
  assert.throws(() => encodeSafetensors({}, { a: 1 as unknown as string }), SafetensorsError);
});

const arbTensor = fc
  .record({
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    dtype: fc.constantFrom('float32', 'int32', 'bool'),
    seed: fc.integer(),
  })
  .map(({ shape, dtype, seed }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    let s = seed >>> 0;
    const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    if (dtype === 'float32') {
      const d = new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = (next() / 2 ** 32 - 0.5) * 1e6;
      return new Tensor(d, shape, 'float32');
    }
    if (dtype === 'int32') {
      const d = new Int32Array(n);
      for (let i = 0; i < n; i++) d[i] = next() | 0;
      return new Tensor(d, shape, 'int32');
    }
    const d = new Uint8Array(n);
    for (let i = 0; i < n; i++) d[i] = next() & 1;
    return new Tensor(d, shape, 'bool');
  });

test('property: random tensors round-trip bit-exactly', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), arbTensor, { maxKeys: 5 }), (dict) => {
      delete (dict as Record<string, unknown>).__metadata__;
      const { tensors } = decodeSafetensors(encodeSafetensors(dict));
      assert.deepEqual(Object.keys(tensors).sort(), Object.keys(dict).sort());
      for (const [k, t] of Object.entries(dict)) {
        const u = tensors[k] as Tensor;
        assert.equal(u.dtype, t.dtype);
        assert.deepEqual(u.shape, t.shape);
        assert.deepEqual(
          Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength),
          Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        );
      }
    }),
    { numRuns: 200 },
  );
});

test('property: corrupted bytes decode or throw SafetensorsError, nothing else', () => {
  const base = encodeSafetensors(
    { a: tensor([1, 2, 3, 4], [2, 2]), b: tensor([5, 6], [2], 'int32'), c: tensor([true]) },
    { k: 'v' },
  );
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.nat({ max: base.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.nat({ max: base.length }),
      (edits, cut) => {
        const bytes = base.slice(0, Math.max(cut, 0) === 0 ? base.length : cut);
        for (const { at, value } of edits) if (at < bytes.length) bytes[at] = value;
        try {
          decodeSafetensors(bytes);
        } catch (e) {
          if (!(e instanceof SafetensorsError)) throw e;
        }
      },
    ),
    { numRuns: 1000 },
  );
});

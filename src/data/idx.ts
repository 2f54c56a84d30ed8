/**
 * The IDX file format (the original MNIST files: train-images-idx3-ubyte, ...):
 * two zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64),
 * the number of dims, then each dim as a big-endian u32, then the data, big-endian, row-major.
 * Gzipped files (.gz, or starting with the gzip magic) are inflated first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ValueError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';

/** A malformed IDX file; the message names the file and what was wrong. */
export class IdxError extends ValueError {}

const TYPES: Record<number, { name: string; size: number }> = {
  8: { name: 'u8', size: 1 },
  9: { name: 'i8', size: 1 },
  11: { name: 'i16', size: 2 },
  12: { name: 'i32', size: 4 },
  13: { name: 'f32', size: 4 },
  14: { name: 'f64', size: 8 },
};

/**
 * Parse IDX bytes into a tensor: integer types become int32, f32/f64 become float32.
 * @example
 * const labels = parseIdx(readFileSync('t10k-labels-idx1-ubyte')); // int32 [10000]
 */
export function parseIdx(bytes: Uint8Array, where = 'IDX data'): Tensor {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new IdxError(`${where}: looks gzipped but does not inflate (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new IdxError(`${where}: ${bytes.length} bytes, shorter than the 4-byte IDX magic`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(
      `${where}: bad magic ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}, expected 00 00 <type> <ndims>`,
    );
  }
  const type = TYPES[bytes[2] as number];
  if (!type)
    throw new IdxError(
      `${where}: unknown data type byte 0x${(bytes[2] as number).toString(16)}, expected one of 08 09 0b 0c 0d 0e`,
    );
  const ndims = bytes[3] as number;
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) {
    throw new IdxError(`${where}: ${ndims} dims need a ${headerLen}-byte header, the file has ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let n = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    n *= d;
  }
  const expected = n * type.size;
  const actual = bytes.length - headerLen;
  if (expected !== actual) {
    throw new IdxError(
      `${where}: shape [${shape.join(', ')}] of ${type.name} needs ${expected} data bytes, the file has ${actual}${actual < expected ? ' (truncated?)' : ' (trailing bytes)'}`,
    );
  }
  const o = headerLen;
  switch (type.name) {
    case 'u8':
      return new Tensor(Int32Array.from(bytes.subarray(o)), shape, 'int32');
    case 'i8':
      return new Tensor(Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + o, n)), shape, 'int32');
    case 'i16': {
      const d = new Int32Array(n);
      for (let i = 0; i < n; i++) d[i] = view.getInt16(o + 2 * i, false);
      return new Tensor(d, shape, 'int32');
    }
    case 'i32': {
      const d = new Int32Array(n);
      for (let i = 0; i < n; i++) d[i] = view.getInt32(o + 4 * i, false);
      return new Tensor(d, shape, 'int32');
    }
    case 'f32': {
      const d = new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = view.getFloat32(o + 4 * i, false);
      return new Tensor(d, shape, 'float32');
    }
    default: {
      const d = new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = view.getFloat64(o + 8 * i, false);
      return new Tensor(d, shape, 'float32');
    }
  }
}

/**
 * Read an IDX file (optionally .gz) into a tensor.
 * @example
 * const images = readIdx('data/train-images-idx3-ubyte.gz'); // int32 [60000, 28, 28], 0..255
 */
export function readIdx(path: string): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new IdxError(`readIdx: cannot read '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseIdx(bytes, `readIdx '${path}'`);
}

/**
 * The full MNIST from its four IDX files in `dir` (names as distributed, with or without .gz):
 * images scaled to float32 [N, 28, 28, 1] in [0, 1], labels int32 [N].
 * @example
 * const { xTrain, yTrain, xTest, yTest } = mnistFromIdx('~/data/mnist');
 */
export function mnistFromIdx(dir: string): { xTrain: Tensor; yTrain: Tensor; xTest: Tensor; yTest: Tensor } {
  const find = (base: string): string => {
    for (const name of [base, `${base}.gz`, base.replace('-idx', '.idx'), `${base.replace('-idx', '.idx')}.gz`]) {
      if (existsSync(join(dir, name))) return join(dir, name);
    }
    throw new IdxError(`mnistFromIdx: no '${base}' (or .gz) in '${dir}'`);
  };
  const images = (name: string): Tensor => {
    const t = readIdx(find(name));
    if (t.rank !== 3) throw new IdxError(`mnistFromIdx: ${name} expected rank-3 images, got [${t.shape.join(', ')}]`);
    const d = new Float32Array(t.size);
    const src = t.data;
    for (let i = 0; i < d.length; i++) d[i] = (src[i] as number) / 255;
    return new Tensor(d, [...t.shape, 1], 'float32');
  };
  return {
    xTrain: images('train-images-idx3-ubyte'),
    yTrain: readIdx(find('train-labels-idx1-ubyte')),
    xTest: images('t10k-images-idx3-ubyte'),
    yTest: readIdx(find('t10k-labels-idx1-ubyte')),
  };
}

/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * u64 header length N, N bytes of UTF-8 JSON
 * `{ "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, "__metadata__": { ... } }`
 * (padded with spaces to 8-byte alignment), then the byte buffer; offsets are relative to the
 * buffer's start, and the tensors must cover it exactly, without holes or overlaps.
 *
 * The reader trusts nothing in the header: every size is checked against the real file length
 * before anything is allocated, and every problem is a `SafetensorsError`.
 */
import type { DType } from '../tensor/dtype.js';
import { TesseraError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';

/** A malformed or unsupported safetensors file. The message says what was wrong and where. */
export class SafetensorsError extends TesseraError {}

/** The safetensors dtypes this reader understands, with their item sizes in bytes. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
  BOOL: 1,
};

/** Every dtype name the format defines (so a valid-but-unsupported file gets a precise message). */
const KNOWN_BUT_UNSUPPORTED = new Set([
  'BF16',
  'I8',
  'I16',
  'U16',
  'U32',
  'U64',
  'F8_E4M3',
  'F8_E5M2',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'C64',
]);

/** The header may not exceed this (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface DecodedSafetensors {
  /** Tensors by name, in file order. F64 and F16 become float32; I64 and U8 become int32; BOOL becomes bool. */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` strings (empty when absent). */
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function safetensorsDType(t: Tensor, name: string): string {
  switch (t.dtype) {
    case 'float32':
      return 'F32';
    case 'int32':
      return 'I32';
    case 'bool':
      return 'BOOL';
    default:
      throw new SafetensorsError(`encodeSafetensors: tensor '${name}' has unsupported dtype ${String(t.dtype)}`);
  }
}

/**
 * Serialise tensors (float32 -> F32, int32 -> I32, bool -> BOOL) and optional string metadata
 * into the bytes of a .safetensors file.
 * @example
 * const bytes = encodeSafetensors({ 'dense/kernel': tensor([[1, 2], [3, 4]]) }, { format: 'tessera' });
 * writeFileSync('weights.safetensors', bytes);
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new SafetensorsError(`encodeSafetensors: metadata['${k}'] must be a string, got ${typeof v}`);
      }
    }
    header.__metadata__ = { ...metadata };
  }
  let offset = 0;
  const entries: [Tensor, number][] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__')
      throw new SafetensorsError("encodeSafetensors: '__metadata__' is reserved, not a tensor name");
    const dtype = safetensorsDType(t, name);
    const bytes = t.size * (SAFETENSORS_DTYPES[dtype] as number);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    entries.push([t, offset]);
    offset += bytes;
  }
  let json = JSON.stringify(header);
  let headerBytes = new TextEncoder().encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad > 0) {
    json += ' '.repeat(pad);
    headerBytes = new TextEncoder().encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  for (const [t, off] of entries) {
    const d = t.data;
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), base + off);
    } else {
      for (let i = 0; i < d.length; i++) {
        if (t.dtype === 'float32') view.setFloat32(base + off + 4 * i, d[i] as number, true);
        else if (t.dtype === 'int32') view.setInt32(base + off + 4 * i, d[i] as number, true);
        else out[base + off + i] = d[i] as number;
      }
    }
  }
  return out;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function fail(message: string): never {
  throw new SafetensorsError(`safetensors: ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseEntry(name: string, raw: unknown, bufferLength: number): Entry {
  if (!isPlainObject(raw))
    fail(`tensor '${name}': expected an object {dtype, shape, data_offsets}, got ${JSON.stringify(raw)}`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') fail(`tensor '${name}': expected a string dtype, got ${JSON.stringify(dtype)}`);
  const itemSize = SAFETENSORS_DTYPES[dtype];
  if (itemSize === undefined) {
    const what = KNOWN_BUT_UNSUPPORTED.has(dtype) ? 'unsupported' : 'unknown';
    fail(`tensor '${name}': ${what} dtype '${dtype}', expected one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    fail(`tensor '${name}': expected shape to be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    fail(
      `tensor '${name}': expected data_offsets [begin, end] of non-negative integers, got ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor '${name}': data_offsets [${begin}, ${end}] has begin > end`);
  if (end > bufferLength) {
    fail(
      `tensor '${name}': data_offsets [${begin}, ${end}] run past the end of the data buffer (${bufferLength} bytes)`,
    );
  }
  // Byte count, guarding against overflow: a count above the real buffer is reported as such.
  const dims = shape as number[];
  let bytes = dims.includes(0) ? 0 : itemSize;
  for (const d of dims) bytes *= d;
  if (bytes > bufferLength && !Number.isSafeInteger(bytes)) {
    fail(
      `tensor '${name}': shape [${dims.join(', ')}] of ${dtype} needs more bytes than the whole data buffer (${bufferLength})`,
    );
  }
  if (end - begin !== bytes) {
    fail(
      `tensor '${name}': shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${bytes} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

function decodeData(e: Entry, bytes: Uint8Array, base: number): Tensor {
  const n = e.shape.reduce((a, b) => a * b, 1);
  const start = base + e.begin;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, e.end - e.begin);
  let data: Float32Array | Int32Array | Uint8Array;
  let dtype: DType;
  switch (e.dtype) {
    case 'F32': {
      dtype = 'float32';
      if (LITTLE_ENDIAN) data = new Float32Array(bytes.slice(start, start + 4 * n).buffer);
      else {
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
      }
      break;
    }
    case 'F64': {
      dtype = 'float32';
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat64(8 * i, true);
      break;
    }
    case 'F16': {
      dtype = 'float32';
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    }
    case 'I32': {
      dtype = 'int32';
      if (LITTLE_ENDIAN) data = new Int32Array(bytes.slice(start, start + 4 * n).buffer);
      else {
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getInt32(4 * i, true);
      }
      break;
    }
    case 'I64': {
      dtype = 'int32';
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) {
          fail(`tensor '${e.name}': I64 value ${v} at index ${i} does not fit in int32 (tessera has no int64 dtype)`);
        }
        data[i] = Number(v);
      }
      break;
    }
    case 'U8': {
      dtype = 'int32';
      data = Int32Array.from(bytes.subarray(start, start + n));
      break;
    }
    case 'BOOL': {
      dtype = 'bool';
      data = bytes.slice(start, start + n);
      for (let i = 0; i < n; i++) {
        if ((data[i] as number) > 1) fail(`tensor '${e.name}': BOOL byte ${data[i]} at index ${i}, expected 0 or 1`);
      }
      break;
    }
    default:
      fail(`tensor '${e.name}': unsupported dtype '${e.dtype}'`);
  }
  return new Tensor(data, e.shape, dtype);
}

/** IEEE 754 binary16 -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Parse the bytes of a .safetensors file. Throws `SafetensorsError` for anything malformed:
 * a header longer than the file, invalid JSON, unknown dtypes, sizes that do not match shapes,
 * offsets that overlap, leave holes or run past the end.
 * @example
 * const { tensors, metadata } = decodeSafetensors(readFileSync('weights.safetensors'));
 * tensors['dense/kernel'].shape; // [100, 64]
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array of file bytes, got ${typeof bytes}`);
  // A Node Buffer's slice() is a view, not a copy: work on a plain Uint8Array over the same bytes.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length prefix`);
  const head = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const n64 = head.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) {
    fail(`header length ${n64} is longer than the rest of the file (${bytes.length - 8} bytes)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2) fail(`header length ${n} is too short for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header must start with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(parsed))
    fail(`header must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  const bufferLength = bytes.length - 8 - n;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) fail(`__metadata__ must be an object of strings, got ${JSON.stringify(raw)}`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') fail(`__metadata__['${k}'] must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(name, raw, bufferLength));
  }
  // The tensors must tile the buffer exactly: sorted by begin, each starts where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor)
      fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${cursor})`);
    if (e.begin > cursor)
      fail(`tensor '${e.name}': data_offsets start at ${e.begin}, leaving a hole after byte ${cursor}`);
    cursor = e.end;
  }
  if (cursor !== bufferLength) {
    fail(
      `the tensors cover ${cursor} bytes of the data buffer but it holds ${bufferLength} (truncated or trailing data)`,
    );
  }
  const base = 8 + n;
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) tensors[e.name] = decodeData(e, bytes, base);
  return { tensors, metadata };
}

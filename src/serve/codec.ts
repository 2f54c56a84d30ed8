/**
 * Wire formats: decoding and validating request tensors (KServe V2 JSON and binary tensor data,
 * TF Serving row and columnar), and encoding responses. Every check runs before a request is
 * queued, and every error names the input, what was received and what was expected.
 */
import type { DType, TypedArray } from '../tensor/dtype.js';
import { badRequest, HttpError } from './errors.js';
import type { OutputTensor, ServingDType, ServingSignature, TensorSpec, WireData } from './types.js';

/** A validated request tensor: values in signature dtype, concrete shape. */
export interface InputTensor {
  spec: TensorSpec;
  shape: number[];
  /** Values; for binary bodies possibly a view into the request Buffer (copied when batched); JS strings for a 'string' input. */
  data: WireData;
}

/** A decoded inference request, inputs in signature order. */
export interface DecodedRequest {
  inputs: InputTensor[];
  /** Rows along the batch dim (1 for models without one). */
  rows: number;
  /** Requests with equal keys can be concatenated along the batch dim. */
  shapeKey: string;
}

export interface Limits {
  /** Largest element count of one request tensor (default 16,777,216). */
  maxTensorElements: number;
}

const V2_OF: Record<ServingDType, string> = { float32: 'FP32', int32: 'INT32', bool: 'BOOL', string: 'BYTES' };
const TRITON_OF: Record<ServingDType, string> = {
  float32: 'TYPE_FP32',
  int32: 'TYPE_INT32',
  bool: 'TYPE_BOOL',
  string: 'TYPE_STRING',
};
const TF_OF: Record<ServingDType, string> = {
  float32: 'DT_FLOAT',
  int32: 'DT_INT32',
  bool: 'DT_BOOL',
  string: 'DT_STRING',
};

/**
 * KServe V2 datatypes accepted for each signature dtype; other numeric types are converted on
 * decode (INT64 and INT8/UINT8 values range-checked against int32, FP64/FP16 rounded to float32).
 */
const ACCEPTED: Record<ServingDType, readonly string[]> = {
  float32: ['FP32', 'FP64', 'FP16', 'INT64', 'INT32', 'UINT8', 'INT8'],
  int32: ['INT32', 'INT64', 'UINT8', 'INT8'],
  bool: ['BOOL'],
  string: ['BYTES'],
};

/** Bytes per element of a fixed-size V2 datatype (binary extension). */
const WIRE_BYTES: Record<string, number> = {
  FP32: 4,
  FP64: 8,
  FP16: 2,
  INT32: 4,
  INT64: 8,
  UINT8: 1,
  INT8: 1,
  BOOL: 1,
};

/** Value ranges of the integer datatypes (JSON and binary values are checked against them and int32). */
const INT_RANGE: Record<string, [number, number]> = {
  INT32: [-2147483648, 2147483647],
  INT64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 255],
  INT8: [-128, 127],
};

/** The accepted range of an integer datatype's values for a signature dtype (INT64 into int32: the int32 range). */
function rangeOf(wire: string, dtype: ServingDType): [number, number] | undefined {
  if (wire === 'INT64' && dtype === 'int32') return INT_RANGE.INT32;
  return INT_RANGE[wire];
}

/** KServe V2 datatype name of a dtype ('FP32', 'INT32', 'BOOL', 'BYTES'). */
export function v2Datatype(dtype: ServingDType): string {
  return V2_OF[dtype];
}

export function tfDatatype(dtype: ServingDType): string {
  return TF_OF[dtype];
}

/** Triton's model-config data type (the model configuration extension). */
export function tritonDatatype(dtype: ServingDType): string {
  return TRITON_OF[dtype];
}

/** Bytes per element on the wire (binary extension). */
export function elementBytes(dtype: DType): number {
  return dtype === 'bool' ? 1 : 4;
}

export function fmtDims(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? -1 : d)).join(', ')}]`;
}

/**
 * Request tensors are carved out of shared slabs: a view on an existing ArrayBuffer costs about a
 * quarter of an ArrayBuffer of its own (which V8 allocates outside the heap and sweeps later), and
 * the batcher copies request tensors into the batch anyway. Tensors over an eighth of a slab get
 * their own buffer (then an unbatched request can still be transferred without a copy).
 */
const SLAB_BYTES = 1 << 20;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function allocFor(dtype: DType, n: number): TypedArray {
  const width = dtype === 'float32' || dtype === 'int32' ? 4 : 1;
  const bytes = n * width;
  if (bytes > SLAB_BYTES / 8) {
    return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
  }
  let at = (slabUsed + 7) & ~7;
  if (at + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    at = 0;
  }
  slabUsed = at + bytes;
  return dtype === 'float32'
    ? new Float32Array(slab, at, n)
    : dtype === 'int32'
      ? new Int32Array(slab, at, n)
      : new Uint8Array(slab, at, n);
}

/** Whether a model takes a batch dim first on every input (then requests batch together). */
export function hasBatchDim(sig: ServingSignature): boolean {
  return sig.inputs.length > 0 && sig.inputs.every((s) => s.shape.length > 0 && s.shape[0] === null);
}

function checkShape(spec: TensorSpec, given: unknown, where: string, limits: Limits): number[] {
  let shape = given as number[];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw badRequest(
      `${where}: expected 'shape' to be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  // A batch of strings may come as [N] or [N, 1] (Keras text inputs).
  if (spec.dtype === 'string' && spec.shape.length === 1 && shape.length === 2 && shape[1] === 1) shape = [shape[0]];
  const ok = shape.length === spec.shape.length && spec.shape.every((d, i) => d === null || d === shape[i]);
  if (!ok) {
    throw badRequest(`${where}: expected shape ${fmtDims(spec.shape)}, got ${fmtDims(shape)}`);
  }
  let n = 1;
  for (const d of shape) n *= d;
  if (n > limits.maxTensorElements) {
    throw new HttpError(
      413,
      `${where}: shape ${fmtDims(shape)} has ${n} elements, more than the limit of ${limits.maxTensorElements}`,
    );
  }
  return shape as number[];
}

function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function wantOf(wire: string, dtype: ServingDType): string {
  if (wire === 'BOOL') return 'booleans';
  if (wire === 'BYTES') return 'strings';
  const r = rangeOf(wire, dtype);
  return r ? `integers in [${r[0]}, ${r[1]}]` : 'numbers';
}

function badValue(where: string, wire: string, v: unknown, index: number, dtype: ServingDType = 'float32'): HttpError {
  const into = wire === V2_OF[dtype] || wire === 'BYTES' ? '' : ` for the model's ${dtype}`;
  return badRequest(
    `${where}: expected ${wantOf(wire, dtype)}${into} (datatype ${wire}), got ${JSON.stringify(v)} at element ${index}`,
  );
}

/**
 * Flatten (possibly nested) JSON data into `out`, checking value types against the wire datatype
 * (`lo`..`hi` for integer types, 0/1/booleans for BOOL); returns the count written (or -1 past the end).
 */
function fill(
  data: unknown[],
  out: TypedArray,
  wire: string,
  dtype: DType,
  lo: number,
  hi: number,
  where: string,
  k: number,
): number {
  const n = out.length;
  const isBool = wire === 'BOOL';
  const isInt = lo !== Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v === 'number') {
      if (k >= n) return -1;
      if (isInt) {
        if (!Number.isInteger(v) || v > hi || v < lo) throw badValue(where, wire, v, k, dtype);
      } else if (isBool) {
        if (v !== 0 && v !== 1) throw badValue(where, wire, v, k, dtype);
      }
      out[k++] = v;
    } else if (Array.isArray(v)) {
      k = fill(v, out, wire, dtype, lo, hi, where, k);
      if (k < 0) return -1;
    } else if (typeof v === 'boolean' && isBool) {
      if (k >= n) return -1;
      out[k++] = v ? 1 : 0;
    } else {
      throw badValue(where, wire, v, k, dtype);
    }
  }
  return k;
}

/** Flatten (possibly nested) JSON strings (or TF Serving's { "b64": ... }) into `out`; the count, or -1 past `n`. */
function fillStrings(data: unknown[], out: string[], n: number, where: string): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Array.isArray(v)) {
      if (fillStrings(v, out, n, where) < 0) return -1;
      continue;
    }
    if (out.length >= n) return -1;
    if (typeof v === 'string') out.push(v);
    else if (isB64(v)) out.push(Buffer.from((v as { b64: string }).b64, 'base64').toString('utf8'));
    else throw badValue(where, 'BYTES', v, out.length);
  }
  return out.length;
}

function isB64(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as { b64?: unknown }).b64 === 'string' &&
    Object.keys(v).length === 1
  );
}

/**
 * Flat numbers already parsed into a Float64Array, or for FP32 data into a Float32Array (the fast
 * JSON path): count and value checks, then one conversion or copy.
 */
function typedValues(
  data: Float64Array | Float32Array,
  dtype: ServingDType,
  shape: readonly number[],
  n: number,
  where: string,
  wire: string,
): TypedArray {
  if (dtype === 'string') throw badValue(where, 'BYTES', data[0], 0);
  if (data.length !== n) {
    throw badRequest(
      `${where}: shape ${fmtDims(shape)} needs ${n} values, got ${data.length > n ? `more than ${n}` : data.length}`,
    );
  }
  const range = rangeOf(wire, dtype);
  if (range || wire === 'BOOL') {
    const [lo, hi] = range ?? [0, 1];
    for (let i = 0; i < n; i++) {
      const v = data[i] as number;
      if (!Number.isInteger(v) || v < lo || v > hi) throw badValue(where, wire, v, i, dtype);
    }
  }
  const out = allocFor(dtype, n);
  out.set(data);
  return out;
}

function valuesInto(
  data: unknown,
  dtype: ServingDType,
  shape: readonly number[],
  where: string,
  wire?: string,
): WireData {
  const n = sizeOfShape(shape);
  if (data instanceof Float64Array || data instanceof Float32Array)
    return typedValues(data, dtype, shape, n, where, wire ?? V2_OF[dtype]);
  const list = Array.isArray(data) ? data : [data];
  let k: number;
  let out: WireData;
  if (dtype === 'string') {
    out = [];
    k = fillStrings(list, out, n, where);
  } else {
    const w = wire ?? V2_OF[dtype];
    const range = rangeOf(w, dtype);
    out = allocFor(dtype, n);
    k = fill(list, out, w, dtype, range ? range[0] : Number.NEGATIVE_INFINITY, range ? range[1] : 0, where, 0);
  }
  if (k !== n) {
    const got = k < 0 ? `more than ${n}` : String(k);
    throw badRequest(`${where}: shape ${fmtDims(shape)} needs ${n} values, got ${got}`);
  }
  return out;
}

function finish(sig: ServingSignature, byName: (InputTensor | undefined)[], batched: boolean): DecodedRequest {
  const inputs: InputTensor[] = [];
  for (let i = 0; i < sig.inputs.length; i++) {
    const t = byName[i];
    const spec = sig.inputs[i] as TensorSpec;
    if (!t) {
      const names = sig.inputs.map((s) => `'${s.name}'`).join(', ');
      throw badRequest(
        `missing input '${spec.name}' (${V2_OF[spec.dtype]} ${fmtDims(spec.shape)}); the model takes ${names}`,
      );
    }
    inputs.push(t);
  }
  let rows = 1;
  let shapeKey = '';
  if (batched) {
    rows = (inputs[0] as InputTensor).shape[0] as number;
    for (const t of inputs) {
      if (t.shape[0] !== rows) {
        throw badRequest(
          `input '${t.spec.name}': batch dim ${t.shape[0]} differs from input '${(inputs[0] as InputTensor).spec.name}' (${rows})`,
        );
      }
      if (t.spec.shape.some((d, i) => i > 0 && d === null)) shapeKey += `${t.shape.slice(1).join(',')};`;
    }
  }
  return { inputs, rows, shapeKey };
}

function specIndex(sig: ServingSignature, name: unknown): number {
  for (let i = 0; i < sig.inputs.length; i++) if ((sig.inputs[i] as TensorSpec).name === name) return i;
  const names = sig.inputs.map((s) => `'${s.name}'`).join(', ');
  throw badRequest(`unknown input ${JSON.stringify(name)}; the model takes ${names}`);
}

/** What the client asked back: which outputs, and which of them as binary data. */
export interface OutputRequest {
  /** Signature output indices, in response order. */
  indices: number[];
  binary: boolean[];
  /**
   * Per requested output, the classification extension's count: the top that many classes of each
   * row, as BYTES "<value>:<index>[:<label>]" (0: the tensor itself).
   */
  classes: number[];
}

export interface V2Request extends DecodedRequest {
  id?: string;
  outputs: OutputRequest;
}

/**
 * Decode a KServe V2 infer request. `header` is the parsed JSON; `binary` the bytes after it
 * (binary tensor data extension), or null.
 */
export function decodeV2(
  body: unknown,
  binary: Buffer | null,
  sig: ServingSignature,
  batched: boolean,
  limits: Limits,
): V2Request {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`expected a JSON object with 'inputs', got ${body === null ? 'null' : typeof body}`);
  }
  const req = body as { id?: unknown; inputs?: unknown; outputs?: unknown; parameters?: Record<string, unknown> };
  if (!Array.isArray(req.inputs))
    throw badRequest(`expected 'inputs' to be an array of tensors, got ${typeof req.inputs}`);
  const byName: (InputTensor | undefined)[] = new Array(sig.inputs.length);
  let offset = 0;
  for (const raw of req.inputs as unknown[]) {
    if (typeof raw !== 'object' || raw === null)
      throw badRequest(`expected each of 'inputs' to be an object, got ${JSON.stringify(raw)}`);
    const inp = raw as {
      name?: unknown;
      shape?: unknown;
      datatype?: unknown;
      data?: unknown;
      parameters?: Record<string, unknown>;
    };
    const idx = specIndex(sig, inp.name);
    const spec = sig.inputs[idx] as TensorSpec;
    const where = `input '${spec.name}'`;
    if (byName[idx]) throw badRequest(`${where} given twice`);
    const accepted = ACCEPTED[spec.dtype];
    const wire = inp.datatype as string;
    if (typeof inp.datatype !== 'string' || !accepted.includes(wire)) {
      const list =
        accepted.length === 1 ? (accepted[0] as string) : `${accepted[0]} (or ${accepted.slice(1).join(', ')})`;
      throw badRequest(`${where}: expected datatype ${list}, got ${JSON.stringify(inp.datatype)}`);
    }
    const shape = checkShape(spec, inp.shape, where, limits);
    const size = inp.parameters?.binary_data_size;
    let data: WireData;
    if (size !== undefined) {
      const n = sizeOfShape(shape);
      if (!binary)
        throw badRequest(
          `${where}: 'binary_data_size' given but the request has no binary data (Inference-Header-Content-Length missing)`,
        );
      if (wire === 'BYTES') {
        if (!Number.isInteger(size) || (size as number) < 0 || offset + (size as number) > binary.length) {
          throw badRequest(
            `${where}: binary_data_size ${JSON.stringify(size)} does not fit the ${binary.length - offset} bytes of binary data left`,
          );
        }
        data = bytesElements(binary.subarray(offset, offset + (size as number)), n, where);
        offset += size as number;
      } else {
        const bytes = n * (WIRE_BYTES[wire] as number);
        if (size !== bytes)
          throw badRequest(
            `${where}: shape ${fmtDims(shape)} of ${wire} needs binary_data_size ${bytes}, got ${JSON.stringify(size)}`,
          );
        if (offset + bytes > binary.length) {
          throw badRequest(
            `${where}: binary data ends at byte ${binary.length}, expected ${bytes} bytes from byte ${offset}`,
          );
        }
        const slice = binary.subarray(offset, offset + bytes);
        offset += bytes;
        data =
          wire === V2_OF[spec.dtype]
            ? viewOf(slice, spec.dtype as DType, n)
            : convertBinary(slice, wire, spec.dtype as DType, n, where);
      }
    } else {
      if (inp.data === undefined)
        throw badRequest(`${where}: expected 'data' (or parameters.binary_data_size), got none`);
      data = valuesInto(inp.data, spec.dtype, shape, where, wire);
    }
    byName[idx] = { spec, shape, data };
  }
  if (binary && offset !== binary.length) {
    throw badRequest(`binary data has ${binary.length} bytes, but the inputs' binary_data_size add up to ${offset}`);
  }
  const decoded = finish(sig, byName, batched) as V2Request;
  if (req.id !== undefined) decoded.id = String(req.id);
  const allBinary = req.parameters?.binary_data_output === true;
  decoded.outputs = outputsRequested(req.outputs, sig, allBinary, batched);
  return decoded;
}

/** BYTES binary data: `n` elements, each a 4-byte little-endian length then that many bytes (UTF-8). */
function bytesElements(buf: Buffer, n: number, where: string): string[] {
  const out: string[] = new Array(n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (p + 4 > buf.length)
      throw badRequest(`${where}: BYTES binary data ends at byte ${buf.length} before the length of element ${i}`);
    const len = buf.readUInt32LE(p);
    p += 4;
    if (p + len > buf.length)
      throw badRequest(
        `${where}: BYTES element ${i} needs ${len} bytes from byte ${p}, but binary_data_size is ${buf.length}`,
      );
    out[i] = buf.toString('utf8', p, p + len);
    p += len;
  }
  if (p !== buf.length)
    throw badRequest(
      `${where}: BYTES binary data has ${buf.length - p} bytes left after the ${n} elements of the shape`,
    );
  return out;
}

/** Half-precision bits to a number. */
function halfToFloat(h: number): number {
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Binary data of another numeric datatype converted to the signature's float32 / int32 (range-checked). */
function convertBinary(buf: Buffer, wire: string, dtype: DType, n: number, where: string): TypedArray {
  const out = allocFor(dtype, n);
  const range = rangeOf(wire, dtype);
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (wire) {
      case 'FP64':
        v = buf.readDoubleLE(i * 8);
        break;
      case 'FP16':
        v = halfToFloat(buf.readUInt16LE(i * 2));
        break;
      case 'INT32':
        v = buf.readInt32LE(i * 4);
        break;
      case 'INT64': {
        const b = buf.readBigInt64LE(i * 8);
        if (b > 9007199254740991n || b < -9007199254740991n) throw badValue(where, wire, String(b), i, dtype);
        v = Number(b);
        break;
      }
      case 'UINT8':
        v = buf[i] as number;
        break;
      case 'INT8':
        v = buf.readInt8(i);
        break;
      default:
        throw badRequest(`${where}: datatype ${wire} cannot be converted to ${V2_OF[dtype]}`);
    }
    if (range && (v < range[0] || v > range[1])) throw badValue(where, wire, v, i, dtype);
    out[i] = v;
  }
  return out;
}

function viewOf(buf: Buffer, dtype: DType, n: number): TypedArray {
  if (dtype === 'bool') {
    for (let i = 0; i < buf.length; i++)
      if (buf[i]! > 1) throw badRequest(`BOOL binary data must be bytes 0 or 1, got ${buf[i]} at element ${i}`);
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  }
  if (buf.byteOffset % 4 === 0) {
    return dtype === 'float32'
      ? new Float32Array(buf.buffer, buf.byteOffset, n)
      : new Int32Array(buf.buffer, buf.byteOffset, n);
  }
  const out = allocFor(dtype, n);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(buf);
  return out;
}

function outputsRequested(raw: unknown, sig: ServingSignature, allBinary: boolean, batched: boolean): OutputRequest {
  if (raw === undefined) {
    return {
      indices: sig.outputs.map((_, i) => i),
      binary: sig.outputs.map(() => allBinary),
      classes: sig.outputs.map(() => 0),
    };
  }
  if (!Array.isArray(raw))
    throw badRequest(`expected 'outputs' to be an array of { name }, got ${JSON.stringify(raw)}`);
  const indices: number[] = [];
  const binary: boolean[] = [];
  const classes: number[] = [];
  for (const o of raw as { name?: unknown; parameters?: Record<string, unknown> }[]) {
    const i = sig.outputs.findIndex((s) => s.name === o?.name);
    if (i < 0) {
      const names = sig.outputs.map((s) => `'${s.name}'`).join(', ');
      throw badRequest(`unknown output ${JSON.stringify(o?.name)} requested; the model gives ${names}`);
    }
    indices.push(i);
    const b = o.parameters?.binary_data;
    binary.push(b === undefined ? allBinary : b === true);
    classes.push(classCount(o.parameters?.classification, sig.outputs[i] as TensorSpec, batched));
  }
  return { indices, binary, classes };
}

/** A requested output's classification count (0 when not asked), checked against its signature. */
function classCount(v: unknown, spec: TensorSpec, batched: boolean): number {
  if (v === undefined) return 0;
  const where = `output '${spec.name}'`;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw badRequest(
      `${where}: parameters.classification expected a positive integer (how many top classes), got ${JSON.stringify(v)}`,
    );
  }
  if (spec.dtype === 'string') throw badRequest(`${where}: classification needs a numeric output, this one is BYTES`);
  const dims = batched ? spec.shape.slice(1) : spec.shape;
  if (dims.every((d) => d !== null)) {
    const per = (dims as number[]).reduce((a, d) => a * d, 1);
    if (v > per) throw badRequest(`${where}: classification ${v} asks for more classes than its ${per}`);
  }
  return v;
}

/**
 * The classification extension: the top `k` classes of each row of an output (each row of a
 * batched model's output, else the whole tensor as one row) by value, highest first and ties by
 * lower index, each as "<value>:<index>", plus ":<label>" where `labels` names that index. NaN
 * ranks last. Shape [rows, k] (batched) or [k].
 * @example topClasses({ name: 'p', dtype: 'float32', shape: [1, 4], data: new Float32Array([1, 5, 10, 4]) }, 2, true)
 * // { shape: [1, 2], values: ['10:2', '5:1'] }
 */
export function topClasses(
  o: OutputTensor,
  k: number,
  batched: boolean,
  labels?: readonly string[],
): { shape: number[]; values: string[] } {
  const rows = batched ? (o.shape[0] ?? 1) : 1;
  const per = rows > 0 ? o.data.length / rows : 0;
  const take = Math.min(k, per);
  const values: string[] = [];
  const order = Array.from({ length: per }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    const row = o.data.subarray(r * per, (r + 1) * per);
    const rank = (i: number) => {
      const v = row[i] as number;
      return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
    };
    order.sort((a, b) => {
      const d = rank(b) - rank(a);
      return d > 0 || d < 0 ? d : a - b;
    });
    for (let j = 0; j < take; j++) {
      const i = order[j] as number;
      const v = row[i] as number;
      const shown = o.dtype === 'bool' ? (v ? 'true' : 'false') : String(v);
      const label = labels?.[i];
      values.push(label === undefined ? `${shown}:${i}` : `${shown}:${i}:${label}`);
    }
  }
  return { shape: batched ? [rows, take] : [take], values };
}

/** BYTES elements in the binary tensor extension's layout: each a 4-byte little-endian length, then its UTF-8 bytes. */
export function bytesBinary(values: readonly string[]): Buffer {
  const parts = values.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((a, p) => a + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** Inferred shape of a nested JSON value (TF Serving sends no shapes). */
function nestedShape(v: unknown): number[] {
  const shape: number[] = [];
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

export interface TfRequest extends DecodedRequest {
  /** 'row' (instances -> predictions) or 'columnar' (inputs -> outputs). */
  format: 'row' | 'columnar';
}

/** Decode a TF Serving predict request (`instances` rows or `inputs` columns). */
export function decodeTf(body: unknown, sig: ServingSignature, batched: boolean, limits: Limits): TfRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(
      `expected a JSON object with 'instances' or 'inputs', got ${body === null ? 'null' : typeof body}`,
    );
  }
  const req = body as { instances?: unknown; inputs?: unknown };
  const byName: (InputTensor | undefined)[] = new Array(sig.inputs.length);
  const single = sig.inputs.length === 1;
  if (req.instances !== undefined) {
    if (req.inputs !== undefined) throw badRequest(`expected one of 'instances' or 'inputs', got both`);
    if (!Array.isArray(req.instances) || req.instances.length === 0) {
      throw badRequest(`expected 'instances' to be a non-empty array of rows, got ${JSON.stringify(req.instances)}`);
    }
    const rows = req.instances as unknown[];
    const named = !single || (isPlainObject(rows[0]) && !isB64(rows[0]));
    for (let i = 0; i < sig.inputs.length; i++) {
      const spec = sig.inputs[i] as TensorSpec;
      const where = `input '${spec.name}'`;
      const column = named
        ? rows.map((r, k) => {
            if (!isPlainObject(r) || !(spec.name in (r as object))) throw badRequest(`instance ${k} lacks ${where}`);
            return (r as Record<string, unknown>)[spec.name];
          })
        : rows;
      byName[i] = tfTensor(spec, column, where, batched, limits, true);
    }
    if (named) {
      for (const k of Object.keys(rows[0] as object)) specIndex(sig, k);
    }
    return Object.assign(finish(sig, byName, batched), { format: 'row' as const });
  }
  if (req.inputs === undefined)
    throw badRequest(`expected 'instances' (row format) or 'inputs' (columnar format), got neither`);
  if (isPlainObject(req.inputs)) {
    const obj = req.inputs as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      const i = specIndex(sig, k);
      const spec = sig.inputs[i] as TensorSpec;
      byName[i] = tfTensor(spec, v, `input '${spec.name}'`, batched, limits, false);
    }
  } else {
    if (!single)
      throw badRequest(`the model takes ${sig.inputs.length} inputs: 'inputs' must be an object keyed by input name`);
    const spec = sig.inputs[0] as TensorSpec;
    byName[0] = tfTensor(spec, req.inputs, `input '${spec.name}'`, batched, limits, false);
  }
  return Object.assign(finish(sig, byName, batched), { format: 'columnar' as const });
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tfTensor(
  spec: TensorSpec,
  value: unknown,
  where: string,
  batched: boolean,
  limits: Limits,
  rows: boolean,
): InputTensor {
  let shape = nestedShape(value);
  if (rows && !batched) shape = shape.slice(1);
  const checked = checkShape(spec, shape, where, limits);
  return {
    spec,
    shape: checked,
    data: valuesInto(rows && !batched ? (value as unknown[])[0] : value, spec.dtype, checked, where),
  };
}

/** JSON text of a typed array's values (NaN / Infinity as null, like JSON.stringify). */
export function jsonValues(data: TypedArray, dtype: DType): string {
  const n = data.length;
  if (n === 0) return '[]';
  let s = '[';
  if (dtype === 'bool') {
    for (let i = 0; i < n; i++) s += (i ? ',' : '') + (data[i] ? 'true' : 'false');
  } else {
    for (let i = 0; i < n; i++) {
      const v = data[i] as number;
      s += (i ? ',' : '') + (Number.isFinite(v) ? v : 'null');
    }
  }
  return `${s}]`;
}

/** Nested JSON text of a typed array with a shape (TF Serving responses). */
export function jsonNested(data: TypedArray, shape: readonly number[], dtype: DType, offset = 0, dim = 0): string {
  if (shape.length === 0) {
    const v = data[offset] as number;
    return dtype === 'bool' ? (v ? 'true' : 'false') : Number.isFinite(v) ? String(v) : 'null';
  }
  if (dim === shape.length - 1) {
    return jsonValues(data.subarray(offset, offset + (shape[dim] as number)), dtype);
  }
  let stride = 1;
  for (let i = dim + 1; i < shape.length; i++) stride *= shape[i] as number;
  const parts: string[] = [];
  for (let i = 0; i < (shape[dim] as number); i++)
    parts.push(jsonNested(data, shape, dtype, offset + i * stride, dim + 1));
  return `[${parts.join(',')}]`;
}

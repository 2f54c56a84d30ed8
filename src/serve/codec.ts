/**
 * Wire formats: decoding and validating request tensors (KServe V2 JSON and binary tensor data,
 * TF Serving row and columnar), and encoding responses. Every check runs before a request is
 * queued, and every error names the input, what was received and what was expected.
 */
import type { DType, TypedArray } from '../tensor/dtype.js';
import { badRequest, HttpError } from './errors.js';
import type { ServingSignature, TensorSpec } from './types.js';

/** A validated request tensor: values in signature dtype, concrete shape. */
export interface InputTensor {
  spec: TensorSpec;
  shape: number[];
  /** Values; for binary bodies possibly a view into the request Buffer (copied when batched). */
  data: TypedArray;
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

const V2_OF: Record<DType, string> = { float32: 'FP32', int32: 'INT32', bool: 'BOOL' };
const TF_OF: Record<DType, string> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' };

/** KServe V2 datatype name of a dtype ('FP32', 'INT32', 'BOOL'). */
export function v2Datatype(dtype: DType): string {
  return V2_OF[dtype];
}

export function tfDatatype(dtype: DType): string {
  return TF_OF[dtype];
}

/** Bytes per element on the wire (binary extension). */
export function elementBytes(dtype: DType): number {
  return dtype === 'bool' ? 1 : 4;
}

export function fmtDims(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? -1 : d)).join(', ')}]`;
}

function allocFor(dtype: DType, n: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

/** Whether a model takes a batch dim first on every input (then requests batch together). */
export function hasBatchDim(sig: ServingSignature): boolean {
  return sig.inputs.length > 0 && sig.inputs.every((s) => s.shape.length > 0 && s.shape[0] === null);
}

function checkShape(spec: TensorSpec, shape: unknown, where: string, limits: Limits): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw badRequest(
      `${where}: expected 'shape' to be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
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

function badValue(where: string, dtype: DType, v: unknown, index: number): HttpError {
  const want = dtype === 'bool' ? 'booleans' : dtype === 'int32' ? 'integers in the int32 range' : 'numbers';
  return badRequest(
    `${where}: expected ${want} (datatype ${V2_OF[dtype]}), got ${JSON.stringify(v)} at element ${index}`,
  );
}

/** Flatten (possibly nested) JSON data into `out`, checking value types; returns the count written (or -1 past the end). */
function fill(data: unknown[], out: TypedArray, dtype: DType, where: string, k: number): number {
  const n = out.length;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v === 'number') {
      if (k >= n) return -1;
      if (dtype === 'int32') {
        if (!Number.isInteger(v) || v > 2147483647 || v < -2147483648) throw badValue(where, dtype, v, k);
      } else if (dtype === 'bool') {
        if (v !== 0 && v !== 1) throw badValue(where, dtype, v, k);
      }
      out[k++] = v;
    } else if (Array.isArray(v)) {
      k = fill(v, out, dtype, where, k);
      if (k < 0) return -1;
    } else if (typeof v === 'boolean' && dtype === 'bool') {
      if (k >= n) return -1;
      out[k++] = v ? 1 : 0;
    } else {
      throw badValue(where, dtype, v, k);
    }
  }
  return k;
}

function valuesInto(data: unknown, dtype: DType, shape: readonly number[], where: string): TypedArray {
  const n = sizeOfShape(shape);
  const out = allocFor(dtype, n);
  const list = Array.isArray(data) ? data : [data];
  const k = fill(list, out, dtype, where, 0);
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
    const want = V2_OF[spec.dtype];
    if (inp.datatype !== want)
      throw badRequest(`${where}: expected datatype ${want}, got ${JSON.stringify(inp.datatype)}`);
    const shape = checkShape(spec, inp.shape, where, limits);
    const size = inp.parameters?.binary_data_size;
    let data: TypedArray;
    if (size !== undefined) {
      const n = sizeOfShape(shape);
      const bytes = n * elementBytes(spec.dtype);
      if (!binary)
        throw badRequest(
          `${where}: 'binary_data_size' given but the request has no binary data (Inference-Header-Content-Length missing)`,
        );
      if (size !== bytes)
        throw badRequest(
          `${where}: shape ${fmtDims(shape)} of ${want} needs binary_data_size ${bytes}, got ${JSON.stringify(size)}`,
        );
      if (offset + bytes > binary.length) {
        throw badRequest(
          `${where}: binary data ends at byte ${binary.length}, expected ${bytes} bytes from byte ${offset}`,
        );
      }
      const slice = binary.subarray(offset, offset + bytes);
      offset += bytes;
      data = viewOf(slice, spec.dtype, n);
    } else {
      if (inp.data === undefined)
        throw badRequest(`${where}: expected 'data' (or parameters.binary_data_size), got none`);
      data = valuesInto(inp.data, spec.dtype, shape, where);
    }
    byName[idx] = { spec, shape, data };
  }
  if (binary && offset !== binary.length) {
    throw badRequest(`binary data has ${binary.length} bytes, but the inputs' binary_data_size add up to ${offset}`);
  }
  const decoded = finish(sig, byName, batched) as V2Request;
  if (req.id !== undefined) decoded.id = String(req.id);
  const allBinary = req.parameters?.binary_data_output === true;
  decoded.outputs = outputsRequested(req.outputs, sig, allBinary);
  return decoded;
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
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function outputsRequested(raw: unknown, sig: ServingSignature, allBinary: boolean): OutputRequest {
  if (raw === undefined) {
    return { indices: sig.outputs.map((_, i) => i), binary: sig.outputs.map(() => allBinary) };
  }
  if (!Array.isArray(raw))
    throw badRequest(`expected 'outputs' to be an array of { name }, got ${JSON.stringify(raw)}`);
  const indices: number[] = [];
  const binary: boolean[] = [];
  for (const o of raw as { name?: unknown; parameters?: Record<string, unknown> }[]) {
    const i = sig.outputs.findIndex((s) => s.name === o?.name);
    if (i < 0) {
      const names = sig.outputs.map((s) => `'${s.name}'`).join(', ');
      throw badRequest(`unknown output ${JSON.stringify(o?.name)} requested; the model gives ${names}`);
    }
    indices.push(i);
    const b = o.parameters?.binary_data;
    binary.push(b === undefined ? allBinary : b === true);
  }
  return { indices, binary };
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
    const named = !single || isPlainObject(rows[0]);
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

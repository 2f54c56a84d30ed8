import { DTypeError } from './errors.js';

export type DType = 'float32' | 'int32' | 'bool';
export type TypedArray = Float32Array | Int32Array | Uint8Array;
export type DataFor<D extends DType> = D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array : Uint8Array;

export const DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

export function isDType(value: unknown): value is DType {
  return value === 'float32' || value === 'int32' || value === 'bool';
}

export function assertDType(value: unknown, where: string): DType {
  if (!isDType(value)) {
    throw new DTypeError(`${where} expected dtype 'float32' | 'int32' | 'bool', got ${JSON.stringify(value)}`);
  }
  return value;
}

export function newArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

export function dtypeOfArray(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}

/** The dtype an elementwise op of a and b produces (NumPy-like promotion: bool < int32 < float32). */
export function upcast(a: DType, b: DType): DType {
  if (a === 'float32' || b === 'float32') return 'float32';
  if (a === 'int32' || b === 'int32') return 'int32';
  return 'bool';
}

/**
 * Which backend runs the kernels. Native (the C++ addon) when it was built, else the
 * reference backend, said once on stderr. `TESSERA_BACKEND=reference|native` chooses at start-up.
 */
import { ValueError } from '../tensor/errors.js';
import type { Backend } from './backend.js';
import { loadNativeBackend } from './native.js';
import { referenceBackend } from './reference.js';

export type BackendName = 'native' | 'reference';

let native: Backend | null | undefined;
let current: Backend | undefined;
let warned = false;

function nativeOrNull(): Backend | null {
  if (native === undefined) native = loadNativeBackend();
  return native ?? null;
}

function initial(): Backend {
  const wanted = process.env.TESSERA_BACKEND;
  if (wanted === 'reference') return referenceBackend;
  if (wanted !== undefined && wanted !== '' && wanted !== 'native') {
    throw new ValueError(`TESSERA_BACKEND is '${wanted}', expected 'native' or 'reference'`);
  }
  const n = nativeOrNull();
  if (n) return n;
  if (!warned) {
    warned = true;
    process.stderr.write(
      'tessera: the native addon is not built (no C++ compiler at install?); running on the reference backend, which is much slower\n',
    );
  }
  return referenceBackend;
}

/** The backend kernels run on now. */
export function backend(): Backend {
  if (!current) current = initial();
  return current;
}

/** The name of the active backend. */
export function getBackend(): BackendName {
  return backend().name;
}

/** Switch backends. 'native' throws if the addon was not built. */
export function setBackend(name: BackendName): void {
  if (name === 'reference') {
    current = referenceBackend;
    return;
  }
  if (name === 'native') {
    const n = nativeOrNull();
    if (!n)
      throw new ValueError(
        "setBackend('native'): the native addon is not built; run `npm rebuild tessera` with a C++17 compiler",
      );
    current = n;
    return;
  }
  throw new ValueError(`setBackend got '${String(name)}', expected 'native' or 'reference'`);
}

/** Whether the native addon is available. */
export function hasNativeBackend(): boolean {
  return nativeOrNull() !== null;
}

export type { Backend } from './backend.js';
export { referenceBackend };

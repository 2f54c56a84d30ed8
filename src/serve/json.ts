/**
 * A fast JSON parser straight from a request Buffer, for inference bodies (hundreds of numbers
 * per request). It gives the same value JSON.parse(buf.toString('utf8')) gives, or `undefined`
 * when it is unsure (any syntax error, escapes it does not decode itself, `__proto__` keys, more
 * than 32 numbers its JavaScript loop has to convert slowly): the caller then falls back to
 * JSON.parse, which also makes the error message. Numbers use the exact fast path (Clinger): at
 * most 15 significant digits and a power of ten up to 1e22 give a correctly rounded double with
 * one multiply or divide; anything else goes through Number() on the digits, which is exact too.
 *
 * With the native addon, number arrays are scanned in C++ (native/json.cc), numbers outside the
 * fast path included (16-19 digits through an extended-precision step, the rest std::from_chars).
 * `npm run bench:json` (bench/json.ts), one 28x28 image as FP32: 3.8-4.9x JSON.parse with
 * two-decimal numbers, 3.2-4.8x with float32 values printed in full (17 digits), 6.2-6.5x for the
 * same nested as numpy's tolist() writes it, 2.9-3.2x with float64 values in full, 2.3x with
 * integers (two runs on a noisy machine).
 */
import { loadNativeAddon } from '../backend/native.js';

/** The native scanner of number arrays (native/json.cc: the same grammar and fast path), if built. */
const addon = loadNativeAddon();
/** [end position, status] of the last native scan. */
const nativeState = new Float64Array(2);

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];

/** Thrown inside the parser to give up; never escapes parseJsonFast. */
const BAIL: unique symbol = Symbol('bail');

let buf: Buffer = Buffer.alloc(0);
let pos = 0;
/** Options of the current parse. */
let typedData = false;
/**
 * The arena typed `data` arrays are views into: [0, arenaUsed) is handed out in the current parse
 * (reset by the next one), the rest is free scratch. Grown as needed.
 */
let scratch = new Float64Array(4096);
let arenaUsed = 0;
/** The same for `data` arrays the native scanner reads as float32 (the array's "datatype" is FP32). */
let scratch32 = new Float32Array(4096);
let arena32Used = 0;
/** Whether flat number arrays go to the native scanner when the addon is built (tests turn it off). */
let nativeScan = true;

/** Testing: route typed number arrays through the native scanner (default) or the JavaScript loop only. */
export function setNativeJsonScan(enabled: boolean): void {
  nativeScan = enabled;
}

export interface FastJsonOptions {
  /**
   * Give the value of every `"data"` key that is a flat array of numbers as a Float64Array (the
   * same values, no per-element JS array): KServe V2 tensors, decoded straight into typed arrays.
   * With the native addon, nested arrays of numbers too, flattened in row-major order (the codec
   * flattens nested "data" the same way). With the native addon, a "data" array after its tensor's
   * `"datatype": "FP32"` comes as a Float32Array instead: the values rounded to float32, as the
   * codec would round them.
   * These are views into a reused arena, valid until the next parseJsonFast call: copy what you
   * keep (the codec converts them to the input's dtype right away).
   */
  typedData?: boolean;
}

/**
 * Parse JSON from bytes; `undefined` when the fast parser gives up (then use JSON.parse).
 * @example parseJsonFast(Buffer.from('{"data":[1,2.5]}')) // { data: [1, 2.5] }
 */
export function parseJsonFast(bytes: Buffer, options: FastJsonOptions = {}): unknown {
  buf = bytes;
  pos = 0;
  arenaUsed = 0;
  arena32Used = 0;
  slowNumbers = 0;
  typedData = options.typedData === true;
  try {
    skipWs();
    const v = value(0);
    skipWs();
    if (pos !== buf.length) return undefined;
    return v;
  } catch {
    // BAIL, or a RangeError from pathological nesting: let JSON.parse decide.
    return undefined;
  } finally {
    buf = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);

function skipWs(): void {
  const b = buf;
  let i = pos;
  let c = b[i];
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i];
  pos = i;
}

function value(depth: number): unknown {
  if (depth > 512) throw BAIL;
  const c = buf[pos];
  if (c === 0x5b) return array(depth);
  if (c === 0x7b) return object(depth);
  if (c === 0x22) return string();
  if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return number();
  if (c === 0x74 && buf[pos + 1] === 0x72 && buf[pos + 2] === 0x75 && buf[pos + 3] === 0x65) {
    pos += 4;
    return true;
  }
  if (c === 0x66 && buf[pos + 1] === 0x61 && buf[pos + 2] === 0x6c && buf[pos + 3] === 0x73 && buf[pos + 4] === 0x65) {
    pos += 5;
    return false;
  }
  if (c === 0x6e && buf[pos + 1] === 0x75 && buf[pos + 2] === 0x6c && buf[pos + 3] === 0x6c) {
    pos += 4;
    return null;
  }
  throw BAIL;
}

function array(depth: number): unknown[] {
  pos++; // [
  skipWs();
  const out: unknown[] = [];
  if (buf[pos] === 0x5d) {
    pos++;
    return out;
  }
  const c0 = buf[pos];
  if (c0 === 0x2d || (c0 !== undefined && c0 >= 0x30 && c0 <= 0x39)) {
    // The hot case (data arrays): a tight loop while the elements are plain numbers.
    // (into the arena's free part, as a temporary: typed arrays already handed out stay intact)
    // Short arrays stay in the loop; past NATIVE_AFTER numbers the native scanner (if built) takes the rest.
    const base = arenaUsed;
    let n = numbers(base, nativeScan && addon ? NATIVE_AFTER : Number.POSITIVE_INFINITY);
    if (paused) {
      const more = nativeNumbers(base + n, 1);
      if (more >= 0) {
        n += more;
        closed = true;
      } else n += numbers(base + n);
    }
    for (let i = 0; i < n; i++) out.push(scratch[base + i]);
    if (closed) return out;
  }
  for (;;) {
    out.push(value(depth + 1));
    let d = buf[pos];
    if (d === 0x2c) {
      // ',' then optional whitespace
      d = buf[++pos];
      if (d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) skipWs();
      continue;
    }
    if (d === 0x5d) {
      pos++;
      return out;
    }
    if (d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) {
      skipWs();
      d = buf[pos];
      if (d === 0x2c) {
        pos++;
        skipWs();
        continue;
      }
      if (d === 0x5d) {
        pos++;
        return out;
      }
    }
    throw BAIL;
  }
}

function object(depth: number): Record<string, unknown> {
  pos++; // {
  skipWs();
  const out: Record<string, unknown> = {};
  if (buf[pos] === 0x7d) {
    pos++;
    return out;
  }
  for (;;) {
    if (buf[pos] !== 0x22) throw BAIL;
    const key = string();
    if (key === '__proto__') throw BAIL;
    skipWs();
    if (buf[pos] !== 0x3a) throw BAIL;
    pos++;
    skipWs();
    // (a V2 tensor whose "datatype" came first: FP32 numbers straight to float32, no conversion pass)
    out[key] =
      typedData && key === 'data' && buf[pos] === 0x5b
        ? (typedNumbers(out.datatype === 'FP32') ?? value(depth + 1))
        : value(depth + 1);
    skipWs();
    const d = buf[pos];
    if (d === 0x2c) {
      pos++;
      skipWs();
      continue;
    }
    if (d === 0x7d) {
      pos++;
      // float32 data stands only if "datatype" is still FP32 (a later duplicate key wins in JSON):
      // else JSON.parse's exact values
      if (out.data instanceof Float32Array && out.datatype !== 'FP32') throw BAIL;
      return out;
    }
    throw BAIL;
  }
}

function string(): string {
  const b = buf;
  const start = ++pos; // after the opening quote
  let i = start;
  let ascii = true;
  for (;;) {
    const c = b[i];
    if (c === undefined || c < 0x20) throw BAIL; // unterminated, or a raw control character (invalid JSON)
    if (c === 0x22) break;
    if (c === 0x5c) {
      // Escapes: find the closing quote, then let JSON.parse decode (and validate) just this string.
      i += 2; // past the backslash and the escaped character
      for (;;) {
        const e = b[i];
        if (e === undefined) throw BAIL;
        if (e === 0x5c) i += 2;
        else if (e === 0x22) break;
        else i++;
      }
      const raw = b.toString('utf8', start - 1, i + 1);
      pos = i + 1;
      const s = JSON.parse(raw) as unknown;
      if (typeof s !== 'string') throw BAIL;
      return s;
    }
    if (c >= 0x80) ascii = false;
    i++;
  }
  pos = i + 1;
  if (!ascii) return b.toString('utf8', start, i);
  const len = i - start;
  if (len > SHORT_STRING) return b.toString('latin1', start, i);
  // Short ASCII strings (keys, names, datatypes) repeat from body to body: the one seen last in
  // this slot when its bytes match, else a new one (which takes the slot).
  const slot = (len * 7 + (b[start] ?? 0) * 3 + (b[i - 1] ?? 0)) & (SHORT_SLOTS - 1);
  const seen = shortStrings[slot] as string;
  if (seen.length === len) {
    let j = 0;
    while (j < len && seen.charCodeAt(j) === b[start + j]) j++;
    if (j === len) return seen;
  }
  const fresh = b.toString('latin1', start, i);
  shortStrings[slot] = fresh;
  return fresh;
}

/** Strings up to this long go through the cache of recent ones (string()). */
const SHORT_STRING = 24;
const SHORT_SLOTS = 64;
const shortStrings: string[] = new Array<string>(SHORT_SLOTS).fill('');

/** Numbers of the current parse that went through Number(); past SLOW_NUMBERS, JSON.parse's. */
let slowNumbers = 0;
const SLOW_NUMBERS = 32;

function number(): number {
  const b = buf;
  const start = pos;
  let i = pos;
  let c = b[i] as number;
  let neg = false;
  if (c === 0x2d) {
    neg = true;
    c = b[++i] as number;
  }
  let m = 0;
  let digits = 0;
  if (c === 0x30) {
    c = b[++i] as number;
    if (c >= 0x30 && c <= 0x39) throw BAIL; // leading zero
  } else if (c >= 0x31 && c <= 0x39) {
    do {
      m = m * 10 + (c - 0x30);
      digits++;
      c = b[++i] as number;
    } while (c >= 0x30 && c <= 0x39);
  } else throw BAIL;
  let exp = 0;
  if (c === 0x2e) {
    c = b[++i] as number;
    if (!(c >= 0x30 && c <= 0x39)) throw BAIL;
    do {
      m = m * 10 + (c - 0x30);
      if (m !== 0) digits++;
      exp--;
      c = b[++i] as number;
    } while (c >= 0x30 && c <= 0x39);
  }
  if (c === 0x65 || c === 0x45) {
    c = b[++i] as number;
    let eneg = false;
    if (c === 0x2b || c === 0x2d) {
      eneg = c === 0x2d;
      c = b[++i] as number;
    }
    if (!(c >= 0x30 && c <= 0x39)) throw BAIL;
    let e = 0;
    do {
      if (e < 100000) e = e * 10 + (c - 0x30);
      c = b[++i] as number;
    } while (c >= 0x30 && c <= 0x39);
    exp += eneg ? -e : e;
  }
  pos = i;
  let v: number;
  if (digits <= 15 && exp >= -22 && exp <= 22) {
    v = exp === 0 ? m : exp < 0 ? m / (POW10[-exp] as number) : m * (POW10[exp] as number);
    return neg ? -v : v;
  }
  // Outside the exact fast path: Number() on the literal's text (ASCII). That costs ~0.4 us a
  // number, so past a few dozen of them JSON.parse (3-4x faster on such text) takes the body.
  if (++slowNumbers > SLOW_NUMBERS) throw BAIL;
  return Number(b.toString('latin1', start, i));
}

/** Whether the last numbers() call consumed the closing bracket. */
let closed = false;
/** Whether the last numbers() call stopped at its limit, `pos` at the next element (a number). */
let paused = false;

/**
 * Numbers of an array in one loop over locals, into `scratch`; returns how many. `closed` tells
 * whether it stopped at the closing bracket (consumed) or, with `pos` after the last ',', at an
 * element that is not a number (the generic loop continues from there).
 */
function numbers(base: number, limit = Number.POSITIVE_INFINITY): number {
  const b = buf;
  let i = pos;
  let k = base;
  paused = false;
  for (;;) {
    const start = i;
    if (k - base === limit) {
      pos = start;
      closed = false;
      paused = true;
      return k - base;
    }
    let c = b[i] as number;
    let neg = false;
    if (c === 0x2d) {
      neg = true;
      c = b[++i] as number;
    }
    let m = 0;
    let digits = 0;
    if (c === 0x30) {
      c = b[++i] as number;
      if (c >= 0x30 && c <= 0x39) throw BAIL;
    } else if (c >= 0x31 && c <= 0x39) {
      do {
        m = m * 10 + (c - 0x30);
        digits++;
        c = b[++i] as number;
      } while (c >= 0x30 && c <= 0x39);
    } else {
      pos = start;
      closed = false;
      return k - base;
    }
    let exp = 0;
    if (c === 0x2e) {
      c = b[++i] as number;
      if (!(c >= 0x30 && c <= 0x39)) throw BAIL;
      do {
        m = m * 10 + (c - 0x30);
        if (m !== 0) digits++;
        exp--;
        c = b[++i] as number;
      } while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45 || digits > 15 || exp < -22) {
      pos = start;
      const v = number();
      if (k === scratch.length) grow();
      scratch[k++] = v;
      i = pos;
      c = b[i] as number;
    } else {
      const v = exp === 0 ? m : m / (POW10[-exp] as number);
      if (k === scratch.length) grow();
      scratch[k++] = neg ? -v : v;
    }
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i] as number;
    if (c === 0x2c) {
      c = b[++i] as number;
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i] as number;
      continue;
    }
    if (c === 0x5d) {
      pos = i + 1;
      closed = true;
      return k - base;
    }
    throw BAIL;
  }
}

/** Array levels the native scanner flattens in a typed `data` array; deeper ones, the generic parser's. */
const NATIVE_MAX_DEPTH = 64;
/** Numbers an untyped array's loop reads before the native scanner takes the rest (a call costs more than a few). */
const NATIVE_AFTER = 16;

/**
 * The native scanner on the array whose contents start at `pos`, into scratch[base...] (scratch32
 * with `f32`): how many numbers (`pos` then past its ']'), or -1 when it stopped before the end (an
 * element it does not take, an array deeper than maxDepth levels, a syntax error; `pos` unchanged).
 */
function nativeNumbers(base: number, maxDepth: number, f32 = false): number {
  if (!addon) return -1;
  for (;;) {
    const got = addon.jsonNumbers(buf, pos, f32 ? scratch32 : scratch, base, nativeState, maxDepth);
    if (nativeState[1] === 1) {
      pos = nativeState[0] as number;
      return got;
    }
    if (nativeState[1] !== 2) return -1;
    // out of room: again, into a bigger arena
    if (f32) scratch32 = doubled(scratch32);
    else grow();
  }
}

function grow(): void {
  scratch = doubled(scratch);
}

/** An arena out of room: one twice as long, its values first. */
function doubled<A extends Float64Array | Float32Array>(a: A): A {
  const bigger = new (a.constructor as new (n: number) => A)(a.length * 2);
  bigger.set(a);
  return bigger;
}

/**
 * A flat array of numbers as a Float64Array, or null (with `pos` back at the '[') when it holds
 * anything else: the generic parser then reads it. `f32`: as a Float32Array of the same values
 * rounded to float32, where the native scanner takes the whole array.
 */
function typedNumbers(f32: boolean): Float64Array | Float32Array | null {
  const start = pos;
  pos++; // [
  skipWs();
  if (buf[pos] === 0x5d) {
    pos++;
    return new Float64Array(0);
  }
  const c = buf[pos];
  // Numbers; or, for the native scanner, nested arrays of them (flattened row-major).
  const native = nativeScan && Boolean(addon);
  if (!(c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39) || (c === 0x5b && native))) {
    pos = start;
    return null;
  }
  if (f32 && native) {
    if (scratch32.length - arena32Used < 256) {
      scratch32 = new Float32Array(Math.max(4096, scratch32.length));
      arena32Used = 0;
    }
    const base32 = arena32Used;
    const n32 = nativeNumbers(base32, NATIVE_MAX_DEPTH, true);
    if (n32 >= 0) {
      arena32Used = base32 + n32;
      return scratch32.subarray(base32, base32 + n32);
    }
  }
  // Earlier arrays of this parse keep their part of the arena; room for a long one: a new arena
  // (the earlier views keep the old one alive).
  if (scratch.length - arenaUsed < 256) {
    scratch = new Float64Array(Math.max(4096, scratch.length));
    arenaUsed = 0;
  }
  const base = arenaUsed;
  let n = native ? nativeNumbers(base, NATIVE_MAX_DEPTH) : -1;
  if (n < 0) {
    if (c === 0x5b) {
      pos = start; // nested, and not all native-scan numbers: plain arrays, as JSON.parse gives them
      return null;
    }
    n = numbers(base);
    if (!closed) {
      pos = start;
      return null;
    }
  }
  arenaUsed = base + n;
  return scratch.subarray(base, base + n);
}

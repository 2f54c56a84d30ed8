/**
 * HTTP body codings of the model server: Content-Encoding of requests (gzip, deflate, br) and the
 * response coding an Accept-Encoding header asks for. The codecs are zlib's asynchronous one-shot
 * forms, which run on libuv's thread pool, off the event loop.
 */
import zlib from 'node:zlib';

/** Responses at least this long are compressed when the client accepts it (Accept-Encoding). */
export const COMPRESS_MIN_BYTES = 1024;

export type Coding = 'gzip' | 'deflate' | 'br';

/** zlib's one-shot callback form, as gzip / deflate / br share it. */
export type Codec = (
  buf: Buffer,
  options: zlib.ZlibOptions & zlib.BrotliOptions,
  cb: (err: Error | null, out: Buffer) => void,
) => void;

/** The response coding an Accept-Encoding header prefers among gzip, deflate and br (q > 0), or null. */
export function acceptedCoding(header: string | undefined): Coding | null {
  if (!header) return null;
  let best: Coding | null = null;
  let bestQ = 0;
  for (const part of header.split(',')) {
    const [token = '', ...params] = part.trim().toLowerCase().split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q') q = Number(v);
    }
    if (!(q > 0)) continue;
    const coding = codingOf(token);
    // equal weights: the first listed wins
    if (coding && q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/** The coding a Content-Encoding / Accept-Encoding token names (x-gzip is gzip), or null. */
function codingOf(token: string): Coding | null {
  return token === 'gzip' || token === 'x-gzip' ? 'gzip' : token === 'deflate' || token === 'br' ? token : null;
}

/** The compressor of a coding. */
export function compressor(coding: Coding): Codec {
  return coding === 'gzip' ? zlib.gzip : coding === 'deflate' ? zlib.deflate : zlib.brotliCompress;
}

/** The decompressor of a Content-Encoding value (lower-cased), or null when it is none of gzip, deflate, br. */
export function decompressor(encoding: string): Codec | null {
  const coding = codingOf(encoding);
  return coding === 'gzip'
    ? zlib.gunzip
    : coding === 'deflate'
      ? zlib.inflate
      : coding === 'br'
        ? zlib.brotliDecompress
        : null;
}

/** Compressed request bodies (Content-Encoding) and responses (Accept-Encoding), as Triton's clients use them. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { acceptedCoding } from '../../src/serve/compression.js';
import { type ModelServer, startServer } from '../../src/serve/server.js';
import { addToy, TOY_RUNNER, toyBody } from './toy.js';
import { call, SILENT, tempRepo } from './util.js';

let server: ModelServer;
before(async () => {
  const repo = tempRepo();
  addToy(repo, 'toy', 1, {}, { maxBatchSize: 512 });
  server = await startServer({
    modelRepository: repo,
    port: 0,
    runnerModule: TOY_RUNNER,
    maxBodyBytes: 1 << 20,
    ...SILENT,
  });
});
after(() => server.close());

const rows = (n: number) => Array.from({ length: n }, (_, i) => [i, i / 2, -i, 1]);
const infer = (body: Buffer, headers: Record<string, string>) =>
  call(`${server.url}/v2/models/toy/infer`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

test('gzip, deflate and br request bodies answer as the plain body does', async () => {
  const plain = Buffer.from(JSON.stringify(toyBody(rows(3))));
  const want = (await infer(plain, {})).json();
  for (const [enc, pack] of [
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ] as const) {
    const r = await infer(pack(plain), { 'Content-Encoding': enc });
    assert.equal(r.status, 200, `${enc}: ${r.body}`);
    assert.deepEqual(r.json(), want, enc);
  }
});

test('binary tensor data gzipped: Inference-Header-Content-Length counts the decompressed bytes', async () => {
  const header = Buffer.from(
    JSON.stringify({ inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } }] }),
  );
  const data = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer);
  const r = await infer(zlib.gzipSync(Buffer.concat([header, data])), {
    'Content-Type': 'application/octet-stream',
    'Content-Encoding': 'gzip',
    'Inference-Header-Content-Length': String(header.length),
  });
  assert.equal(r.status, 200, r.body.toString());
  assert.deepEqual(r.json().outputs[0].data, [3, 5, 7, 9, 11, 13, 15, 17]); // toy: 2x + version 1
});

test('an unknown coding is a 415, corrupt data a 400, a body inflating past the limit a 413; the server keeps serving', async () => {
  const plain = Buffer.from(JSON.stringify(toyBody(rows(1))));
  const zstd = await infer(plain, { 'Content-Encoding': 'zstd' });
  assert.equal(zstd.status, 415);
  assert.match(zstd.json().error, /Content-Encoding "zstd" is not supported; send gzip, deflate, br or none/);
  const corrupt = await infer(Buffer.from('not gzip at all'), { 'Content-Encoding': 'gzip' });
  assert.equal(corrupt.status, 400);
  assert.match(corrupt.json().error, /request body is not valid gzip data/);
  const bomb = zlib.gzipSync(Buffer.alloc(8 << 20, 32)); // 8 MiB of spaces in ~8 KB
  assert.ok(bomb.length < 64 * 1024);
  const big = await infer(bomb, { 'Content-Encoding': 'gzip' });
  assert.equal(big.status, 413);
  assert.match(big.json().error, /inflates past the limit of 1048576 bytes/);
  assert.equal((await infer(plain, {})).status, 200);
});

/** A raw request (fetch would decompress the answer itself): status, headers and the bytes as sent. */
function raw(
  body: string,
  acceptEncoding?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const url = new URL(`${server.url}/v2/models/toy/infer`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(acceptEncoding ? { 'Accept-Encoding': acceptEncoding } : {}),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('responses of 1 KB and more are compressed as Accept-Encoding asks; smaller ones are not', async () => {
  const body = JSON.stringify(toyBody(rows(100)));
  const plain = await raw(body);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.ok(plain.body.length >= 1024);
  for (const [accept, coding, unpack] of [
    ['gzip', 'gzip', zlib.gunzipSync],
    ['deflate, gzip;q=0.5', 'deflate', zlib.inflateSync],
    ['br;q=1, gzip;q=0.2', 'br', zlib.brotliDecompressSync],
  ] as const) {
    const r = await raw(body, accept);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], coding, accept);
    assert.equal(r.headers.vary, 'Accept-Encoding');
    assert.equal(Number(r.headers['content-length']), r.body.length);
    assert.ok(r.body.length < plain.body.length);
    assert.deepEqual(JSON.parse(unpack(r.body).toString()), JSON.parse(plain.body.toString()), accept);
  }
  const small = await raw(JSON.stringify(toyBody(rows(1))), 'gzip');
  assert.equal(small.headers['content-encoding'], undefined);
  const refused = await raw(body, 'gzip;q=0, identity');
  assert.equal(refused.headers['content-encoding'], undefined);
});

test('acceptedCoding: q-values, zero meaning never, unknown codings ignored', () => {
  assert.equal(acceptedCoding(undefined), null);
  assert.equal(acceptedCoding('identity'), null);
  assert.equal(acceptedCoding('gzip, deflate, br'), 'gzip');
  assert.equal(acceptedCoding('deflate;q=0.4, br;q=0.9'), 'br');
  assert.equal(acceptedCoding('GZIP;Q=0, zstd'), null);
  assert.equal(acceptedCoding('x-gzip'), 'gzip');
  assert.equal(acceptedCoding('*'), null);
});

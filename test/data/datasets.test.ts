import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { datasets, IdxError, mnistFromIdx, parseIdx, readIdx } from 'tessera';

function counts(y: Int32Array): number[] {
  const c = new Array(10).fill(0);
  for (const v of y) c[v]++;
  return c;
}

test('mnist: fixed 8,000 / 2,000 split, shapes, ranges, balance, determinism', () => {
  const a = datasets.mnist();
  assert.deepEqual(a.xTrain.shape, [8000, 28, 28, 1]);
  assert.deepEqual(a.yTrain.shape, [8000]);
  assert.deepEqual(a.xTest.shape, [2000, 28, 28, 1]);
  assert.equal(a.xTrain.dtype, 'float32');
  assert.equal(a.yTrain.dtype, 'int32');
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of a.xTrain.dataSync()) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.ok(max <= 1 && max > 0.99, `max pixel ${max}`);
  const train = counts(a.yTrain.dataSync() as Int32Array);
  const testC = counts(a.yTest.dataSync() as Int32Array);
  // 80/20 per class by index: the package has 863..1127 samples per digit
  assert.deepEqual(testC, [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
  assert.deepEqual(train, [801, 902, 793, 826, 784, 690, 811, 856, 755, 782]);
  // interleaved: the first 10 labels are 0..9
  assert.deepEqual([...(a.yTrain.dataSync() as Int32Array).subarray(0, 10)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const b = datasets.mnist();
  assert.deepEqual(Buffer.from(b.xTest.dataSync().buffer), Buffer.from(a.xTest.dataSync().buffer));
  assert.deepEqual([...b.yTrain.dataSync()], [...a.yTrain.dataSync()]);
});

test('mnist({ size: 10 }) area-averages to [N, 100]', () => {
  const full = datasets.mnist();
  const small = datasets.mnist({ size: 10 });
  assert.deepEqual(small.xTrain.shape, [8000, 100]);
  assert.deepEqual(small.xTest.shape, [2000, 100]);
  // area averaging preserves each image's mean intensity
  const img = full.xTrain.dataSync().subarray(0, 784);
  const sm = small.xTrain.dataSync().subarray(0, 100);
  const mean = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x, 0) / v.length;
  assert.ok(Math.abs(mean(img) - mean(sm)) < 1e-5, `${mean(img)} vs ${mean(sm)}`);
  // pixel (0,0) of the 10x10 covers rows/cols [0, 2.8) of the 28x28
  let expected = 0;
  const w = [1, 1, 0.8];
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) expected += (w[r] as number) * (w[c] as number) * (img[r * 28 + c] as number);
  assert.ok(Math.abs((sm[0] as number) - expected / 7.84) < 1e-6);
  assert.deepEqual(datasets.mnist({ flatten: true }).xTest.shape, [2000, 784]);
  assert.throws(() => datasets.mnist({ size: 0 }), /expected an integer in 1..28, got 0/);
});

test('iris: 150 x 4 features, 3 balanced classes', () => {
  const { x, y, classNames } = datasets.iris();
  assert.deepEqual(x.shape, [150, 4]);
  assert.deepEqual(y.shape, [150]);
  assert.deepEqual(classNames, ['setosa', 'versicolor', 'virginica']);
  assert.deepEqual(
    [...x.dataSync().subarray(0, 4)].map((v) => Math.round(v * 10) / 10),
    [5.1, 3.5, 1.4, 0.2],
  );
  const c = [0, 0, 0];
  for (const v of y.dataSync()) c[v as number]++;
  assert.deepEqual(c, [50, 50, 50]);
});

function idx(type: number, dims: number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const v = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    v.setUint32(4 + 4 * i, d, false);
  });
  out.set(body, 4 + 4 * dims.length);
  return out;
}

test('IDX reader: hand-built u8, i16, i32, f32, f64 files and gzip', () => {
  const u8 = idx(0x08, [2, 3], new Uint8Array([0, 1, 2, 253, 254, 255]));
  const t = parseIdx(u8);
  assert.equal(t.dtype, 'int32');
  assert.deepEqual(t.toArray(), [
    [0, 1, 2],
    [253, 254, 255],
  ]);
  assert.deepEqual(parseIdx(idx(0x09, [2], new Uint8Array([0xff, 0x7f]))).toArray(), [-1, 127]);
  assert.deepEqual(parseIdx(idx(0x0b, [2], new Uint8Array([0xff, 0xfe, 0x01, 0x00]))).toArray(), [-2, 256]);
  assert.deepEqual(parseIdx(idx(0x0c, [1], new Uint8Array([0x00, 0x01, 0x00, 0x00]))).toArray(), [65536]);
  const f32 = new Uint8Array(4);
  new DataView(f32.buffer).setFloat32(0, 1.5, false);
  const ft = parseIdx(idx(0x0d, [1, 1], f32));
  assert.equal(ft.dtype, 'float32');
  assert.deepEqual(ft.toArray(), [[1.5]]);
  const f64 = new Uint8Array(8);
  new DataView(f64.buffer).setFloat64(0, -0.25, false);
  assert.deepEqual(parseIdx(idx(0x0e, [1], f64)).toArray(), [-0.25]);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-idx-'));
  try {
    writeFileSync(join(dir, 'a.idx.gz'), gzipSync(u8));
    assert.deepEqual(readIdx(join(dir, 'a.idx.gz')).shape, [2, 3]);
    assert.throws(
      () => readIdx(join(dir, 'missing')),
      (e: unknown) => e instanceof IdxError && /cannot read '.*missing' \(ENOENT\)/.test((e as Error).message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IDX reader rejects malformed files', () => {
  const bad = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(
      () => parseIdx(bytes),
      (e: unknown) => e instanceof IdxError && re.test((e as Error).message),
    );
  bad(new Uint8Array([0, 0]), /shorter than the 4-byte/);
  bad(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), /bad magic 01 00 08 01/);
  bad(new Uint8Array([0, 0, 0x07, 1, 0, 0, 0, 0]), /unknown data type byte 0x7/);
  bad(new Uint8Array([0, 0, 0x08, 3, 0, 0, 0, 1]), /3 dims need a 16-byte header/);
  bad(idx(0x08, [2, 3], new Uint8Array(5)), /needs 6 data bytes, the file has 5 \(truncated\?\)/);
  bad(idx(0x0c, [1], new Uint8Array(8)), /needs 4 data bytes, the file has 8 \(trailing bytes\)/);
  bad(idx(0x08, [0xffffffff, 0xffffffff], new Uint8Array(1)), /needs .* data bytes, the file has 1/);
  bad(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), /does not inflate/);
});

test('mnistFromIdx reads the four distributed files (plain or .gz) and scales images to [0, 1]', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-mnist-idx-'));
  try {
    const img = idx(0x08, [2, 28, 28], new Uint8Array(2 * 784).fill(255));
    const lab = idx(0x08, [2], new Uint8Array([3, 9]));
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(img));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), lab);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(lab));
    const m = mnistFromIdx(dir);
    assert.deepEqual(m.xTrain.shape, [2, 28, 28, 1]);
    assert.equal(m.xTrain.dtype, 'float32');
    assert.equal(m.xTest.dataSync()[0], 1);
    assert.deepEqual(m.yTest.toArray(), [3, 9]);
    rmSync(join(dir, 't10k-labels-idx1-ubyte.gz'));
    assert.throws(() => mnistFromIdx(dir), /no 't10k-labels-idx1-ubyte' \(or \.gz\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

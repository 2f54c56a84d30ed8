import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dataset, fromArrays, type Tensor, tensor, tensorDataset } from 'tessera';

test('tensorDataset batches {x, y} with dropRemainder and cardinality', async () => {
  const x = tensor(
    Array.from({ length: 10 }, (_, i) => [i, 10 * i]),
    undefined,
  );
  const y = tensor(
    Array.from({ length: 10 }, (_, i) => i % 3),
    [10],
    'int32',
  );
  const ds = tensorDataset(x, y).batch(4);
  assert.equal(ds.cardinality, 3);
  const batches = await ds.toArray();
  assert.deepEqual(
    batches.map((b) => b.x.shape),
    [
      [4, 2],
      [4, 2],
      [2, 2],
    ],
  );
  assert.deepEqual(batches[2]?.x.toArray(), [
    [8, 80],
    [9, 90],
  ]);
  assert.equal(batches[0]?.y.dtype, 'int32');
  assert.deepEqual(batches[0]?.y.toArray(), [0, 1, 2, 0]);
  const dropped = tensorDataset(x, y).batch(4, { dropRemainder: true });
  assert.equal(dropped.cardinality, 2);
  assert.equal((await dropped.toArray()).length, 2);
});

test('a dataset re-iterates: the same pipeline serves every epoch', async () => {
  const ds = Dataset.from([1, 2, 3]).map((v) => v * 2);
  assert.deepEqual(await ds.toArray(), [2, 4, 6]);
  assert.deepEqual(await ds.toArray(), [2, 4, 6]);
});

test('shuffle with a seed is reproducible, a permutation, and reshuffles per epoch', async () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  const a = Dataset.from(items).shuffle(50, { seed: 7 });
  const b = Dataset.from(items).shuffle(50, { seed: 7 });
  const a1 = await a.toArray();
  const a2 = await a.toArray();
  assert.deepEqual(a1, await b.toArray());
  assert.deepEqual(a2, await b.toArray());
  assert.notDeepEqual(a1, items);
  assert.notDeepEqual(a1, a2);
  assert.deepEqual(
    [...a1].sort((p, q) => p - q),
    items,
  );
  const fixed = Dataset.from(items).shuffle(50, { seed: 7, reshuffleEachIteration: false });
  assert.deepEqual(await fixed.toArray(), await fixed.toArray());
  // a small buffer still yields every element exactly once
  const small = await Dataset.from(items).shuffle(5, { seed: 1 }).toArray();
  assert.deepEqual(
    [...small].sort((p, q) => p - q),
    items,
  );
  assert.notDeepEqual(small, items);
});

test('take, skip, repeat, filter, prefetch', async () => {
  const ds = Dataset.from([0, 1, 2, 3, 4]);
  assert.deepEqual(await ds.take(2).toArray(), [0, 1]);
  assert.equal(ds.take(2).cardinality, 2);
  assert.deepEqual(await ds.skip(3).toArray(), [3, 4]);
  assert.equal(ds.skip(3).cardinality, 2);
  assert.deepEqual(await ds.repeat(2).toArray(), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  assert.equal(ds.repeat().cardinality, Number.POSITIVE_INFINITY);
  assert.deepEqual(await ds.repeat().take(7).toArray(), [0, 1, 2, 3, 4, 0, 1]);
  assert.deepEqual(await ds.filter((v) => v % 2 === 0).toArray(), [0, 2, 4]);
  let made = 0;
  const slow = Dataset.generator(async function* () {
    for (let i = 0; i < 6; i++) {
      made++;
      yield i;
    }
  });
  const seen: number[] = [];
  for await (const v of slow.prefetch(3)) {
    seen.push(v);
    if (v === 0) assert.ok(made >= 2, `prefetch should have pulled ahead, made ${made}`);
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
  await assert.rejects(ds.repeat().toArray(), /endless/);
  assert.throws(() => ds.batch(0), /batch\(size\) expected an integer >= 1, got 0/);
});

test('fromArrays and collate of nested structures', async () => {
  const ds = fromArrays({
    x: [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ],
    y: [0, 1, 1, 0],
  }).batch(4);
  const [b] = await ds.toArray();
  assert.deepEqual(b?.x.shape, [4, 2]);
  assert.equal(b?.x.dtype, 'float32');
  assert.equal(b?.y.dtype, 'int32');
  assert.deepEqual(b?.y.toArray(), [0, 1, 1, 0]);
  const pairs = await Dataset.from([
    [tensor([1, 2]), 0.5],
    [tensor([3, 4]), 1.5],
  ] as [Tensor, number][])
    .batch(2)
    .toArray();
  const first = pairs[0] as [Tensor, Tensor];
  assert.deepEqual(first[0].toArray(), [
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(first[1].toArray(), [0.5, 1.5]);
  await assert.rejects(
    Dataset.from([tensor([1]), tensor([1, 2])])
      .batch(2)
      .toArray(),
    /share shape and dtype/,
  );
  assert.throws(() => tensorDataset(tensor([[1], [2]]), tensor([1, 2, 3])), /expected y with 2 samples/);
});

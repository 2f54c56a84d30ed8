/** models/<name>/config.json: defaults, accepted values, and errors that name the field. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ValueError } from 'tessera';
import { readModelConfig } from '../../src/serve/repository.js';
import { tempRepo } from './util.js';

const dirWith = (config: unknown) => {
  const dir = tempRepo('tessera-config-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
};

test('convolution: winograd by default, direct on request, anything else a ValueError naming it', () => {
  assert.equal(readModelConfig(tempRepo('tessera-config-')).convolution, 'winograd');
  assert.equal(readModelConfig(dirWith({ convolution: 'direct' })).convolution, 'direct');
  assert.equal(readModelConfig(dirWith({ convolution: 'winograd', maxBatchSize: 8 })).maxBatchSize, 8);
  assert.throws(
    () => readModelConfig(dirWith({ convolution: 'fft' })),
    (e: Error) => e instanceof ValueError && /'convolution' expected "winograd" or "direct", got "fft"/.test(e.message),
  );
  assert.throws(
    () => readModelConfig(dirWith({ maxBatchSize: -1 })),
    (e: Error) => e instanceof ValueError && /'maxBatchSize' expected a number >= 0, got -1/.test(e.message),
  );
});

test('inlineWhenIdle: false by default, true on request, anything else a ValueError naming it', () => {
  assert.equal(readModelConfig(tempRepo('tessera-config-')).inlineWhenIdle, false);
  assert.equal(readModelConfig(dirWith({ inlineWhenIdle: true })).inlineWhenIdle, true);
  assert.throws(
    () => readModelConfig(dirWith({ inlineWhenIdle: 'yes' })),
    (e: Error) => e instanceof ValueError && /'inlineWhenIdle' expected true or false, got "yes"/.test(e.message),
  );
});

test('classLabels: an object of output name -> label strings, anything else a ValueError naming it', () => {
  assert.deepEqual(readModelConfig(dirWith({ classLabels: { probs: ['cat', 'dog'] } })).classLabels, {
    probs: ['cat', 'dog'],
  });
  for (const bad of [['cat'], { probs: 'cat' }, { probs: [1, 2] }, null]) {
    assert.throws(
      () => readModelConfig(dirWith({ classLabels: bad })),
      (e: Error) =>
        e instanceof ValueError &&
        /'classLabels' expected an object of output name -> array of label strings/.test(e.message),
      JSON.stringify(bad),
    );
  }
});

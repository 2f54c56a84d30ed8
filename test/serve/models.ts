/** Small saved models for the server tests (dense and conv), written into a temp model repository. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveModel } from '../../src/io/save.js';
import { Conv2D } from '../../src/layers/conv.js';
import { Dense, Flatten } from '../../src/layers/core.js';
import { MaxPooling2D } from '../../src/layers/pooling.js';
import type { Model } from '../../src/model/model.js';
import { sequential } from '../../src/model/sequential.js';
import { setSeed } from '../../src/tensor/random.js';

/** dense 8 relu [4] -> dense 3 (seeded: the same weights every run). */
export function denseModel(seed = 1): Model {
  setSeed(seed);
  return sequential([new Dense({ units: 8, activation: 'relu', inputShape: [4] }), new Dense({ units: 3 })]);
}

/** conv 4 3x3 relu [8, 8, 1] -> maxpool 2 -> flatten -> dense 3 softmax. */
export function convModel(seed = 2): Model {
  setSeed(seed);
  return sequential([
    new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
    new MaxPooling2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 3, activation: 'softmax' }),
  ]);
}

/** conv 8 3x3 relu [10, 10, 1] -> maxpool 2 -> conv 16 3x3 relu -> maxpool 2 -> flatten -> dense 3 softmax (its second conv may run as Winograd). */
export function cnn2Model(seed = 4): Model {
  setSeed(seed);
  return sequential([
    new Conv2D({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [10, 10, 1] }),
    new MaxPooling2D({ poolSize: 2 }),
    new Conv2D({ filters: 16, kernelSize: 3, activation: 'relu' }),
    new MaxPooling2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 3, activation: 'softmax' }),
  ]);
}

/** Save `model` as `<repo>/<name>/<version>`, with an optional config.json. */
export async function addModel(
  repo: string,
  name: string,
  version: number,
  model: Model,
  config?: object,
): Promise<void> {
  mkdirSync(join(repo, name), { recursive: true });
  await saveModel(model, join(repo, name, String(version)));
  if (config) writeFileSync(join(repo, name, 'config.json'), JSON.stringify(config));
}

/** Model repositories of the toy runner (test/serve/fixtures/toy-runner.ts): controllable timing, no model stack. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOY_RUNNER = new URL('./fixtures/toy-runner.ts', import.meta.url).href;

/** Write `<repo>/<name>/<version>/toy.json` (and config.json when given). */
export function addToy(repo: string, name: string, version: number, toy: object = {}, config?: object): void {
  mkdirSync(join(repo, name, String(version)), { recursive: true });
  writeFileSync(join(repo, name, String(version), 'toy.json'), JSON.stringify(toy));
  if (config) writeFileSync(join(repo, name, 'config.json'), JSON.stringify(config));
}

/** A V2 infer body for the toy model's input x [rows, 4]. */
export function toyBody(rows: number[][], extra: object = {}): object {
  return { inputs: [{ name: 'x', shape: [rows.length, 4], datatype: 'FP32', data: rows }], ...extra };
}

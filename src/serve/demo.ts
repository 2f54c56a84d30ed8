/**
 * The end of `tessera demo`: serve the model repository it just wrote and print ready-to-paste
 * curl commands that classify one held-out digit: the 10 probabilities, and the top 3 classes
 * (the classification extension). Runs until Ctrl-C / SIGTERM (drains, exits).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { startServer } from './server.js';

/**
 * Serve `repo` on `port`, write one digit of `xTest` as a V2 request body, print the curl line.
 * Resolves with the exit code once a signal has drained the server.
 * @example await serveDemo('models', 'mnist-cnn', xTest, yTest, 8000);
 */
export async function serveDemo(
  repo: string,
  model: string,
  xTest: Tensor,
  yTest: Tensor,
  port = 8000,
): Promise<number> {
  const server = await startServer({ modelRepository: repo, port, log: false });
  const mv = server.repository.resolve(model);
  const spec = mv.signature.inputs[0]!;
  const per = xTest.size / (xTest.shape[0] as number);
  const pixels = Array.from(xTest.dataSync().subarray(0, per), (v) => Number(v.toFixed(4)));
  const body = { inputs: [{ name: spec.name, shape: [1, ...xTest.shape.slice(1)], datatype: 'FP32', data: pixels }] };
  const file = resolve(join(repo, 'digit.json'));
  writeFileSync(file, JSON.stringify(body));
  const top3 = resolve(join(repo, 'digit-top3.json'));
  const out = mv.signature.outputs[0]!.name;
  writeFileSync(top3, JSON.stringify({ ...body, outputs: [{ name: out, parameters: { classification: 3 } }] }));
  const label = yTest.dataSync()[0];
  console.log(`\nServing ${repo}/ at ${server.url} (KServe V2 + TF Serving REST; OpenAPI at ${server.url}/docs).`);
  console.log(`Classify a held-out digit (a ${label}): the answer's 10 probabilities peak at index ${label}:\n`);
  console.log(`  curl -s -H 'Content-Type: application/json' -d @${file} ${server.url}/v2/models/${model}/infer\n`);
  console.log('Its 3 likeliest digits, as "<probability>:<digit>" (the classification extension):\n');
  console.log(`  curl -s -H 'Content-Type: application/json' -d @${top3} ${server.url}/v2/models/${model}/infer\n`);
  console.log('Press Ctrl-C to stop.');
  const { waitForSignal } = await import('../cli/serve.js');
  return waitForSignal(server);
}

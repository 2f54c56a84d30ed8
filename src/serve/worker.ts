/**
 * Worker-thread entry: loads one model version through a runner module and runs batches sent
 * by the main thread. Tensors arrive and leave as transferred typed arrays (no copies).
 */
import { availableParallelism } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { setNativeThreads } from '../backend/native.js';
import { setWinogradInference } from '../ops/conv-pool.js';
import type { DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import type { ModelRunner, OutputTensor, RunnerModule, WireTensor } from './types.js';

interface InitData {
  dir: string;
  runnerModule: string;
  /** Native thread-pool size; undefined = auto (see defaultNativeThreads). */
  nativeThreads?: number;
  /** Winograd convolutions for inference (config.json "convolution"). */
  winograd?: boolean;
}

interface InferMessage {
  type: 'infer';
  id: number;
  inputs: WireTensor[];
}

const port = parentPort;
if (!port) throw new Error('src/serve/worker.ts must run in a worker thread');
const init = workerData as InitData;

/**
 * The kernels' thread pool: the HTTP thread needs a core of its own, so a model worker gets the
 * others (1 on a 2-core machine, where a second pool thread only steals cycles from the HTTP thread
 * and spins while it waits). TESSERA_NUM_THREADS, when set, wins.
 */
function defaultNativeThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

async function main(): Promise<void> {
  let runner: ModelRunner;
  try {
    if (!process.env.TESSERA_NUM_THREADS) setNativeThreads(init.nativeThreads ?? defaultNativeThreads());
    setWinogradInference(init.winograd === true);
    const mod = (await import(init.runnerModule)) as RunnerModule;
    runner = await mod.createRunner(init.dir);
  } catch (e) {
    port!.postMessage({ type: 'failed', message: (e as Error).message ?? String(e) });
    return;
  }
  port!.postMessage({ type: 'ready', signature: runner.signature });
  port!.on('message', (msg: InferMessage) => {
    if (msg.type !== 'infer') return;
    run(runner, msg).then(
      (reply) =>
        port!.postMessage(
          reply,
          reply.outputs.map((o) => o.data.buffer as ArrayBuffer),
        ),
      (e: unknown) => port!.postMessage({ type: 'error', id: msg.id, message: (e as Error).message ?? String(e) }),
    );
  });
}

async function run(runner: ModelRunner, msg: InferMessage) {
  const t0 = process.hrtime.bigint();
  const inputs: Record<string, Tensor | string[]> = {};
  for (const w of msg.inputs)
    inputs[w.name] = Array.isArray(w.data) ? w.data : new Tensor(w.data, w.shape, w.dtype as DType);
  const result = await runner.infer(inputs);
  const outputs: OutputTensor[] = [];
  for (const spec of runner.signature.outputs) {
    const t = result[spec.name];
    if (!t) throw new Error(`the model returned no output '${spec.name}'`);
    // A copy: the result may live in a pooled buffer, and the copy is what we transfer.
    outputs.push({ name: spec.name, dtype: t.dtype, shape: [...t.shape], data: t.dataSync().slice() });
  }
  const computeNs = Number(process.hrtime.bigint() - t0);
  return { type: 'result' as const, id: msg.id, outputs, computeNs };
}

void main();

/**
 * Worker-thread entry: loads one model version through a runner module and runs batches sent
 * by the main thread. Tensors arrive and leave as transferred typed arrays (no copies).
 */
import { availableParallelism } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { setNativeThreads } from '../backend/native.js';
import { setWinogradInference } from '../ops/conv-pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { runnerInputs, runnerOutputs } from './execute.js';
import type { ModelRunner, RunnerModule, WireTensor } from './types.js';

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
  const ready = runner;
  port!.on('message', (msg: InferMessage) => {
    let rows = serve(ready, msg);
    // Light load (lone requests, batch after batch): stay on the core for a moment instead of
    // sleeping, so the next request finds the thread awake and its caches warm (sleeping, the
    // weights are evicted by the HTTP thread and the client and a batch-1 answer took about twice
    // as long). A single-row batch between big ones is no reason to spin.
    let deadline = spinAfter(rows);
    while (deadline > 0 && performance.now() < deadline) {
      const next = receiveMessageOnPort(port!);
      if (!next) continue;
      rows = serve(ready, next.message as InferMessage);
      deadline = spinAfter(rows);
    }
  });
}

/**
 * How long an idle worker polls for its next request after single-row batches, in ms. A lone
 * client's next request comes within a round trip (~0.3 ms here); under load batches have more
 * rows and the worker does not spin, so the HTTP thread keeps the other core.
 */
const SPIN_MS = 0.5;

/** Rows per batch, smoothed over the last few batches. */
let meanRows = 1;

/** The spin's deadline after a batch of `rows` rows (-1: ran asynchronously), or 0 for none. */
function spinAfter(rows: number): number {
  if (rows < 0) return 0;
  meanRows = 0.75 * meanRows + 0.25 * rows;
  return rows === 1 && meanRows < 1.5 ? performance.now() + SPIN_MS : 0;
}

/** Run one message and post its reply; the batch's rows when it ran synchronously, else -1. */
function serve(runner: ModelRunner, msg: InferMessage): number {
  if (msg.type !== 'infer') return -1;
  const fail = (e: unknown) =>
    port!.postMessage({ type: 'error', id: msg.id, message: (e as Error).message ?? String(e) });
  const reply = (r: ReturnType<typeof collect>) =>
    port!.postMessage(
      r,
      r.outputs.map((o) => o.data.buffer as ArrayBuffer),
    );
  try {
    const t0 = process.hrtime.bigint();
    const { inputs, rows } = runnerInputs(msg.inputs);
    const result = runner.infer(inputs);
    if (result instanceof Promise) {
      result.then((r) => reply(collect(runner, msg, r, t0))).catch(fail);
      return -1;
    }
    reply(collect(runner, msg, result, t0));
    return rows;
  } catch (e) {
    fail(e);
    return -1;
  }
}

function collect(runner: ModelRunner, msg: InferMessage, result: Record<string, Tensor>, t0: bigint) {
  const outputs = runnerOutputs(runner, result);
  const computeNs = Number(process.hrtime.bigint() - t0);
  return { type: 'result' as const, id: msg.id, outputs, computeNs };
}

void main();

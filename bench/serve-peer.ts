/**
 * The server a TypeScript developer would hand-roll: fastify + onnxruntime-node, KServe-V2-shaped
 * JSON. `--batch` adds a naive batcher (collect for 2 ms, run once, split). `--ort-threads=N` sets
 * onnxruntime's intra-op threads (sequential execution, one inter-op thread) and `--ort-spin=0`
 * stops them spinning between ops; without them onnxruntime's defaults apply. Child of
 * bench/serve.ts: prints its URL on stdout.
 * usage: node --import tsx bench/serve-peer.ts MODEL.onnx [--batch] [--ort-threads=N] [--ort-spin=0|1]
 */
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

const [file, ...flags] = process.argv.slice(2);
const batching = flags.includes('--batch');
const option = (name: string) => flags.find((f) => f.startsWith(`--${name}=`))?.split('=')[1];
const threads = option('ort-threads');
const session = await ort.InferenceSession.create(
  file as string,
  threads === undefined
    ? {}
    : {
        intraOpNumThreads: Number(threads),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        extra: { session: { intra_op: { allow_spinning: option('ort-spin') ?? '1' } } },
      },
);
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });

interface Pending {
  data: number[];
  resolve: (out: number[]) => void;
}
let queue: Pending[] = [];
let timer: NodeJS.Timeout | null = null;

async function run(items: Pending[]): Promise<void> {
  const x = new Float32Array(items.length * 784);
  for (let i = 0; i < items.length; i++) x.set(items[i]!.data, i * 784);
  const out = await session.run({ input: new ort.Tensor('float32', x, [items.length, 28, 28, 1]) });
  const y = out.output!.data as Float32Array;
  for (let i = 0; i < items.length; i++) items[i]!.resolve(Array.from(y.subarray(i * 10, i * 10 + 10)));
}

function enqueue(data: number[]): Promise<number[]> {
  return new Promise((resolve) => {
    queue.push({ data, resolve });
    if (!timer) {
      timer = setTimeout(() => {
        const items = queue;
        queue = [];
        timer = null;
        void run(items);
      }, 2);
    }
  });
}

app.post('/v2/models/mnist/infer', async (req) => {
  const body = req.body as { inputs: { name: string; shape: number[]; data: number[] }[] };
  const inp = body.inputs[0]!;
  let y: number[];
  if (batching) y = await enqueue(inp.data);
  else {
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(inp.data), [1, 28, 28, 1]) });
    y = Array.from(out.output!.data as Float32Array);
  }
  return { model_name: 'mnist', outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 10], data: y }] };
});

const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${url}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));

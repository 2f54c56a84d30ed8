/**
 * `node --import tsx bench/rnn.ts` (npm run bench:rnn): training samples/s of
 *  - LSTM(64) over [batch 64, seq 50, 8 features] -> Dense(1), MSE, SGD
 *  - GRU(64), same
 *  - 2-layer transformer encoder (d 128, 4 heads, ff 256, length 128, batch 32) -> mean -> Dense(1)
 * side by side with PyTorch (bench/rnn_torch.py, run with OPENBLAS_NUM_THREADS=1 and
 * the fastest of torch.set_num_threads(2), the same with OMP_WAIT_POLICY=PASSIVE, and 1 thread). BENCH_SECONDS sets the time per model.
 */
import { spawnSync } from 'node:child_process';
import { getBackend, randomNormal, type Tensor } from '../src/index.js';
import { Dense } from '../src/layers/core.js';
import type { Layer } from '../src/layers/layer.js';
import { GRU, LSTM } from '../src/layers/recurrent.js';
import { sequential } from '../src/model/sequential.js';
import { recurrenceImplementation } from '../src/ops/rnn.js';
import { peerPython } from './python.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const which = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['lstm', 'gru', 'transformer'];

async function transformerLayers(): Promise<Layer[] | null> {
  try {
    const m = await import('../src/layers/attention.js');
    const { GlobalAveragePooling1D } = await import('../src/layers/pooling.js');
    return [
      new m.TransformerEncoder({ numHeads: 4, intermediateDim: 256, inputShape: [128, 128] }),
      new m.TransformerEncoder({ numHeads: 4, intermediateDim: 256 }),
      new GlobalAveragePooling1D(),
      new Dense({ units: 1 }),
    ];
  } catch (e) {
    console.error(`transformer: not available (${(e as Error).message})`);
    return null;
  }
}

function measure(layers: Layer[], x: Tensor, y: Tensor): number {
  const model = sequential(layers);
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const batch = x.shape[0] as number;
  for (let i = 0; i < 3; i++) model.trainOnBatch(x, y);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    model.trainOnBatch(x, y);
    n++;
  }
  return (n * batch) / ((performance.now() - t0) / 1000);
}

// PyTorch at its best here: OpenBLAS single-threaded, and the fastest of 2 torch threads, the
// same with OpenMP passive waiting (spinning collapses under load on 2 cores), and 1 thread.
const TORCH_CONFIGS: Record<string, string>[] = [
  { TORCH_THREADS: '2' },
  { TORCH_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' },
  { TORCH_THREADS: '1', OMP_NUM_THREADS: '1' },
];

function torchFigure(model: string): number | null {
  const py = peerPython('torch');
  if (!py) return null;
  let fastest: number | null = null;
  for (const config of TORCH_CONFIGS) {
    const r = spawnSync(py, ['bench/rnn_torch.py', model], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', BENCH_SECONDS: String(seconds), ...config },
    });
    if (r.status !== 0) break;
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const v = (JSON.parse(line) as Record<string, number>)[model];
    if (v !== undefined && (fastest === null || v > fastest)) fastest = v;
  }
  return fastest;
}

// Interleaved rounds (Tessera, then PyTorch, per model), best of each: the machine may be shared.
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const ours: Record<string, number> = {};
const torch: Record<string, number> = {};
const best = (rec: Record<string, number>, k: string, v: number | null | undefined) => {
  if (v !== null && v !== undefined && !(v <= (rec[k] ?? 0))) rec[k] = v;
};
for (const w of which) {
  for (let r = 0; r < rounds; r++) {
    if (w === 'lstm' || w === 'gru') {
      const x = randomNormal([64, 50, 8], { seed: 1 });
      const y = randomNormal([64, 1], { seed: 2 });
      const rnn =
        w === 'lstm' ? new LSTM({ units: 64, inputShape: [50, 8] }) : new GRU({ units: 64, inputShape: [50, 8] });
      best(ours, w, measure([rnn, new Dense({ units: 1 })], x, y));
    } else {
      const layers = await transformerLayers();
      if (layers)
        best(ours, w, measure(layers, randomNormal([32, 128, 128], { seed: 3 }), randomNormal([32, 1], { seed: 4 })));
    }
    best(torch, w, torchFigure(w));
  }
}
console.log(
  `backend ${getBackend()}, recurrence ${recurrenceImplementation()}, ${seconds}s per model per round, best of ${rounds} interleaved rounds`,
);
console.log('model         tessera samples/s   pytorch samples/s   ratio');
for (const w of which) {
  const a = ours[w];
  const b = torch[w];
  console.log(
    `${w.padEnd(13)} ${a === undefined ? 'n/a'.padStart(17) : a.toFixed(0).padStart(17)}   ${b === undefined ? 'n/a'.padStart(17) : b.toFixed(0).padStart(17)}   ${a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : ''}`,
  );
}

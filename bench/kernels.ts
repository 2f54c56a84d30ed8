/**
 * Kernel benchmark (`npm run bench`): Tessera's native fp32 GEMM at 256..2048 on 1 and 2
 * threads, and the MNIST-CNN conv2d forward+backward at batch 32 and 128, against NumPy,
 * PyTorch (both via bench/kernels_peer.py, measured in this same run) and TensorFlow.js's
 * pure-JS `cpu` backend. Every figure is measured here; medians of several runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import type { Conv2dGeometry } from '../src/backend/backend.js';
import { loadNativeAddon, loadNativeBackend, setNativeThreads } from '../src/backend/native.js';
import { peerPython } from './python.js';

const GEMM_SIZES = [256, 512, 1024, 2048];
const THREADS = [1, 2];
const CONV_BATCHES = [32, 128];
const BUDGET_S = 1.5; // per measurement
const MAX_RUNS = 7;
const TFJS_BUDGET_S = Number(process.env.TESSERA_BENCH_TFJS_BUDGET ?? 125); // seconds; tfjs-cpu is slow: skip a batch whose step would blow the bench time
const here = dirname(fileURLToPath(import.meta.url));

/** Median seconds over up to MAX_RUNS timed runs after one warm-up, bounded by the budget. */
function measure(fn: () => void, budget = BUDGET_S, maxRuns = MAX_RUNS): { seconds: number; runs: number } {
  let t0 = performance.now();
  fn();
  const warm = (performance.now() - t0) / 1000;
  if (warm >= budget / 2) return { seconds: warm, runs: 1 }; // slow enough that warm-up effects vanish
  t0 = performance.now();
  fn();
  const first = (performance.now() - t0) / 1000;
  const runs = [first];
  const n = Math.max(1, Math.min(maxRuns, Math.floor(budget / Math.max(first, 1e-9))));
  for (let i = 1; i < n; i++) {
    t0 = performance.now();
    fn();
    runs.push((performance.now() - t0) / 1000);
  }
  runs.sort((a, b) => a - b);
  return { seconds: runs[Math.floor(runs.length / 2)]!, runs: runs.length };
}

function randn(n: number): Float32Array {
  const a = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

const fmt = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0) ? '-' : `${(a / b).toFixed(2)}x`;
const pad = (s: string, n: number) => s.padStart(n);

// ---- peers (python) ------------------------------------------------------------------------------

interface PeerResult {
  lib: string;
  threads: number;
  version?: string;
  blas?: string;
  torchThreads?: number;
  gemm: Record<string, { seconds: number; runs: number }>;
  conv: Record<string, { seconds: number; runs: number }>;
}

function runPeer(python: string, cfg: Record<string, unknown>, env: NodeJS.ProcessEnv): PeerResult | null {
  const r = spawnSync(python, [join(here, 'kernels_peer.py'), JSON.stringify(cfg)], {
    encoding: 'utf8',
    env,
    timeout: 150_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) {
    console.log(
      `  (peer ${String(cfg.lib)} x${String(cfg.threads)} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`,
    );
    return null;
  }
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as PeerResult;
  } catch {
    return null;
  }
}

function peerEnv(blasThreads: number | null): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) delete env[k];
  if (blasThreads !== null) {
    env.OPENBLAS_NUM_THREADS = String(blasThreads);
    env.MKL_NUM_THREADS = String(blasThreads);
  }
  return env;
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const native = loadNativeBackend();
  const addon = loadNativeAddon();
  if (!native || !addon) {
    console.log(
      'tessera bench: the native addon is not built (npm rebuild / node scripts/build-native.mjs); nothing to measure',
    );
    return;
  }
  const startThreads = native.numThreads();
  const cpus = os.cpus();
  console.log(`Tessera kernel benchmark — ${cpus[0]?.model ?? 'cpu'} x${cpus.length}, Node ${process.version}`);
  console.log(`native GEMM micro-kernel: ${addon.isa()}; load average at start ${os.loadavg()[0]!.toFixed(2)}`);

  // ---- native GEMM
  const gemmNative: Record<string, number> = {};
  for (const t of THREADS) {
    setNativeThreads(t);
    for (const n of GEMM_SIZES) {
      const a = randn(n * n);
      const b = randn(n * n);
      const o = new Float32Array(n * n);
      const r = measure(() => native.matmul(a, b, o, 1, n, n, n, false, false, 0, 0));
      gemmNative[`${t}:${n}`] = (2 * n * n * n) / r.seconds / 1e9;
    }
  }

  // ---- native conv (2 threads)
  const convThreads = Math.max(...THREADS);
  setNativeThreads(convThreads);
  const convNative: Record<string, number> = {};
  const conv1dxNative: Record<string, number> = {};
  for (const batch of CONV_BATCHES) {
    const g1 = valid(batch, 28, 1, 32);
    const g2 = valid(batch, 13, 32, 64);
    const x1 = randn(batch * 28 * 28);
    const w1 = randn(9 * 32);
    const y1 = new Float32Array(batch * 26 * 26 * 32);
    const dy1 = randn(y1.length);
    const dw1 = new Float32Array(w1.length);
    const dx1 = new Float32Array(x1.length);
    const x2 = randn(batch * 13 * 13 * 32);
    const w2 = randn(9 * 32 * 64);
    const y2 = new Float32Array(batch * 11 * 11 * 64);
    const dy2 = randn(y2.length);
    const dw2 = new Float32Array(w2.length);
    const dx2 = new Float32Array(x2.length);
    const r = measure(() => {
      native.conv2d(x1, w1, y1, g1);
      native.conv2dBackpropFilter(x1, dy1, dw1, g1);
      native.conv2d(x2, w2, y2, g2);
      native.conv2dBackpropInput(dy2, w2, dx2, g2);
      native.conv2dBackpropFilter(x2, dy2, dw2, g2);
    });
    convNative[batch] = r.seconds;
    conv1dxNative[batch] = measure(() => native.conv2dBackpropInput(dy1, w1, dx1, g1)).seconds;
  }
  setNativeThreads(startThreads);

  // ---- tfjs (pure-JS cpu backend)
  const convTfjs: Record<string, number> = {};
  try {
    const tf = await import('@tensorflow/tfjs');
    tf.enableProdMode(); // no debug checks, and no "install tfjs-node" banner
    await tf.setBackend('cpu');
    await tf.ready();
    let spent = 0;
    let perImage = 0;
    for (const batch of CONV_BATCHES) {
      if (perImage * batch > TFJS_BUDGET_S - spent) {
        console.log(
          `  (tfjs batch ${batch} skipped: one step would take about ${(perImage * batch).toFixed(0)} s at the measured ${(perImage * 1e3).toFixed(0)} ms/image)`,
        );
        continue;
      }
      const x1 = tf.randomNormal([batch, 28, 28, 1]) as Tensor4D;
      const w1 = tf.randomNormal([3, 3, 1, 32]) as Tensor4D;
      const dy1 = tf.randomNormal([batch, 26, 26, 32]) as Tensor4D;
      const x2 = tf.randomNormal([batch, 13, 13, 32]) as Tensor4D;
      const w2 = tf.randomNormal([3, 3, 32, 64]) as Tensor4D;
      const dy2 = tf.randomNormal([batch, 11, 11, 64]) as Tensor4D;
      const g1 = tf.grad((w: Tensor) => tf.conv2d(x1, w as Tensor4D, 1, 'valid'));
      const g2 = tf.grads((x: Tensor, w: Tensor) => tf.conv2d(x as Tensor4D, w as Tensor4D, 1, 'valid'));
      const t0 = performance.now();
      const r = measure(
        () => {
          tf.tidy(() => {
            const dw1 = g1(w1, dy1);
            const [dx2, dw2] = g2([x2, w2], dy2);
            dw1.dataSync();
            dx2!.dataSync();
            dw2!.dataSync();
          });
        },
        4,
        3,
      );
      convTfjs[batch] = r.seconds;
      spent += (performance.now() - t0) / 1000;
      perImage = r.seconds / batch;
      tf.dispose([x1, w1, dy1, x2, w2, dy2]);
    }
  } catch (e) {
    console.log(`  (tfjs skipped: ${(e as Error).message})`);
  }

  // ---- python peers
  const python = peerPython('numpy, torch');
  const numpy: Record<number, PeerResult | null> = {};
  const torch: Record<number, PeerResult | null> = {};
  let torchPassive: PeerResult | null = null;
  if (!python) {
    console.log('  (NumPy/PyTorch peers skipped: no python3 can import both numpy and torch)');
  } else {
    for (const t of THREADS) {
      // NumPy: OPENBLAS_NUM_THREADS=1 for the 1-thread row, its default threads otherwise
      numpy[t] = runPeer(
        python,
        { lib: 'numpy', threads: t, gemm: GEMM_SIZES, budget: BUDGET_S, maxRuns: MAX_RUNS },
        peerEnv(t === 1 ? 1 : null),
      );
      // PyTorch at its best: its own pool of t threads, OpenBLAS single-threaded underneath
      torch[t] = runPeer(
        python,
        {
          lib: 'torch',
          threads: t,
          gemm: GEMM_SIZES,
          conv: t === convThreads ? CONV_BATCHES : [],
          budget: BUDGET_S,
          maxRuns: MAX_RUNS,
        },
        peerEnv(1),
      );
    }
    // PyTorch's OpenMP threads spin-wait by default, which collapses when the machine is busy;
    // also measure its convs with OMP_WAIT_POLICY=PASSIVE and keep whichever is faster.
    const passiveEnv = { ...peerEnv(1), OMP_WAIT_POLICY: 'PASSIVE' };
    torchPassive = runPeer(
      python,
      { lib: 'torch', threads: convThreads, gemm: [], conv: CONV_BATCHES, budget: BUDGET_S, maxRuns: MAX_RUNS },
      passiveEnv,
    );
  }

  // ---- report
  const np1 = Object.values(numpy).find((r) => r);
  const th1 = Object.values(torch).find((r) => r);
  console.log('');
  if (python) {
    console.log(
      `peers: ${python}; NumPy ${np1?.version ?? '?'} (BLAS: ${np1?.blas ?? '?'}), PyTorch ${th1?.version ?? '?'}`,
    );
    console.log(
      '  NumPy: OPENBLAS_NUM_THREADS=1 for 1 thread, library default for 2; PyTorch: OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(t)',
    );
  }
  console.log('');
  console.log('fp32 GEMM n x n x n, GFLOPS (median)');
  console.log(
    `${pad('n', 6)}${pad('threads', 9)}${pad('tessera', 10)}${pad('numpy', 10)}${pad('torch', 10)}${pad('vs numpy', 11)}${pad('vs torch', 11)}`,
  );
  for (const t of THREADS) {
    for (const n of GEMM_SIZES) {
      const flops = 2 * n * n * n;
      const ours = gemmNative[`${t}:${n}`];
      const np = numpy[t]?.gemm[n] ? flops / numpy[t]!.gemm[n]!.seconds / 1e9 : undefined;
      const tt = torch[t]?.gemm[n] ? flops / torch[t]!.gemm[n]!.seconds / 1e9 : undefined;
      console.log(
        `${pad(String(n), 6)}${pad(String(t), 9)}${pad(fmt(ours), 10)}${pad(fmt(np), 10)}${pad(fmt(tt), 10)}${pad(ratio(ours, np), 11)}${pad(ratio(ours, tt), 11)}`,
      );
    }
  }
  console.log('');
  console.log(
    `MNIST CNN convs, forward + backward, ms (median), ${convThreads} threads: conv1 [N,28,28,1]*[3,3,1,32] fwd + dFilter;`,
  );
  console.log('  conv2 [N,13,13,32]*[3,3,32,64] fwd + dInput + dFilter (tfjs: pure-JS cpu backend, single-threaded)');
  console.log(
    `${pad('batch', 6)}${pad('tessera', 10)}${pad('torch', 10)}${pad('tfjs-cpu', 10)}${pad('torch/tessera', 15)}${pad('tfjs/tessera', 14)}${pad('(conv1 dInput)', 16)}`,
  );
  const policyNotes: string[] = [];
  for (const b of CONV_BATCHES) {
    const ours = convNative[b]! * 1e3;
    const active = torch[convThreads]?.conv[b]?.seconds;
    const passive = torchPassive?.conv[b]?.seconds;
    const best = [active, passive].filter((v): v is number => v !== undefined);
    const tt = best.length ? Math.min(...best) * 1e3 : undefined;
    if (active !== undefined && passive !== undefined) {
      policyNotes.push(
        `batch ${b}: torch ${(active * 1e3).toFixed(2)} ms spinning OpenMP, ${(passive * 1e3).toFixed(2)} ms OMP_WAIT_POLICY=PASSIVE`,
      );
    }
    const tj = convTfjs[b] !== undefined ? convTfjs[b]! * 1e3 : undefined;
    console.log(
      `${pad(String(b), 6)}${pad(fmt(ours, 2), 10)}${pad(fmt(tt, 2), 10)}${pad(fmt(tj, 1), 10)}${pad(ratio(tt, ours), 15)}${pad(ratio(tj, ours), 14)}${pad(fmt(conv1dxNative[b]! * 1e3, 2), 16)}`,
    );
  }
  if (policyNotes.length) console.log(`  (torch column: the faster of ${policyNotes.join('; ')})`);
  const load = os.loadavg()[0]!;
  if (load > cpus.length) {
    console.log(`\nnote: load average ${load.toFixed(2)} > ${cpus.length} cores during the run; figures are noisy`);
  }
}

function valid(batch: number, inHW: number, inC: number, outC: number): Conv2dGeometry {
  const o = inHW - 2;
  return {
    batch,
    inH: inHW,
    inW: inHW,
    inC,
    outH: o,
    outW: o,
    outC,
    kH: 3,
    kW: 3,
    strideH: 1,
    strideW: 1,
    dilationH: 1,
    dilationW: 1,
    padTop: 0,
    padLeft: 0,
  };
}

if (!existsSync(join(here, 'kernels_peer.py'))) console.log('bench/kernels_peer.py is missing; peers will be skipped');
await main();

/**
 * `npm run bench:serve`: Tessera's model server vs a hand-rolled fastify + onnxruntime-node server,
 * both serving the seed MNIST CNN (same weights; the peer's ONNX is exported by PyTorch), under
 * autocannon on loopback at 1, 16 and 64 clients: JSON and binary bodies, batching on and off.
 * Prints requests/s, p50 and p99 per run and the ratios. Bounded: every run lasts DURATION s.
 *
 * env: BENCH_SERVE_DURATION (s per run, default 4), BENCH_SERVE_CLIENTS (default "1,16,64"),
 * BENCH_SERVE_PEER=0 skips the peer.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { seedCnnModel } from '../src/cli/seed-models.js';
import { saveModel } from '../src/io/save.js';
import { setSeed } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

const DURATION = Number(process.env.BENCH_SERVE_DURATION ?? 4);
const CLIENTS = (process.env.BENCH_SERVE_CLIENTS ?? '1,16,64').split(',').map(Number);
const here = new URL('.', import.meta.url);

interface Row {
  server: string;
  body: string;
  batching: string;
  clients: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function startChild(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, url: out.slice(0, nl).trim() });
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

async function load(url: string, body: Buffer | string, headers: Record<string, string>, clients: number) {
  // Warm-up, then the measured run.
  await autocannon({ url, method: 'POST', body, headers, connections: clients, duration: 1 });
  const r = await autocannon({ url, method: 'POST', body, headers, connections: clients, duration: DURATION });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  setSeed(7);
  const model = seedCnnModel();
  const repo = mkdtempSync(join(tmpdir(), 'tessera-bench-serve-'));
  for (const [name, config] of [
    ['mnist', { maxBatchSize: 64 }],
    ['mnist_nobatch', { maxBatchSize: 0 }],
  ] as const) {
    mkdirSync(join(repo, name), { recursive: true });
    writeFileSync(join(repo, name, 'config.json'), JSON.stringify(config));
    await saveModel(model, join(repo, name, '1'));
  }
  const inputName = model.inputNames[0] as string;
  const image = Array.from({ length: 784 }, (_, i) => Math.round(((i * 37) % 255) / 2.55) / 100);
  const jsonBody = JSON.stringify({
    inputs: [{ name: inputName, shape: [1, 28, 28, 1], datatype: 'FP32', data: image }],
  });
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: inputName, shape: [1, 28, 28, 1], datatype: 'FP32', parameters: { binary_data_size: 784 * 4 } }],
      parameters: { binary_data_output: true },
    }),
  );
  const binBody = Buffer.concat([header, Buffer.from(new Float32Array(image).buffer)]);
  const jsonHeaders = { 'Content-Type': 'application/json' };
  const binHeaders = {
    'Content-Type': 'application/octet-stream',
    'Inference-Header-Content-Length': String(header.length),
  };
  const rows: Row[] = [];

  // Tessera.
  const ours = await startChild([new URL('serve-ours.ts', here).pathname, repo]);
  const check = await fetch(`${ours.url}/v2/models/mnist/infer`, {
    method: 'POST',
    body: jsonBody,
    headers: jsonHeaders,
  });
  const ourProbs = ((await check.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
  for (const [batching, name] of [
    ['on', 'mnist'],
    ['off', 'mnist_nobatch'],
  ] as const) {
    for (const [body, payload, headers] of [
      ['JSON', jsonBody, jsonHeaders],
      ['binary', binBody, binHeaders],
    ] as const) {
      for (const clients of CLIENTS) {
        const r = await load(`${ours.url}/v2/models/${name}/infer`, payload, headers, clients);
        rows.push({ server: 'tessera', body, batching, clients, ...r });
        console.error(
          `tessera ${body} batching ${batching} ${clients} clients: ${Math.round(r.rps)} req/s p99 ${r.p99} ms`,
        );
      }
    }
  }
  await stopChild(ours.child);

  // The hand-rolled peer.
  const skipPeer = process.env.BENCH_SERVE_PEER === '0';
  const python = ['/usr/bin/python3', 'python3'].find(
    (p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
  );
  let ort = true;
  try {
    await import('onnxruntime-node');
  } catch {
    ort = false;
  }
  if (skipPeer) {
    console.error('skipping the peer (BENCH_SERVE_PEER=0)');
  } else if (!python || !ort) {
    console.error(
      `skipping the fastify + onnxruntime-node peer: ${!python ? 'no python3 with torch' : 'onnxruntime-node unavailable'}`,
    );
  } else {
    const w = model.getWeights().map((t) => Array.from(t.dataSync()));
    const weightsFile = join(repo, 'weights.json');
    const onnxFile = join(repo, 'seed-cnn.onnx');
    const [c1k, c1b, c2k, c2b, d1k, d1b, d2k, d2b] = model
      .getWeights()
      .map((t, i) => reshape(w[i] as number[], t.shape));
    writeFileSync(weightsFile, JSON.stringify({ c1k, c1b, c2k, c2b, d1k, d1b, d2k, d2b, probe: image }));
    const ex = spawnSync(python, [new URL('serve_export.py', here).pathname, weightsFile, onnxFile], {
      encoding: 'utf8',
    });
    if (ex.status !== 0) {
      console.error(`skipping the peer: the ONNX export failed:\n${ex.stderr}`);
    } else {
      const torchProbs = JSON.parse(ex.stdout.trim().split('\n').at(-1) as string) as number[];
      const maxDiff = Math.max(...torchProbs.map((p, i) => Math.abs(p - (ourProbs[i] as number))));
      console.error(
        `same weights check: max |tessera - torch| over the 10 probabilities = ${maxDiff.toExponential(2)}`,
      );
      for (const batching of ['off', 'on'] as const) {
        const peer = await startChild([
          new URL('serve-peer.ts', here).pathname,
          onnxFile,
          ...(batching === 'on' ? ['--batch'] : []),
        ]);
        for (const clients of CLIENTS) {
          const r = await load(`${peer.url}/v2/models/mnist/infer`, jsonBody, jsonHeaders, clients);
          rows.push({
            server: 'fastify+ort',
            body: 'JSON',
            batching: batching === 'on' ? 'naive 2ms' : 'off',
            clients,
            ...r,
          });
          console.error(
            `fastify+ort JSON batching ${batching} ${clients} clients: ${Math.round(r.rps)} req/s p99 ${r.p99} ms`,
          );
        }
        await stopChild(peer.child);
      }
    }
  }

  // Table.
  const peerBest = (clients: number) =>
    Math.max(0, ...rows.filter((r) => r.server === 'fastify+ort' && r.clients === clients).map((r) => r.rps));
  console.log('\n| server | body | batching | clients | req/s | p50 ms | p99 ms | errors | vs peer best |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const best = peerBest(r.clients);
    const ratio = best > 0 ? `${(r.rps / best).toFixed(2)}x` : '-';
    console.log(
      `| ${r.server} | ${r.body} | ${r.batching} | ${r.clients} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${ratio} |`,
    );
  }
  console.log(
    `\n(${DURATION} s per run after a 1 s warm-up; whole bench ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
}

function reshape(flat: number[], shape: readonly number[]): unknown {
  if (shape.length <= 1) return flat;
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < (shape[0] as number); i++)
    out.push(reshape(flat.slice(i * inner, (i + 1) * inner), shape.slice(1)));
  return out;
}

void Tensor;
await main();

/**
 * `npm run bench:serve`: Tessera's model server vs a hand-rolled fastify + onnxruntime-node server,
 * both serving the seed MNIST CNN (same weights; the peer's ONNX is exported by PyTorch), on
 * loopback at 1, 16 and 64 clients: JSON and binary bodies, batching on and off.
 * Every case runs under two load generators, each with its own table and targets: autocannon (JS, in
 * this process: 20-35 us of CPU per request at 64 clients, a fifth of this 2-core machine taken from
 * the server under test) and wrk (C, one thread, Debian's `wrk`; skipped when not installed), which
 * takes less of the cores the server runs on, nearer to clients on other machines.
 * Prints requests/s, p50 and p99 per run, the server's CPU time per request (Linux: all its threads,
 * from /proc) and the load generator's, the ratios to the peer's best at the same client count, and
 * the issue's targets. A no-op node:http server (bench/serve-ceiling.ts: reads the body, answers a
 * canned response) gives the ceiling any Node.js server can reach here under the same load.
 * Tessera's server runs with the V8 heap options `tessera serve` sets (bin/node-flags.js), with its
 * defaults, and JSON-batched with a model opted in to running lone requests on the HTTP thread
 * (inlineWhenIdle). The peer runs unbatched, with a naive 2 ms batcher, batched with those same
 * options, and batched with them and onnxruntime's threads set for the machine (1 intra-op thread;
 * 2 that do not spin), plus unbatched with the options and 2 threads that do not spin: its best of
 * the six at each client count is the figure to beat.
 * At the most clients, tessera (batching) and every peer configuration also take the same tensor
 * written as numpy clients write it (float32 values in full, 17 digits): not a target, a figure.
 * Bounded: every run lasts DURATION s after a 1 s warm-up; all servers run side by side and the cases
 * are interleaved in ROUNDS rounds, medians reported (about 11 minutes per load generator).
 *
 * env: BENCH_SERVE_DURATION (s per run, default 2), BENCH_SERVE_ROUNDS (interleaved rounds, medians
 * reported; default 5), BENCH_SERVE_CLIENTS (default "1,16,64"),
 * BENCH_SERVE_LOADGEN (default "autocannon,wrk"), BENCH_SERVE_PEER=0 skips the peer.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { SERVE_NODE_FLAGS } from '../bin/node-flags.js';
import { hasNativeBackend } from '../src/backend/index.js';
import { seedCnnModel } from '../src/cli/seed-models.js';
import { saveModel } from '../src/io/save.js';
import { setSeed } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { peerPython } from './python.js';

const DURATION = Number(process.env.BENCH_SERVE_DURATION ?? 2);
const ROUNDS = Number(process.env.BENCH_SERVE_ROUNDS ?? 5);
const CLIENTS = (process.env.BENCH_SERVE_CLIENTS ?? '1,16,64').split(',').map(Number);
/** The body label of JSON requests with float32 values printed in full (at the most clients only). */
const FULL = 'JSON, float32 in full';
/** Tessera with a model opted in to running lone requests on the HTTP thread. */
const INLINE = 'tessera (inlineWhenIdle)';
const here = new URL('.', import.meta.url);

interface Row {
  gen: Generator;
  server: string;
  body: string;
  batching: string;
  clients: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Server CPU time per request, µs (all threads); NaN where /proc is unavailable. */
  cpuUs: number;
  /** The load generator's CPU time per request, µs. */
  genUs: number;
}

/** CPU time (ms) of every thread of a process, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  const dir = `/proc/${pid}/task`;
  if (pid === undefined || !existsSync(dir)) return Number.NaN;
  let ticks = 0;
  for (const t of readdirSync(dir)) {
    try {
      const stat = readFileSync(`${dir}/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100 Hz)
    } catch {
      // the thread ended meanwhile
    }
  }
  return ticks * 10;
}

function startChild(args: string[], nodeFlags: readonly string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...nodeFlags, '--conditions=source', '--import', 'tsx', ...args], {
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

/** The load generators: autocannon (JS, in this process) and wrk (C, Debian's `wrk`) where installed. */
type Generator = 'autocannon' | 'wrk';
const GENERATORS: Generator[] = (process.env.BENCH_SERVE_LOADGEN ?? 'autocannon,wrk')
  .split(',')
  .map((g) => g.trim() as Generator)
  .filter((g) => {
    if (g !== 'autocannon' && g !== 'wrk') throw new Error(`BENCH_SERVE_LOADGEN: unknown load generator '${g}'`);
    if (g === 'wrk' && spawnSync('wrk', ['--version']).error) {
      console.error('wrk is not installed (Debian package wrk): the runs use autocannon only');
      return false;
    }
    return true;
  });

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests completed in the measured run. */
  total: number;
  /** The load generator's CPU time in the measured run, ms. */
  genMs: number;
}

async function autocannonRun(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
  clients: number,
  duration: number,
): Promise<LoadResult> {
  const g0 = process.cpuUsage();
  const r = await autocannon({ url, method: 'POST', body, headers, connections: clients, duration });
  const g = process.cpuUsage(g0);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx + r.timeouts,
    total: r.requests.total,
    genMs: (g.user + g.system) / 1000,
  };
}

/** wrk's durations ("812.00us", "1.20ms", "2.01s") in ms. */
function wrkMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`wrk: unexpected latency '${text}'`);
  const scale = { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[m[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(m[1]) * scale;
}

/** wrk's request scripts (one per body) and their bodies, in a folder removed at exit. */
const wrkScripts = new Map<Buffer | string, string>();
let wrkDir: string | undefined;
/** One wrk thread (the least CPU) with `clients` connections; its CPU time from the shell's `times`. */
function wrkRun(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
  clients: number,
  duration: number,
): LoadResult {
  let script = wrkScripts.get(body);
  if (!script) {
    if (!wrkDir) {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-wrk-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      wrkDir = dir;
    }
    const n = wrkScripts.size;
    writeFileSync(join(wrkDir, `body${n}`), body);
    script = join(wrkDir, `post${n}.lua`);
    const lines = [
      'wrk.method = "POST"',
      `local f = io.open(${JSON.stringify(join(wrkDir, `body${n}`))}, "rb")`,
      'wrk.body = f:read("*a")',
      'f:close()',
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
    ];
    writeFileSync(script, `${lines.join('\n')}\n`);
    wrkScripts.set(body, script);
  }
  const r = spawnSync(
    'bash',
    ['-c', 'wrk "$@" && times', 'wrk', '-t1', `-c${clients}`, `-d${duration}s`, '--latency', '-s', script, url],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`wrk failed (${r.status}): ${r.stderr}${r.stdout}`);
  const out = r.stdout;
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const total = num(/(\d+) requests in/);
  const errors =
    num(/Non-2xx or 3xx responses: (\d+)/) +
    [...(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out) ?? [])]
      .slice(1)
      .reduce((a, n) => a + Number(n), 0);
  const pct = (p: number) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? wrkMs(m[1] as string) : Number.NaN;
  };
  // `times` prints the shell's user and system time, then its children's: "0m1.234s 0m0.567s".
  const times = [...out.matchAll(/(\d+)m([\d.]+)s/g)].slice(-2).map((m) => (Number(m[1]) * 60 + Number(m[2])) * 1000);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct(50),
    p99: pct(99),
    errors,
    total,
    genMs: (times[0] ?? Number.NaN) + (times[1] ?? Number.NaN),
  };
}

async function load(
  gen: Generator,
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
  clients: number,
  pid: number | undefined,
) {
  const run = gen === 'wrk' ? wrkRun : autocannonRun;
  // Warm-up, then the measured run.
  await run(url, body, headers, clients, 1);
  const c0 = cpuMs(pid);
  const r = await run(url, body, headers, clients, DURATION);
  const n = Math.max(1, r.total);
  return {
    genUs: (r.genMs * 1000) / n,
    rps: r.rps,
    p50: r.p50,
    p99: r.p99,
    errors: r.errors,
    cpuUs: ((cpuMs(pid) - c0) * 1000) / n,
  };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  if (!hasNativeBackend()) {
    console.error(
      'warning: the native addon is not loaded (not built, or being rebuilt): the server runs on the reference backend and the figures mean nothing',
    );
  }
  const load0 = loadavg()[0] as number;
  setSeed(7);
  const model = seedCnnModel();
  const repo = mkdtempSync(join(tmpdir(), 'tessera-bench-serve-'));
  for (const [name, config] of [
    ['mnist', { maxBatchSize: 64 }],
    ['mnist_nobatch', { maxBatchSize: 0 }],
    ['mnist_inline', { maxBatchSize: 64, inlineWhenIdle: true }],
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
  // The same tensor as numpy clients write it: float32 values printed in full (0.15 becomes
  // 0.15000000596046448, what tolist() of a float32 array gives), a body 4x the size.
  const fullBody = JSON.stringify({
    inputs: [{ name: inputName, shape: [1, 28, 28, 1], datatype: 'FP32', data: image.map(Math.fround) }],
  });
  const jsonHeaders = { 'Content-Type': 'application/json' };
  const binHeaders = {
    'Content-Type': 'application/octet-stream',
    'Inference-Header-Content-Length': String(header.length),
  };
  interface Case extends Omit<Row, 'gen' | 'rps' | 'p50' | 'p99' | 'errors' | 'cpuUs' | 'genUs'> {
    url: string;
    payload: Buffer | string;
    headers: Record<string, string>;
    pid: number | undefined;
  }
  /** A case under one load generator, with its runs. */
  interface GenCase extends Case {
    gen: Generator;
    runs: Awaited<ReturnType<typeof load>>[];
  }
  const serverCases: Case[] = [];
  const children: ChildProcess[] = [];

  // Tessera, with the V8 heap options `tessera serve` runs with.
  const ours = await startChild([new URL('serve-ours.ts', here).pathname, repo], SERVE_NODE_FLAGS);
  children.push(ours.child);
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
        const url = `${ours.url}/v2/models/${name}/infer`;
        serverCases.push({
          server: 'tessera',
          body,
          batching,
          clients,
          url,
          payload,
          headers,
          pid: ours.child.pid,
        });
      }
    }
  }

  // Opted in to running lone requests on the HTTP thread (config.json inlineWhenIdle).
  for (const clients of CLIENTS) {
    serverCases.push({
      server: INLINE,
      body: 'JSON',
      batching: 'on',
      clients,
      url: `${ours.url}/v2/models/mnist_inline/infer`,
      payload: jsonBody,
      headers: jsonHeaders,
      pid: ours.child.pid,
    });
  }

  const hi = Math.max(...CLIENTS);
  serverCases.push({
    server: 'tessera',
    body: FULL,
    batching: 'on',
    clients: hi,
    url: `${ours.url}/v2/models/mnist/infer`,
    payload: fullBody,
    headers: jsonHeaders,
    pid: ours.child.pid,
  });

  // The hand-rolled peer.
  const skipPeer = process.env.BENCH_SERVE_PEER === '0';
  const python = peerPython('torch');
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
      // Unbatched, batched, and batched with Tessera's heap options (so they are no edge of ours);
      // then that batcher with onnxruntime's threads set for 2 cores: by default its intra-op
      // threads spin between ops and fight the HTTP thread for the cores. Measured here at 64
      // clients, 2 threads that do not spin used 31-47% less CPU per request and gave 1.02-1.25x
      // more req/s over three full runs (1.15-1.45x in a separate 3-round A/B). Unbatched, the same
      // options are its best at 1 client in some runs (3,297-3,919 req/s against 2,905-3,800 with the
      // defaults in a 3-round A/B), so that configuration runs too.
      for (const [batching, flags, ortArgs, label] of [
        ['off', [], [], 'fastify+ort'],
        [
          'off',
          SERVE_NODE_FLAGS,
          ['--ort-threads=2', '--ort-spin=0'],
          'fastify+ort (heap flags, ORT 2 threads, no spin)',
        ],
        ['on', [], [], 'fastify+ort'],
        ['on', SERVE_NODE_FLAGS, [], 'fastify+ort (heap flags)'],
        ['on', SERVE_NODE_FLAGS, ['--ort-threads=1'], 'fastify+ort (heap flags, ORT 1 thread)'],
        [
          'on',
          SERVE_NODE_FLAGS,
          ['--ort-threads=2', '--ort-spin=0'],
          'fastify+ort (heap flags, ORT 2 threads, no spin)',
        ],
      ] as const) {
        const peer = await startChild(
          [new URL('serve-peer.ts', here).pathname, onnxFile, ...(batching === 'on' ? ['--batch'] : []), ...ortArgs],
          flags,
        );
        children.push(peer.child);
        for (const [body, payload, clientCounts] of [
          ['JSON', jsonBody, CLIENTS],
          [FULL, fullBody, [hi]],
        ] as const) {
          for (const clients of clientCounts) {
            serverCases.push({
              server: label,
              body,
              batching: batching === 'on' ? 'naive 2ms' : 'off',
              clients,
              url: `${peer.url}/v2/models/mnist/infer`,
              payload,
              headers: jsonHeaders,
              pid: peer.child.pid,
            });
          }
        }
      }
    }
  }

  // The ceiling: node:http answering a canned response, no parsing, no model (not a peer).
  const ceiling = await startChild([new URL('serve-ceiling.ts', here).pathname]);
  children.push(ceiling.child);
  for (const clients of CLIENTS) {
    serverCases.push({
      server: 'node:http no-op (ceiling)',
      body: 'JSON',
      batching: '-',
      clients,
      url: `${ceiling.url}/v2/models/mnist/infer`,
      payload: jsonBody,
      headers: jsonHeaders,
      pid: ceiling.child.pid,
    });
  }

  // Every case under each load generator.
  const cases: GenCase[] = serverCases.flatMap((c) => GENERATORS.map((gen) => ({ ...c, gen, runs: [] })));

  // Rounds: every case once per round, interleaved, so a busy spell on a shared machine hits all
  // servers alike; the table gives each case's medians.
  // Each round starts at a different case, so that no case always runs first after a server has
  // sat idle through the others' runs.
  for (let round = 1; round <= ROUNDS; round++) {
    const shift = Math.floor(((round - 1) * cases.length) / ROUNDS);
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + shift) % cases.length] as GenCase;
      const r = await load(c.gen, c.url, c.payload, c.headers, c.clients, c.pid);
      c.runs.push(r);
      console.error(
        `round ${round}: ${c.gen}: ${c.server} ${c.body} batching ${c.batching} ${c.clients} clients: ${Math.round(r.rps)} req/s p99 ${ms(r.p99)} ms`,
      );
    }
  }
  for (const child of children) await stopChild(child);
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    const m = v.length >> 1;
    return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
  };
  const rows: Row[] = cases.map(({ gen, server, body, batching, clients, runs }) => ({
    gen,
    server,
    body,
    batching,
    clients,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    cpuUs: median(runs.map((r) => r.cpuUs)),
    genUs: median(runs.map((r) => r.genUs)),
  }));

  // A table and the targets per load generator.
  for (const gen of GENERATORS) {
    const genRows = rows.filter((r) => r.gen === gen);
    const genCases = cases.filter((c) => c.gen === gen);
    const peerBest = (clients: number, body = 'JSON') =>
      Math.max(
        0,
        ...genRows
          .filter((r) => r.server.startsWith('fastify+ort') && r.clients === clients && r.body === body)
          .map((r) => r.rps),
      );
    console.log(
      `\nload generator: ${gen}${gen === 'wrk' ? ' (C, one thread)' : ' (JS, in the bench process)'}\n\n| server | body | batching | clients | req/s | p50 ms | p99 ms | errors | server CPU µs/req | load generator CPU µs/req | vs peer best |`,
    );
    console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of genRows) {
      const best = peerBest(r.clients, r.body === FULL ? FULL : 'JSON');
      const ratio = best > 0 ? `${(r.rps / best).toFixed(2)}x` : '-';
      const cpu = Number.isFinite(r.cpuUs) ? String(Math.round(r.cpuUs)) : '-';
      console.log(
        `| ${r.server} | ${r.body} | ${r.batching} | ${r.clients} | ${Math.round(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.errors} | ${cpu} | ${Math.round(r.genUs)} | ${ratio} |`,
      );
    }
    // The issue's targets.
    const oursAt = (body: string, clients: number) =>
      genRows.find((r) => r.server === 'tessera' && r.body === body && r.batching === 'on' && r.clients === clients);
    const best = peerBest(hi);
    const json = oursAt('JSON', hi);
    const bin = oursAt('binary', hi);
    const one = oursAt('JSON', 1);
    const oneInline = genRows.find((r) => r.server === INLINE && r.clients === 1);
    const peerOne = peerBest(1);
    if (best > 0 && json && bin) {
      const ok = (b: boolean) => (b ? 'met' : 'NOT met');
      console.log(
        `\ntargets (${gen}) at ${hi} clients: JSON ${Math.round(json.rps)} req/s = ${(json.rps / best).toFixed(2)}x the peer's best ${Math.round(best)} (target 2x: ${ok(json.rps >= 2 * best)}), p99 ${ms(json.p99)} ms (target < 50: ${ok(json.p99 < 50)}); binary ${Math.round(bin.rps)} req/s (target above JSON: ${ok(bin.rps > json.rps)})`,
      );
      const ceil = genRows.find((r) => r.server.startsWith('node:http') && r.clients === hi);
      if (ceil)
        console.log(
          `ceiling at ${hi} clients: node:http answering without parsing or inference ${Math.round(ceil.rps)} req/s = ${(ceil.rps / best).toFixed(2)}x the peer's best; 2x the peer would need ${Math.round(2 * best)} req/s`,
        );
      if (one && peerOne > 0)
        console.log(
          `target at 1 client: JSON ${Math.round(one.rps)} req/s vs the peer's best ${Math.round(peerOne)} (no slower: ${ok(one.rps >= peerOne)})${oneInline ? `; opted in to inlineWhenIdle ${Math.round(oneInline.rps)} req/s = ${(oneInline.rps / peerOne).toFixed(2)}x (${ok(oneInline.rps >= peerOne)})` : ''}`,
        );
      // Paired within each round (the machine's speed drifts between rounds): our JSON figure over
      // the peer's best in the same round; the median and the range of those ratios.
      const paired = (clients: number, server = 'tessera') => {
        const mine = genCases.find(
          (c) => c.server === server && c.body === 'JSON' && c.batching === 'on' && c.clients === clients,
        );
        const theirs = genCases.filter(
          (c) => c.server.startsWith('fastify+ort') && c.body === 'JSON' && c.clients === clients,
        );
        if (!mine || theirs.length === 0) return '';
        const ratios = mine.runs.map(
          (r, i) => r.rps / Math.max(...theirs.map((c) => (c.runs[i] as (typeof c.runs)[number]).rps)),
        );
        return `${median(ratios).toFixed(2)}x (rounds ${[...ratios]
          .sort((a, b) => a - b)
          .map((x) => x.toFixed(2))
          .join(', ')})`;
      };
      console.log(
        `paired per round, JSON vs the peer's best: ${hi} clients ${paired(hi)}; 1 client ${paired(1)}; 1 client with inlineWhenIdle ${paired(1, INLINE)}`,
      );
      const full = oursAt(FULL, hi);
      const fullBest = peerBest(hi, FULL);
      if (full && fullBest > 0)
        console.log(
          `not a target, the bodies numpy clients send (the same tensor, float32 values in full): ${hi} clients ${Math.round(full.rps)} req/s = ${(full.rps / fullBest).toFixed(2)}x the peer's best ${Math.round(fullBest)}`,
        );
    }
  }
  const load1 = loadavg()[0] as number;
  console.log(
    `\nload average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at the end (2 cores here: above ~1.5 the machine is shared and the figures are noisy)`,
  );
  console.log(
    `(medians of ${ROUNDS} interleaved rounds, ${DURATION} s per run after a 1 s warm-up; whole bench ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
}

/** Latency in ms for the tables: autocannon's are whole ms, wrk's finer. */
function ms(x: number): string {
  return String(Math.round(x * 100) / 100);
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

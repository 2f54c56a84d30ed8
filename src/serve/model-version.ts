/**
 * One served model version: its worker-thread instances and its dynamic batcher. Requests of
 * compatible shape are concatenated along the batch dim (up to maxBatchSize rows), run once on
 * an idle instance, and split back; the HTTP thread only copies bytes, it never runs a kernel
 * (unless a model's config opts in to running lone requests there: inlineWhenIdle, local-runner.ts).
 */
import { Worker } from 'node:worker_threads';
import type { TypedArray } from '../tensor/dtype.js';
import type { DecodedRequest } from './codec.js';
import { hasBatchDim } from './codec.js';
import { HttpError, unavailable } from './errors.js';
import { LOCAL_COLD_MAX_US, LOCAL_MAX_US, LocalRunner } from './local-runner.js';
import type { VersionMetrics } from './metrics.js';
import type { ModelConfig, OutputTensor, ServingSignature, WireData, WireTensor } from './types.js';

export type VersionState = 'loading' | 'ready' | 'draining' | 'unloaded' | 'failed';

interface Job {
  req: DecodedRequest;
  enqueued: number;
  cancelled: boolean;
  settled: boolean;
  resolve: (outputs: OutputTensor[]) => void;
  reject: (e: HttpError) => void;
}

interface Pending {
  jobs: Job[] | null;
  resolve?: (outputs: OutputTensor[]) => void;
  reject?: (e: Error) => void;
  rows: number;
  started: number;
}

const IS_TS = import.meta.url.endsWith('.ts');

/**
 * Without batching, a second request goes to a busy instance when its request in flight should
 * finish within this many µs: a fast model then never waits for the HTTP thread between requests,
 * while a request queued behind a slow one stays in the server's queue (cancellable, timed out,
 * counted for 429).
 */
const PIPELINE_US = 5000;

/**
 * With batching, a second batch goes to a busy instance (whose batch in flight finishes within
 * PIPELINE_US) once this fraction of maxBatchSize rows is queued: the worker then finds its next
 * batch waiting when it answers, instead of idling until the HTTP thread, busy answering and
 * reading requests, gets to its message. Fewer queued rows wait for the next batch as before (a
 * batch too small would cost more per row than it saves). Measured with the seed CNN at 64
 * clients: the worker was idle 24% of the time without it, and 3/8 of 64 rows gave 12-40% more
 * requests/s than no pipelining (1/4 and 1/2 gave less; re-checked later, 1/8 and 0.6 gave
 * 0.78-0.95x, the machine 18-21% idle against 12-16%).
 */
const PIPELINE_BATCH_FRACTION = 3 / 8;

/**
 * Light load, for running a lone request on the HTTP thread: fewer than this many requests waiting,
 * on average (smoothed over the last few executions), when an execution starts. One client keeps it
 * at 1; with a few concurrent clients batches form and it rises past this within an execution or two.
 */
const LIGHT_LOAD = 1.5;

/** The default runner module (src/serve/runner.ts): loads a saved Tessera model. */
export const DEFAULT_RUNNER_MODULE = new URL(IS_TS ? './runner.ts' : './runner.js', import.meta.url).href;

/** Start a worker thread on src/serve/worker: under tsx in a source run, the built .js otherwise. */
function spawnWorker(workerData: unknown): Worker {
  if (IS_TS) {
    const url = new URL('./worker.ts', import.meta.url).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((a) => { a.register(); return import(${JSON.stringify(url)}); });`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(new URL('./worker.js', import.meta.url), { workerData });
}

class Instance {
  worker!: Worker;
  /** Loaded and warmed up (false while starting, and once dead). */
  ready = false;
  dead = false;
  /** Batches sent and not answered yet (at most 2: see pickInstance). */
  inflight = 0;
  /** Rows of the batches sent and not answered yet (0 when idle). */
  rowsRunning = 0;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly owner: ModelVersion,
    private readonly workerData: unknown,
  ) {}

  /** Spawn the worker; resolves with the runner's signature once the model is loaded. */
  start(): Promise<ServingSignature> {
    this.dead = false;
    this.worker = spawnWorker(this.workerData);
    return new Promise((resolve, reject) => {
      let ready = false;
      this.worker.on(
        'message',
        (msg: {
          type: string;
          id: number;
          signature?: ServingSignature;
          message?: string;
          outputs?: OutputTensor[];
          computeNs?: number;
        }) => {
          if (msg.type === 'ready') {
            ready = true;
            resolve(msg.signature as ServingSignature);
          } else if (msg.type === 'failed') {
            reject(new Error(msg.message));
          } else if (msg.type === 'result' || msg.type === 'error') {
            const p = this.pending.get(msg.id);
            if (!p) return;
            this.pending.delete(msg.id);
            this.inflight--;
            this.rowsRunning -= p.rows;
            if (msg.type === 'result')
              this.owner.completed(this, p, msg.outputs as OutputTensor[], (msg.computeNs as number) / 1000);
            else this.owner.failed(this, p, new HttpError(500, `model execution failed: ${msg.message}`, 'execution'));
          }
        },
      );
      const onDeath = (err: Error) => {
        if (this.dead) return;
        this.dead = true;
        this.ready = false;
        this.inflight = 0;
        this.rowsRunning = 0;
        if (!ready) reject(err);
        for (const p of this.pending.values())
          this.owner.failed(this, p, new HttpError(500, `model worker died: ${err.message}`, 'execution'));
        this.pending.clear();
        this.owner.instanceDied(this);
      };
      this.worker.on('error', onDeath);
      this.worker.on('exit', (code) => onDeath(new Error(`worker exited with code ${code}`)));
    });
  }

  run(inputs: WireTensor[], p: Pending): void {
    const id = this.nextId++;
    this.inflight++;
    this.rowsRunning += p.rows;
    this.pending.set(id, p);
    this.worker.postMessage({ type: 'infer', id, inputs }, transferList(inputs));
  }

  async stop(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

/** A version of a model: instances (worker threads), queue, batcher and state. */
export class ModelVersion {
  state: VersionState = 'loading';
  /** Why the version is failed / unavailable. */
  reason = '';
  /** The public signature (config renames applied). */
  signature!: ServingSignature;
  batched = false;
  private runnerInputNames: string[] = [];
  private readonly instances: Instance[] = [];
  private queue: Job[] = [];
  private queuedRows = 0;
  /** Smoothed compute time per row (µs), for Retry-After. */
  private usPerRow = 0;
  private inflight = 0;
  private drainWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  /** The version's runner on the HTTP thread, when it qualifies (see LocalRunner.load). */
  private local: LocalRunner | null = null;
  /** The pending check (after this turn's I/O) whether a lone request can run locally. */
  private localCheck: NodeJS.Immediate | null = null;
  /** Requests waiting when an execution started, smoothed (see LIGHT_LOAD). */
  private meanWaiting = 1;

  constructor(
    readonly model: string,
    readonly version: number,
    readonly dir: string,
    readonly config: ModelConfig,
    readonly metrics: VersionMetrics,
    private readonly runnerModule: string,
    private readonly nativeThreads?: number,
  ) {
    metrics.queueDepth = () => this.queuedRows;
  }

  /** Load every instance, then warm each up with one all-zeros batch; resolves when ready. */
  async load(): Promise<void> {
    try {
      const data = {
        dir: this.dir,
        runnerModule: this.runnerModule,
        nativeThreads: this.nativeThreads,
        winograd: this.config.convolution === 'winograd',
      };
      for (let i = 0; i < Math.max(1, this.config.instanceCount); i++) this.instances.push(new Instance(this, data));
      const sigs = await Promise.all(this.instances.map((inst) => inst.start()));
      const sig = sigs[0] as ServingSignature;
      this.runnerInputNames = sig.inputs.map((s) => s.name);
      this.signature = renamed(sig, this.config);
      this.batched = this.config.maxBatchSize > 0 && hasBatchDim(sig);
      await Promise.all(this.instances.map((inst) => this.warmUp(inst)));
      // The worker's first (cold) execution bounds what loading a copy here can block this thread for.
      if (this.config.inlineWhenIdle && this.usPerRow <= LOCAL_COLD_MAX_US) {
        const winograd = this.config.convolution === 'winograd';
        this.local = await LocalRunner.load(this.runnerModule, this.dir, winograd, sig.inputs, this.sampleInputs());
      }
      for (const inst of this.instances) inst.ready = true;
      if ((this.state as VersionState) !== 'loading') return;
      this.state = 'ready';
      this.sweeper = setInterval(() => this.sweep(), 250);
      this.sweeper.unref();
    } catch (e) {
      this.state = 'failed';
      this.reason = (e as Error).message;
      await Promise.all(this.instances.map((inst) => inst.stop().catch(() => {})));
      throw e;
    }
  }

  /** Whether a lone request may run on the HTTP thread (loaded there and qualified). */
  get runsLocally(): boolean {
    return this.local !== null;
  }

  private warmUp(inst: Instance): Promise<OutputTensor[]> {
    const inputs = this.sampleInputs();
    return new Promise((resolve, reject) =>
      inst.run(inputs, { jobs: null, resolve, reject, rows: 0, started: performance.now() }),
    );
  }

  /** One all-zeros row of every input (variable dims 1), in the runner's names. */
  private sampleInputs(): WireTensor[] {
    return this.signature.inputs.map((s, i) => {
      const shape = s.shape.map((d) => d ?? 1);
      const n = shape.reduce((a, b) => a * b, 1);
      const data =
        s.dtype === 'float32'
          ? new Float32Array(n)
          : s.dtype === 'int32'
            ? new Int32Array(n)
            : s.dtype === 'string'
              ? new Array<string>(n).fill('')
              : new Uint8Array(n);
      return { name: this.runnerInputNames[i] as string, dtype: s.dtype, shape, data };
    });
  }

  /**
   * Seconds until the queue has drained at the measured speed (rows queued plus rows executing,
   * times the smoothed compute time per row, over the instances): the 429's Retry-After, an
   * integer of at least 1 (RFC 9110 delay-seconds).
   */
  retryAfterSeconds(): number {
    let executing = 0;
    for (const inst of this.instances) executing += inst.rowsRunning;
    return retryAfterSeconds(this.queuedRows + executing, this.usPerRow, this.instances.length);
  }

  /** Rows queued now. */
  get queueDepth(): number {
    return this.queuedRows;
  }

  /**
   * Queue a validated request; resolves with its outputs (runner order), or rejects with an
   * HttpError (429 when the queue is full, 503 when not ready or timed out, 500 on failure).
   * `onCancel` receives a function that drops the request if it is still queued.
   */
  submit(req: DecodedRequest, onCancel?: (cancel: () => void) => void): Promise<OutputTensor[]> {
    if (this.state !== 'ready') {
      return Promise.reject(unavailable(`model '${this.model}' version ${this.version} is not ready (${this.state})`));
    }
    if (this.batched && req.rows > this.config.maxBatchSize) {
      return Promise.reject(
        new HttpError(
          400,
          `batch of ${req.rows} rows exceeds maxBatchSize ${this.config.maxBatchSize} of model '${this.model}'`,
        ),
      );
    }
    if (this.queuedRows + req.rows > this.config.maxQueueSize && this.queue.length > 0) {
      return Promise.reject(
        new HttpError(
          429,
          `model '${this.model}' version ${this.version} is overloaded: ${this.queuedRows} rows queued, limit ${this.config.maxQueueSize}`,
          'overloaded',
          { 'Retry-After': String(this.retryAfterSeconds()) },
        ),
      );
    }
    return new Promise<OutputTensor[]>((resolve, reject) => {
      const job: Job = { req, enqueued: performance.now(), cancelled: false, settled: false, resolve, reject };
      this.inflight++;
      this.queue.push(job);
      this.queuedRows += req.rows;
      onCancel?.(() => {
        if (job.settled || job.cancelled) return;
        job.cancelled = true;
        if (this.queue.includes(job)) {
          this.queue = this.queue.filter((j) => j !== job);
          this.queuedRows -= job.req.rows;
          this.settle(job);
          job.reject(new HttpError(499, 'the client disconnected before the answer', 'cancelled'));
        }
      });
      this.pump();
    });
  }

  private settle(job: Job): void {
    if (job.settled) return;
    job.settled = true;
    this.inflight--;
    if (this.inflight === 0 && this.drainWaiters.length) {
      for (const w of this.drainWaiters.splice(0)) w();
    }
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const inst = this.pickInstance();
      if (!inst) return;
      if (this.batched && this.config.maxQueueDelayMs > 0 && this.queuedRows < this.config.maxBatchSize) {
        const age = performance.now() - (this.queue[0] as Job).enqueued;
        if (age < this.config.maxQueueDelayMs) {
          if (!this.timer) {
            this.timer = setTimeout(() => {
              this.timer = null;
              this.pump();
            }, this.config.maxQueueDelayMs - age);
          }
          return;
        }
      }
      if (this.local !== null && this.queue.length === 1 && this.meanWaiting < LIGHT_LOAD && this.fitsLocally()) {
        // Decide after this turn's I/O: requests read in the same turn make a batch for a worker.
        this.localCheck ??= setImmediate(() => {
          this.localCheck = null;
          if (this.local !== null && this.queue.length === 1 && this.fitsLocally()) this.runLocal(this.local);
          else this.pump();
        });
        return;
      }
      this.meanWaiting = 0.75 * this.meanWaiting + 0.25 * this.queue.length;
      const jobs = this.take();
      if (jobs.length === 0) return;
      this.dispatch(inst, jobs);
    }
  }

  /** Every instance idle, and the one queued request short enough for the HTTP thread (LOCAL_MAX_US). */
  private fitsLocally(): boolean {
    for (const inst of this.instances) if (inst.inflight > 0) return false;
    const job = this.queue[0] as Job;
    return job.req.rows * (this.local as LocalRunner).warmUs <= LOCAL_MAX_US;
  }

  /** Run the one queued request on this thread (see LocalRunner). */
  private runLocal(local: LocalRunner): void {
    const jobs = this.take();
    const job = jobs[0];
    if (!job) return;
    this.meanWaiting = 0.75 * this.meanWaiting + 0.25;
    const inputs: WireTensor[] = job.req.inputs.map((t, k) => ({
      name: this.runnerInputNames[k] as string,
      dtype: t.spec.dtype,
      shape: t.shape,
      data: t.data,
    }));
    const p: Pending = { jobs, rows: job.req.rows, started: performance.now() };
    let outputs: OutputTensor[] | null;
    try {
      outputs = local.run(inputs);
    } catch (e) {
      this.failed(null, p, new HttpError(500, `model execution failed: ${(e as Error)?.message ?? e}`, 'execution'));
      return;
    }
    if (outputs === null) {
      // The runner turned asynchronous: stop running locally, and let a worker answer instead.
      this.local = null;
      this.queue.unshift(job);
      this.queuedRows += job.req.rows;
      this.pump();
      return;
    }
    this.completed(null, p, outputs, (performance.now() - p.started) * 1000);
  }

  /**
   * An idle instance; else one with a single batch in flight that should get the next one now
   * (it finishes within PIPELINE_US at the measured speed and, batched, enough rows are queued:
   * see PIPELINE_BATCH_FRACTION), so the worker starts it the moment it answers instead of
   * idling for a round trip through the HTTP thread's event loop; else none (the queue waits).
   */
  private pickInstance(): Instance | null {
    let next: Instance | null = null;
    for (const inst of this.instances) {
      if (!inst.ready) continue;
      if (inst.inflight === 0) return inst;
      if (
        next === null &&
        inst.inflight === 1 &&
        this.usPerRow > 0 &&
        inst.rowsRunning * this.usPerRow < PIPELINE_US &&
        (!this.batched || this.queuedRows >= Math.max(2, Math.ceil(this.config.maxBatchSize * PIPELINE_BATCH_FRACTION)))
      )
        next = inst;
    }
    return next;
  }

  /** Fail requests queued past their timeout. */
  private sweep(): void {
    if (this.queue.length === 0) return;
    const now = performance.now();
    const limit = this.config.timeoutMs;
    if (now - (this.queue[0] as Job).enqueued <= limit) return;
    this.queue = this.queue.filter((j) => {
      if (now - j.enqueued <= limit) return true;
      this.queuedRows -= j.req.rows;
      this.timeout(j, now);
      return false;
    });
  }

  private timeout(j: Job, now: number): void {
    this.settle(j);
    j.reject(
      new HttpError(
        503,
        `request timed out after ${Math.round(now - j.enqueued)} ms in the queue of model '${this.model}' (timeoutMs ${this.config.timeoutMs})`,
        'timeout',
      ),
    );
  }

  /** The next batch: the oldest request plus later ones of the same shape, up to maxBatchSize rows. */
  private take(): Job[] {
    const now = performance.now();
    while (this.queue.length > 0 && now - (this.queue[0] as Job).enqueued > this.config.timeoutMs) {
      const j = this.queue.shift() as Job;
      this.queuedRows -= j.req.rows;
      this.timeout(j, now);
    }
    if (this.queue.length === 0) return [];
    if (!this.batched) {
      const j = this.queue.shift() as Job;
      this.queuedRows -= j.req.rows;
      return [j];
    }
    const first = this.queue[0] as Job;
    const max = this.config.maxBatchSize;
    let rows = first.req.rows;
    const jobs = [first];
    let i = 1;
    const n = this.queue.length;
    // Fast path: a prefix of compatible requests.
    while (i < n) {
      const j = this.queue[i] as Job;
      if (j.req.shapeKey !== first.req.shapeKey || rows + j.req.rows > max) break;
      rows += j.req.rows;
      jobs.push(j);
      i++;
    }
    if (i === n || rows >= max) {
      this.queue = i === n ? [] : this.queue.slice(i);
    } else {
      const rest: Job[] = [];
      for (; i < n; i++) {
        const j = this.queue[i] as Job;
        if (j.req.shapeKey === first.req.shapeKey && rows + j.req.rows <= max) {
          rows += j.req.rows;
          jobs.push(j);
        } else rest.push(j);
      }
      this.queue = rest;
    }
    this.queuedRows -= rows;
    return jobs;
  }

  private dispatch(inst: Instance, jobs: Job[]): void {
    const specs = this.signature.inputs;
    const inputs: WireTensor[] = new Array(specs.length);
    let rows = 0;
    for (const j of jobs) rows += j.req.rows;
    for (let k = 0; k < specs.length; k++) {
      const first = (jobs[0] as Job).req.inputs[k]!;
      const shape = first.shape.slice();
      let data: WireData;
      if (Array.isArray(first.data)) {
        // Strings: one flat list for the batch.
        data = jobs.length === 1 ? first.data : jobs.flatMap((j) => j.req.inputs[k]!.data as string[]);
      } else if (
        jobs.length === 1 &&
        first.data.byteOffset === 0 &&
        first.data.byteLength === first.data.buffer.byteLength &&
        !(first.data.buffer instanceof SharedArrayBuffer)
      ) {
        data = first.data; // owned: transfer without a copy
      } else {
        let total = 0;
        for (const j of jobs) total += j.req.inputs[k]!.data.length;
        const Ctor = first.data.constructor as new (n: number) => TypedArray;
        const out = new Ctor(total);
        let off = 0;
        for (const j of jobs) {
          const d = j.req.inputs[k]!.data as TypedArray;
          out.set(d, off);
          off += d.length;
        }
        data = out;
      }
      if (this.batched) shape[0] = rows;
      inputs[k] = { name: this.runnerInputNames[k] as string, dtype: first.spec.dtype, shape, data };
    }
    inst.run(inputs, { jobs, rows, started: performance.now() });
  }

  /** Called by an instance with a batch's outputs: split them back per request. */
  completed(inst: Instance | null, p: Pending, outputs: OutputTensor[], computeUs: number): void {
    if (!p.jobs) {
      // The warm-up: a first estimate of the compute time per row.
      if (this.usPerRow === 0) this.usPerRow = computeUs;
      p.resolve?.(outputs);
      return;
    }
    const jobs = p.jobs;
    if (p.rows > 0) {
      const per = computeUs / p.rows;
      this.usPerRow = this.usPerRow > 0 ? 0.8 * this.usPerRow + 0.2 * per : per;
    }
    let queueUs = 0;
    for (const j of jobs) queueUs += (p.started - j.enqueued) * 1000;
    this.metrics.batch(p.rows, jobs.length, queueUs, computeUs, inst === null);
    if (jobs.length === 1) {
      const j = jobs[0] as Job;
      this.settle(j);
      j.resolve(outputs);
    } else {
      for (const o of outputs) {
        if (o.shape[0] !== p.rows) {
          this.failed(
            inst,
            p,
            new HttpError(500, `model output '${o.name}' has ${o.shape[0]} rows for a batch of ${p.rows}`, 'execution'),
          );
          return;
        }
      }
      let row = 0;
      for (const j of jobs) {
        const r = j.req.rows;
        const mine: OutputTensor[] = outputs.map((o) => {
          const per = o.data.length / p.rows;
          return {
            name: o.name,
            dtype: o.dtype,
            shape: [r, ...o.shape.slice(1)],
            data: o.data.subarray(row * per, (row + r) * per),
          };
        });
        row += r;
        this.settle(j);
        j.resolve(mine);
      }
    }
    this.pump();
  }

  failed(_inst: Instance | null, p: Pending, e: HttpError): void {
    if (!p.jobs) {
      p.reject?.(e);
      return;
    }
    for (const j of p.jobs) {
      this.settle(j);
      j.reject(e);
    }
    this.pump();
  }

  instanceDied(inst: Instance): void {
    if (this.state !== 'ready') return;
    // Replace the worker; its batch already failed.
    inst.start().then(
      () => {
        inst.ready = true;
        this.pump();
      },
      (e: Error) => {
        this.reason = `instance restart failed: ${e.message}`;
      },
    );
  }

  /** Stop taking requests, let queued and running ones finish, then stop the workers. */
  async drain(): Promise<void> {
    if (this.state === 'unloaded') return;
    const wasLoading = this.state === 'loading';
    this.state = 'draining';
    if (!wasLoading && this.inflight > 0) await new Promise<void>((r) => this.drainWaiters.push(r));
    if (this.timer) clearTimeout(this.timer);
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.localCheck) clearImmediate(this.localCheck);
    this.local = null;
    this.state = 'unloaded';
    await Promise.all(this.instances.map((i) => i.stop().catch(() => {})));
  }
}

/**
 * Retry-After for a queue of `rows` rows at `usPerRow` µs each over `instances` workers: whole
 * seconds, rounded up, at least 1.
 * @example retryAfterSeconds(40, 100_000, 2) // 2 (40 rows * 0.1 s / 2 instances)
 */
export function retryAfterSeconds(rows: number, usPerRow: number, instances: number): number {
  const s = (rows * usPerRow) / Math.max(1, instances) / 1e6;
  return Number.isFinite(s) && s > 1 ? Math.min(Math.ceil(s), 3600) : 1;
}

/** The buffers to transfer with a message: owned typed arrays (string arrays are cloned). */
function transferList(inputs: WireTensor[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const t of inputs) {
    const d = t.data;
    if (!Array.isArray(d) && d.buffer instanceof ArrayBuffer && d.byteLength === d.buffer.byteLength)
      out.push(d.buffer);
  }
  return out;
}

function renamed(sig: ServingSignature, config: ModelConfig): ServingSignature {
  const ren = (specs: ServingSignature['inputs'], names: string[] | undefined) =>
    specs.map((s, i) => ({ ...s, name: names?.[i] ?? s.name, shape: [...s.shape] }));
  return { inputs: ren(sig.inputs, config.inputNames), outputs: ren(sig.outputs, config.outputNames) };
}

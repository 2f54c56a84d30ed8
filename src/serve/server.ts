/**
 * The HTTP server: KServe V2 and TF Serving REST on Node's own `http`, routing by path
 * segments, validation before queueing, API keys, limits, metrics, structured logs and a
 * SIGTERM-style drain. Models run in worker threads (model-version.ts).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { isIP } from 'node:net';
import { ValueError } from '../tensor/errors.js';
import { ApiKeys, type Scope } from './auth.js';
import {
  bytesBinary,
  decodeTf,
  decodeV2,
  elementBytes,
  jsonNested,
  jsonValues,
  type Limits,
  tfDatatype,
  topClasses,
  tritonDatatype,
  v2Datatype,
} from './codec.js';
import { acceptedCoding, COMPRESS_MIN_BYTES, compressor, decompressor } from './compression.js';
import { HttpError } from './errors.js';
import { parseJsonFast } from './json.js';
import { Metrics } from './metrics.js';
import type { ModelVersion } from './model-version.js';
import { openApiDocument } from './openapi.js';
import { ModelRepository } from './repository.js';
import type { ModelConfig, OutputTensor, TensorSpec } from './types.js';

export const SERVER_VERSION = '0.1.0';

export interface ServerOptions {
  /** Folder of `<name>/<version>/` saved models (and optional `<name>/config.json`). */
  modelRepository: string;
  /** Port (default 8000; 0 picks a free one). */
  port?: number;
  /** Interface (default 127.0.0.1). Non-loopback needs API keys or `allowUnauthenticated`. */
  host?: string;
  /** API keys: a keys.json path or a loaded ApiKeys. */
  apiKeys?: string | ApiKeys;
  /** Allow binding a non-loopback interface without API keys. */
  allowUnauthenticated?: boolean;
  /** Largest request body in bytes (default 64 MiB; 413 beyond). */
  maxBodyBytes?: number;
  /** Largest element count of one request tensor (default 16 Mi). */
  maxTensorElements?: number;
  /** Module exporting createRunner(dir) (default: src/serve/runner: saved Tessera models). */
  runnerModule?: string;
  /**
   * Native kernel threads of the model workers (one pool per process). Default: the available
   * cores minus one for the HTTP thread (1 on 2 cores); TESSERA_NUM_THREADS overrides both.
   */
  nativeThreads?: number;
  /** Applied over every model's config.json. */
  configOverrides?: Partial<ModelConfig>;
  /** Where structured JSON log lines go (default: stderr). Pass `false` to silence. */
  log?: ((entry: Record<string, unknown>) => void) | false;
  /** Log every request (default false: only errors and lifecycle events). */
  accessLog?: boolean;
}

export interface ModelServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly repository: ModelRepository;
  readonly metrics: Metrics;
  readonly http: http.Server;
  /** Stop accepting, answer in-flight requests, stop the workers. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const JSON_TYPE = 'application/json';
const EMPTY = Buffer.alloc(0);

function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  id: string;
  start: number;
  mv: ModelVersion | null;
  /** Drops the request from its model's queue (set while it is queued). */
  cancel: (() => void) | null;
}

/**
 * Start a model server on a model repository; resolves once the models have loaded.
 * @example
 * const server = await startServer({ modelRepository: './models', port: 8000 });
 * // curl -d '{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}' localhost:8000/v2/models/m/infer
 * await server.close();
 */
export async function startServer(options: ServerOptions): Promise<ModelServer> {
  const host = options.host ?? '127.0.0.1';
  const keys = typeof options.apiKeys === 'string' ? ApiKeys.fromFile(options.apiKeys) : (options.apiKeys ?? null);
  if (!keys && !isLoopback(host) && !options.allowUnauthenticated) {
    throw new ValueError(
      `serve: refusing to bind ${host} without API keys; pass --api-keys keys.json, or --allow-unauthenticated to expose it anyway`,
    );
  }
  const maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const limits: Limits = { maxTensorElements: options.maxTensorElements ?? 16 * 1024 * 1024 };
  const log =
    options.log === false
      ? null
      : (options.log ?? ((e: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(e)}\n`)));
  const emit = (level: string, msg: string, extra: Record<string, unknown> = {}) =>
    log?.({ time: new Date().toISOString(), level, msg, ...extra });
  const metrics = new Metrics();
  const repo = new ModelRepository(options.modelRepository, metrics, {
    runnerModule: options.runnerModule,
    configOverrides: options.configOverrides,
    nativeThreads: options.nativeThreads,
  });
  await repo.loadAll();
  for (const e of repo.models.values()) {
    if (e.error) emit('error', 'model load failed', { model: e.name, error: e.error });
    for (const v of e.versions.values())
      emit('info', 'model ready', {
        model: e.name,
        version: v.version,
        instances: v.config.instanceCount,
        maxBatchSize: v.batched ? v.config.maxBatchSize : 0,
      });
  }

  const idBase = randomBytes(4).toString('hex');
  let idCounter = 0;
  let active = 0;
  let closing = false;
  let drained: (() => void) | null = null;
  const docs = JSON.stringify(openApiDocument(SERVER_VERSION));
  const serverMeta = JSON.stringify({
    name: 'tessera',
    version: SERVER_VERSION,
    extensions: ['binary_tensor_data', 'model_repository', 'classification', 'statistics', 'model_configuration'],
  });

  function done(ctx: Ctx): void {
    if (options.accessLog) {
      emit('info', 'request', {
        requestId: ctx.id,
        method: ctx.req.method,
        path: ctx.req.url,
        status: ctx.res.statusCode,
        ms: Math.round((performance.now() - ctx.start) * 100) / 100,
      });
    }
  }

  function send(
    ctx: Ctx,
    status: number,
    body: string | Buffer,
    type = JSON_TYPE,
    extra?: Record<string, string>,
  ): void {
    const res = ctx.res;
    if (res.writableEnded || res.destroyed) {
      done(ctx);
      return;
    }
    const headers: Record<string, string | number> = {
      'Content-Type': type,
      'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
      'X-Request-Id': ctx.id,
    };
    if (extra) Object.assign(headers, extra);
    if (closing) headers.Connection = 'close';
    const coding =
      (headers['Content-Length'] as number) >= COMPRESS_MIN_BYTES
        ? acceptedCoding(ctx.req.headers['accept-encoding'])
        : null;
    if (coding) {
      // off the event loop (libuv's pool); the client may be gone by the time it is done
      compressor(coding)(typeof body === 'string' ? Buffer.from(body) : body, {}, (err, out) => {
        if (res.writableEnded || res.destroyed) return done(ctx);
        if (!err) {
          headers['Content-Encoding'] = coding;
          headers['Content-Length'] = out.length;
          headers.Vary = 'Accept-Encoding';
        }
        res.writeHead(status, headers);
        res.end(err ? body : out);
        done(ctx);
      });
      return;
    }
    res.writeHead(status, headers);
    res.end(body);
    done(ctx);
  }

  function fail(ctx: Ctx, e: unknown): void {
    let err: HttpError;
    if (e instanceof HttpError) err = e;
    else {
      err = new HttpError(500, `internal error: ${(e as Error)?.message ?? String(e)}`, 'internal');
      emit('error', 'internal error', { requestId: ctx.id, error: (e as Error)?.stack ?? String(e) });
    }
    if (ctx.mv) ctx.mv.metrics.fail(err.reason, (performance.now() - ctx.start) * 1000);
    else metrics.serverFailure(err.reason);
    if (err.status >= 500 || options.accessLog) {
      emit(err.status >= 500 ? 'error' : 'info', 'request failed', {
        requestId: ctx.id,
        status: err.status,
        error: err.message,
      });
    }
    send(ctx, err.status, JSON.stringify({ error: err.message }), JSON_TYPE, err.headers);
  }

  function auth(ctx: Ctx, scope: Scope): void {
    if (keys) keys.check(ctx.req.headers, scope);
  }

  function readBody(ctx: Ctx, cb: (body: Buffer) => void): void {
    const req = ctx.req;
    const len = req.headers['content-length'];
    if (len !== undefined && Number(len) > maxBody) {
      req.resume();
      ctx.res.shouldKeepAlive = false;
      fail(
        ctx,
        new HttpError(413, `request body of ${len} bytes exceeds the limit of ${maxBody} bytes`, 'too_large', {
          Connection: 'close',
        }),
      );
      return;
    }
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > maxBody) {
        over = true;
        ctx.res.shouldKeepAlive = false;
        fail(
          ctx,
          new HttpError(413, `request body exceeds the limit of ${maxBody} bytes`, 'too_large', {
            Connection: 'close',
          }),
        );
        return;
      }
      if (!first) first = c;
      else (chunks ??= [first]).push(c);
    });
    req.on('end', () => {
      if (over) return;
      const raw = chunks ? Buffer.concat(chunks, size) : (first ?? EMPTY);
      const enc = req.headers['content-encoding']?.trim().toLowerCase();
      if (enc === undefined || enc === '' || enc === 'identity') return cb(raw);
      inflate(ctx, enc, raw, cb);
    });
    req.on('error', (e) => {
      if (!over) fail(ctx, new HttpError(400, `reading the request body failed: ${e.message}`));
    });
  }

  /**
   * A body sent with Content-Encoding gzip, deflate or br, decompressed off the event loop and
   * held to the body limit (a small body that inflates past it is a 413, not a server's memory).
   * Inference-Header-Content-Length then counts the decompressed bytes, as in Triton.
   */
  function inflate(ctx: Ctx, enc: string, raw: Buffer, cb: (body: Buffer) => void): void {
    const fn = decompressor(enc);
    if (!fn) {
      fail(
        ctx,
        new HttpError(
          415,
          `Content-Encoding ${JSON.stringify(enc)} is not supported; send gzip, deflate, br or none`,
          'unsupported_encoding',
        ),
      );
      return;
    }
    fn(raw, { maxOutputLength: maxBody }, (err, out) => {
      if (!err) return cb(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        ctx.res.shouldKeepAlive = false;
        fail(
          ctx,
          new HttpError(413, `request body inflates past the limit of ${maxBody} bytes`, 'too_large', {
            Connection: 'close',
          }),
        );
      } else fail(ctx, new HttpError(400, `request body is not valid ${enc} data: ${err.message}`));
    });
  }

  /** JSON.parse of a body; `typedData`: flat numeric "data" arrays come as typed arrays (V2 infer; see json.ts). */
  function parseJson(buf: Buffer, typedData = false): unknown {
    const fast = parseJsonFast(buf, { typedData });
    if (fast !== undefined) return fast;
    try {
      return JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
    }
  }

  /** Submit, wiring client-disconnect cancellation; resolves with outputs. */
  function submit(ctx: Ctx, mv: ModelVersion, decoded: Parameters<ModelVersion['submit']>[0]): Promise<OutputTensor[]> {
    return mv.submit(decoded, (cancel) => {
      ctx.cancel = cancel;
    });
  }

  // KServe V2 infer.
  function inferV2(ctx: Ctx, name: string, version: string | undefined): void {
    auth(ctx, 'infer');
    readBody(ctx, (body) => {
      try {
        const mv = repo.resolve(name, version);
        ctx.mv = mv;
        const hl = ctx.req.headers['inference-header-content-length'];
        let header: Buffer = body;
        let binary: Buffer | null = null;
        if (hl !== undefined) {
          const n = Number(hl);
          if (!Number.isInteger(n) || n < 0 || n > body.length) {
            throw new HttpError(
              400,
              `Inference-Header-Content-Length ${JSON.stringify(hl)} must be an integer within the body length ${body.length}`,
            );
          }
          header = body.subarray(0, n);
          binary = body.subarray(n);
        }
        const decoded = decodeV2(parseJson(header, true), binary, mv.signature, mv.batched, limits);
        submit(ctx, mv, decoded).then(
          (outs) => {
            const sig = mv.signature.outputs;
            const { indices, binary: bin, classes } = decoded.outputs;
            let json = `{"model_name":${JSON.stringify(name)},"model_version":"${mv.version}"`;
            if (decoded.id !== undefined) json += `,"id":${JSON.stringify(decoded.id)}`;
            json += ',"outputs":[';
            const blobs: Buffer[] = [];
            for (let k = 0; k < indices.length; k++) {
              const i = indices[k] as number;
              const o = outs[i] as OutputTensor;
              const spec = sig[i]!;
              // the tensor itself, or its rows' top classes (the classification extension) as BYTES
              const top = classes[k] ? topClasses(o, classes[k], mv.batched, mv.config.classLabels?.[spec.name]) : null;
              const datatype = top ? 'BYTES' : v2Datatype(o.dtype);
              json += `${k ? ',' : ''}{"name":${JSON.stringify(spec.name)},"datatype":"${datatype}","shape":[${(top ?? o).shape.join(',')}]`;
              if (bin[k]) {
                const b = top
                  ? bytesBinary(top.values)
                  : Buffer.from(o.data.buffer, o.data.byteOffset, o.data.length * elementBytes(o.dtype));
                blobs.push(b);
                json += `,"parameters":{"binary_data_size":${b.length}}}`;
              } else json += `,"data":${top ? JSON.stringify(top.values) : jsonValues(o.data, o.dtype)}}`;
            }
            json += ']}';
            if (blobs.length === 0) {
              send(ctx, 200, json);
            } else {
              const head = Buffer.from(json);
              send(ctx, 200, Buffer.concat([head, ...blobs]), 'application/octet-stream', {
                'Inference-Header-Content-Length': String(head.length),
              });
            }
            mv.metrics.ok((performance.now() - ctx.start) * 1000);
          },
          (e) => fail(ctx, e),
        );
      } catch (e) {
        fail(ctx, e);
      }
    });
  }

  // TF Serving predict.
  function predictTf(ctx: Ctx, name: string, version?: string, label?: string): void {
    auth(ctx, 'infer');
    readBody(ctx, (body) => {
      try {
        const mv = repo.resolve(name, version, label);
        ctx.mv = mv;
        const decoded = decodeTf(parseJson(body), mv.signature, mv.batched, limits);
        submit(ctx, mv, decoded).then(
          (outs) => {
            const sig = mv.signature.outputs;
            let json: string;
            if (decoded.format === 'row') {
              if (outs.length === 1) {
                const o = outs[0] as OutputTensor;
                json = `{"predictions":${jsonNested(o.data, mv.batched ? o.shape : [1, ...o.shape], o.dtype)}}`;
              } else {
                const rows = mv.batched ? decoded.rows : 1;
                const parts: string[] = [];
                for (let r = 0; r < rows; r++) {
                  const fields = outs.map((o, i) => {
                    const inner = mv.batched ? o.shape.slice(1) : o.shape;
                    const per = o.data.length / rows;
                    return `${JSON.stringify(sig[i]!.name)}:${jsonNested(o.data.subarray(r * per, (r + 1) * per), inner, o.dtype)}`;
                  });
                  parts.push(`{${fields.join(',')}}`);
                }
                json = `{"predictions":[${parts.join(',')}]}`;
              }
            } else if (outs.length === 1) {
              const o = outs[0] as OutputTensor;
              json = `{"outputs":${jsonNested(o.data, o.shape, o.dtype)}}`;
            } else {
              json = `{"outputs":{${outs.map((o, i) => `${JSON.stringify(sig[i]!.name)}:${jsonNested(o.data, o.shape, o.dtype)}`).join(',')}}}`;
            }
            send(ctx, 200, json);
            mv.metrics.ok((performance.now() - ctx.start) * 1000);
          },
          (e) => fail(ctx, e),
        );
      } catch (e) {
        fail(ctx, e);
      }
    });
  }

  function v2Metadata(ctx: Ctx, name: string, version?: string): void {
    auth(ctx, 'infer');
    const mv = repo.resolve(name, version);
    const entry = repo.models.get(name)!;
    const spec = (s: TensorSpec) => ({
      name: s.name,
      datatype: v2Datatype(s.dtype),
      shape: s.shape.map((d) => d ?? -1),
    });
    send(
      ctx,
      200,
      JSON.stringify({
        name,
        versions: [...entry.versions.values()].filter((v) => v.state === 'ready').map((v) => String(v.version)),
        platform: 'tessera',
        inputs: mv.signature.inputs.map(spec),
        outputs: mv.signature.outputs.map(spec),
        parameters: { max_batch_size: mv.batched ? mv.config.maxBatchSize : 0 },
      }),
    );
  }

  function tfStatus(ctx: Ctx, name: string, version?: string): void {
    auth(ctx, 'infer');
    const entry = repo.models.get(name);
    if (!entry) throw new HttpError(404, `unknown model '${name}'`);
    const tfState = {
      loading: 'LOADING',
      ready: 'AVAILABLE',
      draining: 'UNLOADING',
      unloaded: 'END',
      failed: 'END',
    } as const;
    let list = [...entry.versions.values()];
    if (version !== undefined) {
      list = list.filter((v) => String(v.version) === version);
      if (list.length === 0) throw new HttpError(404, `unknown version '${version}' of model '${name}'`);
    }
    const status = list.map((v) => ({
      version: String(v.version),
      state: tfState[v.state],
      status: { error_code: v.state === 'failed' ? 'UNKNOWN' : 'OK', error_message: v.reason },
    }));
    send(ctx, 200, JSON.stringify({ model_version_status: status }));
  }

  function tfMetadata(ctx: Ctx, name: string, version?: string): void {
    auth(ctx, 'infer');
    const mv = repo.resolve(name, version);
    const specs = (list: typeof mv.signature.inputs) =>
      Object.fromEntries(
        list.map((s) => [
          s.name,
          {
            dtype: tfDatatype(s.dtype),
            tensor_shape: { dim: s.shape.map((d) => ({ size: String(d ?? -1), name: '' })), unknown_rank: false },
            name: s.name,
          },
        ]),
      );
    send(
      ctx,
      200,
      JSON.stringify({
        model_spec: { name, signature_name: '', version: String(mv.version) },
        metadata: {
          signature_def: {
            signature_def: {
              serving_default: {
                inputs: specs(mv.signature.inputs),
                outputs: specs(mv.signature.outputs),
                method_name: 'tensorflow/serving/predict',
              },
            },
          },
        },
      }),
    );
  }

  /**
   * Triton's model configuration extension (GET /v2/models/{m}[/versions/{v}]/config), which
   * tritonclient's get_model_config and perf_analyzer read: the version's config.json in Triton's
   * model-config JSON (dims without the batch dim when batching; -1 for a variable one).
   */
  function v2Config(ctx: Ctx, name: string, version?: string): void {
    auth(ctx, 'infer');
    const mv = repo.resolve(name, version);
    const c = mv.config;
    const tensor = (s: TensorSpec) => ({
      name: s.name,
      data_type: tritonDatatype(s.dtype),
      dims: (mv.batched ? s.shape.slice(1) : s.shape).map((d) => d ?? -1),
    });
    const policy = c.versionPolicy;
    send(
      ctx,
      200,
      JSON.stringify({
        name,
        platform: 'tessera',
        max_batch_size: mv.batched ? c.maxBatchSize : 0,
        input: mv.signature.inputs.map(tensor),
        output: mv.signature.outputs.map(tensor),
        ...(mv.batched
          ? {
              dynamic_batching: {
                max_queue_delay_microseconds: Math.round(c.maxQueueDelayMs * 1000),
                default_queue_policy: {
                  timeout_action: 'REJECT',
                  default_timeout_microseconds: Math.round(c.timeoutMs * 1000),
                  max_queue_size: c.maxQueueSize,
                },
              },
            }
          : {}),
        instance_group: [{ name: `${name}_0`, kind: 'KIND_CPU', count: Math.max(1, c.instanceCount) }],
        version_policy:
          'all' in policy
            ? { all: {} }
            : 'specific' in policy
              ? { specific: { versions: policy.specific } }
              : { latest: { num_versions: policy.latest } },
        parameters: {
          convolution: { string_value: c.convolution },
          inlineWhenIdle: { string_value: String(c.inlineWhenIdle) },
        },
      }),
    );
  }

  /**
   * The statistics extension (Triton's GET /v2/models[/{m}[/versions/{v}]]/stats): per version,
   * counts and cumulative times in ns. The compute time is all in compute_infer (input and output
   * copies are not timed apart); there is no response cache, so its counts are 0.
   */
  function v2Stats(ctx: Ctx, name?: string, version?: string): void {
    auth(ctx, 'metrics');
    let entries = [...repo.models.values()];
    if (name !== undefined) {
      const entry = repo.models.get(name);
      if (!entry) throw new HttpError(404, `unknown model '${name}'`);
      entries = [entry];
    }
    const list: ModelVersion[] = [];
    for (const e of entries) {
      for (const v of e.versions.values()) {
        if (version !== undefined ? String(v.version) === version : v.state === 'ready' || v.state === 'draining')
          list.push(v);
      }
    }
    if (version !== undefined && list.length === 0)
      throw new HttpError(404, `unknown version '${version}' of model '${name}'`);
    const d = (count: number, us: number) => ({ count, ns: Math.round(us * 1000) });
    const modelStats = list.map((v) => {
      const m = v.metrics;
      let failures = 0;
      for (const c of m.failure.values()) failures += c;
      return {
        name: v.model,
        version: String(v.version),
        last_inference: m.lastInferenceMs,
        inference_count: m.inferences,
        execution_count: m.executions,
        inference_stats: {
          success: d(m.success, m.totalUs),
          fail: d(failures, m.failureUs),
          queue: d(m.executedRequests, m.queueUs),
          compute_input: d(m.executedRequests, 0),
          compute_infer: d(m.executedRequests, m.computeUs),
          compute_output: d(m.executedRequests, 0),
          cache_hit: d(0, 0),
          cache_miss: d(0, 0),
        },
        batch_stats: [...m.batchSizes]
          .sort((x, y) => x[0] - y[0])
          .map(([size, s]) => ({
            batch_size: size,
            compute_input: d(s.count, 0),
            compute_infer: d(s.count, s.computeUs),
            compute_output: d(s.count, 0),
          })),
      };
    });
    send(ctx, 200, JSON.stringify({ model_stats: modelStats }));
  }

  function readyCheck(ctx: Ctx, name: string, version?: string): void {
    auth(ctx, 'infer');
    repo.resolve(name, version); // throws 404 / 503
    send(ctx, 200, EMPTY);
  }

  function admin(ctx: Ctx, fn: (body: unknown) => Promise<string>): void {
    auth(ctx, 'admin');
    readBody(ctx, (body) => {
      let parsed: unknown = {};
      try {
        if (body.length) parsed = parseJson(body);
      } catch (e) {
        fail(ctx, e);
        return;
      }
      fn(parsed).then(
        (out) => send(ctx, 200, out),
        (e) => fail(ctx, e),
      );
    });
  }

  function seg(s: string | undefined): string {
    if (s === undefined) throw new HttpError(404, 'not found');
    if (s.indexOf('%') < 0) return s;
    try {
      return decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `malformed URL segment ${JSON.stringify(s)}`);
    }
  }

  function route(ctx: Ctx, method: string, path: string): unknown {
    const p = path.split('/'); // ['', 'v2', ...]
    const n = p.length;
    const a = p[1];
    if (a === 'v2') {
      const b = p[2];
      if (n === 2 && method === 'GET') return send(ctx, 200, serverMeta);
      if (b === 'models' && n === 4 && p[3] === 'stats' && method === 'GET') return v2Stats(ctx);
      if (b === 'models' && n >= 4) {
        const name = seg(p[3]);
        if (n === 5 && p[4] === 'infer' && method === 'POST') return inferV2(ctx, name, undefined);
        if (n === 7 && p[6] === 'infer' && p[4] === 'versions' && method === 'POST')
          return inferV2(ctx, name, seg(p[5]));
        if (method === 'GET') {
          if (n === 4) return v2Metadata(ctx, name);
          if (n === 5 && p[4] === 'ready') return readyCheck(ctx, name);
          if (n === 6 && p[4] === 'versions') return v2Metadata(ctx, name, seg(p[5]));
          if (n === 7 && p[4] === 'versions' && p[6] === 'ready') return readyCheck(ctx, name, seg(p[5]));
          if (n === 5 && p[4] === 'stats') return v2Stats(ctx, name);
          if (n === 5 && p[4] === 'config') return v2Config(ctx, name);
          if (n === 7 && p[4] === 'versions' && p[6] === 'config') return v2Config(ctx, name, seg(p[5]));
          if (n === 7 && p[4] === 'versions' && p[6] === 'stats') return v2Stats(ctx, name, seg(p[5]));
        }
      } else if (b === 'health' && n === 4 && method === 'GET') {
        if (p[3] === 'live') return send(ctx, 200, EMPTY);
        if (p[3] === 'ready') {
          if (!closing && repo.ready()) return send(ctx, 200, EMPTY);
          throw new HttpError(503, closing ? 'server is draining' : 'not every model has a ready version');
        }
      } else if (b === 'repository' && method === 'POST') {
        if (n === 4 && p[3] === 'index') {
          return admin(ctx, async (body) => {
            const onlyReady = (body as { ready?: unknown })?.ready === true;
            const list = repo.index().filter((e) => !onlyReady || e.state === 'READY');
            return JSON.stringify(list);
          });
        }
        if (n === 6 && p[3] === 'models' && (p[5] === 'load' || p[5] === 'unload')) {
          const name = seg(p[4]);
          const load = p[5] === 'load';
          return admin(ctx, async () => {
            if (load) {
              const entry = await repo.load(name);
              emit('info', 'model loaded', { model: name, versions: [...entry.versions.keys()] });
            } else {
              await repo.unload(name);
              emit('info', 'model unloaded', { model: name });
            }
            return '';
          });
        }
      }
    } else if (a === 'v1' && p[2] === 'models' && n >= 4) {
      const last = p[n - 1] as string;
      if (method === 'POST' && last.endsWith(':predict')) {
        const tail = last.slice(0, -8);
        if (n === 4) return predictTf(ctx, seg(tail));
        if (n === 6 && p[4] === 'versions') return predictTf(ctx, seg(p[3]), seg(tail));
        if (n === 6 && p[4] === 'labels') return predictTf(ctx, seg(p[3]), undefined, seg(tail));
      }
      if (method === 'GET') {
        const name = seg(p[3]);
        if (n === 4) return tfStatus(ctx, name);
        if (n === 5 && p[4] === 'metadata') return tfMetadata(ctx, name);
        if (n === 6 && p[4] === 'versions') return tfStatus(ctx, name, seg(p[5]));
        if (n === 7 && p[4] === 'versions' && p[6] === 'metadata') return tfMetadata(ctx, name, seg(p[5]));
      }
    } else if (a === 'metrics' && n === 2 && method === 'GET') {
      auth(ctx, 'metrics');
      return send(ctx, 200, metrics.render(), 'text/plain; version=0.0.4');
    } else if (a === 'docs' && method === 'GET' && (n === 2 || (n === 3 && p[2] === 'openapi.json'))) {
      return send(ctx, 200, docs);
    }
    throw new HttpError(404, `no endpoint ${method} ${path}; see GET /docs`);
  }

  // Nagle off (each answer is one write, sent at once); HTTP keep-alive is on by default.
  const server = http.createServer({ noDelay: true }, (req, res) => {
    active++;
    let rid = req.headers['x-request-id'];
    if (typeof rid !== 'string' || rid.length > 128 || rid.length === 0)
      rid = `${idBase}-${(idCounter++).toString(36)}`;
    const ctx: Ctx = { req, res, id: rid, start: performance.now(), mv: null, cancel: null };
    // 'close' fires once per response: finished, or the client went away.
    res.once('close', () => {
      active--;
      if (!res.writableFinished && ctx.cancel) ctx.cancel();
      if (closing && active === 0 && drained) drained();
    });
    if (closing) {
      req.resume();
      fail(ctx, new HttpError(503, 'server is shutting down', 'draining'));
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    try {
      route(ctx, req.method ?? 'GET', q < 0 ? url : url.slice(0, q));
    } catch (e) {
      req.resume();
      fail(ctx, e);
    }
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (options.port ?? 8000);
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  emit('info', 'listening', {
    host,
    port,
    models: [...repo.models.keys()],
    apiKeys: Boolean(keys),
    // The V8 heap options in effect (`tessera serve` sets them: bin/node-flags.js).
    heapFlags: process.execArgv.filter((a) => /^--(initial|max|min)[-_].*(heap|space)/.test(a)),
  });

  let closed: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    host,
    repository: repo,
    metrics,
    http: server,
    close() {
      closed ??= (async () => {
        closing = true;
        emit('info', 'draining', { inFlight: active });
        const stopped = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        if (active > 0) await new Promise<void>((r) => (drained = r));
        server.closeAllConnections();
        await stopped;
        await repo.close();
        emit('info', 'stopped', {});
      })();
      return closed;
    },
  };
}

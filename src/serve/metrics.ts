/**
 * Prometheus metrics of the model server, per model and version: request outcomes (failures by
 * reason), inferences (rows) vs executions (batches), queue / compute / total time, batch size
 * histogram and queue depth. `render()` gives the text exposition format for `GET /metrics`.
 */

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

/** Executions of one batch size (the statistics extension's batch_stats). */
export interface BatchSizeStat {
  count: number;
  computeUs: number;
}

export class VersionMetrics {
  success = 0;
  failure = new Map<string, number>();
  /** Time of the failed requests, µs (from arrival to the error answer). */
  failureUs = 0;
  /** Requests that went through an execution (the queue's count). */
  executedRequests = 0;
  /** When the last request succeeded, ms since the epoch (0: none yet). */
  lastInferenceMs = 0;
  /** Executions by exact batch size (rows): the batch-size histogram and the stats' batch_stats. */
  readonly batchSizes = new Map<number, BatchSizeStat>();
  inferences = 0;
  executions = 0;
  /** Executions run on the HTTP thread (lone requests at light load; see LocalRunner). */
  localExecutions = 0;
  queueUs = 0;
  computeUs = 0;
  totalUs = 0;
  readonly latencyHist = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  /** Reads the current queue depth (rows) of the version. */
  queueDepth: () => number = () => 0;

  constructor(
    readonly model: string,
    readonly version: string,
  ) {}

  fail(reason: string, us = 0): void {
    this.failure.set(reason, (this.failure.get(reason) ?? 0) + 1);
    this.failureUs += us;
  }

  /** One request answered successfully after `totalUs` microseconds. */
  ok(totalUs: number): void {
    this.success++;
    this.lastInferenceMs = Date.now();
    this.totalUs += totalUs;
    const ms = totalUs / 1000;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > (LATENCY_BUCKETS_MS[i] as number)) i++;
    this.latencyHist[i]!++;
  }

  /** One batch executed: `rows` inferences, `queueUs` summed over its requests. */
  batch(rows: number, requests: number, queueUs: number, computeUs: number, local = false): void {
    this.executions++;
    this.executedRequests += requests;
    if (local) this.localExecutions++;
    const size = this.batchSizes.get(rows);
    if (size) {
      size.count++;
      size.computeUs += computeUs;
    } else this.batchSizes.set(rows, { count: 1, computeUs });
    this.inferences += rows;
    this.queueUs += queueUs;
    this.computeUs += computeUs * requests;
  }
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Metrics {
  private readonly versions = new Map<string, VersionMetrics>();
  /** Requests refused before reaching a model (auth, routing, limits), by HTTP status. */
  readonly serverFailures = new Map<string, number>();
  readonly started = Date.now();

  /** The metrics of one model version (kept across reloads so counters stay monotonic). */
  of(model: string, version: string): VersionMetrics {
    const key = `${model}\u0000${version}`;
    let m = this.versions.get(key);
    if (!m) {
      m = new VersionMetrics(model, version);
      this.versions.set(key, m);
    }
    return m;
  }

  serverFailure(reason: string): void {
    this.serverFailures.set(reason, (this.serverFailures.get(reason) ?? 0) + 1);
  }

  render(): string {
    const out: string[] = [];
    const all = [...this.versions.values()];
    const lbl = (m: VersionMetrics, extra = '') => `{model="${esc(m.model)}",version="${esc(m.version)}"${extra}}`;
    const family = (name: string, type: string, help: string, rows: (m: VersionMetrics) => string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const m of all) out.push(...rows(m));
    };
    family('tessera_request_success_total', 'counter', 'Inference requests answered successfully', (m) => [
      `tessera_request_success_total${lbl(m)} ${m.success}`,
    ]);
    family('tessera_request_failure_total', 'counter', 'Inference requests that failed, by reason', (m) =>
      [...m.failure].map(([r, n]) => `tessera_request_failure_total${lbl(m, `,reason="${esc(r)}"`)} ${n}`),
    );
    family(
      'tessera_inference_count_total',
      'counter',
      'Inferences performed (rows; a batched request counts each row)',
      (m) => [`tessera_inference_count_total${lbl(m)} ${m.inferences}`],
    );
    family('tessera_execution_count_total', 'counter', 'Model executions (batches run)', (m) => [
      `tessera_execution_count_total${lbl(m)} ${m.executions}`,
    ]);
    family(
      'tessera_local_execution_count_total',
      'counter',
      'Model executions run on the HTTP thread (lone requests at light load)',
      (m) => [`tessera_local_execution_count_total${lbl(m)} ${m.localExecutions}`],
    );
    family('tessera_queue_duration_us_total', 'counter', 'Time requests spent queued, microseconds', (m) => [
      `tessera_queue_duration_us_total${lbl(m)} ${Math.round(m.queueUs)}`,
    ]);
    family(
      'tessera_compute_duration_us_total',
      'counter',
      'Model compute time attributed to requests, microseconds',
      (m) => [`tessera_compute_duration_us_total${lbl(m)} ${Math.round(m.computeUs)}`],
    );
    family('tessera_request_duration_us_total', 'counter', 'Total time of successful requests, microseconds', (m) => [
      `tessera_request_duration_us_total${lbl(m)} ${Math.round(m.totalUs)}`,
    ]);
    family('tessera_request_duration_ms', 'histogram', 'Latency of successful requests, milliseconds', (m) => {
      const rows: string[] = [];
      let acc = 0;
      LATENCY_BUCKETS_MS.forEach((b, i) => {
        acc += m.latencyHist[i] as number;
        rows.push(`tessera_request_duration_ms_bucket${lbl(m, `,le="${b}"`)} ${acc}`);
      });
      acc += m.latencyHist[LATENCY_BUCKETS_MS.length] as number;
      rows.push(`tessera_request_duration_ms_bucket${lbl(m, ',le="+Inf"')} ${acc}`);
      rows.push(`tessera_request_duration_ms_sum${lbl(m)} ${(m.totalUs / 1000).toFixed(3)}`);
      rows.push(`tessera_request_duration_ms_count${lbl(m)} ${m.success}`);
      return rows;
    });
    family('tessera_batch_size', 'histogram', 'Rows per model execution', (m) => {
      const rows: string[] = [];
      for (const b of BATCH_BUCKETS) {
        let acc = 0;
        for (const [size, s] of m.batchSizes) if (size <= b) acc += s.count;
        rows.push(`tessera_batch_size_bucket${lbl(m, `,le="${b}"`)} ${acc}`);
      }
      rows.push(`tessera_batch_size_bucket${lbl(m, ',le="+Inf"')} ${m.executions}`);
      rows.push(`tessera_batch_size_sum${lbl(m)} ${m.inferences}`);
      rows.push(`tessera_batch_size_count${lbl(m)} ${m.executions}`);
      return rows;
    });
    family('tessera_queue_depth', 'gauge', 'Rows waiting in the queue', (m) => [
      `tessera_queue_depth${lbl(m)} ${m.queueDepth()}`,
    ]);
    out.push('# HELP tessera_server_failure_total Requests refused before reaching a model, by reason');
    out.push('# TYPE tessera_server_failure_total counter');
    for (const [r, n] of this.serverFailures) out.push(`tessera_server_failure_total{reason="${esc(r)}"} ${n}`);
    out.push('# HELP tessera_uptime_seconds Seconds since the server started', '# TYPE tessera_uptime_seconds gauge');
    out.push(`tessera_uptime_seconds ${((Date.now() - this.started) / 1000).toFixed(1)}`);
    return `${out.join('\n')}\n`;
  }
}

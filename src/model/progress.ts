/**
 * Keras-style progress output for fit. verbose 1 on a TTY: an `Epoch 3/10` line then a bar
 * redrawn with \r; verbose 1 without a TTY, or verbose 2: exactly one plain line per epoch.
 */
import { Callback, type Logs } from './callbacks/callback.js';

/** Where progress goes (process.stdout by default; tests pass their own). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const BAR_WIDTH = 30;
/** Redraw the live bar at most this often (ms): drawing must not cost training time. */
const REDRAW_MS = 50;

/** `loss: 0.0812 - accuracy: 0.9751` (Keras prints 4 significant decimals). */
export function formatLogs(logs: Logs, skip: readonly string[] = ['batch', 'size']): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(logs)) {
    if (skip.includes(k)) continue;
    parts.push(`${k}: ${formatValue(v)}`);
  }
  return parts.join(' - ');
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(4);
  return v.toFixed(4);
}

/** `4s 16ms/step` */
export function formatTiming(elapsedMs: number, steps: number): string {
  const total = `${Math.round(elapsedMs / 1000)}s`;
  if (steps <= 0) return total;
  const per = elapsedMs / steps;
  const perStr =
    per >= 1000
      ? `${(per / 1000).toFixed(0)}s/step`
      : per >= 1
        ? `${Math.round(per)}ms/step`
        : `${Math.round(per * 1000)}us/step`;
  return `${total} ${perStr}`;
}

/** `[==========>...................]` for step of total. */
export function formatBar(step: number, total: number | null): string {
  if (total === null || total <= 0) return '';
  const done = Math.min(BAR_WIDTH, Math.floor((BAR_WIDTH * step) / total));
  const body = step >= total ? '='.repeat(BAR_WIDTH) : `${'='.repeat(done)}>${'.'.repeat(BAR_WIDTH - done - 1)}`;
  return `[${body}]`;
}

/** Internal: the progress callback fit adds for verbose 1 / 2. */
export class ProgressLogger extends Callback {
  private readonly live: boolean;
  private epochStart = 0;
  private lastDraw = 0;
  private seen = 0;

  constructor(
    verbose: number,
    private readonly stream: ProgressStream = process.stdout,
  ) {
    super();
    this.live = verbose === 1 && stream.isTTY === true;
    if (!this.live) {
      // One line per epoch: no per-batch hook at all (fit then skips building batch logs).
      (this as { onBatchEnd?: unknown }).onBatchEnd = Callback.prototype.onBatchEnd;
    }
  }

  override onEpochBegin(epoch: number): undefined {
    this.epochStart = performance.now();
    this.lastDraw = 0;
    this.seen = 0;
    if (this.live) this.stream.write(`Epoch ${epoch + 1}/${this.params.epochs}\n`);
    return undefined;
  }

  override onBatchEnd(batch: number, logs: Logs = {}): undefined {
    this.seen = batch + 1;
    const now = performance.now();
    const total = this.params.steps;
    if (now - this.lastDraw < REDRAW_MS && (total === null || this.seen < total)) return undefined;
    this.lastDraw = now;
    this.stream.write(`\r${this.line(this.seen, now - this.epochStart, logs)}`);
    return undefined;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): undefined {
    const elapsed = performance.now() - this.epochStart;
    const steps = this.params.steps ?? this.seen;
    const body = this.line(steps, elapsed, logs, steps);
    if (this.live) this.stream.write(`\r${body}\n`);
    else this.stream.write(`Epoch ${epoch + 1}/${this.params.epochs} - ${body}\n`);
    return undefined;
  }

  /** Tells the logger how many steps an epoch of a dataset had (unknown until the first one ends). */
  setSeenSteps(steps: number): void {
    this.seen = steps;
    if (this.params.steps === null) this.params = { ...this.params, steps };
  }

  private line(step: number, elapsedMs: number, logs: Logs, totalOverride?: number): string {
    const total = totalOverride ?? this.params.steps;
    const width = String(total ?? step).length;
    const count = total === null ? `${step}/Unknown` : `${String(step).padStart(width)}/${total}`;
    const bar = this.live ? ` ${formatBar(step, total)}` : '';
    const metrics = formatLogs(logs);
    const timing = formatTiming(elapsedMs, step);
    return `${count}${bar} - ${timing}${metrics ? ` - ${metrics}` : ''}`;
  }
}

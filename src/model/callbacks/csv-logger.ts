/** CSVLogger: one CSV row of epoch logs per epoch (Keras `CSVLogger`). */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ValueError } from '../../tensor/errors.js';
import { Callback, type Logs } from './callback.js';

export interface CSVLoggerArgs {
  filename: string;
  /** Default ','. */
  separator?: string;
  /** Append to an existing file instead of overwriting it (default false). */
  append?: boolean;
}

export class CSVLogger extends Callback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;

  constructor(args: CSVLoggerArgs) {
    super();
    if (!args || typeof args.filename !== 'string' || args.filename === '') {
      throw new ValueError(`csvLogger expected { filename: string }, got ${JSON.stringify(args)}`);
    }
    this.filename = args.filename;
    this.separator = args.separator ?? ',';
    this.append = args.append ?? false;
  }

  override onTrainBegin(): undefined {
    this.keys = null;
    if (this.append && existsSync(this.filename)) {
      const text = readFileSync(this.filename, 'utf8');
      const header = text.split('\n', 1)[0];
      if (header) this.keys = header.split(this.separator).slice(1);
    } else writeFileSync(this.filename, '');
    return undefined;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): undefined {
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      appendFileSync(this.filename, `${['epoch', ...this.keys].map((k) => this.quote(k)).join(this.separator)}\n`);
    }
    const row = [String(epoch), ...this.keys.map((k) => (k in logs ? String(logs[k]) : 'NA'))];
    // One appendFileSync per row: a crash mid-training leaves only whole rows behind.
    appendFileSync(this.filename, `${row.join(this.separator)}\n`);
    return undefined;
  }

  private quote(s: string): string {
    return s.includes(this.separator) || s.includes('"') ? `"${s.replace(/"/g, '""')}"` : s;
  }
}

/**
 * Stream epoch results to a CSV file: header `epoch,<sorted log keys>` then one row per epoch.
 * @example callbacks: [csvLogger({ filename: 'training.csv' })]
 */
export function csvLogger(args: CSVLoggerArgs): CSVLogger {
  return new CSVLogger(args);
}

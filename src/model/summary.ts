/**
 * Internal: the Keras summary table.
 *
 * Model: "sequential"
 * _________________________________________________________________
 *  Layer (type)                Output Shape              Param #
 * =================================================================
 *  dense (Dense)               (None, 64)                6,464
 * ...
 * Total params: 11,274 (44.04 KB)
 */
import type { ShapeLike } from '../layers/layer.js';
import { ValueError } from '../tensor/errors.js';
import type { Model } from './model.js';

/** `(None, 28, 28, 1)`, as Keras prints shapes. */
export function formatShape(shape: ShapeLike): string {
  const dims = shape.map((d) => (d === null || d === undefined ? 'None' : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

/** 121930 -> '121,930' */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(2)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

function fit(text: string, width: number): string {
  return text.length >= width ? `${text.slice(0, width - 2)} ` : text.padEnd(width);
}

export function summaryLines(model: Model): string[] {
  if (!model.built) {
    throw new ValueError(
      `${model.name}.summary: the model is not built yet; give the first layer an inputShape, add input({ shape }), or call fit/predict first`,
    );
  }
  const rows = model.summaryRows();
  const withConnections = rows.some((r) => 'connected' in r && r.connected !== undefined);
  const widths = withConnections ? [34, 26, 12, 30] : [33, 26, 12];
  const total = widths.reduce((a, b) => a + b, 0);
  const headers = ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'].slice(0, widths.length);
  const line = (cells: string[]) =>
    ` ${cells.map((c, i) => (i === cells.length - 1 ? c : fit(c, widths[i] as number))).join('')}`.trimEnd();
  const out: string[] = [`Model: "${model.name}"`, '_'.repeat(total), line(headers), '='.repeat(total)];
  rows.forEach((r, i) => {
    const cells = [r.name, r.shape, formatCount(r.params)];
    if (withConnections) cells.push((r as { connected?: string }).connected ?? '');
    out.push(line(cells));
    out.push(i === rows.length - 1 ? '='.repeat(total) : '_'.repeat(total));
  });
  if (rows.length === 0) out.push('='.repeat(total));
  const weights = model.weights;
  const trainable = new Set(model.trainableWeights);
  let all = 0;
  let train = 0;
  let bytes = 0;
  for (const w of weights) {
    all += w.size;
    bytes += w.size * 4;
    if (trainable.has(w)) train += w.size;
  }
  const trainBytes = model.trainableWeights.reduce((n, w) => n + w.size * 4, 0);
  out.push(`Total params: ${formatCount(all)} (${formatBytes(bytes)})`);
  out.push(`Trainable params: ${formatCount(train)} (${formatBytes(trainBytes)})`);
  out.push(`Non-trainable params: ${formatCount(all - train)} (${formatBytes(bytes - trainBytes)})`);
  out.push('_'.repeat(total));
  return out;
}

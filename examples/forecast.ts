/**
 * Time-series forecasting with an LSTM over sliding windows, against a seasonal-naive baseline.
 *
 *  - co2: monthly CO2 concentration at Mauna Loa (vega-datasets co2-concentration.csv, BSD-3-Clause
 *    packaging of the NOAA/Scripps record). The model sees the last 24 seasonal differences
 *    (x_t - x_{t-12}) and predicts the next one; the forecast is x_{t-12} + prediction. Seasonal
 *    naive: x_{t-12}. Test: one-step-ahead forecasts of the last 24 months.
 *  - seattle: daily maximum temperature in Seattle 2012-2015 (vega-datasets seattle-weather.csv).
 *    Windows of the last 30 days -> the next day. Seasonal naive: the same day a year before.
 *    Test: one-step-ahead forecasts of the last 365 days.
 *
 *   node --conditions=source --import tsx examples/forecast.ts [--dataset co2|seattle|both] [--epochs N] [--save dir]
 *
 * Prints the model's MAE and the seasonal-naive MAE on the test period.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  layers,
  type Model,
  optimizers,
  saveModel,
  layers as seq,
  sequential,
  setSeed,
  type Tensor,
  tensor,
} from 'tessera';

function csv(name: string): Record<string, string>[] {
  // the package exports only its JS entry (build/index.js): its data/ folder is one level up
  const require = createRequire(import.meta.url);
  const dir = dirname(dirname(require.resolve('vega-datasets')));
  const [head, ...rows] = readFileSync(join(dir, 'data', name), 'utf8')
    .trim()
    .split(/\r?\n/);
  const cols = (head as string).split(',');
  return rows.map((r) => {
    const v = r.split(',');
    return Object.fromEntries(cols.map((c, i) => [c, v[i] ?? '']));
  });
}

export function loadCo2(): number[] {
  return csv('co2-concentration.csv').map((r) => Number(r.CO2));
}

export function loadSeattleTemp(): number[] {
  return csv('seattle-weather.csv').map((r) => Number(r.temp_max));
}

export interface ForecastResult {
  modelMae: number;
  naiveMae: number;
  model: Model;
}

export interface ForecastSetup {
  /** The series the network sees (already transformed), aligned with `series`. */
  inputs: number[];
  /** First index whose input window is complete. */
  start: number;
  window: number;
  /** Number of final points forecast (the test period). */
  testSize: number;
  /** Turns the network's prediction for point t back into the forecast of series[t]. */
  toForecast: (t: number, prediction: number) => number;
  /** The seasonal-naive forecast of series[t]. */
  naive: (t: number) => number;
  series: number[];
  units: number;
  epochs: number;
}

/** Train on windows whose target precedes the test period; one-step-ahead forecasts of the test period. */
export async function runForecast(s: ForecastSetup): Promise<ForecastResult> {
  const { inputs, window: W, testSize, series } = s;
  const n = series.length;
  const firstTest = n - testSize;
  // scale inputs by the training statistics
  const trainVals = inputs.slice(s.start, firstTest);
  const mu = trainVals.reduce((a, b) => a + b, 0) / trainVals.length;
  const sd = Math.sqrt(trainVals.reduce((a, b) => a + (b - mu) ** 2, 0) / trainVals.length) || 1;
  const z = inputs.map((v) => (v - mu) / sd);
  const windowAt = (t: number) => z.slice(t - W, t); // predicts inputs[t]
  const trainT: number[] = [];
  for (let t = s.start + W; t < firstTest; t++) trainT.push(t);
  const x = tensor(trainT.flatMap(windowAt), [trainT.length, W, 1]);
  const y = tensor(
    trainT.map((t) => z[t] as number),
    [trainT.length, 1],
  );
  const model = sequential([seq.lstm({ units: s.units, inputShape: [W, 1] }), layers.dense({ units: 1 })]);
  model.compile({ optimizer: optimizers.adam({ learningRate: 3e-3 }), loss: 'meanSquaredError' });
  await model.fit(x, y, { epochs: s.epochs, batchSize: 32, verbose: 0, shuffle: true });
  const testT: number[] = [];
  for (let t = firstTest; t < n; t++) testT.push(t);
  const pred = (model.predict(tensor(testT.flatMap(windowAt), [testT.length, W, 1])) as Tensor).dataSync();
  let modelErr = 0;
  let naiveErr = 0;
  testT.forEach((t, i) => {
    const f = s.toForecast(t, (pred[i] as number) * sd + mu);
    modelErr += Math.abs(f - (series[t] as number));
    naiveErr += Math.abs(s.naive(t) - (series[t] as number));
  });
  return { modelMae: modelErr / testT.length, naiveMae: naiveErr / testT.length, model };
}

export function co2Setup(epochs: number): ForecastSetup {
  const series = loadCo2();
  const inputs = series.map((v, t) => (t >= 12 ? v - (series[t - 12] as number) : 0));
  return {
    series,
    inputs,
    start: 12,
    window: 24,
    testSize: 24,
    toForecast: (t, p) => (series[t - 12] as number) + p,
    naive: (t) => series[t - 12] as number,
    units: 32,
    epochs,
  };
}

export function seattleSetup(epochs: number): ForecastSetup {
  const series = loadSeattleTemp();
  return {
    series,
    inputs: series,
    start: 0,
    window: 30,
    testSize: 365,
    toForecast: (_t, p) => p,
    naive: (t) => series[t - 365] as number,
    units: 32,
    epochs,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? (argv[i + 1] ?? def) : def;
  };
  const which = opt('dataset', 'both');
  const saveDir = opt('save', '');
  setSeed(1);
  const runs: [string, ForecastSetup][] = [];
  if (which === 'co2' || which === 'both')
    runs.push(['co2 (monthly, last 24 months)', co2Setup(Number(opt('epochs', '40')))]);
  if (which === 'seattle' || which === 'both')
    runs.push(['seattle temp_max (daily, last 365 days)', seattleSetup(Number(opt('epochs', '8')))]);
  for (const [name, setup] of runs) {
    const t0 = performance.now();
    const r = await runForecast(setup);
    console.log(
      `${name}: LSTM MAE ${r.modelMae.toFixed(3)} vs seasonal naive MAE ${r.naiveMae.toFixed(3)} (${r.modelMae < r.naiveMae ? 'beats' : 'does NOT beat'} the baseline; ${((performance.now() - t0) / 1000).toFixed(1)}s)`,
    );
    if (saveDir) await saveModel(r.model, join(saveDir, name.split(' ')[0] as string));
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  await main();
}

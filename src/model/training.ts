/**
 * Internal: the fit loops. Over tensors: a reused index array shuffled in place each epoch,
 * batches copied into pooled buffers inside the step's scope. Over a dataset: one full
 * iteration per epoch (or `stepsPerEpoch` batches, continuing the iterator).
 */
import { noGrad, scope } from '../tensor/engine.js';
import { ShapeError, ValueError } from '../tensor/errors.js';
import { rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { type CallbackLike, CallbackList, type Logs } from './callbacks/callback.js';
import { copyRows, countSamples, identityOrder, RowBatcher, type TensorOrList, toTensorList } from './data.js';
import { History } from './history.js';
import type { FitArgs, Model } from './model.js';
import { ProgressLogger } from './progress.js';
import type { StepRunner } from './step.js';

/** One element of a dataset given to fit: `{ x, y }` (optionally `sampleWeight`) or `[x, y]` / `[x, y, sampleWeight]`. */
export type DatasetElement =
  | { x: TensorOrList; y: TensorOrList; sampleWeight?: Tensor }
  | [TensorOrList, TensorOrList]
  | [TensorOrList, TensorOrList, Tensor];

/** Anything fit can iterate for batches: an async (or sync) iterable of dataset elements. */
export type FitDataset = AsyncIterable<DatasetElement> | Iterable<DatasetElement>;

const NO_ESCAPE = () => [];

function isDataset(v: unknown): v is FitDataset {
  if (v === null || typeof v !== 'object') return false;
  if (Symbol.asyncIterator in v) return true;
  // A sync iterable that is not a tensor list / nested array (e.g. a generator object).
  return (
    Symbol.iterator in v &&
    !Array.isArray(v) &&
    !ArrayBuffer.isView(v) &&
    typeof (v as { next?: unknown }).next === 'function'
  );
}

function parseElement(
  model: Model,
  el: DatasetElement,
  where: string,
): { xs: Tensor[]; ys: Tensor[]; sw: Tensor | null; n: number } {
  let x: TensorOrList;
  let y: TensorOrList;
  let sw: Tensor | null = null;
  if (Array.isArray(el)) {
    if (el.length < 2)
      throw new ValueError(`${where}: a dataset element must be { x, y } or [x, y], got an array of ${el.length}`);
    x = el[0];
    y = el[1];
    sw = (el[2] as Tensor | undefined) ?? null;
  } else if (el && typeof el === 'object' && 'x' in el && 'y' in el) {
    x = el.x;
    y = el.y;
    sw = el.sampleWeight ?? null;
  } else throw new ValueError(`${where}: a dataset element must be { x, y } or [x, y], got ${typeof el}`);
  const xs = toTensorList(x, model.inputNames, 'x', where);
  const ys = toTensorList(y, model.outputNames, 'y', where);
  const n = countSamples(
    [
      { what: 'x', list: xs },
      { what: 'y', list: ys },
    ],
    where,
  );
  return { xs, ys, sw, n };
}

function iteratorOf(ds: FitDataset): AsyncIterator<DatasetElement> | Iterator<DatasetElement> {
  return Symbol.asyncIterator in ds
    ? (ds as AsyncIterable<DatasetElement>)[Symbol.asyncIterator]()
    : (ds as Iterable<DatasetElement>)[Symbol.iterator]();
}

function prefixed(logs: Logs, prefix: string): Logs {
  const out: Logs = {};
  for (const [k, v] of Object.entries(logs)) out[`${prefix}${k}`] = v;
  return out;
}

interface Setup {
  list: CallbackList;
  history: History;
  progress: ProgressLogger | null;
}

function setupCallbacks(model: Model, args: FitArgs, epochs: number, steps: number | null, samples?: number): Setup {
  const history = new History();
  const verbose = args.verbose ?? 1;
  const progress = verbose > 0 ? new ProgressLogger(verbose, args.progressStream ?? process.stdout) : null;
  const cbs: CallbackLike[] = [history, ...(args.callbacks ?? [])];
  if (progress) cbs.push(progress);
  const list = new CallbackList(cbs);
  list.setModel(model);
  list.setParams({ epochs, steps, verbose, ...(samples === undefined ? {} : { samples }) });
  return { list, history, progress };
}

function checkArgs(args: FitArgs, where: string): { epochs: number; batchSize: number; initialEpoch: number } {
  const epochs = args.epochs ?? 1;
  const batchSize = args.batchSize ?? 32;
  const initialEpoch = args.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new ValueError(`${where}: epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ValueError(`${where}: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) {
    throw new ValueError(`${where}: initialEpoch must be a non-negative integer, got ${initialEpoch}`);
  }
  if (args.validationSplit !== undefined && !(args.validationSplit >= 0 && args.validationSplit < 1)) {
    throw new ValueError(`${where}: validationSplit must be in [0, 1), got ${args.validationSplit}`);
  }
  return { epochs, batchSize, initialEpoch };
}

type Validation = ((model: Model) => Promise<Logs> | Logs) | null;

function validationFor(model: Model, args: FitArgs, batchSize: number): Validation {
  const vd = args.validationData;
  if (!vd) return null;
  const vbs = args.validationBatchSize ?? batchSize;
  if (isDataset(vd)) return (m) => m.evaluateDataset(vd, { steps: args.validationSteps });
  if (!Array.isArray(vd) || vd.length < 2) {
    throw new ValueError(`${model.name}.fit: validationData must be [x, y], [x, y, sampleWeight] or a dataset`);
  }
  const [vx, vy, vsw] = vd as [TensorOrList, TensorOrList, Tensor | undefined];
  return (m) => m.evaluate(vx, vy, { batchSize: vbs, ...(vsw ? { sampleWeight: vsw } : {}) });
}

async function maybe(p: Promise<void> | undefined): Promise<void> {
  if (p) await p;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** fit(x, y, args) or fit(dataset, args). */
export function fit(
  model: Model,
  a: TensorOrList | FitDataset,
  b?: TensorOrList | FitArgs,
  c?: FitArgs,
): Promise<History> {
  if (isDataset(a)) return fitDataset(model, a, (b as FitArgs | undefined) ?? {});
  if (b === undefined)
    return Promise.reject(new ValueError(`${model.name}.fit expected (x, y, options) or (dataset, options), got no y`));
  return fitArrays(model, a as TensorOrList, b as TensorOrList, c ?? {});
}

async function fitArrays(model: Model, x: TensorOrList, y: TensorOrList, args: FitArgs): Promise<History> {
  const where = `${model.name}.fit`;
  const { epochs, batchSize, initialEpoch } = checkArgs(args, where);
  let xs = toTensorList(x, model.inputNames, 'x', where);
  let ys = toTensorList(y, model.outputNames, 'y', where);
  let sw = args.sampleWeight ?? null;
  const n = countSamples(
    [
      { what: 'x', list: xs },
      { what: 'y', list: ys },
    ],
    where,
  );
  if (sw && sw.shape[0] !== n)
    throw new ShapeError(`${where}: sampleWeight has ${sw.shape[0]} weights, expected one per sample (${n})`);
  let validate = validationFor(model, args, batchSize);
  let nTrain = n;
  if (!validate && args.validationSplit) {
    nTrain = Math.floor(n * (1 - args.validationSplit));
    if (nTrain === 0 || nTrain === n) {
      throw new ValueError(
        `${where}: validationSplit ${args.validationSplit} of ${n} samples leaves ${nTrain === 0 ? 'no training' : 'no validation'} samples`,
      );
    }
    const vx = xs.map((t) => copyRows(t, nTrain, n));
    const vy = ys.map((t) => copyRows(t, nTrain, n));
    const vsw = sw ? copyRows(sw, nTrain, n) : null;
    xs = xs.map((t) => copyRows(t, 0, nTrain));
    ys = ys.map((t) => copyRows(t, 0, nTrain));
    if (sw) sw = copyRows(sw, 0, nTrain);
    const vbs = args.validationBatchSize ?? batchSize;
    validate = (m) => m.evaluate(vx, vy, { batchSize: vbs, ...(vsw ? { sampleWeight: vsw } : {}) });
  }
  const runner = model.prepare(xs, 'fit');
  runner.invalidate();
  const fullSteps = Math.ceil(nTrain / batchSize);
  const steps = args.stepsPerEpoch ? Math.min(args.stepsPerEpoch, fullSteps) : fullSteps;
  const { list, history } = setupCallbacks(model, args, epochs, steps, nTrain);
  const xb = xs.map((t) => new RowBatcher(t));
  const yb = ys.map((t) => new RowBatcher(t));
  const wb = sw ? new RowBatcher(sw) : null;
  const xBatch: Tensor[] = new Array(xs.length);
  const yBatch: Tensor[] = new Array(ys.length);
  const classWeight = args.classWeight ?? null;
  const shuffle = args.shuffle ?? true;
  const order = identityOrder(nTrain);
  const wantsBatches = list.wantsBatches;
  model.stopTraining = false;
  await maybe(list.call('onTrainBegin', {}));
  let logs: Logs = {};
  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    await maybe(list.call('onEpochBegin', epoch, {}));
    runner.resetMetrics();
    runner.resetLoss();
    if (shuffle) rng().shuffle(order);
    const ord = shuffle ? order : null;
    for (let step = 0; step < steps; step++) {
      const start = step * batchSize;
      const end = Math.min(nTrain, start + batchSize);
      if (wantsBatches) await maybe(list.call('onBatchBegin', step, { batch: step, size: end - start }));
      scope(() => {
        for (let i = 0; i < xb.length; i++) xBatch[i] = (xb[i] as RowBatcher).take(start, end, ord);
        for (let i = 0; i < yb.length; i++) yBatch[i] = (yb[i] as RowBatcher).take(start, end, ord);
        const w = runner.sampleWeights(yBatch, wb ? wb.take(start, end, ord) : null, classWeight, end - start);
        runner.train(xBatch, yBatch, w);
      }, NO_ESCAPE);
      if (wantsBatches)
        await maybe(list.call('onBatchEnd', step, { batch: step, size: end - start, ...runner.logs() }));
      if (model.stopTraining) break;
    }
    logs = runner.logs();
    if (validate) Object.assign(logs, prefixed(await validate(model), 'val_'));
    await maybe(list.call('onEpochEnd', epoch, logs));
    await yieldToEventLoop();
  }
  await maybe(list.call('onTrainEnd', logs));
  model.history = history;
  return history;
}

async function fitDataset(model: Model, ds: FitDataset, args: FitArgs): Promise<History> {
  const where = `${model.name}.fit`;
  const { epochs, initialEpoch } = checkArgs(args, where);
  if (args.validationSplit)
    throw new ValueError(`${where}: validationSplit is not supported for datasets; pass validationData`);
  const validate = validationFor(model, args, args.batchSize ?? 32);
  const stepsPerEpoch = args.stepsPerEpoch ?? null;
  const { list, history, progress } = setupCallbacks(model, args, epochs, stepsPerEpoch);
  const classWeight = args.classWeight ?? null;
  const wantsBatches = list.wantsBatches;
  let runner: StepRunner | null = null;
  let iterator: AsyncIterator<DatasetElement> | Iterator<DatasetElement> | null = null;
  model.stopTraining = false;
  await maybe(list.call('onTrainBegin', {}));
  let logs: Logs = {};
  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    await maybe(list.call('onEpochBegin', epoch, {}));
    runner?.resetMetrics();
    runner?.resetLoss();
    if (!stepsPerEpoch || !iterator) iterator = iteratorOf(ds);
    let step = 0;
    let restarted = false;
    while (stepsPerEpoch === null || step < stepsPerEpoch) {
      let r = await iterator.next();
      if (r.done && stepsPerEpoch !== null && !restarted && step > 0) {
        // stepsPerEpoch beyond one pass: start the dataset again.
        iterator = iteratorOf(ds);
        restarted = true;
        r = await iterator.next();
      }
      if (r.done) {
        if (stepsPerEpoch !== null) iterator = null;
        break;
      }
      restarted = false;
      const { xs, ys, sw, n } = parseElement(model, r.value, where);
      if (!runner) {
        runner = model.prepare(xs, 'fit');
        runner.invalidate();
        runner.resetMetrics();
        runner.resetLoss();
      }
      const run = runner;
      if (wantsBatches) await maybe(list.call('onBatchBegin', step, { batch: step, size: n }));
      scope(() => run.train(xs, ys, run.sampleWeights(ys, sw, classWeight, n)), NO_ESCAPE);
      if (wantsBatches) await maybe(list.call('onBatchEnd', step, { batch: step, size: n, ...run.logs() }));
      step++;
      if (model.stopTraining) break;
    }
    if (!runner) throw new ValueError(`${where}: the dataset yielded no batches`);
    if (epoch === initialEpoch) progress?.setSeenSteps(step);
    logs = runner.logs();
    if (validate) Object.assign(logs, prefixed(await validate(model), 'val_'));
    await maybe(list.call('onEpochEnd', epoch, logs));
    await yieldToEventLoop();
  }
  await maybe(list.call('onTrainEnd', logs));
  model.history = history;
  return history;
}

/** Loss and metrics over a dataset (model.evaluateDataset). */
export async function evaluateDataset(model: Model, ds: FitDataset, steps?: number): Promise<Logs> {
  const where = `${model.name}.evaluateDataset`;
  const it = iteratorOf(ds);
  let runner: StepRunner | null = null;
  for (let step = 0; steps === undefined || step < steps; step++) {
    const r = await it.next();
    if (r.done) break;
    const { xs, ys, sw } = parseElement(model, r.value, where);
    if (!runner) {
      runner = model.prepare(xs, 'evaluate');
      runner.resetMetrics();
      runner.resetLoss();
    }
    const run = runner;
    scope(() => noGradTest(run, xs, ys, sw), NO_ESCAPE);
  }
  if (!runner) throw new ValueError(`${where}: the dataset yielded no batches`);
  return runner.logs();
}

function noGradTest(run: StepRunner, xs: Tensor[], ys: Tensor[], sw: Tensor | null): void {
  noGrad(() => run.test(xs, ys, sw));
}

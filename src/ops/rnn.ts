/**
 * Fused recurrences: the whole time loop of an LSTM, GRU or SimpleRNN as ONE op, forward and
 * backward through time. The input projection (x [B*T, F] @ kernel [F, G*U] + bias) is a single
 * GEMM done by the caller with `matmul`; this op takes the projected inputs `xp` and runs the
 * per-step recurrent GEMM with the gate math fused, keeping the gates for backward.
 *
 * Two implementations with the same semantics: the native one (native/rnn.cc, loaded through
 * the addon, used when it exports `rnnForward`) and the TypeScript one below (the definition,
 * used by the reference backend and when the addon lacks the entry points).
 *
 * Layouts (Keras): gates are concatenated along the last axis, LSTM in the order i, f, c, o;
 * GRU (resetAfter) z, r, h with the recurrent bias added before the reset gate multiplies.
 * A masked step (mask 0) carries the previous state (and output) through unchanged.
 */
import { record } from '../autograd/tape.js';
import { getBackend } from '../backend/index.js';
import { loadNativeAddon } from '../backend/native.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';

export type RecurrentCell = 'lstm' | 'gru' | 'simpleRnn';
/** Activation of the SimpleRNN cell (the LSTM and GRU use tanh and sigmoid). */
export type RecurrentActivation = 'tanh' | 'relu' | 'linear';

const CELL_CODE: Record<RecurrentCell, number> = { lstm: 0, gru: 1, simpleRnn: 2 };
const ACT_CODE: Record<RecurrentActivation, number> = { tanh: 0, relu: 1, linear: 2 };
const GATES: Record<RecurrentCell, number> = { lstm: 4, gru: 3, simpleRnn: 1 };

export interface RecurrenceOptions {
  /** Initial hidden state [batch, units] (default zeros). */
  initialH?: Tensor | null;
  /** Initial cell state [batch, units], LSTM only (default zeros). */
  initialC?: Tensor | null;
  /** GRU only: the recurrent bias [3 * units] added to h @ recurrentKernel (Keras resetAfter). */
  recurrentBias?: Tensor | null;
  /** [batch, time], bool or numbers; 0 = skip the step (carry the state). */
  mask?: Tensor | null;
  /** SimpleRNN activation (default tanh). */
  activation?: RecurrentActivation;
  /**
   * Recurrent dropout: a [batch, units] multiplier (0 or 1/keep) applied to h_{t-1} where it enters
   * the recurrent GEMM, the same at every step (Keras recurrentDropout). Not differentiated.
   */
  recurrentMask?: Tensor | null;
}

/** The raw native entry points added by native/rnn.cc (see there). */
interface RnnAddon {
  rnnForward(
    geom: Float64Array,
    xp: Float32Array,
    r: Float32Array,
    h0: Float32Array,
    c0: Float32Array | null,
    brec: Float32Array | null,
    mask: Uint8Array | null,
    out: Float32Array,
    ws: Float32Array,
    rmask: Float32Array | null,
  ): void;
  rnnBackward(
    geom: Float64Array,
    r: Float32Array,
    h0: Float32Array,
    c0: Float32Array | null,
    mask: Uint8Array | null,
    out: Float32Array,
    ws: Float32Array,
    dy: Float32Array,
    dxp: Float32Array,
    drec: Float32Array,
    dh0: Float32Array,
    dc0: Float32Array | null,
    dR: Float32Array | null,
    rmask: Float32Array | null,
  ): void;
}

let nativeRnn: RnnAddon | null | undefined;
let forceReference = false;

function rnnAddon(): RnnAddon | null {
  if (forceReference || getBackend() !== 'native') return null;
  if (nativeRnn === undefined) {
    const a = loadNativeAddon() as unknown as Partial<RnnAddon> | null;
    nativeRnn = a && typeof a.rnnForward === 'function' && typeof a.rnnBackward === 'function' ? (a as RnnAddon) : null;
  }
  return nativeRnn;
}

/** Testing: run the TypeScript recurrence even when the native one is available. */
export function setRecurrenceImplementation(which: 'auto' | 'typescript'): void {
  forceReference = which === 'typescript';
}

/** Which implementation `recurrence` uses now. */
export function recurrenceImplementation(): 'native' | 'typescript' {
  return rnnAddon() ? 'native' : 'typescript';
}

/** Floats of per-step state kept for backward, per batch row and step. */
function wsWidth(cell: RecurrentCell, units: number): number {
  // lstm: i f g o; gru: z r hh rh; simpleRnn: nothing beyond the output
  return cell === 'lstm' ? 4 * units : cell === 'gru' ? 4 * units : 0;
}

function maskBytes(mask: Tensor | null | undefined, batch: number, time: number, where: string): Uint8Array | null {
  if (!mask) return null;
  if (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== time) {
    throw new ShapeError(
      `${where} expected mask of shape [${batch}, ${time}] (batch, time), got ${fmtShape(mask.shape)}`,
    );
  }
  const d = mask.data;
  if (d instanceof Uint8Array) return d;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = d[i] !== 0 ? 1 : 0;
  return out;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** out[rows, n] (+)= a[rows, k] (row stride lda) @ w[k, n] */
function gemmRows(
  rows: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  w: Float32Array,
  out: Float32Array,
): void {
  for (let b = 0; b < rows; b++) {
    const o = b * n;
    for (let j = 0; j < n; j++) out[o + j] = 0;
    const ao = aOff + b * lda;
    for (let p = 0; p < k; p++) {
      const av = a[ao + p] as number;
      if (av === 0) continue;
      const wo = p * n;
      for (let j = 0; j < n; j++) out[o + j] = (out[o + j] as number) + av * (w[wo + j] as number);
    }
  }
}

interface Geom {
  cell: RecurrentCell;
  act: number;
  B: number;
  T: number;
  U: number;
}

/** TypeScript forward (the definition). out: [B, T, U] or, for the LSTM, [B, T, 2U] (h | c). */
function forwardTs(
  g: Geom,
  xp: Float32Array,
  R: Float32Array,
  h0: Float32Array,
  c0: Float32Array | null,
  brec: Float32Array | null,
  mask: Uint8Array | null,
  rmask: Float32Array | null,
  out: Float32Array,
  ws: Float32Array,
): void {
  const { cell, B, T, U } = g;
  const G = GATES[cell] * U;
  const OW = cell === 'lstm' ? 2 * U : U;
  const W = wsWidth(cell, U);
  const rec = new Float32Array(B * G);
  const hdrop = rmask ? new Float32Array(B * U) : null;
  const prevH = new Float32Array(B * U);
  prevH.set(h0);
  const prevC = new Float32Array(B * U);
  if (c0) prevC.set(c0);
  for (let t = 0; t < T; t++) {
    if (hdrop && rmask) {
      for (let i = 0; i < B * U; i++) hdrop[i] = (prevH[i] as number) * (rmask[i] as number);
      gemmRows(B, G, U, hdrop, 0, U, R, rec);
    } else gemmRows(B, G, U, prevH, 0, U, R, rec);
    for (let b = 0; b < B; b++) {
      const o = (b * T + t) * OW;
      const x = (b * T + t) * G;
      const w = (b * T + t) * W;
      const r0 = b * G;
      const hp = b * U;
      const on = mask?.[b * T + t] !== 0;
      if (!on) {
        for (let u = 0; u < U; u++) {
          out[o + u] = prevH[hp + u] as number;
          if (cell === 'lstm') out[o + U + u] = prevC[hp + u] as number;
        }
        if (W > 0) ws.fill(0, w, w + W);
        continue;
      }
      if (cell === 'lstm') {
        for (let u = 0; u < U; u++) {
          const i = sigmoid((xp[x + u] as number) + (rec[r0 + u] as number));
          const f = sigmoid((xp[x + U + u] as number) + (rec[r0 + U + u] as number));
          const gg = Math.tanh((xp[x + 2 * U + u] as number) + (rec[r0 + 2 * U + u] as number));
          const oo = sigmoid((xp[x + 3 * U + u] as number) + (rec[r0 + 3 * U + u] as number));
          const c = f * (prevC[hp + u] as number) + i * gg;
          const h = oo * Math.tanh(c);
          ws[w + u] = i;
          ws[w + U + u] = f;
          ws[w + 2 * U + u] = gg;
          ws[w + 3 * U + u] = oo;
          out[o + u] = h;
          out[o + U + u] = c;
          prevH[hp + u] = h;
          prevC[hp + u] = c;
        }
      } else if (cell === 'gru') {
        const bz = brec as Float32Array;
        for (let u = 0; u < U; u++) {
          const z = sigmoid((xp[x + u] as number) + (rec[r0 + u] as number) + (bz[u] as number));
          const r = sigmoid((xp[x + U + u] as number) + (rec[r0 + U + u] as number) + (bz[U + u] as number));
          const rh = (rec[r0 + 2 * U + u] as number) + (bz[2 * U + u] as number);
          const hh = Math.tanh((xp[x + 2 * U + u] as number) + r * rh);
          const h = z * (prevH[hp + u] as number) + (1 - z) * hh;
          ws[w + u] = z;
          ws[w + U + u] = r;
          ws[w + 2 * U + u] = hh;
          ws[w + 3 * U + u] = rh;
          out[o + u] = h;
        }
        for (let u = 0; u < U; u++) prevH[hp + u] = out[o + u] as number;
      } else {
        for (let u = 0; u < U; u++) {
          const v = (xp[x + u] as number) + (rec[r0 + u] as number);
          const h = g.act === 0 ? Math.tanh(v) : g.act === 1 ? Math.max(v, 0) : v;
          out[o + u] = h;
          prevH[hp + u] = h;
        }
      }
    }
  }
}

/** TypeScript backward through time. Fills dxp [B,T,G], drec (dL/d(recurrent GEMM output)) [B,T,G], dh0, dc0. */
function backwardTs(
  g: Geom,
  R: Float32Array,
  h0: Float32Array,
  c0: Float32Array | null,
  mask: Uint8Array | null,
  out: Float32Array,
  ws: Float32Array,
  dy: Float32Array,
  dxp: Float32Array,
  drec: Float32Array,
  dh0: Float32Array,
  dc0: Float32Array | null,
  rmask: Float32Array | null,
): void {
  const { cell, B, T, U } = g;
  const G = GATES[cell] * U;
  const OW = cell === 'lstm' ? 2 * U : U;
  const W = wsWidth(cell, U);
  const dh = new Float32Array(B * U); // dL/dh_t flowing back from step t+1
  const dc = new Float32Array(B * U);
  const dz = new Float32Array(G);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const o = (b * T + t) * OW;
      const x = (b * T + t) * G;
      const w = (b * T + t) * W;
      const hp = b * U;
      const on = mask?.[b * T + t] !== 0;
      // total gradient into h_t (and c_t)
      for (let u = 0; u < U; u++) {
        dh[hp + u] = (dh[hp + u] as number) + (dy[o + u] as number);
        if (cell === 'lstm') dc[hp + u] = (dc[hp + u] as number) + (dy[o + U + u] as number);
      }
      if (!on) {
        dxp.fill(0, x, x + G);
        drec.fill(0, x, x + G);
        continue; // dh, dc pass through unchanged to step t-1
      }
      const prevHAt = (u: number): number =>
        t > 0 ? (out[(b * T + t - 1) * OW + u] as number) : (h0[hp + u] as number);
      if (cell === 'lstm') {
        for (let u = 0; u < U; u++) {
          const i = ws[w + u] as number;
          const f = ws[w + U + u] as number;
          const gg = ws[w + 2 * U + u] as number;
          const oo = ws[w + 3 * U + u] as number;
          const c = out[o + U + u] as number;
          const cp = t > 0 ? (out[(b * T + t - 1) * OW + U + u] as number) : c0 ? (c0[hp + u] as number) : 0;
          const tc = Math.tanh(c);
          const dhv = dh[hp + u] as number;
          const dcv = (dc[hp + u] as number) + dhv * oo * (1 - tc * tc);
          dz[u] = dcv * gg * i * (1 - i);
          dz[U + u] = dcv * cp * f * (1 - f);
          dz[2 * U + u] = dcv * i * (1 - gg * gg);
          dz[3 * U + u] = dhv * tc * oo * (1 - oo);
          dc[hp + u] = dcv * f;
        }
        for (let j = 0; j < G; j++) {
          dxp[x + j] = dz[j] as number;
          drec[x + j] = dz[j] as number;
        }
        for (let u = 0; u < U; u++) dh[hp + u] = 0;
      } else if (cell === 'gru') {
        for (let u = 0; u < U; u++) {
          const z = ws[w + u] as number;
          const r = ws[w + U + u] as number;
          const hh = ws[w + 2 * U + u] as number;
          const rh = ws[w + 3 * U + u] as number;
          const dhv = dh[hp + u] as number;
          const dzv = dhv * (prevHAt(u) - hh);
          const dhhPre = dhv * (1 - z) * (1 - hh * hh);
          const dzp = dzv * z * (1 - z);
          const drp = dhhPre * rh * r * (1 - r);
          dxp[x + u] = dzp;
          dxp[x + U + u] = drp;
          dxp[x + 2 * U + u] = dhhPre;
          drec[x + u] = dzp;
          drec[x + U + u] = drp;
          drec[x + 2 * U + u] = dhhPre * r;
          dh[hp + u] = dhv * z; // direct path; the GEMM path is added below
        }
      } else {
        for (let u = 0; u < U; u++) {
          const h = out[o + u] as number;
          const d = dh[hp + u] as number;
          const dpre = g.act === 0 ? d * (1 - h * h) : g.act === 1 ? (h > 0 ? d : 0) : d;
          dxp[x + u] = dpre;
          drec[x + u] = dpre;
          dh[hp + u] = 0;
        }
      }
      // dh_{t-1} += drec_t @ R^T
      for (let p = 0; p < U; p++) {
        let s = 0;
        const ro = p * G;
        for (let j = 0; j < G; j++) s += (drec[x + j] as number) * (R[ro + j] as number);
        dh[hp + p] = (dh[hp + p] as number) + (rmask ? s * (rmask[hp + p] as number) : s);
      }
    }
  }
  dh0.set(dh);
  if (dc0) dc0.set(dc);
}

let geomBuf = new Float64Array(8);

/**
 * Runs a recurrent cell over a whole sequence in one op.
 *
 * - `xp`: the projected inputs [batch, time, G * units] (x @ kernel + bias; G = 4 LSTM, 3 GRU, 1 SimpleRNN).
 * - `recurrentKernel`: [units, G * units].
 * Returns the per-step outputs [batch, time, units]; for the LSTM [batch, time, 2 * units] holding
 * h in the first half of the last axis and the cell state c in the second.
 * Differentiable with respect to xp, recurrentKernel, the initial states and the GRU recurrent bias.
 *
 * @example
 * const xp = add(matmul(x.reshape([B * T, F]), kernel), bias).reshape([B, T, 4 * U]);
 * const hc = recurrence('lstm', xp, recurrentKernel); // [B, T, 2U]
 */
export function recurrence(
  cell: RecurrentCell,
  xp: Tensor,
  recurrentKernel: Tensor,
  options: RecurrenceOptions = {},
): Tensor {
  const where = `recurrence(${cell})`;
  if (!(cell in CELL_CODE)) {
    throw new ValueError(`recurrence expected cell 'lstm' | 'gru' | 'simpleRnn', got ${JSON.stringify(cell)}`);
  }
  if (xp.rank !== 3) {
    throw new ShapeError(`${where} expected xp of rank 3 [batch, time, gates * units], got ${fmtShape(xp.shape)}`);
  }
  const [B, T, Gx] = xp.shape as [number, number, number];
  if (recurrentKernel.rank !== 2) {
    throw new ShapeError(
      `${where} expected recurrentKernel of rank 2 [units, gates * units], got ${fmtShape(recurrentKernel.shape)}`,
    );
  }
  const U = recurrentKernel.shape[0] as number;
  const G = GATES[cell] * U;
  if (recurrentKernel.shape[1] !== G || Gx !== G) {
    throw new ShapeError(
      `${where} expected recurrentKernel [${U}, ${G}] and xp [batch, time, ${G}] for ${U} units, got ${fmtShape(recurrentKernel.shape)} and ${fmtShape(xp.shape)}`,
    );
  }
  if (xp.dtype !== 'float32' || recurrentKernel.dtype !== 'float32') {
    throw new ValueError(
      `${where} expected float32 xp and recurrentKernel, got ${xp.dtype} and ${recurrentKernel.dtype}`,
    );
  }
  const checkState = (s: Tensor | null | undefined, name: string): void => {
    if (s && (s.rank !== 2 || s.shape[0] !== B || s.shape[1] !== U)) {
      throw new ShapeError(`${where} expected ${name} of shape [${B}, ${U}] (batch, units), got ${fmtShape(s.shape)}`);
    }
  };
  checkState(options.initialH, 'initialH');
  checkState(options.initialC, 'initialC');
  if (options.initialC && cell !== 'lstm') throw new ValueError(`${where}: initialC is for the LSTM only`);
  const brecT = options.recurrentBias ?? null;
  if (cell === 'gru') {
    if (!brecT || brecT.size !== G) {
      throw new ShapeError(
        `${where} expected recurrentBias of ${G} values, got ${brecT ? fmtShape(brecT.shape) : 'none'}`,
      );
    }
  } else if (brecT) throw new ValueError(`${where}: recurrentBias is for the GRU only`);
  const activation = options.activation ?? 'tanh';
  if (!(activation in ACT_CODE)) {
    throw new ValueError(`${where} expected activation 'tanh' | 'relu' | 'linear', got ${JSON.stringify(activation)}`);
  }
  const mask = maskBytes(options.mask, B, T, where);
  const rmT = options.recurrentMask ?? null;
  if (rmT && (rmT.size !== B * U || rmT.dtype !== 'float32')) {
    throw new ShapeError(
      `${where} expected a float32 recurrentMask of shape [${B}, ${U}], got ${rmT.dtype} ${fmtShape(rmT.shape)}`,
    );
  }
  const rmask = rmT ? (rmT.data as Float32Array) : null;
  const g: Geom = { cell, act: ACT_CODE[activation], B, T, U };
  const OW = cell === 'lstm' ? 2 * U : U;
  const h0 = options.initialH ? (options.initialH.data as Float32Array) : new Float32Array(B * U);
  const c0 =
    cell === 'lstm' ? (options.initialC ? (options.initialC.data as Float32Array) : new Float32Array(B * U)) : null;
  const brec = brecT ? (brecT.data as Float32Array) : null;
  const out = Tensor.empty([B, T, OW], 'float32');
  const W = wsWidth(cell, U);
  const ws = Tensor.empty([Math.max(1, B * T * W)], 'float32');
  const native = rnnAddon();
  const geom = (): Float64Array => {
    if (geomBuf.length < 5) geomBuf = new Float64Array(8);
    geomBuf[0] = CELL_CODE[cell];
    geomBuf[1] = g.act;
    geomBuf[2] = B;
    geomBuf[3] = T;
    geomBuf[4] = U;
    return geomBuf;
  };
  const R = recurrentKernel.data as Float32Array;
  if (native) {
    native.rnnForward(
      geom(),
      xp.data as Float32Array,
      R,
      h0,
      c0,
      brec,
      mask,
      out.data as Float32Array,
      ws.data as Float32Array,
      rmask,
    );
  } else {
    forwardTs(
      g,
      xp.data as Float32Array,
      R,
      h0,
      c0,
      brec,
      mask,
      rmask,
      out.data as Float32Array,
      ws.data as Float32Array,
    );
  }
  const inputs: Tensor[] = [xp, recurrentKernel];
  const hT = options.initialH ?? null;
  const cT = options.initialC ?? null;
  if (hT) inputs.push(hT);
  if (cT) inputs.push(cT);
  if (brecT) inputs.push(brecT);
  return record(out, `recurrence_${cell}`, inputs, (dyT) => {
    const dy = dyT.data as Float32Array;
    const dxp = Tensor.empty([B, T, G], 'float32');
    const drec = Tensor.empty([B, T, G], 'float32');
    const dh0 = Tensor.empty([B, U], 'float32');
    const dc0 = cell === 'lstm' ? Tensor.empty([B, U], 'float32') : null;
    const a = rnnAddon();
    const od = out.data as Float32Array;
    const wd = ws.data as Float32Array;
    let dRNative: Tensor | null = null;
    if (a) {
      dRNative = recurrentKernel.requiresGrad ? Tensor.empty([U, G], 'float32') : null;
      a.rnnBackward(
        geom(),
        R,
        h0,
        c0,
        mask,
        od,
        wd,
        dy,
        dxp.data as Float32Array,
        drec.data as Float32Array,
        dh0.data as Float32Array,
        dc0 ? (dc0.data as Float32Array) : null,
        dRNative ? (dRNative.data as Float32Array) : null,
        rmask,
      );
    } else {
      backwardTs(
        g,
        R,
        h0,
        c0,
        mask,
        od,
        wd,
        dy,
        dxp.data as Float32Array,
        drec.data as Float32Array,
        dh0.data as Float32Array,
        dc0 ? (dc0.data as Float32Array) : null,
        rmask,
      );
    }
    const grads: (Tensor | null)[] = [xp.requiresGrad ? dxp : null, null];
    if (dRNative) grads[1] = dRNative;
    else if (recurrentKernel.requiresGrad) {
      // dR = Hprev^T @ drec over all B*T rows; Hprev(b, t) = h_{t-1} (h0 at t = 0)
      const dR = Tensor.empty([U, G], 'float32', true);
      const dRd = dR.data as Float32Array;
      const dr = drec.data as Float32Array;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const row = (b * T + t) * G;
          const hOff = t > 0 ? (b * T + t - 1) * OW : -1;
          for (let p = 0; p < U; p++) {
            const hv =
              (hOff >= 0 ? (od[hOff + p] as number) : (h0[b * U + p] as number)) *
              (rmask ? (rmask[b * U + p] as number) : 1);
            if (hv === 0) continue;
            const ro = p * G;
            for (let j = 0; j < G; j++) dRd[ro + j] = (dRd[ro + j] as number) + hv * (dr[row + j] as number);
          }
        }
      }
      grads[1] = dR;
    }
    if (hT) grads.push(hT.requiresGrad ? dh0 : null);
    if (cT) grads.push(cT.requiresGrad ? dc0 : null);
    if (brecT) {
      if (brecT.requiresGrad) {
        const db = Tensor.empty(brecT.shape, 'float32', true);
        const dbd = db.data as Float32Array;
        const dr = drec.data as Float32Array;
        for (let r = 0; r < B * T; r++)
          for (let j = 0; j < G; j++) dbd[j] = (dbd[j] as number) + (dr[r * G + j] as number);
        grads.push(db);
      } else grads.push(null);
    }
    return grads;
  });
}

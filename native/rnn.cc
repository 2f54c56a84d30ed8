// Fused recurrent kernels (LSTM, GRU with reset_after, SimpleRNN) over a whole sequence, forward
// and backward through time, one native call each. The caller (src/ops/rnn.ts) has already done
// the input projection for all steps as one GEMM; here each step is the recurrent GEMM
// (h_{t-1} [B,U] @ R [U,G]) followed by the fused gate math, and backward runs the steps in
// reverse with dh_{t-1} += drec_t @ R^T, then dR = Hprev^T @ drec as one GEMM over all B*T rows.
// Semantics are those of the TypeScript definition in src/ops/rnn.ts (same layouts, same masking).
// Registered on the addon's exports by tsr_register_rnn (called from addon.cc's module init).
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common.h"

namespace {

using tsr::ArgError;

struct RArr {
  float* f = nullptr;
  uint8_t* u8 = nullptr;
  size_t len = 0;
};

RArr get(napi_env env, napi_value v, bool u8, bool nullable, const char* what) {
  RArr a;
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  if (vt == napi_null || vt == napi_undefined) {
    if (!nullable) throw ArgError(std::string("rnn: ") + what + " is required");
    return a;
  }
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) throw ArgError(std::string("rnn: ") + what + " must be a typed array");
  napi_typedarray_type type;
  void* data;
  napi_value ab;
  size_t off;
  napi_get_typedarray_info(env, v, &type, &a.len, &data, &ab, &off);
  if (u8) {
    if (type != napi_uint8_array) throw ArgError(std::string("rnn: ") + what + " must be a Uint8Array");
    a.u8 = static_cast<uint8_t*>(data);
  } else {
    if (type != napi_float32_array) throw ArgError(std::string("rnn: ") + what + " must be a Float32Array");
    a.f = static_cast<float*>(data);
  }
  if (a.len > 0 && data == nullptr) throw ArgError(std::string("rnn: ") + what + " is detached");
  return a;
}

void need(const RArr& a, int64_t n, const char* what) {
  if ((a.f || a.u8) && int64_t(a.len) < n)
    throw ArgError(std::string("rnn: ") + what + " has length " + std::to_string(a.len) + ", needs " +
                   std::to_string(n));
}

struct Geom {
  int cell, act;
  int64_t B, T, U;
};

Geom get_geom(napi_env env, napi_value v) {
  RArr g;
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) throw ArgError("rnn: geom must be a Float64Array");
  napi_typedarray_type type;
  void* data;
  napi_value ab;
  size_t off, len;
  napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off);
  if (type != napi_float64_array || len < 5) throw ArgError("rnn: geom must be a Float64Array of 5");
  const double* d = static_cast<const double*>(data);
  for (int i = 0; i < 5; i++)
    if (!(d[i] >= 0 && d[i] < 1e9) || d[i] != std::floor(d[i])) throw ArgError("rnn: bad geometry");
  Geom G{int(d[0]), int(d[1]), int64_t(d[2]), int64_t(d[3]), int64_t(d[4])};
  if (G.cell > 2 || G.act > 2) throw ArgError("rnn: unknown cell or activation code");
  return G;
}

// Own per-thread buffers: tsr::scratch slots 0-2 are used by the GEMM and conv kernels.
float* buf(int slot, size_t floats) {
  thread_local std::vector<float> bufs[6];
  std::vector<float>& v = bufs[slot];
  if (v.size() < floats) v.resize(floats);
  return v.data();
}


// ---- small GEMM for the per-step products -----------------------------------------------------
// C[i, j] (+)= sum_p A[i*lda + p] * W[p*N + j] for rows [0, M): W contiguous [K, N]. The recurrent
// GEMMs are small (B x U times U x G) and run T times, so instead of the packed general GEMM
// (which repacks W every call) this uses register-blocked AVX-512 tiles of 4 rows x 64 columns
// reading W in place, and the general GEMM elsewhere.
#if defined(__x86_64__)
bool has_avx512() {
  static const bool v = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return v;
}

template <int RB, int CB>
__attribute__((target("avx512f"))) inline void tile512(int64_t K, const float* A, int64_t lda, const float* W, int64_t N,
                                                       float* C, int64_t ldc, bool acc) {
  __m512 c[RB][CB];
  for (int r = 0; r < RB; r++)
    for (int q = 0; q < CB; q++) c[r][q] = acc ? _mm512_loadu_ps(C + r * ldc + 16 * q) : _mm512_setzero_ps();
  for (int64_t p = 0; p < K; p++) {
    __m512 w[CB];
    for (int q = 0; q < CB; q++) w[q] = _mm512_loadu_ps(W + p * N + 16 * q);
    for (int r = 0; r < RB; r++) {
      __m512 a = _mm512_set1_ps(A[r * lda + p]);
      for (int q = 0; q < CB; q++) c[r][q] = _mm512_fmadd_ps(a, w[q], c[r][q]);
    }
  }
  for (int r = 0; r < RB; r++)
    for (int q = 0; q < CB; q++) _mm512_storeu_ps(C + r * ldc + 16 * q, c[r][q]);
}

template <int RB>
__attribute__((target("avx512f"))) void rows512(int64_t N, int64_t K, const float* A, int64_t lda, const float* W,
                                                float* C, int64_t ldc, bool acc) {
  int64_t j = 0;
  for (; j + 64 <= N; j += 64) tile512<RB, 4>(K, A, lda, W + j, N, C + j, ldc, acc);
  for (; j + 16 <= N; j += 16) tile512<RB, 1>(K, A, lda, W + j, N, C + j, ldc, acc);
}

#endif

void small_gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* W, float* C, int64_t ldc,
                bool acc) {
  if (M <= 0) return;
#if defined(__x86_64__)
  if (has_avx512() && N % 16 == 0) {
    int64_t i = 0;
    for (; i + 4 <= M; i += 4) rows512<4>(N, K, A + i * lda, lda, W, C + i * ldc, ldc, acc);
    for (; i < M; i++) rows512<1>(N, K, A + i * lda, lda, W, C + i * ldc, ldc, acc);
    return;
  }
#endif
  // Portable path (and x86 without AVX-512): the serial general GEMM.
  tsr::gemm_serial(M, N, K, A, lda, 1, W, N, 1, C, ldc, acc);
}

// Splits the batch rows across the pool (blocks of 4 rows) when a step has enough work.
template <class F>
void over_rows(int64_t B, int64_t work, F&& f) {
  if (work < (int64_t(1) << 17) || tsr::num_threads() <= 1 || B < 8) {
    f(int64_t(0), B);
    return;
  }
  tsr::parallel_range(B, 8, 4, f);
}

inline int gates(int cell) { return cell == 0 ? 4 : cell == 1 ? 3 : 1; }
inline int ws_width(int cell) { return cell == 2 ? 0 : 4; }

// Vectorisable activations (|err| ~1e-7 relative), so gate loops compile to SIMD.
inline float fexp(float x) {
  // Clamp to [-87, 88] and floor without float comparisons: under the default trapping-math GCC
  // will not if-convert them, and these loops must vectorise.
  x = 0.5f * (x - 87.f + std::fabs(x + 87.f));
  x = 0.5f * (x + 88.f - std::fabs(x - 88.f));
  float t = x * 1.44269504088896341f;
  int32_t k = int32_t(t + 128.f) - 128;  // floor, for t > -128
  float f = t - float(k);
  // 2^f on [0,1): degree-6 polynomial
  float p = 1.535336188319500e-4f;
  p = p * f + 1.339887440266574e-3f;
  p = p * f + 9.618437357674640e-3f;
  p = p * f + 5.550332471162809e-2f;
  p = p * f + 2.402264791363012e-1f;
  p = p * f + 6.931472028550421e-1f;
  p = p * f + 1.0f;
  int32_t bits = (k + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}
inline float fsigmoid(float x) { return 1.f / (1.f + fexp(-x)); }
inline float ftanh(float x) {
  // tanh x = 1 - 2 / (exp(2x) + 1); exact enough for |x| small through the exp polynomial
  float e = fexp(2.f * x);
  return 1.f - 2.f / (e + 1.f);
}


// ---- per-row gate math, compiled for AVX-512 / AVX2 / baseline (ifunc dispatch) ------------------
#if defined(__x86_64__)
#define TSR_CLONES __attribute__((target_clones("avx512f", "avx2,fma", "default")))
#else
#define TSR_CLONES
#endif

// (several simple loops rather than one: GCC vectorises these, not the fused one)
TSR_CLONES void lstm_fwd_row(int64_t U, const float* __restrict x, const float* __restrict r, const float* __restrict cprev, float* __restrict w, float* __restrict o) {
  for (int64_t j = 0; j < 2 * U; j++) w[j] = fsigmoid(x[j] + r[j]);
  for (int64_t j = 2 * U; j < 3 * U; j++) w[j] = ftanh(x[j] + r[j]);
  for (int64_t j = 3 * U; j < 4 * U; j++) w[j] = fsigmoid(x[j] + r[j]);
  for (int64_t u = 0; u < U; u++) {
    float c = w[U + u] * cprev[u] + w[u] * w[2 * U + u];
    o[U + u] = c;
    o[u] = w[3 * U + u] * ftanh(c);
  }
}

TSR_CLONES void gru_fwd_row(int64_t U, const float* __restrict x, const float* __restrict r, const float* __restrict brec, const float* __restrict hprev, float* __restrict w,
                            float* __restrict o) {
  for (int64_t u = 0; u < U; u++) {
    float z = fsigmoid(x[u] + r[u] + brec[u]);
    float rr = fsigmoid(x[U + u] + r[U + u] + brec[U + u]);
    float rh = r[2 * U + u] + brec[2 * U + u];
    float hh = ftanh(x[2 * U + u] + rr * rh);
    w[u] = z;
    w[U + u] = rr;
    w[2 * U + u] = hh;
    w[3 * U + u] = rh;
    o[u] = z * hprev[u] + (1.f - z) * hh;
  }
}

TSR_CLONES void simple_fwd_row(int64_t U, int act, const float* __restrict x, const float* __restrict r, float* __restrict o) {
  if (act == 0)
    for (int64_t u = 0; u < U; u++) o[u] = ftanh(x[u] + r[u]);
  else if (act == 1)
    for (int64_t u = 0; u < U; u++) {
      float v = x[u] + r[u];
      o[u] = v > 0.f ? v : 0.f;
    }
  else
    for (int64_t u = 0; u < U; u++) o[u] = x[u] + r[u];
}

TSR_CLONES void lstm_bwd_row(int64_t U, const float* __restrict w, const float* __restrict c,
                             const float* __restrict cprev, float* __restrict dhb, float* __restrict dcb,
                             float* __restrict dx, float* __restrict dr) {
  // dc_t = dc + dh * o * (1 - tanh(c)^2), kept in dcb; do first into dx[3U..] (tanh(c) stays there)
  for (int64_t u = 0; u < U; u++) {
    float tc = ftanh(c[u]);
    float oo = w[3 * U + u];
    float dhv = dhb[u];
    dcb[u] += dhv * oo * (1.f - tc * tc);
    dx[3 * U + u] = dhv * tc * oo * (1.f - oo);
  }
  for (int64_t u = 0; u < U; u++) {
    float i = w[u], gg = w[2 * U + u], dcv = dcb[u];
    dx[u] = dcv * gg * i * (1.f - i);
    dx[2 * U + u] = dcv * i * (1.f - gg * gg);
  }
  for (int64_t u = 0; u < U; u++) {
    float f = w[U + u], dcv = dcb[u];
    dx[U + u] = dcv * cprev[u] * f * (1.f - f);
    dcb[u] = dcv * f;
    dhb[u] = 0.f;
  }
  std::memcpy(dr, dx, size_t(4 * U) * 4);
}

TSR_CLONES void gru_bwd_row(int64_t U, const float* __restrict w, const float* __restrict hprev, float* __restrict dhb, float* __restrict dx, float* __restrict dr) {
  for (int64_t u = 0; u < U; u++) {
    float z = w[u], r = w[U + u], hh = w[2 * U + u], rh = w[3 * U + u];
    float dhv = dhb[u];
    float dzp = dhv * (hprev[u] - hh) * z * (1.f - z);
    float dhh = dhv * (1.f - z) * (1.f - hh * hh);
    float drp = dhh * rh * r * (1.f - r);
    dx[u] = dzp;
    dr[u] = dzp;
    dx[U + u] = drp;
    dr[U + u] = drp;
    dx[2 * U + u] = dhh;
    dr[2 * U + u] = dhh * r;
    dhb[u] = dhv * z;
  }
}

TSR_CLONES void simple_bwd_row(int64_t U, int act, const float* __restrict o, float* __restrict dhb, float* __restrict dx, float* __restrict dr) {
  for (int64_t u = 0; u < U; u++) {
    float h = o[u], dv = dhb[u];
    float dp = act == 0 ? dv * (1.f - h * h) : act == 1 ? (h > 0.f ? dv : 0.f) : dv;
    dx[u] = dp;
    dr[u] = dp;
    dhb[u] = 0.f;
  }
}

void forward(const Geom& g, const float* xp, const float* R, const float* h0, const float* c0, const float* brec,
             const uint8_t* mask, const float* rmask, float* out, float* ws) {
  const int64_t B = g.B, T = g.T, U = g.U, G = gates(g.cell) * U, OW = g.cell == 0 ? 2 * U : U,
                W = ws_width(g.cell) * U;
  float* rec = buf(0, size_t(B * G));
  float* zeros = buf(1, size_t(U));
  std::memset(zeros, 0, size_t(U) * 4);
  float* hdrop = rmask ? buf(2, size_t(B * U)) : nullptr;
  for (int64_t t = 0; t < T; t++) {
    const float* hp = t > 0 ? out + (t - 1) * OW : h0;
    const int64_t hs = t > 0 ? T * OW : U;
    over_rows(B, B * G * U, [&](int64_t b0, int64_t b1) {
      if (rmask) {
        // recurrent dropout: the GEMM reads h_{t-1} * mask (the direct GRU path keeps h_{t-1})
        for (int64_t b = b0; b < b1; b++)
          for (int64_t u = 0; u < U; u++) hdrop[b * U + u] = hp[b * hs + u] * rmask[b * U + u];
        small_gemm(b1 - b0, G, U, hdrop + b0 * U, U, R, rec + b0 * G, G, false);
      } else {
        small_gemm(b1 - b0, G, U, hp + b0 * hs, hs, R, rec + b0 * G, G, false);
      }
      for (int64_t b = b0; b < b1; b++) {
        float* o = out + (b * T + t) * OW;
        const float* x = xp + (b * T + t) * G;
        float* w = ws + (b * T + t) * W;
        const float* r = rec + b * G;
        const float* hprev = t > 0 ? out + (b * T + t - 1) * OW : h0 + b * U;
        const float* cprev = t > 0 ? out + (b * T + t - 1) * OW + U : (c0 ? c0 + b * U : nullptr);
        if (mask && !mask[b * T + t]) {
          std::memcpy(o, hprev, size_t(U) * 4);
          if (g.cell == 0) {
            if (cprev)
              std::memcpy(o + U, cprev, size_t(U) * 4);
            else
              std::memset(o + U, 0, size_t(U) * 4);
          }
          if (W) std::memset(w, 0, size_t(W) * 4);
          continue;
        }
        if (g.cell == 0)
          lstm_fwd_row(U, x, r, cprev ? cprev : zeros, w, o);
        else if (g.cell == 1)
          gru_fwd_row(U, x, r, brec, hprev, w, o);
        else
          simple_fwd_row(U, g.act, x, r, o);
      }
    });
  }
}

void backward(const Geom& g, const float* R, const float* h0, const float* c0, const uint8_t* mask, const float* out,
              const float* ws, const float* dy, float* dxp, float* drec, float* dh0, float* dc0, float* dR,
              const float* rmask) {
  const int64_t B = g.B, T = g.T, U = g.U, G = gates(g.cell) * U, OW = g.cell == 0 ? 2 * U : U,
                W = ws_width(g.cell) * U;
  float* dh = buf(1, size_t(B * U));
  float* dc = buf(2, size_t(B * U));
  std::memset(dh, 0, size_t(B * U) * 4);
  std::memset(dc, 0, size_t(B * U) * 4);
  // R^T [G, U] once, so dh += drec_t @ R^T reads it row-major
  float* RT = buf(0, size_t(G * U));
  float* zeros = buf(3, size_t(U));
  std::memset(zeros, 0, size_t(U) * 4);
  float* tmp = rmask ? buf(4, size_t(B * U)) : nullptr;
  for (int64_t p = 0; p < U; p++)
    for (int64_t j = 0; j < G; j++) RT[j * U + p] = R[p * G + j];
  for (int64_t t = T - 1; t >= 0; t--) {
    over_rows(B, B * G * U, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; b++) {
        const float* o = out + (b * T + t) * OW;
        const float* d = dy + (b * T + t) * OW;
        const float* w = ws + (b * T + t) * W;
        float* dx = dxp + (b * T + t) * G;
        float* dr = drec + (b * T + t) * G;
        float* dhb = dh + b * U;
        float* dcb = dc + b * U;
        for (int64_t u = 0; u < U; u++) dhb[u] += d[u];
        if (g.cell == 0)
          for (int64_t u = 0; u < U; u++) dcb[u] += d[U + u];
        if (mask && !mask[b * T + t]) {
          std::memset(dx, 0, size_t(G) * 4);
          std::memset(dr, 0, size_t(G) * 4);
          continue;
        }
        const float* hprev = t > 0 ? out + (b * T + t - 1) * OW : h0 + b * U;
        if (g.cell == 0) {
          const float* cprev = t > 0 ? out + (b * T + t - 1) * OW + U : (c0 ? c0 + b * U : zeros);
          lstm_bwd_row(U, w, o + U, cprev, dhb, dcb, dx, dr);
        } else if (g.cell == 1) {
          gru_bwd_row(U, w, hprev, dhb, dx, dr);
        } else {
          simple_bwd_row(U, g.act, o, dhb, dx, dr);
        }
      }
      // dh += drec_t @ R^T for these rows (A rows stride T*G), times the recurrent dropout mask
      if (rmask) {
        small_gemm(b1 - b0, U, G, drec + (b0 * T + t) * G, T * G, RT, tmp + b0 * U, U, false);
        for (int64_t b = b0; b < b1; b++)
          for (int64_t u = 0; u < U; u++) dh[b * U + u] += tmp[b * U + u] * rmask[b * U + u];
      } else {
        small_gemm(b1 - b0, U, G, drec + (b0 * T + t) * G, T * G, RT, dh + b0 * U, U, true);
      }
    });
  }
  std::memcpy(dh0, dh, size_t(B * U) * 4);
  if (dc0) std::memcpy(dc0, dc, size_t(B * U) * 4);
  if (dR) {
    // Hprev [B*T, U] contiguous, then dR = Hprev^T @ drec in one GEMM over all rows
    float* hprev = buf(3, size_t(B * T * U));
    for (int64_t b = 0; b < B; b++)
      for (int64_t t = 0; t < T; t++) {
        const float* src = t > 0 ? out + (b * T + t - 1) * OW : h0 + b * U;
        float* dst = hprev + (b * T + t) * U;
        if (rmask)
          for (int64_t u = 0; u < U; u++) dst[u] = src[u] * rmask[b * U + u];
        else
          std::memcpy(dst, src, size_t(U) * 4);
      }
    tsr::gemm(U, G, B * T, hprev, 1, U, drec, G, 1, dR, G, false);
  }
}

napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

template <class F>
napi_value guarded(napi_env env, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    napi_throw_error(env, "ERR_TESSERA_NATIVE", e.what());
  }
  return nullptr;
}

// rnnForward(geom, xp, R, h0, c0|null, brec|null, mask|null, out, ws[, rmask|null])
napi_value RnnForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[10];
    size_t argc = 10;
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    if (argc < 9) throw ArgError("rnnForward: expected 9 arguments");
    Geom g = get_geom(env, argv[0]);
    const int64_t G = gates(g.cell) * g.U, OW = g.cell == 0 ? 2 * g.U : g.U;
    RArr xp = get(env, argv[1], false, false, "xp"), R = get(env, argv[2], false, false, "R"),
         h0 = get(env, argv[3], false, false, "h0"), c0 = get(env, argv[4], false, true, "c0"),
         br = get(env, argv[5], false, true, "brec"), mk = get(env, argv[6], true, true, "mask"),
         out = get(env, argv[7], false, false, "out"), ws = get(env, argv[8], false, false, "ws");
    need(xp, g.B * g.T * G, "xp");
    need(R, g.U * G, "R");
    need(h0, g.B * g.U, "h0");
    need(c0, g.B * g.U, "c0");
    need(mk, g.B * g.T, "mask");
    need(out, g.B * g.T * OW, "out");
    need(ws, g.B * g.T * ws_width(g.cell) * g.U, "ws");
    RArr rm;
    if (argc >= 10) rm = get(env, argv[9], false, true, "rmask");
    need(rm, g.B * g.U, "rmask");
    if (g.cell == 1) {
      if (!br.f) throw ArgError("rnnForward: the GRU needs brec");
      need(br, G, "brec");
    }
    forward(g, xp.f, R.f, h0.f, c0.f, br.f, mk.u8, rm.f, out.f, ws.f);
    return undef(env);
  });
}

// rnnBackward(geom, R, h0, c0|null, mask|null, out, ws, dy, dxp, drec, dh0, dc0|null, dR|null[, rmask|null])
napi_value RnnBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    napi_value argv[14];
    size_t argc = 14;
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    if (argc < 12) throw ArgError("rnnBackward: expected 13 arguments");
    Geom g = get_geom(env, argv[0]);
    const int64_t G = gates(g.cell) * g.U, OW = g.cell == 0 ? 2 * g.U : g.U, BT = g.B * g.T;
    RArr R = get(env, argv[1], false, false, "R"), h0 = get(env, argv[2], false, false, "h0"),
         c0 = get(env, argv[3], false, true, "c0"), mk = get(env, argv[4], true, true, "mask"),
         out = get(env, argv[5], false, false, "out"), ws = get(env, argv[6], false, false, "ws"),
         dy = get(env, argv[7], false, false, "dy"), dxp = get(env, argv[8], false, false, "dxp"),
         drec = get(env, argv[9], false, false, "drec"), dh0 = get(env, argv[10], false, false, "dh0"),
         dc0 = get(env, argv[11], false, true, "dc0");
    RArr dR, rm;
    if (argc >= 13) dR = get(env, argv[12], false, true, "dR");
    if (argc >= 14) rm = get(env, argv[13], false, true, "rmask");
    need(rm, g.B * g.U, "rmask");
    need(R, g.U * G, "R");
    need(h0, g.B * g.U, "h0");
    need(c0, g.B * g.U, "c0");
    need(mk, BT, "mask");
    need(out, BT * OW, "out");
    need(ws, BT * ws_width(g.cell) * g.U, "ws");
    need(dy, BT * OW, "dy");
    need(dxp, BT * G, "dxp");
    need(drec, BT * G, "drec");
    need(dh0, g.B * g.U, "dh0");
    need(dc0, g.B * g.U, "dc0");
    need(dR, g.U * G, "dR");
    backward(g, R.f, h0.f, c0.f, mk.u8, out.f, ws.f, dy.f, dxp.f, drec.f, dh0.f, dc0.f, dR.f, rm.f);
    return undef(env);
  });
}

}  // namespace

void tsr_register_rnn(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "rnnForward", NAPI_AUTO_LENGTH, RnnForward, nullptr, &fn);
  napi_set_named_property(env, exports, "rnnForward", fn);
  napi_create_function(env, "rnnBackward", NAPI_AUTO_LENGTH, RnnBackward, nullptr, &fn);
  napi_set_named_property(env, exports, "rnnBackward", fn);
}

// Convolutions (im2col + packed GEMM), depthwise convolutions and pooling over NHWC.
// Work is split statically over images (or output rows), so a given thread count always
// produces bit-identical results; filter gradients sum per-thread partials in thread order.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tsr {
namespace {

bool is_pointwise(const ConvGeom& g) {
  return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PT == 0 && g.PL == 0 && g.OH == g.H && g.OW == g.W;
}

// rows of col for images [n0, n1): col[r, (ky*KW+kx)*C + c] = x[n, iy, ix, c] (0 outside)
void im2col(const float* x, float* col, int64_t n0, int64_t n1, const ConvGeom& g) {
  const int64_t K = g.KH * g.KW * g.C, C = g.C;
  float* dst = col;
  for (int64_t n = n0; n < n1; n++) {
    const float* xn = x + n * g.H * g.W * C;
    for (int64_t oy = 0; oy < g.OH; oy++) {
      for (int64_t ox = 0; ox < g.OW; ox++, dst += K) {
        const int64_t ix0 = ox * g.SW - g.PL;
        const bool rowInside = ix0 >= 0 && ix0 + (g.KW - 1) * g.DW < g.W;
        for (int64_t ky = 0; ky < g.KH; ky++) {
          float* d = dst + ky * g.KW * C;
          const int64_t iy = oy * g.SH - g.PT + ky * g.DH;
          if (iy < 0 || iy >= g.H) {
            std::memset(d, 0, sizeof(float) * g.KW * C);
            continue;
          }
          const float* xr = xn + iy * g.W * C;
          if (rowInside && g.DW == 1) {
            std::memcpy(d, xr + ix0 * C, sizeof(float) * g.KW * C);
            continue;
          }
          for (int64_t kx = 0; kx < g.KW; kx++, d += C) {
            const int64_t ix = ix0 + kx * g.DW;
            if (ix < 0 || ix >= g.W) {
              for (int64_t c = 0; c < C; c++) d[c] = 0.f;
            } else {
              const float* s = xr + ix * C;
              for (int64_t c = 0; c < C; c++) d[c] = s[c];
            }
          }
        }
      }
    }
  }
}

// dx[n] for images [n0, n1) = col2im(dcol) (dx zeroed first)
void col2im(const float* dcol, float* dx, int64_t n0, int64_t n1, const ConvGeom& g) {
  const int64_t K = g.KH * g.KW * g.C, C = g.C;
  std::memset(dx + n0 * g.H * g.W * C, 0, sizeof(float) * (n1 - n0) * g.H * g.W * C);
  const float* src = dcol;
  for (int64_t n = n0; n < n1; n++) {
    float* dn = dx + n * g.H * g.W * C;
    for (int64_t oy = 0; oy < g.OH; oy++) {
      for (int64_t ox = 0; ox < g.OW; ox++, src += K) {
        const int64_t ix0 = ox * g.SW - g.PL;
        const bool rowInside = g.DW == 1 && ix0 >= 0 && ix0 + g.KW - 1 < g.W;
        for (int64_t ky = 0; ky < g.KH; ky++) {
          const int64_t iy = oy * g.SH - g.PT + ky * g.DH;
          if (iy < 0 || iy >= g.H) continue;
          const float* s = src + ky * g.KW * C;
          float* dr = dn + iy * g.W * C;
          if (rowInside) {  // the kW taps of this row are one contiguous run of dx
            float* d = dr + ix0 * C;
            const int64_t len = g.KW * C;
            for (int64_t i = 0; i < len; i++) d[i] += s[i];
            continue;
          }
          for (int64_t kx = 0; kx < g.KW; kx++, s += C) {
            const int64_t ix = ix0 + kx * g.DW;
            if (ix < 0 || ix >= g.W) continue;
            float* d = dr + ix * C;
            for (int64_t c = 0; c < C; c++) d[c] += s[c];
          }
        }
      }
    }
  }
}

// images per GEMM chunk: enough rows to keep the micro-kernel busy, bounded col size
int64_t chunk_images(const ConvGeom& g) {
  const int64_t rowsPer = std::max<int64_t>(1, g.OH * g.OW);
  const int64_t K = std::max<int64_t>(1, g.KH * g.KW * g.C);
  int64_t imgs = std::max<int64_t>(1, (512 + rowsPer - 1) / rowsPer);
  const int64_t cap = std::max<int64_t>(1, (int64_t(1) << 20) / (rowsPer * K));
  return std::max<int64_t>(1, std::min(imgs, cap));
}

// Splits images over threads; f(t, n0, n1) per thread. With fewer images than threads, returns
// false so the caller can parallelise inside the GEMM instead.
// Tasks are a few per thread (taken dynamically by the pool) so one descheduled thread does not
// hold everyone up; the split depends only on N and the thread count, never on timing.
constexpr int kTasksPerThread = 3;
int image_tasks(int64_t N) {
  const int T = num_threads();
  return int(std::max<int64_t>(1, std::min<int64_t>(int64_t(T) * kTasksPerThread, N)));
}
template <class F>
bool over_images(int64_t N, F&& f) {
  const int T = num_threads();
  if (T > 1 && N < T) return false;
  const int tasks = T > 1 ? image_tasks(N) : 1;
  parallel_tasks(tasks, [&](int t) { f(t, N * t / tasks, N * (t + 1) / tasks); });
  return true;
}

// ---- single-input-channel convolutions (the first layer of an image model), direct ----------
// With C == 1, im2col + GEMM spends its time on packing a K = kH*kW sliver; instead keep the
// filter taps (or their gradient accumulators) in vector registers and stream the pixels.
#if defined(__x86_64__)
struct V512 {
  using T = __m512;
  static constexpr int W = 16;
};
struct V256 {
  using T = __m256;
  static constexpr int W = 8;
};
#define TSR_VEC_OPS(ATTR, V, TY, LOAD, STORE, SET1, ZERO, FMA, ADD) \
  ATTR static inline TY vload(V, const float* p) { return LOAD(p); } \
  ATTR static inline void vstore(V, float* p, TY v) { STORE(p, v); } \
  ATTR static inline TY vset1(V, float f) { return SET1(f); } \
  ATTR static inline TY vzero(V) { return ZERO(); } \
  ATTR static inline TY vfma(V, TY a, TY b, TY c) { return FMA(a, b, c); } \
  ATTR static inline TY vadd(V, TY a, TY b) { return ADD(a, b); }
TSR_VEC_OPS(__attribute__((target("avx512f"))), V512, __m512, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps,
            _mm512_setzero_ps, _mm512_fmadd_ps, _mm512_add_ps)
TSR_VEC_OPS(__attribute__((target("avx2,fma"))), V256, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps,
            _mm256_setzero_ps, _mm256_fmadd_ps, _mm256_add_ps)
#undef TSR_VEC_OPS

constexpr int kMaxTaps = 9;

// The taps' weights of output channels [oc0, oc0 + V::W * NB), one vector per tap and block.
template <class V, int NB>
inline void c1_load_taps(const float* w, const ConvGeom& g, int64_t oc0, typename V::T (*wv)[NB]) {
  const int taps = int(g.KH * g.KW);
  for (int t = 0; t < taps; t++)
    for (int b = 0; b < NB; b++) wv[t][b] = vload(V(), w + t * g.OC + oc0 + b * V::W);
}

// acc += one conv pixel whose window (first input row iy0, column ix0) may leave the image: the
// taps in order, an outside one as 0 * w.
template <class V, int NB>
inline void c1_edge_pixel(const float* xn, const typename V::T (*wv)[NB], const ConvGeom& g, int64_t iy0, int64_t ix0,
                          typename V::T* acc) {
  int t = 0;
  for (int64_t ky = 0; ky < g.KH; ky++) {
    const int64_t iy = iy0 + ky * g.DH;
    for (int64_t kx = 0; kx < g.KW; kx++, t++) {
      const int64_t ix = ix0 + kx * g.DW;
      const float xf = (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) ? xn[iy * g.W + ix] : 0.f;
      const typename V::T xv = vset1(V(), xf);
      for (int b = 0; b < NB; b++) acc[b] = vfma(V(), xv, wv[t][b], acc[b]);
    }
  }
}

// out rows u in [u0, u1) of (n, oy); OC a multiple of V::W * NB
template <class V, int NB>
inline void c1_fwd_rows(const float* x, const float* w, float* out, const ConvGeom& g, int64_t u0, int64_t u1) {
  using T = typename V::T;
  const int64_t OC = g.OC;
  for (int64_t oc0 = 0; oc0 < OC; oc0 += V::W * NB) {
    T wv[kMaxTaps][NB];
    c1_load_taps<V, NB>(w, g, oc0, wv);
    for (int64_t u = u0; u < u1; u++) {
      const int64_t n = u / g.OH, oy = u % g.OH;
      const float* xn = x + n * g.H * g.W;
      float* orow = out + (n * g.OH + oy) * g.OW * OC + oc0;
      const int64_t iy0 = oy * g.SH - g.PT;
      const bool yIn = iy0 >= 0 && iy0 + (g.KH - 1) * g.DH < g.H;
      constexpr int PX = 4;  // pixels at a time: independent FMA chains hide the FMA latency
      for (int64_t ox = 0; ox < g.OW;) {
        const int64_t ix0 = ox * g.SW - g.PL;
        if (yIn && ox + PX <= g.OW && ix0 >= 0 && (ox + PX - 1) * g.SW - g.PL + (g.KW - 1) * g.DW < g.W) {
          T acc[PX][NB];
          for (int q = 0; q < PX; q++)
            for (int b = 0; b < NB; b++) acc[q][b] = vzero(V());
          int t = 0;
          for (int64_t ky = 0; ky < g.KH; ky++) {
            const float* xr = xn + (iy0 + ky * g.DH) * g.W + ix0;
            for (int64_t kx = 0; kx < g.KW; kx++, t++) {
              const float* xs = xr + kx * g.DW;
              for (int q = 0; q < PX; q++) {
                const T xv = vset1(V(), xs[q * g.SW]);
                for (int b = 0; b < NB; b++) acc[q][b] = vfma(V(), xv, wv[t][b], acc[q][b]);
              }
            }
          }
          for (int q = 0; q < PX; q++)
            for (int b = 0; b < NB; b++) vstore(V(), orow + (ox + q) * OC + b * V::W, acc[q][b]);
          ox += PX;
          continue;
        }
        T acc[NB];
        for (int b = 0; b < NB; b++) acc[b] = vzero(V());
        if (yIn && ix0 >= 0 && ix0 + (g.KW - 1) * g.DW < g.W) {
          int t = 0;
          for (int64_t ky = 0; ky < g.KH; ky++) {
            const float* xr = xn + (iy0 + ky * g.DH) * g.W + ix0;
            for (int64_t kx = 0; kx < g.KW; kx++, t++) {
              const T xv = vset1(V(), xr[kx * g.DW]);
              for (int b = 0; b < NB; b++) acc[b] = vfma(V(), xv, wv[t][b], acc[b]);
            }
          }
        } else {
          c1_edge_pixel<V, NB>(xn, wv, g, iy0, ix0, acc);
        }
        for (int b = 0; b < NB; b++) vstore(V(), orow + ox * OC + b * V::W, acc[b]);
        ox++;
      }
    }
  }
}

// dw partial (taps x OC) += over images [n0, n1)
template <class V, int NB>
inline void c1_dw_images(const float* x, const float* dy, float* part, const ConvGeom& g, int64_t n0, int64_t n1) {
  using T = typename V::T;
  const int taps = int(g.KH * g.KW);
  const int64_t OC = g.OC;
  for (int64_t oc0 = 0; oc0 < OC; oc0 += V::W * NB) {
    T acc[kMaxTaps][NB];
    for (int t = 0; t < taps; t++)
      for (int b = 0; b < NB; b++) acc[t][b] = vzero(V());
    for (int64_t n = n0; n < n1; n++) {
      const float* xn = x + n * g.H * g.W;
      for (int64_t oy = 0; oy < g.OH; oy++) {
        const int64_t iy0 = oy * g.SH - g.PT;
        const bool yIn = iy0 >= 0 && iy0 + (g.KH - 1) * g.DH < g.H;
        const float* drow = dy + (n * g.OH + oy) * g.OW * OC + oc0;
        for (int64_t ox = 0; ox < g.OW; ox++) {
          const int64_t ix0 = ox * g.SW - g.PL;
          T d[NB];
          for (int b = 0; b < NB; b++) d[b] = vload(V(), drow + ox * OC + b * V::W);
          if (yIn && ix0 >= 0 && ix0 + (g.KW - 1) * g.DW < g.W) {
            int t = 0;
            for (int64_t ky = 0; ky < g.KH; ky++) {
              const float* xr = xn + (iy0 + ky * g.DH) * g.W + ix0;
              for (int64_t kx = 0; kx < g.KW; kx++, t++) {
                const T xv = vset1(V(), xr[kx * g.DW]);
                for (int b = 0; b < NB; b++) acc[t][b] = vfma(V(), xv, d[b], acc[t][b]);
              }
            }
          } else {
            int t = 0;
            for (int64_t ky = 0; ky < g.KH; ky++) {
              const int64_t iy = iy0 + ky * g.DH;
              for (int64_t kx = 0; kx < g.KW; kx++, t++) {
                const int64_t ix = ix0 + kx * g.DW;
                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                const T xv = vset1(V(), xn[iy * g.W + ix]);
                for (int b = 0; b < NB; b++) acc[t][b] = vfma(V(), xv, d[b], acc[t][b]);
              }
            }
          }
        }
      }
    }
    for (int t = 0; t < taps; t++)
      for (int b = 0; b < NB; b++) vstore(V(), part + t * OC + oc0 + b * V::W, acc[t][b]);
  }
}

__attribute__((target("avx512f"), flatten)) void c1_fwd_512(const float* x, const float* w, float* out, const ConvGeom& g,
                                                     int64_t u0, int64_t u1) {
  if (g.OC % 32 == 0) c1_fwd_rows<V512, 2>(x, w, out, g, u0, u1);
  else c1_fwd_rows<V512, 1>(x, w, out, g, u0, u1);
}
__attribute__((target("avx2,fma"), flatten)) void c1_fwd_256(const float* x, const float* w, float* out, const ConvGeom& g,
                                                      int64_t u0, int64_t u1) {
  if (g.OC % 16 == 0) c1_fwd_rows<V256, 2>(x, w, out, g, u0, u1);
  else c1_fwd_rows<V256, 1>(x, w, out, g, u0, u1);
}
__attribute__((target("avx512f"), flatten)) void c1_dw_512(const float* x, const float* dy, float* part, const ConvGeom& g,
                                                    int64_t n0, int64_t n1) {
  if (g.OC % 32 == 0) c1_dw_images<V512, 2>(x, dy, part, g, n0, n1);
  else c1_dw_images<V512, 1>(x, dy, part, g, n0, n1);
}
__attribute__((target("avx2,fma"), flatten)) void c1_dw_256(const float* x, const float* dy, float* part, const ConvGeom& g,
                                                     int64_t n0, int64_t n1) {
  if (g.OC % 16 == 0) c1_dw_images<V256, 2>(x, dy, part, g, n0, n1);
  else c1_dw_images<V256, 1>(x, dy, part, g, n0, n1);
}
#endif

// 0: not applicable, 2: AVX2 path, 3: AVX-512 path
int c1_direct_level(const ConvGeom& g) {
#if defined(__x86_64__)
  if (g.C != 1 || g.KH * g.KW > kMaxTaps || g.KH * g.KW == 0 || g.OC == 0) return 0;
  const int lvl = gemm_isa_level();
  if (lvl == 3 && g.OC % 16 == 0) return 3;
  if (lvl >= 2 && g.OC % 8 == 0) return 2;
#else
  (void)g;
#endif
  return 0;
}

// The convolution of images [c0, c1) into out (image c0 at out[0]): im2col (none for a pointwise
// convolution) and one GEMM, split over the pool when parallelGemm.
void direct_chunk(const float* x, const float* w, float* out, const ConvGeom& g, int64_t c0, int64_t c1,
                  bool parallelGemm) {
  const int64_t K = g.KH * g.KW * g.C, rows = (c1 - c0) * g.OH * g.OW;
  const float* A;
  if (is_pointwise(g)) {
    A = x + c0 * g.H * g.W * g.C;
  } else {
    float* col = scratch(2, size_t(rows * K));
    im2col(x, col, c0, c1, g);
    A = col;
  }
  if (parallelGemm)
    gemm(rows, g.OC, K, A, K, 1, w, g.OC, 1, out, g.OC, false);
  else
    gemm_serial(rows, g.OC, K, A, K, 1, w, g.OC, 1, out, g.OC, false);
}

}  // namespace

void conv2d_f32(const float* x, const float* w, float* out, const ConvGeom& g) {
  const int64_t rowsPer = g.OH * g.OW;
  if (g.N == 0 || rowsPer == 0 || g.OC == 0) return;
#if defined(__x86_64__)
  if (const int lvl = c1_direct_level(g)) {
    parallel_range(g.N * g.OH, 8, 1, [&](int64_t u0, int64_t u1) {
      if (lvl == 3)
        c1_fwd_512(x, w, out, g, u0, u1);
      else
        c1_fwd_256(x, w, out, g, u0, u1);
    });
    return;
  }
#endif
  const int64_t chunk = chunk_images(g);
  auto body = [&](int64_t n0, int64_t n1, bool parallelGemm) {
    for (int64_t c0 = n0; c0 < n1; c0 += chunk)
      direct_chunk(x, w, out + c0 * rowsPer * g.OC, g, c0, std::min(n1, c0 + chunk), parallelGemm);
  };
  if (!over_images(g.N, [&](int, int64_t n0, int64_t n1) { body(n0, n1, false); })) body(0, g.N, true);
}

void conv2d_dx_f32(const float* dy, const float* w, float* dx, const ConvGeom& g) {
  const int64_t K = g.KH * g.KW * g.C, rowsPer = g.OH * g.OW;
  if (g.N == 0) return;
  const int64_t imgX = g.H * g.W * g.C;
  if (rowsPer == 0 || g.OC == 0) {
    std::memset(dx, 0, sizeof(float) * g.N * imgX);
    return;
  }
  const bool pw = is_pointwise(g);
  const int64_t chunk = chunk_images(g);
  auto body = [&](int64_t n0, int64_t n1, bool parallelGemm) {
    for (int64_t c0 = n0; c0 < n1; c0 += chunk) {
      const int64_t c1 = std::min(n1, c0 + chunk), rows = (c1 - c0) * rowsPer;
      const float* dyc = dy + c0 * rowsPer * g.OC;
      float* dst = pw ? dx + c0 * imgX : scratch(2, size_t(rows * K));
      // dcol[rows, K] = dy[rows, OC] x w^T, w^T(oc, kk) = w[kk*OC + oc]
      if (parallelGemm)
        gemm(rows, K, g.OC, dyc, g.OC, 1, w, 1, g.OC, dst, K, false);
      else
        gemm_serial(rows, K, g.OC, dyc, g.OC, 1, w, 1, g.OC, dst, K, false);
      if (!pw) col2im(dst, dx, c0, c1, g);
    }
  };
  if (!over_images(g.N, [&](int, int64_t n0, int64_t n1) { body(n0, n1, false); })) body(0, g.N, true);
}

void conv2d_dw_f32(const float* x, const float* dy, float* dw, const ConvGeom& g) {
  const int64_t K = g.KH * g.KW * g.C, rowsPer = g.OH * g.OW, wsz = K * g.OC;
  if (wsz == 0) return;
  if (g.N == 0 || rowsPer == 0) {
    std::memset(dw, 0, sizeof(float) * wsz);
    return;
  }
#if defined(__x86_64__)
  if (const int lvl = c1_direct_level(g)) {
    const int tasks = num_threads() > 1 ? image_tasks(g.N) : 1;
    std::vector<float> partials(size_t(tasks - 1) * wsz);
    parallel_tasks(tasks, [&](int t) {
      float* part = t == 0 ? dw : partials.data() + size_t(t - 1) * wsz;
      const int64_t n0 = g.N * t / tasks, n1 = g.N * (t + 1) / tasks;
      if (lvl == 3)
        c1_dw_512(x, dy, part, g, n0, n1);
      else
        c1_dw_256(x, dy, part, g, n0, n1);
    });
    for (int t = 1; t < tasks; t++) {
      const float* p = partials.data() + size_t(t - 1) * wsz;
      for (int64_t i = 0; i < wsz; i++) dw[i] += p[i];
    }
    return;
  }
#endif
  const bool pw = is_pointwise(g);
  const int64_t chunk = chunk_images(g);
  // dw (+)= col^T [K, rows] x dy [rows, OC]
  auto body = [&](float* part, int64_t n0, int64_t n1, bool parallelGemm) {
    bool first = true;
    for (int64_t c0 = n0; c0 < n1; c0 += chunk) {
      const int64_t c1 = std::min(n1, c0 + chunk), rows = (c1 - c0) * rowsPer;
      const float* A;
      if (pw) {
        A = x + c0 * g.H * g.W * g.C;
      } else {
        float* col = scratch(2, size_t(rows * K));
        im2col(x, col, c0, c1, g);
        A = col;
      }
      const float* dyc = dy + c0 * rowsPer * g.OC;
      if (parallelGemm)
        gemm(K, g.OC, rows, A, 1, K, dyc, g.OC, 1, part, g.OC, !first);
      else
        gemm_serial(K, g.OC, rows, A, 1, K, dyc, g.OC, 1, part, g.OC, !first);
      first = false;
    }
    if (first) std::memset(part, 0, sizeof(float) * wsz);
  };
  const int T = num_threads();
  if (T > 1 && g.N >= T) {
    const int tasks = image_tasks(g.N);
    std::vector<float> partials(size_t(tasks - 1) * wsz);
    over_images(g.N, [&](int t, int64_t n0, int64_t n1) {
      body(t == 0 ? dw : partials.data() + size_t(t - 1) * wsz, n0, n1, false);
    });
    for (int t = 1; t < tasks; t++) {
      const float* p = partials.data() + size_t(t - 1) * wsz;
      for (int64_t i = 0; i < wsz; i++) dw[i] += p[i];
    }
  } else {
    body(dw, 0, g.N, T > 1);
  }
}

// ---- depthwise ------------------------------------------------------------------------------------
void dw_conv2d_f32(const float* x, const float* w, float* out, const ConvGeom& g) {
  const int64_t C = g.C, M = g.M, OC = g.OC;
  const int64_t units = g.N * g.OH;
  parallel_range(units, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, g.OW * OC * g.KH * g.KW)), 1,
                 [&](int64_t u0, int64_t u1) {
                   for (int64_t u = u0; u < u1; u++) {
                     const int64_t n = u / g.OH, oy = u % g.OH;
                     for (int64_t ox = 0; ox < g.OW; ox++) {
                       float* o = out + ((n * g.OH + oy) * g.OW + ox) * OC;
                       for (int64_t q = 0; q < OC; q++) o[q] = 0.f;
                       for (int64_t ky = 0; ky < g.KH; ky++) {
                         const int64_t iy = oy * g.SH - g.PT + ky * g.DH;
                         if (iy < 0 || iy >= g.H) continue;
                         for (int64_t kx = 0; kx < g.KW; kx++) {
                           const int64_t ix = ox * g.SW - g.PL + kx * g.DW;
                           if (ix < 0 || ix >= g.W) continue;
                           const float* xs = x + ((n * g.H + iy) * g.W + ix) * C;
                           const float* ws = w + (ky * g.KW + kx) * OC;
                           if (M == 1) {
                             for (int64_t c = 0; c < C; c++) o[c] += xs[c] * ws[c];
                           } else {
                             for (int64_t c = 0; c < C; c++) {
                               const float xv = xs[c];
                               for (int64_t m = 0; m < M; m++) o[c * M + m] += xv * ws[c * M + m];
                             }
                           }
                         }
                       }
                     }
                   }
                 });
}

void dw_conv2d_dx_f32(const float* dy, const float* w, float* dx, const ConvGeom& g) {
  const int64_t C = g.C, M = g.M, OC = g.OC, imgX = g.H * g.W * C;
  parallel_range(g.N, 1, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      float* dn = dx + n * imgX;
      std::memset(dn, 0, sizeof(float) * imgX);
      for (int64_t oy = 0; oy < g.OH; oy++) {
        for (int64_t ox = 0; ox < g.OW; ox++) {
          const float* d = dy + ((n * g.OH + oy) * g.OW + ox) * OC;
          for (int64_t ky = 0; ky < g.KH; ky++) {
            const int64_t iy = oy * g.SH - g.PT + ky * g.DH;
            if (iy < 0 || iy >= g.H) continue;
            for (int64_t kx = 0; kx < g.KW; kx++) {
              const int64_t ix = ox * g.SW - g.PL + kx * g.DW;
              if (ix < 0 || ix >= g.W) continue;
              float* xs = dn + (iy * g.W + ix) * C;
              const float* ws = w + (ky * g.KW + kx) * OC;
              if (M == 1) {
                for (int64_t c = 0; c < C; c++) xs[c] += d[c] * ws[c];
              } else {
                for (int64_t c = 0; c < C; c++) {
                  float s = 0.f;
                  for (int64_t m = 0; m < M; m++) s += d[c * M + m] * ws[c * M + m];
                  xs[c] += s;
                }
              }
            }
          }
        }
      }
    }
  });
}

void dw_conv2d_dw_f32(const float* x, const float* dy, float* dw, const ConvGeom& g) {
  const int64_t C = g.C, M = g.M, OC = g.OC, wsz = g.KH * g.KW * OC;
  if (wsz == 0) return;
  const int tasks = num_threads() > 1 ? image_tasks(g.N) : 1;
  std::vector<float> partials(size_t(tasks - 1) * wsz);
  parallel_tasks(tasks, [&](int t) {
    float* part = t == 0 ? dw : partials.data() + size_t(t - 1) * wsz;
    std::memset(part, 0, sizeof(float) * wsz);
    const int64_t n0 = g.N * t / tasks, n1 = g.N * (t + 1) / tasks;
    for (int64_t n = n0; n < n1; n++) {
      for (int64_t oy = 0; oy < g.OH; oy++) {
        for (int64_t ox = 0; ox < g.OW; ox++) {
          const float* d = dy + ((n * g.OH + oy) * g.OW + ox) * OC;
          for (int64_t ky = 0; ky < g.KH; ky++) {
            const int64_t iy = oy * g.SH - g.PT + ky * g.DH;
            if (iy < 0 || iy >= g.H) continue;
            for (int64_t kx = 0; kx < g.KW; kx++) {
              const int64_t ix = ox * g.SW - g.PL + kx * g.DW;
              if (ix < 0 || ix >= g.W) continue;
              const float* xs = x + ((n * g.H + iy) * g.W + ix) * C;
              float* ws = part + (ky * g.KW + kx) * OC;
              if (M == 1) {
                for (int64_t c = 0; c < C; c++) ws[c] += xs[c] * d[c];
              } else {
                for (int64_t c = 0; c < C; c++) {
                  const float xv = xs[c];
                  for (int64_t m = 0; m < M; m++) ws[c * M + m] += xv * d[c * M + m];
                }
              }
            }
          }
        }
      }
    }
  });
  for (int t = 1; t < tasks; t++) {
    const float* p = partials.data() + size_t(t - 1) * wsz;
    for (int64_t i = 0; i < wsz; i++) dw[i] += p[i];
  }
}

// ---- pooling --------------------------------------------------------------------------------------
// The input rows [y0, y1) / columns [x0, x1) of output row oy / column ox, clipped to the input:
// padding cells never take part.
struct Span {
  int64_t lo, hi;
};
inline Span pool_rows(const PoolGeom& g, int64_t oy) {
  return {std::max<int64_t>(oy * g.SH - g.PT, 0), std::min<int64_t>(oy * g.SH - g.PT + g.PH, g.H)};
}
inline Span pool_cols(const PoolGeom& g, int64_t ox) {
  return {std::max<int64_t>(ox * g.SW - g.PL, 0), std::min<int64_t>(ox * g.SW - g.PL + g.PW, g.W)};
}

// One output row of windows, recording the flat index of each first max (training); NaN wins
// (and then stays), like reduce max. Without argmax, pooling runs as pool_epi below.
inline void maxpool_row(const float* x, float* out, int32_t* argmax, const PoolGeom& g, int64_t u) {
  const int64_t C = g.C;
  const int64_t n = u / g.OH, oy = u % g.OH;
  const auto [y0, y1] = pool_rows(g, oy);
  for (int64_t ox = 0; ox < g.OW; ox++) {
    const auto [x0, x1] = pool_cols(g, ox);
    const int64_t oOff = ((n * g.OH + oy) * g.OW + ox) * C;
    float* o = out + oOff;
    int32_t* am = argmax + oOff;
    if (y0 >= y1 || x0 >= x1) {
      for (int64_t c = 0; c < C; c++) {
        o[c] = 0.f;
        am[c] = -1;
      }
      continue;
    }
    {
      const int64_t off = ((n * g.H + y0) * g.W + x0) * C;
      for (int64_t c = 0; c < C; c++) {
        o[c] = x[off + c];
        am[c] = int32_t(off + c);
      }
    }
    for (int64_t iy = y0; iy < y1; iy++) {
      for (int64_t ix = (iy == y0 ? x0 + 1 : x0); ix < x1; ix++) {
        const int64_t off = ((n * g.H + iy) * g.W + ix) * C;
        const float* __restrict xs = x + off;
        float* __restrict ob = o;
        int32_t* __restrict ab = am;
        const int32_t base = int32_t(off);
        // Branchless so it vectorises: random data makes a branch here mispredict half the time.
        for (int64_t c = 0; c < C; c++) {
          const float v = xs[c], best = ob[c];
          const bool take = (best == best) & ((v > best) | (v != v));
          ob[c] = take ? v : best;
          ab[c] = take ? base + int32_t(c) : ab[c];
        }
      }
    }
  }
}

namespace {
// (defined with the fused kernels below) images of y [H, W, C] -> act(maxpool + bias) [OH, OW, C]
void pool_epi(const float* y, float* out, const float* bias, const PoolGeom& p, int64_t images, bool relu);
}  // namespace

// argmax may be null (inference: no backward will need it): then the vectorised pooling of the
// fused inference kernels, which gives the same values.
void maxpool_f32(const float* x, float* out, int32_t* argmax, const PoolGeom& g) {
  if (!argmax) {
    const int64_t imgX = g.H * g.W * g.C, imgY = g.OH * g.OW * g.C;
    parallel_range(g.N, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, imgY * g.PH * g.PW)), 1,
                   [&](int64_t n0, int64_t n1) { pool_epi(x + n0 * imgX, out + n0 * imgY, nullptr, g, n1 - n0, false); });
    return;
  }
  parallel_range(g.N * g.OH, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.OW * g.C * g.PH * g.PW)), 1,
                 [&](int64_t u0, int64_t u1) {
                   for (int64_t u = u0; u < u1; u++) maxpool_row(x, out, argmax, g, u);
                 });
}

bool maxpool_bwd_f32(const float* dy, const int32_t* argmax, float* dx, const PoolGeom& g, int64_t dxLen) {
  const int64_t imgX = g.H * g.W * g.C, imgY = g.OH * g.OW * g.C;
  const int64_t outLen = g.N * imgY;
  int tasks = int(std::max<int64_t>(1, std::min<int64_t>(num_threads(), g.N)));
  if (outLen < 4096) tasks = 1;
  if (dxLen > g.N * imgX) std::memset(dx + g.N * imgX, 0, sizeof(float) * size_t(dxLen - g.N * imgX));
  std::vector<char> bad(size_t(tasks), 0), foreign(size_t(tasks), 0);
  parallel_tasks(tasks, [&](int t) {
    const int64_t n0 = g.N * t / tasks, n1 = g.N * (t + 1) / tasks;
    const int64_t lo = n0 * imgX, hi = n1 * imgX;
    std::memset(dx + lo, 0, sizeof(float) * (hi - lo));
    for (int64_t i = n0 * imgY; i < n1 * imgY; i++) {
      const int64_t a = argmax[i];
      if (a < 0) {
        if (a != -1) bad[size_t(t)] = 1;
        continue;
      }
      if (a >= lo && a < hi) {
        dx[a] += dy[i];
      } else if (a < dxLen) {
        foreign[size_t(t)] = 1;
      } else {
        bad[size_t(t)] = 1;
      }
    }
  });
  bool anyForeign = false;
  for (int t = 0; t < tasks; t++) {
    if (bad[size_t(t)]) return false;
    anyForeign = anyForeign || foreign[size_t(t)];
  }
  if (anyForeign) {  // an argmax pointing into another image: redo serially, in order
    std::memset(dx, 0, sizeof(float) * g.N * imgX);
    for (int64_t i = 0; i < outLen; i++)
      if (argmax[i] >= 0) dx[argmax[i]] += dy[i];
  }
  return true;
}

void avgpool_f32(const float* x, float* out, const PoolGeom& g) {
  const int64_t C = g.C;
  parallel_range(g.N * g.OH, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.OW * C * g.PH * g.PW)), 1,
                 [&](int64_t u0, int64_t u1) {
                   std::vector<double> acc(static_cast<size_t>(C));
                   for (int64_t u = u0; u < u1; u++) {
                     const int64_t n = u / g.OH, oy = u % g.OH;
                     const auto [y0, y1] = pool_rows(g, oy);
                     for (int64_t ox = 0; ox < g.OW; ox++) {
                       const auto [x0, x1] = pool_cols(g, ox);
                       const int64_t count = std::max<int64_t>(y1 - y0, 0) * std::max<int64_t>(x1 - x0, 0);
                       std::fill(acc.begin(), acc.end(), 0.0);
                       for (int64_t iy = y0; iy < y1; iy++)
                         for (int64_t ix = x0; ix < x1; ix++) {
                           const float* xs = x + ((n * g.H + iy) * g.W + ix) * C;
                           for (int64_t c = 0; c < C; c++) acc[size_t(c)] += xs[c];
                         }
                       float* o = out + ((n * g.OH + oy) * g.OW + ox) * C;
                       for (int64_t c = 0; c < C; c++) o[c] = count > 0 ? float(acc[size_t(c)] / double(count)) : 0.f;
                     }
                   }
                 });
}

void avgpool_bwd_f32(const float* dy, float* dx, const PoolGeom& g) {
  const int64_t C = g.C, imgX = g.H * g.W * C;
  parallel_range(g.N, 1, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      float* dn = dx + n * imgX;
      std::memset(dn, 0, sizeof(float) * imgX);
      for (int64_t oy = 0; oy < g.OH; oy++) {
        const auto [y0, y1] = pool_rows(g, oy);
        for (int64_t ox = 0; ox < g.OW; ox++) {
          const auto [x0, x1] = pool_cols(g, ox);
          const int64_t count = std::max<int64_t>(y1 - y0, 0) * std::max<int64_t>(x1 - x0, 0);
          if (count == 0) continue;
          const float* d = dy + ((n * g.OH + oy) * g.OW + ox) * C;
          for (int64_t iy = y0; iy < y1; iy++)
            for (int64_t ix = x0; ix < x1; ix++) {
              float* xs = dn + (iy * g.W + ix) * C;
              for (int64_t c = 0; c < C; c++) xs[c] += float(double(d[c]) / double(count));
            }
        }
      }
    }
  });
}


// ---- fused inference: conv -> max-pool -> bias + activation ---------------------------------------
// The Sequential rewrite Conv2D(relu|linear) + MaxPooling2D (src/model/conv-pool.ts) runs conv, then
// pool, then bias + activation, which is exact (a monotone per-channel epilogue commutes with max).
// With no backward to follow, this does the three in one pass per chunk of images: each chunk's
// conv output stays in a per-thread buffer (cache-resident) instead of a tensor the size of the
// whole batch, and pooling, bias and relu run as one vectorised sweep. Every value goes through
// the same operations, in the same order, as the three separate kernels, so the results are
// bit-identical to them (and a row's bits still do not depend on the batch it came in).
namespace {

// Per output pixel and channel: act(max over the window cells of y (+ bias[c])); NaN wins, as in
// maxpool_row (a NaN maximum stays; a NaN cell replaces a number), and relu keeps NaN and maps
// -0 to +0, as in bias_act_f32. The vector paths use compares and blends, so they agree with the
// scalar ones bit for bit.
struct ScalarLane {
  static inline float pick(float v, float best) {
    const bool take = (best == best) & ((v > best) | (v != v));
    return take ? v : best;
  }
  static inline float relu(float v) { return v != v ? v : (v > 0 ? v : 0.f); }
};

template <bool kBias, bool kRelu>
inline void pool_channels_scalar(const float* y, float* o, const float* bias, const PoolGeom& p, Span rows, Span cols,
                                 int64_t c0, int64_t c1) {
  const int64_t C = p.C;
  for (int64_t c = c0; c < c1; c++) {
    float m = 0.f;
    if (rows.lo < rows.hi && cols.lo < cols.hi) {
      m = y[(rows.lo * p.W + cols.lo) * C + c];
      for (int64_t iy = rows.lo; iy < rows.hi; iy++)
        for (int64_t ix = (iy == rows.lo ? cols.lo + 1 : cols.lo); ix < cols.hi; ix++)
          m = ScalarLane::pick(y[(iy * p.W + ix) * C + c], m);
    }
    const float v = kBias ? m + bias[c] : m;
    o[c] = kRelu ? ScalarLane::relu(v) : v;
  }
}

// One float at a time (portable builds, and channel tails), with the vector lanes' interface.
struct Lanes1 {
  using T = float;
  static constexpr int W = 1;
  static inline T load(const float* q) { return *q; }
  static inline void store(float* q, T v) { *q = v; }
  static inline T add(T a, T b) { return a + b; }
  static inline T sub(T a, T b) { return a - b; }
  static inline T mul(T a, T b) { return a * b; }
  static inline T set1(float f) { return f; }
};

#if defined(__x86_64__)
struct Lanes512 {
  using T = __m512;
  static constexpr int W = 16;
  __attribute__((target("avx512f"))) static inline T load(const float* q) { return _mm512_loadu_ps(q); }
  __attribute__((target("avx512f"))) static inline void store(float* q, T v) { _mm512_storeu_ps(q, v); }
  __attribute__((target("avx512f"))) static inline T zero() { return _mm512_setzero_ps(); }
  __attribute__((target("avx512f"))) static inline T add(T a, T b) { return _mm512_add_ps(a, b); }
  __attribute__((target("avx512f"))) static inline T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  __attribute__((target("avx512f"))) static inline T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  __attribute__((target("avx512f"))) static inline T set1(float f) { return _mm512_set1_ps(f); }
  __attribute__((target("avx512f"))) static inline T pick(T v, T best) {
    const __mmask16 take = _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q) &
                           (_mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q));
    return _mm512_mask_blend_ps(take, best, v);
  }
  __attribute__((target("avx512f"))) static inline T relu(T v) {
    const __mmask16 keep = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_maskz_mov_ps(keep, v);
  }
};
struct Lanes256 {
  using T = __m256;
  static constexpr int W = 8;
  __attribute__((target("avx2,fma"))) static inline T load(const float* q) { return _mm256_loadu_ps(q); }
  __attribute__((target("avx2,fma"))) static inline void store(float* q, T v) { _mm256_storeu_ps(q, v); }
  __attribute__((target("avx2,fma"))) static inline T zero() { return _mm256_setzero_ps(); }
  __attribute__((target("avx2,fma"))) static inline T add(T a, T b) { return _mm256_add_ps(a, b); }
  __attribute__((target("avx2,fma"))) static inline T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  __attribute__((target("avx2,fma"))) static inline T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  __attribute__((target("avx2,fma"))) static inline T set1(float f) { return _mm256_set1_ps(f); }
  __attribute__((target("avx2,fma"))) static inline T pick(T v, T best) {
    const __m256 take = _mm256_and_ps(_mm256_cmp_ps(best, best, _CMP_ORD_Q),
                                      _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    return _mm256_blendv_ps(best, v, take);
  }
  __attribute__((target("avx2,fma"))) static inline T relu(T v) {
    const __m256 keep = _mm256_or_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return _mm256_and_ps(keep, v);
  }
};

// One image of conv output y [H, W, C] -> out [OH, OW, C], W lanes of channels at a time.
template <class L, bool kBias, bool kRelu>
inline void pool_epilogue_vec(const float* y, float* out, const float* bias, const PoolGeom& p) {
  using T = typename L::T;
  const int64_t C = p.C, CV = C / L::W * L::W;
  for (int64_t oy = 0; oy < p.OH; oy++) {
    const Span rows = pool_rows(p, oy);
    for (int64_t ox = 0; ox < p.OW; ox++) {
      const Span cols = pool_cols(p, ox);
      float* o = out + (oy * p.OW + ox) * C;
      const bool empty = rows.lo >= rows.hi || cols.lo >= cols.hi;
      const float* first = y + (rows.lo * p.W + cols.lo) * C;
      for (int64_t c = 0; c < CV; c += L::W) {
        T m = L::zero();
        if (!empty) {
          m = L::load(first + c);
          for (int64_t iy = rows.lo; iy < rows.hi; iy++)
            for (int64_t ix = (iy == rows.lo ? cols.lo + 1 : cols.lo); ix < cols.hi; ix++)
              m = L::pick(L::load(y + (iy * p.W + ix) * C + c), m);
        }
        if (kBias) m = L::add(m, L::load(bias + c));
        if (kRelu) m = L::relu(m);
        L::store(o + c, m);
      }
      if (CV < C) pool_channels_scalar<kBias, kRelu>(y, o, bias, p, rows, cols, CV, C);
    }
  }
}
#endif

template <bool kBias, bool kRelu>
inline void pool_epilogue_generic(const float* y, float* out, const float* bias, const PoolGeom& p) {
  for (int64_t oy = 0; oy < p.OH; oy++) {
    const Span rows = pool_rows(p, oy);
    for (int64_t ox = 0; ox < p.OW; ox++)
      pool_channels_scalar<kBias, kRelu>(y, out + (oy * p.OW + ox) * p.C, bias, p, rows, pool_cols(p, ox), 0, p.C);
  }
}

#define TSR_POOL_EPI(NAME, ATTR, BODY)                                                                          \
  ATTR void NAME(const float* y, float* out, const float* bias, const PoolGeom& p, int64_t images, bool relu) { \
    const int64_t yImg = p.H * p.W * p.C, oImg = p.OH * p.OW * p.C;                                             \
    for (int64_t i = 0; i < images; i++) {                                                                      \
      const float* yi = y + i * yImg;                                                                           \
      float* oi = out + i * oImg;                                                                               \
      if (bias) {                                                                                               \
        if (relu)                                                                                               \
          BODY(true, true);                                                                                     \
        else                                                                                                    \
          BODY(true, false);                                                                                    \
      } else if (relu) {                                                                                        \
        BODY(false, true);                                                                                      \
      } else {                                                                                                  \
        BODY(false, false);                                                                                     \
      }                                                                                                         \
    }                                                                                                           \
  }
#define TSR_GENERIC_BODY(B, R) pool_epilogue_generic<B, R>(yi, oi, bias, p)
TSR_POOL_EPI(pool_epi_generic, , TSR_GENERIC_BODY)
#if defined(__x86_64__)
#define TSR_512_BODY(B, R) pool_epilogue_vec<Lanes512, B, R>(yi, oi, bias, p)
#define TSR_256_BODY(B, R) pool_epilogue_vec<Lanes256, B, R>(yi, oi, bias, p)
TSR_POOL_EPI(pool_epi_512, __attribute__((target("avx512f"), flatten)), TSR_512_BODY)
TSR_POOL_EPI(pool_epi_256, __attribute__((target("avx2,fma"), flatten)), TSR_256_BODY)
#undef TSR_512_BODY
#undef TSR_256_BODY
#endif
#undef TSR_GENERIC_BODY
#undef TSR_POOL_EPI

#if defined(__x86_64__)
// The first layer's case, a 1-channel image into a 2x2 / stride-2 max-pool, in one pass: each pooled
// pixel's four conv pixels are summed in registers with c1_fwd_rows's arithmetic (a pixel's taps in
// order, from zero; out-of-image taps as 0 * w), picked in pool_epilogue_vec's order (the window's
// top-left first, then row-major), biased and relu'd, so the bits are the two kernels'. The conv
// output never goes through memory, and conv pixels no window reads are not computed.
template <class V, class L, int NB, bool kBias, bool kRelu, int K3 = 0>
inline void c1_pool2_image(const float* xn, const float* w, const float* bias, float* out, const ConvGeom& g,
                           const PoolGeom& p) {
  using T = typename V::T;
  const int64_t OC = g.OC;
  for (int64_t oc0 = 0; oc0 < OC; oc0 += V::W * NB) {
    T wv[kMaxTaps][NB];
    c1_load_taps<V, NB>(w, g, oc0, wv);
    for (int64_t py = 0; py < p.OH; py++) {
      const int64_t iy0 = 2 * py * g.SH - g.PT;  // first input row of the window's top conv row
      const bool yIn = iy0 >= 0 && iy0 + g.SH + (g.KH - 1) * g.DH < g.H;
      for (int64_t px = 0; px < p.OW; px++) {
        const int64_t ix0 = 2 * px * g.SW - g.PL;
        T acc[4][NB];
        for (int q = 0; q < 4; q++)
          for (int b = 0; b < NB; b++) acc[q][b] = vzero(V());
        if (yIn && ix0 >= 0 && ix0 + g.SW + (g.KW - 1) * g.DW < g.W) {
          // All four conv pixels inside the image: eight independent FMA chains.
          const float* xq[4] = {xn + iy0 * g.W + ix0, xn + iy0 * g.W + ix0 + g.SW, xn + (iy0 + g.SH) * g.W + ix0,
                                xn + (iy0 + g.SH) * g.W + ix0 + g.SW};
          // K3: a 3x3 undilated kernel known at compile time, so the taps' loop unrolls and the
          // weights stay in registers (the same operations in the same order).
          const int64_t KH = K3 ? 3 : g.KH, KW = K3 ? 3 : g.KW, DH = K3 ? 1 : g.DH, DW = K3 ? 1 : g.DW;
          int t = 0;
#pragma GCC unroll 3
          for (int64_t ky = 0; ky < KH; ky++)
#pragma GCC unroll 3
            for (int64_t kx = 0; kx < KW; kx++, t++) {
              const int64_t off = ky * DH * g.W + kx * DW;
              for (int q = 0; q < 4; q++) {
                const T xv = vset1(V(), xq[q][off]);
                for (int b = 0; b < NB; b++) acc[q][b] = vfma(V(), xv, wv[t][b], acc[q][b]);
              }
            }
        } else {
          for (int q = 0; q < 4; q++)
            c1_edge_pixel<V, NB>(xn, wv, g, iy0 + (q / 2) * g.SH, ix0 + (q % 2) * g.SW, acc[q]);
        }
        float* o = out + (py * p.OW + px) * OC + oc0;
        for (int b = 0; b < NB; b++) {
          T m = acc[0][b];
          m = L::pick(acc[1][b], m);
          m = L::pick(acc[2][b], m);
          m = L::pick(acc[3][b], m);
          if (kBias) m = L::add(m, L::load(bias + oc0 + b * V::W));
          if (kRelu) m = L::relu(m);
          L::store(o + b * V::W, m);
        }
      }
    }
  }
}

#define TSR_C1_POOL2(NAME, ATTR, V, L)                                                                               \
  ATTR void NAME(const float* xn, const float* w, const float* bias, float* out, const ConvGeom& g, const PoolGeom& p, \
                 bool relu) {                                                                                        \
    if (g.OC % (2 * V::W) == 0 && g.KH == 3 && g.KW == 3 && g.DH == 1 && g.DW == 1) {                               \
      if (bias)                                                                                                      \
        relu ? c1_pool2_image<V, L, 2, true, true, 3>(xn, w, bias, out, g, p)                                        \
             : c1_pool2_image<V, L, 2, true, false, 3>(xn, w, bias, out, g, p);                                      \
      else                                                                                                           \
        relu ? c1_pool2_image<V, L, 2, false, true, 3>(xn, w, bias, out, g, p)                                       \
             : c1_pool2_image<V, L, 2, false, false, 3>(xn, w, bias, out, g, p);                                     \
    } else if (g.OC % (2 * V::W) == 0) {                                                                             \
      if (bias)                                                                                                      \
        relu ? c1_pool2_image<V, L, 2, true, true>(xn, w, bias, out, g, p)                                           \
             : c1_pool2_image<V, L, 2, true, false>(xn, w, bias, out, g, p);                                         \
      else                                                                                                           \
        relu ? c1_pool2_image<V, L, 2, false, true>(xn, w, bias, out, g, p)                                          \
             : c1_pool2_image<V, L, 2, false, false>(xn, w, bias, out, g, p);                                        \
    } else if (bias) {                                                                                               \
      relu ? c1_pool2_image<V, L, 1, true, true>(xn, w, bias, out, g, p)                                             \
           : c1_pool2_image<V, L, 1, true, false>(xn, w, bias, out, g, p);                                           \
    } else {                                                                                                         \
      relu ? c1_pool2_image<V, L, 1, false, true>(xn, w, bias, out, g, p)                                            \
           : c1_pool2_image<V, L, 1, false, false>(xn, w, bias, out, g, p);                                          \
    }                                                                                                                \
  }
TSR_C1_POOL2(c1_pool2_512, __attribute__((target("avx512f"), flatten)), V512, Lanes512)
TSR_C1_POOL2(c1_pool2_256, __attribute__((target("avx2,fma"), flatten)), V256, Lanes256)
#undef TSR_C1_POOL2

// Whether c1_pool2 takes this pooling: 2x2 windows at stride 2, none past the conv output.
bool c1_pool2_applies(const ConvGeom& g, const PoolGeom& p) {
  return p.PH == 2 && p.PW == 2 && p.SH == 2 && p.SW == 2 && p.PT == 0 && p.PL == 0 && 2 * p.OH <= g.OH &&
         2 * p.OW <= g.OW;
}
#endif

void pool_epi(const float* y, float* out, const float* bias, const PoolGeom& p, int64_t images, bool relu) {
#if defined(__x86_64__)
  const int lvl = gemm_isa_level();
  if (lvl == 3) return pool_epi_512(y, out, bias, p, images, relu);
  if (lvl == 2) return pool_epi_256(y, out, bias, p, images, relu);
#endif
  pool_epi_generic(y, out, bias, p, images, relu);
}

// ---- Winograd F(4x4 or 5x5, 3x3) and F(2x2, 3x3) (inference) -----------------------------------------
// A 3x3, stride-1, undilated convolution computed on output tiles: Y = A^T [(G g G^T) . (B^T d B)] A
// (Lavin & Gray, 2015). The elementwise products over the channels become (tile+2)^2 GEMMs of
// [tiles x C] x [C x OC]: F(4x4) takes 36 multiplies per 16 outputs instead of 144 (4x fewer),
// F(5x5) 49 per 25 (4.6x), F(2x2) 16 per 4 (2.25x), a little less with partial edge tiles. The
// tile size depends on the layer's output size (winograd_tile), never on the batch. Results
// differ from the direct convolution by rounding (~2-4e-6 relative on the seed CNN); each output
// depends only on its own tile, the filters and a GEMM row, which does not depend on the rows
// computed with it, so an image gives the same bits in any batch.
bool winograd_applies(const ConvGeom& g) {
  return g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.C >= 8 && g.OC >= 8 &&
         g.OH >= 2 && g.OW >= 2;
}

// The 1-D transforms, per output tile size M (input tile a = M + 2):
//   F(2x2): G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//           A^T = [1 1 1 0; 0 1 -1 -1]
//   F(4x4): G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//           B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//           A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// (Lavin & Gray's points 0, +-1 and 0, +-1, +-2), written out without the zero terms.
template <class L, int M>
struct Wino;

template <class L>
struct Wino<L, 2> {
  using T = typename L::T;
  static inline void g(const T* x, T* u) {  // u[0..3] = G x[0..2]
    const T h = L::set1(0.5f), s = L::add(x[0], x[2]);
    u[0] = x[0];
    u[1] = L::mul(h, L::add(s, x[1]));
    u[2] = L::mul(h, L::sub(s, x[1]));
    u[3] = x[2];
  }
  static inline void bt(const T* d, T* v) {  // v[0..3] = B^T d[0..3]
    v[0] = L::sub(d[0], d[2]);
    v[1] = L::add(d[1], d[2]);
    v[2] = L::sub(d[2], d[1]);
    v[3] = L::sub(d[1], d[3]);
  }
  static inline void at(const T* m, T* y) {  // y[0..1] = A^T m[0..3]
    y[0] = L::add(L::add(m[0], m[1]), m[2]);
    y[1] = L::sub(L::sub(m[1], m[2]), m[3]);
  }
};

template <class L>
struct Wino<L, 4> {
  using T = typename L::T;
  static inline void g(const T* x, T* u) {  // u[0..5] = G x[0..2]
    const T s = L::add(x[0], x[2]);
    const T c = L::add(L::mul(L::set1(1.f / 24), x[0]), L::mul(L::set1(1.f / 6), x[2]));
    const T d = L::mul(L::set1(1.f / 12), x[1]);
    u[0] = L::mul(L::set1(0.25f), x[0]);
    u[1] = L::mul(L::set1(-1.f / 6), L::add(s, x[1]));
    u[2] = L::mul(L::set1(-1.f / 6), L::sub(s, x[1]));
    u[3] = L::add(c, d);
    u[4] = L::sub(c, d);
    u[5] = x[2];
  }
  static inline void bt(const T* d, T* v) {  // v[0..5] = B^T d[0..5]
    const T four = L::set1(4.f), five = L::set1(5.f), two = L::set1(2.f);
    const T t1 = L::sub(d[4], L::mul(four, d[2])), t2 = L::sub(d[3], L::mul(four, d[1]));
    const T t3 = L::sub(d[4], d[2]), t4 = L::mul(two, L::sub(d[3], d[1]));
    v[0] = L::add(L::sub(L::mul(four, d[0]), L::mul(five, d[2])), d[4]);
    v[1] = L::add(t1, t2);
    v[2] = L::sub(t1, t2);
    v[3] = L::add(t3, t4);
    v[4] = L::sub(t3, t4);
    v[5] = L::add(L::sub(L::mul(four, d[1]), L::mul(five, d[3])), d[5]);
  }
  static inline void at(const T* m, T* y) {  // y[0..3] = A^T m[0..5]
    const T p1 = L::add(m[1], m[2]), n1 = L::sub(m[1], m[2]), p3 = L::add(m[3], m[4]), n3 = L::sub(m[3], m[4]);
    y[0] = L::add(L::add(m[0], p1), p3);
    y[1] = L::add(n1, L::mul(L::set1(2.f), n3));
    y[2] = L::add(p1, L::mul(L::set1(4.f), p3));
    y[3] = L::add(L::add(n1, L::mul(L::set1(8.f), n3)), m[5]);
  }
};

// F(5x5, 3x3) on the seven points 0, +-1, +-2, +-1/2 (no point at infinity, so each +-a pair is an
// even and an odd part: v[+a] = E + O, v[-a] = E - O). B^T rows scaled to integers, the scale moved
// into G:
//   G = [-1/4 0 0; -1/18 -1/18 -1/18; -1/18 1/18 -1/18; 1/360 1/180 1/90; 1/360 -1/180 1/90;
//        16/45 8/45 4/45; 16/45 -8/45 4/45]
//   B^T = [-4 0 21 0 -21 0 4; 0 4 4 -17 -17 4 4; 0 -4 4 17 -17 -4 4; 0 2 1 -10 -5 8 4;
//          0 -2 1 10 -5 -8 4; 0 4 8 -5 -10 1 2; 0 -4 8 5 -10 -1 2]
//   A^T = [1 1 1 1 1 1 1; 0 1 -1 2 -2 1/2 -1/2; 0 1 1 4 4 1/4 1/4; 0 1 -1 8 -8 1/8 -1/8;
//          0 1 1 16 16 1/16 1/16]
// 49 multiplies per 25 outputs (F(4x4): 36 per 16). Its rounding error on the seed CNN's layer is
// about twice F(4x4)'s (~4e-6 relative), still far below what a float32 model can tell apart.
template <class L>
struct Wino<L, 5> {
  using T = typename L::T;
  static inline T madd(float k, T a, T b) { return L::add(L::mul(L::set1(k), a), b); }  // k a + b
  static inline void g(const T* x, T* u) {  // u[0..6] = G x[0..2]
    const T s = L::add(x[0], x[2]);
    const T e3 = madd(1.f / 360, x[0], L::mul(L::set1(1.f / 90), x[2])), o3 = L::mul(L::set1(1.f / 180), x[1]);
    const T e5 = madd(16.f / 45, x[0], L::mul(L::set1(4.f / 45), x[2])), o5 = L::mul(L::set1(8.f / 45), x[1]);
    u[0] = L::mul(L::set1(-0.25f), x[0]);
    u[1] = L::mul(L::set1(-1.f / 18), L::add(s, x[1]));
    u[2] = L::mul(L::set1(-1.f / 18), L::sub(s, x[1]));
    u[3] = L::add(e3, o3);
    u[4] = L::sub(e3, o3);
    u[5] = L::add(e5, o5);
    u[6] = L::sub(e5, o5);
  }
  static inline void bt(const T* d, T* v) {  // v[0..6] = B^T d[0..6]
    v[0] = madd(4.f, L::sub(d[6], d[0]), L::mul(L::set1(21.f), L::sub(d[2], d[4])));
    const T e1 = madd(-17.f, d[4], L::mul(L::set1(4.f), L::add(d[2], d[6])));
    const T o1 = madd(-17.f, d[3], L::mul(L::set1(4.f), L::add(d[1], d[5])));
    v[1] = L::add(e1, o1);
    v[2] = L::sub(e1, o1);
    const T e2 = madd(-5.f, d[4], madd(4.f, d[6], d[2]));
    const T o2 = L::mul(L::set1(2.f), madd(-5.f, d[3], madd(4.f, d[5], d[1])));
    v[3] = L::add(e2, o2);
    v[4] = L::sub(e2, o2);
    const T e3 = L::mul(L::set1(2.f), madd(-5.f, d[4], madd(4.f, d[2], d[6])));
    const T o3 = madd(-5.f, d[3], madd(4.f, d[1], d[5]));
    v[5] = L::add(e3, o3);
    v[6] = L::sub(e3, o3);
  }
  static inline void at(const T* m, T* y) {  // y[0..4] = A^T m[0..6]
    const T s1 = L::add(m[1], m[2]), t1 = L::sub(m[1], m[2]), s2 = L::add(m[3], m[4]), t2 = L::sub(m[3], m[4]);
    const T s3 = L::add(m[5], m[6]), t3 = L::sub(m[5], m[6]);
    y[0] = L::add(L::add(m[0], s1), L::add(s2, s3));
    y[1] = madd(2.f, t2, madd(0.5f, t3, t1));
    y[2] = madd(4.f, s2, madd(0.25f, s3, s1));
    y[3] = madd(8.f, t2, madd(0.125f, t3, t1));
    y[4] = madd(16.f, s2, madd(0.0625f, s3, s1));
  }
};

// U[xi][c][oc] = (G g G^T)[xi] for g = w[., ., c, oc] (HWIO); output channels [oc0, oc1), L::W at a time.
template <class L, int M>
inline void wino_filters_lanes(const float* w, float* U, int64_t C, int64_t OC, int64_t oc0, int64_t oc1) {
  using T = typename L::T;
  constexpr int A = M + 2;
  const int64_t CO = C * OC;
  for (int64_t c = 0; c < C; c++) {
    for (int64_t oc = oc0; oc + L::W <= oc1; oc += L::W) {
      const float* g = w + c * OC + oc;  // tap (ky, kx) at g[(ky*3+kx)*CO]
      float* u = U + c * OC + oc;
      T t[A][3];
      for (int kx = 0; kx < 3; kx++) {
        const T col[3] = {L::load(g + kx * CO), L::load(g + (3 + kx) * CO), L::load(g + (6 + kx) * CO)};
        T r[A];
        Wino<L, M>::g(col, r);
        for (int i = 0; i < A; i++) t[i][kx] = r[i];
      }
      for (int i = 0; i < A; i++) {
        T r[A];
        Wino<L, M>::g(t[i], r);
        for (int j = 0; j < A; j++) L::store(u + (i * A + j) * CO, r[j]);
      }
    }
  }
}

// V[xi][t][c] = (B^T d B)[xi] for the input patch d of each tile t of images [n0, n1) (zero outside
// the image), tiles numbered from 0 for image n0; channels [c0, c1), L::W at a time.
template <class L, int M>
inline void wino_inputs_lanes(const float* x, float* V, const ConvGeom& g, int64_t n0, int64_t n1, int64_t tilesH,
                              int64_t tilesW, int64_t c0, int64_t c1) {
  using T = typename L::T;
  constexpr int A = M + 2;
  const int64_t C = g.C, TC = (n1 - n0) * tilesH * tilesW * C;
  alignas(64) static const float zero[16] = {};
  int64_t t = 0;
  for (int64_t n = n0; n < n1; n++) {
    const float* xn = x + n * g.H * g.W * C;
    for (int64_t ty = 0; ty < tilesH; ty++) {
      for (int64_t tx = 0; tx < tilesW; tx++, t++) {
        const int64_t iy0 = ty * M - g.PT, ix0 = tx * M - g.PL;
        const bool inside = iy0 >= 0 && iy0 + A <= g.H && ix0 >= 0 && ix0 + A <= g.W;
        for (int64_t c = c0; c + L::W <= c1; c += L::W) {
          T d[A][A];  // d[r][q]: B^T applied down each column q
          for (int q = 0; q < A; q++) {
            T col[A], v[A];
            for (int r = 0; r < A; r++) {
              const int64_t iy = iy0 + r, ix = ix0 + q;
              col[r] = (inside || (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W)) ? L::load(xn + (iy * g.W + ix) * C + c)
                                                                                : L::load(zero);
            }
            Wino<L, M>::bt(col, v);
            for (int r = 0; r < A; r++) d[r][q] = v[r];
          }
          float* out = V + t * C + c;
          for (int r = 0; r < A; r++) {
            T v[A];
            Wino<L, M>::bt(d[r], v);
            for (int q = 0; q < A; q++) L::store(out + (r * A + q) * TC, v[q]);
          }
        }
      }
    }
  }
}

// y[n][oy][ox][oc] = (A^T m A) for each tile's products m = Mo[xi][t][oc], cropped to the image;
// output channels [oc0, oc1), L::W at a time.
template <class L, int M>
inline void wino_outputs_lanes(const float* Mo, float* y, const ConvGeom& g, int64_t images, int64_t tilesH,
                               int64_t tilesW, int64_t oc0, int64_t oc1) {
  using T = typename L::T;
  constexpr int A = M + 2;
  const int64_t OC = g.OC, TO = images * tilesH * tilesW * OC;
  int64_t t = 0;
  for (int64_t n = 0; n < images; n++) {
    float* yn = y + n * g.OH * g.OW * OC;
    for (int64_t ty = 0; ty < tilesH; ty++) {
      for (int64_t tx = 0; tx < tilesW; tx++, t++) {
        const int64_t oy = ty * M, ox = tx * M;
        const int64_t rows = std::min<int64_t>(M, g.OH - oy), cols = std::min<int64_t>(M, g.OW - ox);
        for (int64_t oc = oc0; oc + L::W <= oc1; oc += L::W) {
          const float* m = Mo + t * OC + oc;
          T s[M][A];  // A^T applied down each column q
          for (int q = 0; q < A; q++) {
            T col[A], r[M];
            for (int i = 0; i < A; i++) col[i] = L::load(m + (i * A + q) * TO);
            Wino<L, M>::at(col, r);
            for (int i = 0; i < M; i++) s[i][q] = r[i];
          }
          for (int i = 0; i < rows; i++) {
            T r[M];
            Wino<L, M>::at(s[i], r);
            float* o = yn + ((oy + i) * g.OW + ox) * OC + oc;
            for (int j = 0; j < cols; j++) L::store(o + j * OC, r[j]);
          }
        }
      }
    }
  }
}

// Vector lanes over the multiple-of-W part of the channels, one lane for the rest; then one entry
// point per ISA and tile size.
template <class L, int M>
inline void wino_filters_v(const float* w, float* U, int64_t C, int64_t OC) {
  const int64_t v = OC / L::W * L::W;
  wino_filters_lanes<L, M>(w, U, C, OC, 0, v);
  wino_filters_lanes<Lanes1, M>(w, U, C, OC, v, OC);
}
template <class L, int M>
inline void wino_inputs_v(const float* x, float* V, const ConvGeom& g, int64_t n0, int64_t n1, int64_t th, int64_t tw) {
  const int64_t v = g.C / L::W * L::W;
  wino_inputs_lanes<L, M>(x, V, g, n0, n1, th, tw, 0, v);
  wino_inputs_lanes<Lanes1, M>(x, V, g, n0, n1, th, tw, v, g.C);
}
template <class L, int M>
inline void wino_outputs_v(const float* Mo, float* y, const ConvGeom& g, int64_t images, int64_t th, int64_t tw) {
  const int64_t v = g.OC / L::W * L::W;
  wino_outputs_lanes<L, M>(Mo, y, g, images, th, tw, 0, v);
  wino_outputs_lanes<Lanes1, M>(Mo, y, g, images, th, tw, v, g.OC);
}

// The three transforms of one ISA, for either tile size (tile: 2 or 4).
#define TSR_WINO(SUFFIX, ATTR, L)                                                                               \
  ATTR void wino_filters_##SUFFIX(int tile, const float* w, float* U, int64_t C, int64_t OC) {               \
    if (tile == 4)                                                                                              \
      wino_filters_v<L, 4>(w, U, C, OC);                                                                        \
    else if (tile == 5)                                                                                         \
      wino_filters_v<L, 5>(w, U, C, OC);                                                                        \
    else                                                                                                        \
      wino_filters_v<L, 2>(w, U, C, OC);                                                                        \
  }                                                                                                             \
  ATTR void wino_inputs_##SUFFIX(int tile, const float* x, float* V, const ConvGeom& g, int64_t n0, int64_t n1, \
                                 int64_t th, int64_t tw) {                                                      \
    if (tile == 4)                                                                                              \
      wino_inputs_v<L, 4>(x, V, g, n0, n1, th, tw);                                                             \
    else if (tile == 5)                                                                                         \
      wino_inputs_v<L, 5>(x, V, g, n0, n1, th, tw);                                                             \
    else                                                                                                        \
      wino_inputs_v<L, 2>(x, V, g, n0, n1, th, tw);                                                             \
  }                                                                                                             \
  ATTR void wino_outputs_##SUFFIX(int tile, const float* Mo, float* y, const ConvGeom& g, int64_t images,      \
                                  int64_t th, int64_t tw) {                                                     \
    if (tile == 4)                                                                                              \
      wino_outputs_v<L, 4>(Mo, y, g, images, th, tw);                                                           \
    else if (tile == 5)                                                                                         \
      wino_outputs_v<L, 5>(Mo, y, g, images, th, tw);                                                           \
    else                                                                                                        \
      wino_outputs_v<L, 2>(Mo, y, g, images, th, tw);                                                           \
  }
TSR_WINO(generic, , Lanes1)
#if defined(__x86_64__)
TSR_WINO(avx512, __attribute__((target("avx512f"), flatten)), Lanes512)
TSR_WINO(avx2, __attribute__((target("avx2,fma"), flatten)), Lanes256)
#endif
#undef TSR_WINO

#if defined(__x86_64__)
#define TSR_WINO_CALL(FN, ...)                          \
  do {                                                  \
    const int lvl_ = gemm_isa_level();                  \
    if (lvl_ == 3)                                      \
      FN##_avx512(__VA_ARGS__);                         \
    else if (lvl_ == 2)                                 \
      FN##_avx2(__VA_ARGS__);                           \
    else                                                \
      FN##_generic(__VA_ARGS__);                        \
  } while (0)
#else
#define TSR_WINO_CALL(FN, ...) FN##_generic(__VA_ARGS__)
#endif

// Whether x[0, n) holds no NaN or infinity (an all-ones exponent), tested on the bits.
bool all_finite_generic(const float* x, int64_t n) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    bad |= uint32_t((u & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}
#if defined(__x86_64__)
__attribute__((target("avx512f"))) bool all_finite_512(const float* x, int64_t n) {
  const __m512i e = _mm512_set1_epi32(0x7f800000);
  __mmask16 bad = 0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) bad |= _mm512_cmpeq_epi32_mask(_mm512_and_si512(_mm512_loadu_si512(x + i), e), e);
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1);
    bad |= _mm512_mask_cmpeq_epi32_mask(m, _mm512_and_si512(_mm512_maskz_loadu_epi32(m, x + i), e), e);
  }
  return bad == 0;
}
__attribute__((target("avx2"))) bool all_finite_256(const float* x, int64_t n) {
  const __m256i e = _mm256_set1_epi32(0x7f800000);
  __m256i bad = _mm256_setzero_si256();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(_mm256_and_si256(v, e), e));
  }
  return _mm256_testz_si256(bad, bad) && all_finite_generic(x + i, n - i);
}
#endif
bool all_finite(const float* x, int64_t n) {
#if defined(__x86_64__)
  const int lvl = gemm_isa_level();
  if (lvl == 3) return all_finite_512(x, n);
  if (lvl == 2) return all_finite_256(x, n);
#endif
  return all_finite_generic(x, n);
}

// Output tile size: F(2x2, 3x3) for an output under 4 rows or columns; otherwise F(4x4, 3x3), or
// F(5x5, 3x3) where its tiles need fewer multiplies in all (per image: tiles x (tile + 2)^2; the
// GEMMs are most of the cost): a 10x10 output takes 4 tiles of 49 instead of 9 of 36.
int winograd_tile(const ConvGeom& g) {
  if (g.OH < 4 || g.OW < 4) return 2;
  auto cost = [&](int64_t m) { return ((g.OH + m - 1) / m) * ((g.OW + m - 1) / m) * (m + 2) * (m + 2); };
  return cost(5) < cost(4) ? 5 : 4;
}

// conv output of images [n0, n1) into y (the chunk's images from y[0]); U: the transformed filters.
void winograd_chunk(const float* x, const float* U, float* y, const ConvGeom& g, int64_t n0, int64_t n1, int tile) {
  const int a = tile + 2, a2 = a * a;
  const int64_t tilesH = (g.OH + tile - 1) / tile, tilesW = (g.OW + tile - 1) / tile;
  const int64_t T = (n1 - n0) * tilesH * tilesW;
  float* V = scratch(2, size_t(a2 * T * g.C));
  float* Mo = scratch(5, size_t(a2 * T * g.OC));
  TSR_WINO_CALL(wino_inputs, tile, x, V, g, n0, n1, tilesH, tilesW);
  for (int xi = 0; xi < a2; xi++)
    gemm_serial(T, g.OC, g.C, V + xi * T * g.C, g.C, 1, U + xi * g.C * g.OC, g.OC, 1, Mo + xi * T * g.OC, g.OC,
                false);
  TSR_WINO_CALL(wino_outputs, tile, Mo, y, g, n1 - n0, tilesH, tilesW);
}

// The transformed filters of w, from this thread's cache when w holds the same values as when they
// were last transformed (served models call with the same weights every time, and the transform
// costs as much as a batch-1 image's GEMMs). The check compares the values themselves, so a weight
// changed in place (an optimizer step, a user writing into the buffer) is transformed anew.
const float* winograd_filters(const float* w, const ConvGeom& g, int tile) {
  struct Entry {
    const float* w = nullptr;
    int tile = 0, isa = -1;
    int64_t C = 0, OC = 0;
    std::vector<float> weights, U;
    uint64_t used = 0;
  };
  constexpr int kEntries = 8;
  thread_local Entry cache[kEntries];
  thread_local uint64_t clock = 0;
  const size_t nw = size_t(9 * g.C * g.OC), nu = size_t((tile + 2) * (tile + 2) * g.C * g.OC);
#if defined(__x86_64__)
  const int isa = gemm_isa_level();  // each ISA's transform is its own (rounding may differ)
#else
  const int isa = 0;
#endif
  Entry* victim = &cache[0];
  for (Entry& e : cache) {
    if (e.w == w && e.tile == tile && e.isa == isa && e.C == g.C && e.OC == g.OC &&
        std::memcmp(e.weights.data(), w, nw * sizeof(float)) == 0) {
      e.used = ++clock;
      return e.U.data();
    }
    if (e.used < victim->used) victim = &e;
  }
  Entry& e = *victim;
  e.weights.assign(w, w + nw);
  e.U.resize(nu);
  TSR_WINO_CALL(wino_filters, tile, w, e.U.data(), g.C, g.OC);
  e.w = w;
  e.tile = tile;
  e.isa = isa;
  e.C = g.C;
  e.OC = g.OC;
  e.used = ++clock;
  return e.U.data();
}

// images per Winograd chunk: about 128 GEMM rows (tiles), the chunk's tiles within ~1 MB
int64_t winograd_chunk_images(const ConvGeom& g, int tile) {
  const int a2 = (tile + 2) * (tile + 2);
  const int64_t tiles = ((g.OH + tile - 1) / tile) * ((g.OW + tile - 1) / tile);
  const int64_t perImage = a2 * tiles * (g.C + g.OC) + g.OH * g.OW * g.OC;
  const int64_t imgs = std::max<int64_t>(1, (128 + tiles - 1) / tiles);
  return std::max<int64_t>(1, std::min(imgs, (int64_t(1) << 18) / std::max<int64_t>(1, perImage)));
}

}  // namespace

void conv2d_maxpool_f32(const float* x, const float* w, const float* bias, float* out, const ConvGeom& g,
                        const PoolGeom& p, bool relu, bool winograd) {
  if (g.N == 0 || g.OC == 0 || p.OH * p.OW == 0) return;
  const int64_t yImg = g.OH * g.OW * g.OC, oImg = p.OH * p.OW * p.C, xImg = g.H * g.W * g.C;
  // Winograd computes only the conv rows and columns some pooling window reads: a 2x2 / stride-2
  // pool of an 11x11 output reads 10x10. The cropped conv (same origin and padding, fewer output
  // rows and columns) and a pool over it give the same values.
  ConvGeom gc = g;
  PoolGeom pc = p;
  gc.OH = pc.H = std::min(g.OH, std::max<int64_t>(1, (p.OH - 1) * p.SH - p.PT + p.PH));
  gc.OW = pc.W = std::min(g.OW, std::max<int64_t>(1, (p.OW - 1) * p.SW - p.PL + p.PW));
  if (winograd && winograd_applies(gc)) {
    const int64_t ycImg = gc.OH * gc.OW * gc.OC;
    const int tile = winograd_tile(gc);
    const float* U = winograd_filters(w, gc, tile);
    // chunks of (nearly) equal size: 22 images in at most 10 are 8 + 7 + 7, not 10 + 10 + 2
    const int64_t most = winograd_chunk_images(gc, tile), parts = (g.N + most - 1) / most;
    const int64_t chunk = (g.N + parts - 1) / parts, chunks = (g.N + chunk - 1) / chunk;
    parallel_range(chunks, 1, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; k++) {
        const int64_t c0 = k * chunk, c1 = std::min(g.N, c0 + chunk);
        float* y = scratch(3, size_t((c1 - c0) * ycImg));
        // A NaN or infinity would spread over its whole tile through the transforms, where the
        // direct convolution keeps it to the windows that contain it: such an image runs direct.
        for (int64_t n = c0; n < c1;) {
          if (!all_finite(x + n * xImg, xImg)) {
            direct_chunk(x, w, y + (n - c0) * ycImg, gc, n, n + 1, false);
            n++;
            continue;
          }
          int64_t e = n + 1;
          while (e < c1 && all_finite(x + e * xImg, xImg)) e++;
          winograd_chunk(x, U, y + (n - c0) * ycImg, gc, n, e, tile);
          n = e;
        }
        pool_epi(y, out + c0 * oImg, bias, pc, c1 - c0, relu);
      }
    });
    return;
  }
  const int T = num_threads();
  if (T > 1 && g.N < T) {
    // Too few images to split: let the convolution use the pool, then one fused epilogue pass.
    float* y = scratch(3, size_t(g.N * yImg));
    conv2d_f32(x, w, y, g);
    pool_epi(y, out, bias, p, g.N, relu);
    return;
  }
#if defined(__x86_64__)
  if (const int lvl = c1_direct_level(g)) {
    ConvGeom one = g;
    one.N = 1;
    const bool fusedPool = c1_pool2_applies(g, p);
    parallel_range(g.N, 1, 1, [&](int64_t n0, int64_t n1) {
      if (fusedPool) {
        for (int64_t n = n0; n < n1; n++) {
          if (lvl == 3)
            c1_pool2_512(x + n * xImg, w, bias, out + n * oImg, one, p, relu);
          else
            c1_pool2_256(x + n * xImg, w, bias, out + n * oImg, one, p, relu);
        }
        return;
      }
      float* y = scratch(3, size_t(yImg));
      for (int64_t n = n0; n < n1; n++) {
        if (lvl == 3)
          c1_fwd_512(x + n * xImg, w, y, one, 0, g.OH);
        else
          c1_fwd_256(x + n * xImg, w, y, one, 0, g.OH);
        pool_epi(y, out + n * oImg, bias, p, 1, relu);
      }
    });
    return;
  }
#endif
  const int64_t chunk = chunk_images(g), chunks = (g.N + chunk - 1) / chunk;
  parallel_range(chunks, 1, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; k++) {
      const int64_t c0 = k * chunk, c1 = std::min(g.N, c0 + chunk);
      float* y = scratch(3, size_t((c1 - c0) * yImg));
      direct_chunk(x, w, y, g, c0, c1, false);
      pool_epi(y, out + c0 * oImg, bias, p, c1 - c0, relu);
    }
  });
}

}  // namespace tsr

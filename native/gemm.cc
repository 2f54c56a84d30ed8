// Packed, cache-blocked SGEMM (BLIS-style): B is packed into KC x NR micro-panels, A into
// MR x KC micro-panels, and an MR x NR register-blocked micro-kernel does the FMAs. The ISA
// (AVX-512, AVX2+FMA, or portable C++) is picked at run time; nothing here needs -mavx2.
//
// Every C element is the same sequence of operations whatever the tiling or the thread
// split (K is always blocked by the same KC, and each block is summed in order from zero and
// then added to C), so results are bit-identical for any thread count on a given ISA.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tsr {
namespace {

using KernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc);
using KernelUaFn = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, bool acc);
using RowsFn = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
                        bool acc);

struct Isa {
  int MR, NR, MC, KC, NC;
  KernelFn kernel;
  const char* name;
  KernelUaFn kernel_ua;  // nullptr: always pack A
  const RowsFn* rows;    // rows[r], r = 1..MR: r rows of A and B both read in place; nullptr: none
};

// ---- portable micro-kernel (auto-vectorizable) -----------------------------------------------
constexpr int kGenMR = 4, kGenNR = 16;
void kernel_generic(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  float t[kGenMR][kGenNR];
  for (int i = 0; i < kGenMR; i++)
    for (int j = 0; j < kGenNR; j++) t[i][j] = 0.f;
  for (int64_t p = 0; p < kc; p++) {
    const float* bp = b + p * kGenNR;
    const float* ap = a + p * kGenMR;
    for (int i = 0; i < kGenMR; i++) {
      float av = ap[i];
      for (int j = 0; j < kGenNR; j++) t[i][j] += av * bp[j];
    }
  }
  for (int i = 0; i < kGenMR; i++) {
    float* cr = c + i * ldc;
    if (acc)
      for (int j = 0; j < kGenNR; j++) cr[j] += t[i][j];
    else
      for (int j = 0; j < kGenNR; j++) cr[j] = t[i][j];
  }
}

#if defined(__x86_64__)
// ---- AVX2 + FMA: 6 x 16 ---------------------------------------------------------------------
__attribute__((target("avx2,fma"))) void kernel_avx2(int64_t kc, const float* a, const float* b, float* c,
                                                       int64_t ldc, bool acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 av;
    av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
    a += 6;
    b += 16;
  }
#define TSR_ST(r, v0, v1)                                                             \
  do {                                                                                \
    float* cr = c + (r) * ldc;                                                        \
    if (acc) {                                                                        \
      _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), v0));                   \
      _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), v1));           \
    } else {                                                                          \
      _mm256_storeu_ps(cr, v0);                                                       \
      _mm256_storeu_ps(cr + 8, v1);                                                   \
    }                                                                                 \
  } while (0)
  TSR_ST(0, c00, c01); TSR_ST(1, c10, c11); TSR_ST(2, c20, c21);
  TSR_ST(3, c30, c31); TSR_ST(4, c40, c41); TSR_ST(5, c50, c51);
#undef TSR_ST
}

// ---- AVX-512: 12 x 32 -----------------------------------------------------------------------
__attribute__((target("avx512f"))) void kernel_avx512(int64_t kc, const float* a, const float* b, float* c,
                                                        int64_t ldc, bool acc) {
  __m512 c0[12], c1[12];
#pragma GCC unroll 12
  for (int i = 0; i < 12; i++) {
    c0[i] = _mm512_setzero_ps();
    c1[i] = _mm512_setzero_ps();
  }
  for (int64_t p = 0; p < kc; p++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) {
      __m512 av = _mm512_set1_ps(a[i]);
      c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
    }
    a += 12;
    b += 32;
  }
#pragma GCC unroll 12
  for (int i = 0; i < 12; i++) {
    float* cr = c + i * ldc;
    if (acc) {
      _mm512_storeu_ps(cr, _mm512_add_ps(_mm512_loadu_ps(cr), c0[i]));
      _mm512_storeu_ps(cr + 16, _mm512_add_ps(_mm512_loadu_ps(cr + 16), c1[i]));
    } else {
      _mm512_storeu_ps(cr, c0[i]);
      _mm512_storeu_ps(cr + 16, c1[i]);
    }
  }
}

// ---- unpacked-A variants: A rows read in place (row-major, lda), for narrow N where packing A
// would cost about as much as the FMAs it feeds.
__attribute__((target("avx2,fma"))) void kernel_avx2_ua(int64_t kc, const float* a, int64_t lda, const float* b,
                                                          float* c, int64_t ldc, bool acc) {
  __m256 c0[6], c1[6];
  const float* r[6];
#pragma GCC unroll 6
  for (int i = 0; i < 6; i++) {
    c0[i] = _mm256_setzero_ps();
    c1[i] = _mm256_setzero_ps();
    r[i] = a + i * lda;
  }
  for (int64_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
      __m256 av = _mm256_broadcast_ss(r[i] + p);
      c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
    }
    b += 16;
  }
#pragma GCC unroll 6
  for (int i = 0; i < 6; i++) {
    float* cr = c + i * ldc;
    if (acc) {
      _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), c0[i]));
      _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), c1[i]));
    } else {
      _mm256_storeu_ps(cr, c0[i]);
      _mm256_storeu_ps(cr + 8, c1[i]);
    }
  }
}

__attribute__((target("avx512f"))) void kernel_avx512_ua(int64_t kc, const float* a, int64_t lda, const float* b,
                                                           float* c, int64_t ldc, bool acc) {
  __m512 c0[12], c1[12];
#pragma GCC unroll 12
  for (int i = 0; i < 12; i++) {
    c0[i] = _mm512_setzero_ps();
    c1[i] = _mm512_setzero_ps();
  }
  const float* a0 = a;
  const float* a4 = a + 4 * lda;
  const float* a8 = a + 8 * lda;
  for (int64_t p = 0; p < kc; p++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
      __m512 av = _mm512_set1_ps(a0[i * lda + p]);
      c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
      __m512 av = _mm512_set1_ps(a4[i * lda + p]);
      c0[4 + i] = _mm512_fmadd_ps(av, b0, c0[4 + i]);
      c1[4 + i] = _mm512_fmadd_ps(av, b1, c1[4 + i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
      __m512 av = _mm512_set1_ps(a8[i * lda + p]);
      c0[8 + i] = _mm512_fmadd_ps(av, b0, c0[8 + i]);
      c1[8 + i] = _mm512_fmadd_ps(av, b1, c1[8 + i]);
    }
    b += 32;
  }
#pragma GCC unroll 12
  for (int i = 0; i < 12; i++) {
    float* cr = c + i * ldc;
    if (acc) {
      _mm512_storeu_ps(cr, _mm512_add_ps(_mm512_loadu_ps(cr), c0[i]));
      _mm512_storeu_ps(cr + 16, _mm512_add_ps(_mm512_loadu_ps(cr + 16), c1[i]));
    } else {
      _mm512_storeu_ps(cr, c0[i]);
      _mm512_storeu_ps(cr + 16, c1[i]);
    }
  }
}

// ---- r <= MR rows x NR columns with nothing packed: A rows at stride lda, B rows at stride ldb.
// The ua kernels' operations exactly (per K block, fma over p in order from zero, then stored or
// added to C), so a row's bits do not depend on the path or on the rows computed with it.
template <int R>
__attribute__((target("avx512f"))) void rows_avx512(int64_t kc, const float* a, int64_t lda, const float* b,
                                                    int64_t ldb, float* c, int64_t ldc, bool acc) {
  __m512 c0[R], c1[R];
  const float* r[R];
#pragma GCC unroll 12
  for (int i = 0; i < R; i++) {
    c0[i] = _mm512_setzero_ps();
    c1[i] = _mm512_setzero_ps();
    r[i] = a + i * lda;
  }
  for (int64_t p = 0; p < kc; p++, b += ldb) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
      const __m512 av = _mm512_set1_ps(r[i][p]);
      c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < R; i++) {
    float* cr = c + i * ldc;
    if (acc) {
      c0[i] = _mm512_add_ps(_mm512_loadu_ps(cr), c0[i]);
      c1[i] = _mm512_add_ps(_mm512_loadu_ps(cr + 16), c1[i]);
    }
    _mm512_storeu_ps(cr, c0[i]);
    _mm512_storeu_ps(cr + 16, c1[i]);
  }
}
template <int R>
__attribute__((target("avx2,fma"))) void rows_avx2(int64_t kc, const float* a, int64_t lda, const float* b,
                                                   int64_t ldb, float* c, int64_t ldc, bool acc) {
  __m256 c0[R], c1[R];
  const float* r[R];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    c0[i] = _mm256_setzero_ps();
    c1[i] = _mm256_setzero_ps();
    r[i] = a + i * lda;
  }
  for (int64_t p = 0; p < kc; p++, b += ldb) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      const __m256 av = _mm256_broadcast_ss(r[i] + p);
      c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    float* cr = c + i * ldc;
    if (acc) {
      c0[i] = _mm256_add_ps(_mm256_loadu_ps(cr), c0[i]);
      c1[i] = _mm256_add_ps(_mm256_loadu_ps(cr + 8), c1[i]);
    }
    _mm256_storeu_ps(cr, c0[i]);
    _mm256_storeu_ps(cr + 8, c1[i]);
  }
}
const RowsFn kRows512[13] = {nullptr,         rows_avx512<1>, rows_avx512<2>,  rows_avx512<3>, rows_avx512<4>,
                             rows_avx512<5>,  rows_avx512<6>, rows_avx512<7>,  rows_avx512<8>, rows_avx512<9>,
                             rows_avx512<10>, rows_avx512<11>, rows_avx512<12>};
const RowsFn kRows256[7] = {nullptr, rows_avx2<1>, rows_avx2<2>, rows_avx2<3>, rows_avx2<4>, rows_avx2<5>, rows_avx2<6>};

// ---- few rows (M <= 4, or <= 16 with a small B; row-major B): C rows = A rows x B without
// packing B, which for one row costs as much as the FMAs themselves (a batch-1 Dense layer). Each C element sees exactly the
// operations of the packed path: per K block, fma over p in order from zero, then stored or added
// to C. So a row's result does not depend on how many rows were computed with it (a batched and
// an unbatched inference agree bit for bit).
__attribute__((target("avx512f"))) void few_rows_avx512(int64_t N, int64_t kc, const float* a, int64_t csA,
                                                          const float* b, int64_t rsB, float* c, bool acc) {
  int64_t j = 0;
  for (; j + 64 <= N; j += 64) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    const float* bp = b + j;
    for (int64_t p = 0; p < kc; p++, bp += rsB) {
      const __m512 av = _mm512_set1_ps(a[p * csA]);
      s0 = _mm512_fmadd_ps(av, _mm512_loadu_ps(bp), s0);
      s1 = _mm512_fmadd_ps(av, _mm512_loadu_ps(bp + 16), s1);
      s2 = _mm512_fmadd_ps(av, _mm512_loadu_ps(bp + 32), s2);
      s3 = _mm512_fmadd_ps(av, _mm512_loadu_ps(bp + 48), s3);
    }
    float* cr = c + j;
    if (acc) {
      s0 = _mm512_add_ps(_mm512_loadu_ps(cr), s0);
      s1 = _mm512_add_ps(_mm512_loadu_ps(cr + 16), s1);
      s2 = _mm512_add_ps(_mm512_loadu_ps(cr + 32), s2);
      s3 = _mm512_add_ps(_mm512_loadu_ps(cr + 48), s3);
    }
    _mm512_storeu_ps(cr, s0);
    _mm512_storeu_ps(cr + 16, s1);
    _mm512_storeu_ps(cr + 32, s2);
    _mm512_storeu_ps(cr + 48, s3);
  }
  for (; j < N; j += 16) {
    const __mmask16 m = N - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (N - j)) - 1);
    __m512 s0 = _mm512_setzero_ps();
    const float* bp = b + j;
    for (int64_t p = 0; p < kc; p++, bp += rsB)
      s0 = _mm512_fmadd_ps(_mm512_set1_ps(a[p * csA]), _mm512_maskz_loadu_ps(m, bp), s0);
    if (acc) s0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m, c + j), s0);
    _mm512_mask_storeu_ps(c + j, m, s0);
  }
}

__attribute__((target("avx2,fma"))) void few_rows_avx2(int64_t N, int64_t kc, const float* a, int64_t csA,
                                                         const float* b, int64_t rsB, float* c, bool acc) {
  int64_t j = 0;
  for (; j + 32 <= N; j += 32) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    const float* bp = b + j;
    for (int64_t p = 0; p < kc; p++, bp += rsB) {
      const __m256 av = _mm256_set1_ps(a[p * csA]);
      s0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(bp), s0);
      s1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(bp + 8), s1);
      s2 = _mm256_fmadd_ps(av, _mm256_loadu_ps(bp + 16), s2);
      s3 = _mm256_fmadd_ps(av, _mm256_loadu_ps(bp + 24), s3);
    }
    float* cr = c + j;
    if (acc) {
      s0 = _mm256_add_ps(_mm256_loadu_ps(cr), s0);
      s1 = _mm256_add_ps(_mm256_loadu_ps(cr + 8), s1);
      s2 = _mm256_add_ps(_mm256_loadu_ps(cr + 16), s2);
      s3 = _mm256_add_ps(_mm256_loadu_ps(cr + 24), s3);
    }
    _mm256_storeu_ps(cr, s0);
    _mm256_storeu_ps(cr + 8, s1);
    _mm256_storeu_ps(cr + 16, s2);
    _mm256_storeu_ps(cr + 24, s3);
  }
  for (; j + 8 <= N; j += 8) {
    __m256 s0 = _mm256_setzero_ps();
    const float* bp = b + j;
    for (int64_t p = 0; p < kc; p++, bp += rsB)
      s0 = _mm256_fmadd_ps(_mm256_set1_ps(a[p * csA]), _mm256_loadu_ps(bp), s0);
    if (acc) s0 = _mm256_add_ps(_mm256_loadu_ps(c + j), s0);
    _mm256_storeu_ps(c + j, s0);
  }
  for (; j < N; j++) {  // scalar tail: std::fma rounds once, exactly like the vector FMA
    float s0 = 0.f;
    for (int64_t p = 0; p < kc; p++) s0 = std::fma(a[p * csA], b[p * rsB + j], s0);
    c[j] = acc ? c[j] + s0 : s0;
  }
}
#endif

const Isa kGeneric{kGenMR, kGenNR, 128, 256, 2048, kernel_generic, "generic", nullptr, nullptr};
#if defined(__x86_64__)
const Isa kAvx2{6, 16, 120, 256, 4080, kernel_avx2, "avx2+fma", kernel_avx2_ua, kRows256};
#ifndef TSR_KC512
#define TSR_KC512 256
#endif
#ifndef TSR_NC512
#define TSR_NC512 4096
#endif
#ifndef TSR_MC512
#define TSR_MC512 144
#endif
const Isa kAvx512{12, 32, TSR_MC512, TSR_KC512, TSR_NC512, kernel_avx512, "avx512f", kernel_avx512_ua, kRows512};
#endif

int g_forced = 0;

const Isa& detect() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kAvx2;
#endif
  return kGeneric;
}

const Isa& isa() {
  static const Isa& best = detect();
#if defined(__x86_64__)
  if (g_forced == 1) return kGeneric;
  if (g_forced == 2 && (&best == &kAvx2 || &best == &kAvx512)) return kAvx2;
#else
  if (g_forced == 1) return kGeneric;
#endif
  return best;
}

// Column-major A (rsA == 1, e.g. A = im2col^T for filter gradients): each micro-panel column
// is MR contiguous floats; a compile-time MR lets the copy vectorize.
template <int MR>
void pack_a_colmajor(int64_t mc, int64_t kc, const float* A, int64_t csA, float* dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int64_t mr = std::min<int64_t>(MR, mc - i0);
    const float* src = A + i0;
    if (mr == MR) {
      for (int64_t p = 0; p < kc; p++) {
        const float* s = src + p * csA;
        float* d = dst + p * MR;
        for (int i = 0; i < MR; i++) d[i] = s[i];
      }
    } else {
      for (int64_t p = 0; p < kc; p++) {
        const float* s = src + p * csA;
        float* d = dst + p * MR;
        int64_t i = 0;
        for (; i < mr; i++) d[i] = s[i];
        for (; i < MR; i++) d[i] = 0.f;
      }
    }
    dst += MR * kc;
  }
}

// Pack an mc x kc block of A into MR-row micro-panels (zero padded to a multiple of MR).
void pack_a(int MR, int64_t mc, int64_t kc, const float* A, int64_t rsA, int64_t csA, float* dst) {
  if (rsA == 1 && csA != 1) {
    if (MR == 12) return pack_a_colmajor<12>(mc, kc, A, csA, dst);
    if (MR == 6) return pack_a_colmajor<6>(mc, kc, A, csA, dst);
    if (MR == 4) return pack_a_colmajor<4>(mc, kc, A, csA, dst);
  }
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    int64_t mr = std::min<int64_t>(MR, mc - i0);
    const float* src = A + i0 * rsA;
    if (csA == 1) {
      for (int64_t i = 0; i < mr; i++) {
        const float* s = src + i * rsA;
        float* d = dst + i;
        for (int64_t p = 0; p < kc; p++) d[p * MR] = s[p];
      }
      for (int64_t i = mr; i < MR; i++)
        for (int64_t p = 0; p < kc; p++) dst[p * MR + i] = 0.f;
    } else {
      for (int64_t p = 0; p < kc; p++) {
        const float* s = src + p * csA;
        float* d = dst + p * MR;
        int64_t i = 0;
        for (; i < mr; i++) d[i] = s[i * rsA];
        for (; i < MR; i++) d[i] = 0.f;
      }
    }
    dst += MR * kc;
  }
}

// Pack a kc x nc block of B into NR-column micro-panels (zero padded to a multiple of NR).
void pack_b(int NR, int64_t kc, int64_t nc, const float* B, int64_t rsB, int64_t csB, float* dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    int64_t nr = std::min<int64_t>(NR, nc - j0);
    const float* src = B + j0 * csB;
    if (csB == 1) {
      if (nr == NR) {
        for (int64_t p = 0; p < kc; p++) std::memcpy(dst + p * NR, src + p * rsB, sizeof(float) * NR);
      } else {
        for (int64_t p = 0; p < kc; p++) {
          const float* s = src + p * rsB;
          float* d = dst + p * NR;
          int64_t j = 0;
          for (; j < nr; j++) d[j] = s[j];
          for (; j < NR; j++) d[j] = 0.f;
        }
      }
    } else {
      for (int64_t j = 0; j < nr; j++) {
        const float* s = src + j * csB;
        float* d = dst + j;
        for (int64_t p = 0; p < kc; p++) d[p * NR] = s[p * rsB];
      }
      for (int64_t j = nr; j < NR; j++)
        for (int64_t p = 0; p < kc; p++) dst[p * NR + j] = 0.f;
    }
    dst += NR * kc;
  }
}

}  // namespace

const char* gemm_isa() { return isa().name; }
int gemm_isa_level() {
#if defined(__x86_64__)
  const Isa& s = isa();
  if (&s == &kAvx512) return 3;
  if (&s == &kAvx2) return 2;
#endif
  return 0;
}
void gemm_force_isa(int v) { g_forced = v; }

namespace {
struct StridedA final : APacker {
  const float* A;
  int64_t rs, cs;
  StridedA(const float* a, int64_t r, int64_t c) : A(a), rs(r), cs(c) {}
  void pack(int64_t i0, int64_t mc, int64_t p0, int64_t kc, int MR, float* dst) const override {
    pack_a(MR, mc, kc, A + i0 * rs + p0 * cs, rs, cs, dst);
  }
  const float* row_major(int64_t& lda) const override {
    if (cs != 1) return nullptr;
    lda = rs;
    return A;
  }
};
}  // namespace

// K blocks of (nearly) equal size, at most KC * 5/4 each: K = 288 is one block, not 256 + 32
static int64_t k_block(int64_t K, int64_t kcIsa) {
  const int64_t kBlocks = std::max<int64_t>(1, (K * 4 + kcIsa * 5 - 1) / (kcIsa * 5));
  return (K + kBlocks - 1) / kBlocks;
}

void gemm_serial(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B,
                 int64_t rsB, int64_t csB, float* C, int64_t ldc, bool accumulate) {
#if defined(__x86_64__)
  const Isa& s = isa();
  // Few rows, or a few more against a small B (Winograd's per-point GEMMs at batch 1: 9 rows of
  // [32 x 64]), where packing B would cost more than streaming it from L1 once per row.
  // (Two rows or more in whole kernel-wide column panels go to the r-row kernels instead, which
  // stream B once for all the rows: see gemm_serial_packed.)
  const bool rowKernels = M >= 2 && csA == 1 && s.rows != nullptr && N % s.NR == 0;
  if (M > 0 && (M <= 4 || (M <= 16 && K * N <= 4096)) && N > 0 && K > 0 && csB == 1 && !rowKernels &&
      (&s == &kAvx512 || &s == &kAvx2)) {
    const int64_t KC = k_block(K, s.KC);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      for (int64_t i = 0; i < M; i++) {
        const float* a = A + i * rsA + pc * csA;
        if (&s == &kAvx512)
          few_rows_avx512(N, kc, a, csA, B + pc * rsB, rsB, C + i * ldc, accumulate || pc > 0);
        else
          few_rows_avx2(N, kc, a, csA, B + pc * rsB, rsB, C + i * ldc, accumulate || pc > 0);
      }
    }
    return;
  }
#endif
  gemm_serial_packed(M, N, K, StridedA(A, rsA, csA), B, rsB, csB, C, ldc, accumulate);
}

void gemm_serial_packed(int64_t M, int64_t N, int64_t K, const APacker& A, const float* B, int64_t rsB, int64_t csB,
                        float* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; i++) std::memset(C + i * ldc, 0, sizeof(float) * N);
    return;
  }
  const Isa& s = isa();
  const int MR = s.MR, NR = s.NR;
  const int64_t KC = k_block(K, s.KC);
  const int64_t NC = std::min<int64_t>(s.NC, (N + NR - 1) / NR * NR);
  const int64_t MC = std::min<int64_t>(s.MC, (M + MR - 1) / MR * MR);
  const int64_t kcMax = std::min<int64_t>(KC, K);
  // A few row panels against row-major B (a Dense layer at serving batch sizes, Winograd's
  // per-point GEMMs): B would be reused at most 4 times, too few for packing it to pay, and a
  // ragged last panel would be packed and computed through a buffer. Both are read in place.
  // Measured: faster at every size with one row panel, and with up to 4 while B's rows are at
  // most 256 wide; beyond that (24-48 rows x 1024+ columns) the strided reads lose to packing.
  int64_t rLda = 0;
  const bool fewPanels = M <= MR || (M <= 4 * MR && N <= 256);
  const float* rRows = s.rows != nullptr && csB == 1 && fewPanels && N % NR == 0 ? A.row_major(rLda) : nullptr;
  if (rRows != nullptr) {
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool acc = accumulate || pc > 0;
      for (int64_t jr = 0; jr < N; jr += NR)
        for (int64_t ir = 0; ir < M; ir += MR)
          s.rows[std::min<int64_t>(MR, M - ir)](kc, rRows + ir * rLda + pc, rLda, B + pc * rsB + jr, rsB,
                                                C + ir * ldc + jr, ldc, acc);
    }
    return;
  }
  float* bp = scratch(0, size_t(NC) * kcMax);
  float* ap = scratch(1, size_t(MC) * kcMax);
  alignas(64) float tmp[16 * 32];
  // Narrow N: each A element feeds few FMAs, so read row-major A in place instead of packing it.
  int64_t uaLda = 0;
  const float* uaRows = s.kernel_ua && (N <= 3 * NR || K <= 128) ? A.row_major(uaLda) : nullptr;
  const bool ua = uaRows != nullptr;
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool acc = accumulate || pc > 0;
      // B that is already one contiguous NR-wide panel (row-major, N == NR) is used in place
      const bool bInPlace = csB == 1 && rsB == NR && nc == NR;
      const float* bsrc = B + pc * rsB + jc * csB;
      if (!bInPlace) pack_b(NR, kc, nc, bsrc, rsB, csB, bp);
      const float* bpk = bInPlace ? bsrc : bp;
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        const int64_t fullRows = mc / MR * MR;
        if (!ua)
          A.pack(ic, mc, pc, kc, MR, ap);
        else if (fullRows < mc)  // only the ragged last panel is packed
          A.pack(ic + fullRows, mc - fullRows, pc, kc, MR, ap + fullRows * kc);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min<int64_t>(NR, nc - jr);
          const float* bpp = bpk + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t mr = std::min<int64_t>(MR, mc - ir);
            const float* app = ap + ir * kc;
            float* cp = C + (ic + ir) * ldc + jc + jr;
            if (ua && mr == MR) {
              const float* arow = uaRows + (ic + ir) * uaLda + pc;
              if (nr == NR) {
                s.kernel_ua(kc, arow, uaLda, bpp, cp, ldc, acc);
                continue;
              }
              s.kernel_ua(kc, arow, uaLda, bpp, tmp, NR, false);
            } else if (mr == MR && nr == NR) {
              s.kernel(kc, app, bpp, cp, ldc, acc);
              continue;
            } else {
              s.kernel(kc, app, bpp, tmp, NR, false);
            }
            {
              for (int64_t i = 0; i < mr; i++) {
                float* cr = cp + i * ldc;
                const float* tr = tmp + i * NR;
                if (acc)
                  for (int64_t j = 0; j < nr; j++) cr[j] += tr[j];
                else
                  for (int64_t j = 0; j < nr; j++) cr[j] = tr[j];
              }
            }
          }
        }
      }
    }
  }
}

void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B, int64_t rsB,
          int64_t csB, float* C, int64_t ldc, bool accumulate) {
  int T = num_threads();
  const double work = double(M) * double(N) * double(K);
  if (T <= 1 || work < 96.0 * 96.0 * 96.0) {
    gemm_serial(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate);
    return;
  }
  const Isa& s = isa();
  const int64_t mUnits = (M + s.MR - 1) / s.MR, nUnits = (N + s.NR - 1) / s.NR;
  // tm x tn tiles, up to 3 per thread when the work is large (the pool hands tiles out
  // dynamically, so a descheduled thread can be covered); the split depends only on sizes and T
  const int maxTiles = work >= 512.0 * 512 * 512 ? 3 * T : T;
  // cost: the busiest thread's share (micro-tiles) when all threads run at the same speed.
  auto cost = [&](int tm, int tn) {
    const int rounds = (tm * tn + T - 1) / T;
    return rounds * double((mUnits + tm - 1) / tm) * double((nUnits + tn - 1) / tn);
  };
  double minCost = 1e300;
  for (int tm = 1; tm <= maxTiles && tm <= mUnits; tm++)
    for (int tn = 1; tm * tn <= maxTiles && tn <= nUnits; tn++) minCost = std::min(minCost, cost(tm, tn));
  // within 5% of the best balance, prefer more tiles (robust to an uneven machine), then less cost
  int bestTm = 1, bestTn = 1;
  double bestCost = 1e300;
  for (int tm = 1; tm <= maxTiles && tm <= mUnits; tm++) {
    for (int tn = 1; tm * tn <= maxTiles && tn <= nUnits; tn++) {
      const double c = cost(tm, tn);
      if (c > minCost * 1.05) continue;
      const int tiles = tm * tn, bestTiles = bestTm * bestTn;
      if (bestCost > 1e299 || tiles > bestTiles || (tiles == bestTiles && c < bestCost)) {
        bestCost = c;
        bestTm = tm;
        bestTn = tn;
      }
    }
  }
  const int tm = bestTm, tn = bestTn;
  if (tm * tn <= 1) {
    gemm_serial(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate);
    return;
  }
  parallel_tasks(tm * tn, [&](int t) {
    int ti = t / tn, tj = t % tn;
    int64_t m0 = mUnits * ti / tm * s.MR, m1 = std::min<int64_t>(M, mUnits * (ti + 1) / tm * s.MR);
    int64_t n0 = nUnits * tj / tn * s.NR, n1 = std::min<int64_t>(N, nUnits * (tj + 1) / tn * s.NR);
    if (m0 >= m1 || n0 >= n1) return;
    gemm_serial(m1 - m0, n1 - n0, K, A + m0 * rsA, rsA, csA, B + n0 * csB, rsB, csB, C + m0 * ldc + n0, ldc,
                accumulate);
  });
}

}  // namespace tsr

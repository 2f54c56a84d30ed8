// Shared helpers for the Tessera native backend.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#if defined(__x86_64__) || defined(__SSE__)
#include <xmmintrin.h>
#define TSR_HAVE_MXCSR 1
#endif

namespace tsr {

// Flush-to-zero and denormals-are-zero for the float kernels, as TensorFlow does on CPU: a
// denormal operand costs ~100x a normal one on x86 (Adam's second moments decay into that range
// once gradients get small, which made an update 40x slower). Kernel entry points hold one for
// the duration of the call and restore the caller's mode (V8's own double math never sees it);
// pool workers set the mode once for their lifetime.
struct FlushDenormals {
#ifdef TSR_HAVE_MXCSR
  unsigned saved;
  FlushDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved | 0x8040u); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
};
// The opposite, for code whose results must be IEEE's to the last bit (the JSON scan's float32
// values: JSON.parse and a Float32Array store keep subnormals).
struct KeepDenormals {
#ifdef TSR_HAVE_MXCSR
  unsigned saved;
  KeepDenormals() : saved(_mm_getcsr()) { _mm_setcsr(saved & ~0x8040u); }
  ~KeepDenormals() { _mm_setcsr(saved); }
#endif
  KeepDenormals(const KeepDenormals&) = delete;
  KeepDenormals& operator=(const KeepDenormals&) = delete;
};
inline void flush_denormals_forever() {
#ifdef TSR_HAVE_MXCSR
  _mm_setcsr(_mm_getcsr() | 0x8040u);
#endif
}

// Thrown by kernels when their arguments do not fit; the binding turns it into a JS Error.
struct ArgError : std::runtime_error {
  explicit ArgError(const std::string& m) : std::runtime_error(m) {}
};

// ---- thread pool -------------------------------------------------------------------------
int num_threads();
void set_num_threads(int n);
// Runs fn(ctx, t) for t in [0, tasks). The partition is decided by the caller (static), so
// results never depend on which OS thread ran a task. tasks <= 1 runs inline.
void run_tasks(int tasks, void (*fn)(void*, int), void* ctx);

template <class F>
inline void parallel_tasks(int tasks, F&& f) {
  if (tasks <= 1) {
    if (tasks == 1) f(0);
    return;
  }
  using Fn = typename std::remove_reference<F>::type;
  run_tasks(tasks, [](void* c, int t) { (*static_cast<Fn*>(c))(t); }, static_cast<void*>(&f));
}

// Splits [0, n) into up to num_threads() contiguous chunks (chunk boundaries multiples of
// `align`) when n >= grain, else runs inline. f(begin, end).
template <class F>
inline void parallel_range(int64_t n, int64_t grain, int64_t align, F&& f) {
  if (n <= 0) return;
  int T = num_threads();
  int64_t units = (n + align - 1) / align;
  if (T <= 1 || n < grain || units < 2) {
    f(int64_t(0), n);
    return;
  }
  int tasks = T * 3;  // a few per thread, taken dynamically: robust to a descheduled thread
  if (units < tasks) tasks = int(units);
  parallel_tasks(tasks, [&](int t) {
    int64_t u0 = units * t / tasks, u1 = units * (t + 1) / tasks;
    int64_t b = u0 * align, e = u1 * align < n ? u1 * align : n;
    if (b < e) f(b, e);
  });
}

// ---- aligned scratch ---------------------------------------------------------------------
// Per-thread growable 64-byte aligned float buffer, slots 0-7: 0-1 GEMM packing, 2 im2col /
// Winograd input tiles, 3 fused conv output, 4 Winograd filters (calling thread), 5 Winograd products.
float* scratch(int slot, size_t floats);

// ---- GEMM --------------------------------------------------------------------------------
// C[i*ldc + j] (= or +=) sum_p A(i,p) * B(p,j), A(i,p) = A[i*rsA + p*csA], B(p,j) = B[p*rsB + j*csB].
void gemm_serial(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B,
                 int64_t rsB, int64_t csB, float* C, int64_t ldc, bool accumulate);
// Same, split across the pool when the work is large enough.
void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t rsA, int64_t csA, const float* B, int64_t rsB,
          int64_t csB, float* C, int64_t ldc, bool accumulate);
// A supplied by a packer instead of a strided matrix (e.g. im2col fused into packing): pack
// rows [i0, i0+mc) x cols [p0, p0+kc) of A into MR-row micro-panels, dst[panel][p][r], with
// rows past mc zero-filled.
struct APacker {
  virtual void pack(int64_t i0, int64_t mc, int64_t p0, int64_t kc, int MR, float* dst) const = 0;
  // A itself when it is row-major in memory (A(i,p) = ptr[i*lda + p]), else nullptr.
  virtual const float* row_major(int64_t& lda) const { return nullptr; }
  virtual ~APacker() = default;
};
void gemm_serial_packed(int64_t M, int64_t N, int64_t K, const APacker& A, const float* B, int64_t rsB, int64_t csB,
                        float* C, int64_t ldc, bool accumulate);
const char* gemm_isa();
int gemm_isa_level();  // 0 portable, 2 AVX2+FMA, 3 AVX-512 (honours gemm_force_isa)
void gemm_force_isa(int isa);  // testing: 0 auto, 1 scalar, 2 avx2, 3 avx512

}  // namespace tsr

namespace tsr {
// ---- kernels (arguments already validated by the binding) -----------------------------------
// Op codes follow the order of the op-name lists in src/backend/native.ts.
void unary_f32(int op, const float* x, float* out, int64_t n, double alpha);
void activation_grad_f32(int op, const float* x, const float* y, const float* dy, float* dx, int64_t n, double alpha);
// outKind: 0 float32 out, 1 uint8 out
void binary_f32(int op, const float* a, const int64_t* aStrides, const float* b, const int64_t* bStrides, void* out,
                int outKind, const int64_t* shape, int rank);
void reduce_f32(int op, const float* x, float* out, int64_t outer, int64_t len, int64_t inner);
void arg_reduce_f32(int op, const float* x, int32_t* out, int64_t outer, int64_t len, int64_t inner);
void transpose_any(const void* x, void* out, int elemSize, const int64_t* shape, const int64_t* perm, int rank);
void matmul_f32(const float* a, const float* b, float* out, int64_t batch, int64_t m, int64_t n, int64_t k, bool transA,
                bool transB, int64_t aBatchStride, int64_t bBatchStride);
void softmax_f32(const float* x, float* out, int64_t rows, int64_t cols, bool log);
void xent_f32(const float* logits, const int32_t* labels, float* loss, float* dlogits, int64_t rows, int64_t cols);
void sgd_f32(float* p, const float* g, float* v, int64_t n, double lr, double momentum, bool nesterov);
void adam_f32(float* p, const float* g, float* m, float* v, int64_t n, double lr, double b1, double b2, double eps,
              double step, double wd);

struct ConvGeom {
  int64_t N, H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL, M;  // M: depthwise multiplier
};
struct PoolGeom {
  int64_t N, H, W, C, OH, OW, PH, PW, SH, SW, PT, PL;
};
void conv2d_f32(const float* x, const float* w, float* out, const ConvGeom& g);
void conv2d_dx_f32(const float* dy, const float* w, float* dx, const ConvGeom& g);
void conv2d_dw_f32(const float* x, const float* dy, float* dw, const ConvGeom& g);
void dw_conv2d_f32(const float* x, const float* w, float* out, const ConvGeom& g);
void dw_conv2d_dx_f32(const float* dy, const float* w, float* dx, const ConvGeom& g);
void dw_conv2d_dw_f32(const float* x, const float* dy, float* dw, const ConvGeom& g);
void maxpool_f32(const float* x, float* out, int32_t* argmax, const PoolGeom& g);
// Inference: out = act(maxpool(conv2d(x, w)) (+ bias)), act relu or linear; p describes pooling conv's output.
// winograd: 3x3 stride-1 convolutions with at least 8 channels in and out may use Winograd F(4x4, 3x3),
// F(5x5, 3x3) or F(2x2, 3x3) (to ~1e-5 of the outputs' scale); otherwise the result is bit-identical
// to conv2d_f32, maxpool_f32, bias_act_f32.
void conv2d_maxpool_f32(const float* x, const float* w, const float* bias, float* out, const ConvGeom& g,
                        const PoolGeom& p, bool relu, bool winograd);
// returns false if some argmax index is outside [-1, N*H*W*C)
bool maxpool_bwd_f32(const float* dy, const int32_t* argmax, float* dx, const PoolGeom& g, int64_t dxLen);
void avgpool_f32(const float* x, float* out, const PoolGeom& g);
void avgpool_bwd_f32(const float* dy, float* dx, const PoolGeom& g);
}  // namespace tsr

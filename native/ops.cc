// Elementwise, reduction, transpose, matmul batching, softmax/cross-entropy and optimizer
// kernels. Each kernel matches src/backend/reference.ts (the definition) to float tolerance.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace tsr {
namespace {

constexpr double kSeluScale = 1.0507009873554805;
constexpr double kSeluAlpha = 1.6732632423543772;
constexpr double kSqrt1_2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;
constexpr int64_t kEwGrain = 1 << 15;  // elements before elementwise kernels go parallel

inline float sigmoidf(float x) {
  if (x >= 0) return 1.f / (1.f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.f + e);
}
inline double sigmoidd(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}
inline float nanmin6(float v, float hi) { return v != v ? v : (v > 0 ? (v < hi ? v : hi) : 0.f); }

template <class F>
void ew_map(const float* x, float* out, int64_t n, F f) {
  parallel_range(n, kEwGrain, 64, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) out[i] = f(x[i]);
  });
}

}  // namespace

// order: neg exp log sqrt rsqrt abs square reciprocal sign floor ceil round sin cos log1p expm1
//        relu relu6 leakyRelu elu selu gelu sigmoid hardSigmoid tanh softplus softsign swish
void unary_f32(int op, const float* x, float* out, int64_t n, double alpha) {
  switch (op) {
    case 0: return ew_map(x, out, n, [](float v) { return -v; });
    case 1: return ew_map(x, out, n, [](float v) { return std::exp(v); });
    case 2: return ew_map(x, out, n, [](float v) { return std::log(v); });
    case 3: return ew_map(x, out, n, [](float v) { return std::sqrt(v); });
    case 4: return ew_map(x, out, n, [](float v) { return float(1.0 / std::sqrt(double(v))); });
    case 5: return ew_map(x, out, n, [](float v) { return std::fabs(v); });
    case 6: return ew_map(x, out, n, [](float v) { return v * v; });
    case 7: return ew_map(x, out, n, [](float v) { return 1.f / v; });
    case 8: return ew_map(x, out, n, [](float v) { return v > 0 ? 1.f : (v < 0 ? -1.f : v); });
    case 9: return ew_map(x, out, n, [](float v) { return std::floor(v); });
    case 10: return ew_map(x, out, n, [](float v) { return std::ceil(v); });
    case 11: return ew_map(x, out, n, [](float v) { return std::nearbyint(v); });
    case 12: return ew_map(x, out, n, [](float v) { return float(std::sin(double(v))); });
    case 13: return ew_map(x, out, n, [](float v) { return float(std::cos(double(v))); });
    case 14: return ew_map(x, out, n, [](float v) { return std::log1p(v); });
    case 15: return ew_map(x, out, n, [](float v) { return std::expm1(v); });
    case 16: return ew_map(x, out, n, [](float v) { return v != v ? v : (v > 0 ? v : 0.f); });
    case 17: return ew_map(x, out, n, [](float v) { return nanmin6(v, 6.f); });
    case 18: return ew_map(x, out, n, [alpha](float v) { return v > 0 ? v : float(alpha * double(v)); });
    case 19: return ew_map(x, out, n, [alpha](float v) { return v > 0 ? v : float(alpha * std::expm1(double(v))); });
    case 20:
      return ew_map(x, out, n, [](float v) {
        return v > 0 ? float(kSeluScale * v) : float(kSeluScale * kSeluAlpha * std::expm1(double(v)));
      });
    case 21: return ew_map(x, out, n, [](float v) { return float(0.5 * v * std::erfc(-double(v) * kSqrt1_2)); });
    case 22: return ew_map(x, out, n, [](float v) { return sigmoidf(v); });
    case 23: return ew_map(x, out, n, [](float v) { return float(double(nanmin6(v + 3.f, 6.f)) / 6.0); });
    case 24: return ew_map(x, out, n, [](float v) { return std::tanh(v); });
    case 25:
      return ew_map(x, out, n, [](float v) {
        double d = v;
        return float((d > 0 ? d : (d != d ? d : 0.0)) + std::log1p(std::exp(-std::fabs(d))));
      });
    case 26: return ew_map(x, out, n, [](float v) { return v / (1.f + std::fabs(v)); });
    case 27: return ew_map(x, out, n, [](float v) { return float(double(v) * sigmoidd(v)); });
    default: throw ArgError("unary: unknown op code");
  }
}

namespace {
template <class F>
void ew_grad(const float* x, const float* y, const float* dy, float* dx, int64_t n, F f) {
  parallel_range(n, kEwGrain, 64, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) dx[i] = f(x[i], y[i], dy[i]);
  });
}
}  // namespace

// order: relu relu6 leakyRelu elu selu gelu sigmoid hardSigmoid tanh softplus softsign swish
void activation_grad_f32(int op, const float* x, const float* y, const float* dy, float* dx, int64_t n, double alpha) {
  switch (op) {
    case 0: return ew_grad(x, y, dy, dx, n, [](float v, float, float g) { return v > 0 ? g : 0.f; });
    case 1: return ew_grad(x, y, dy, dx, n, [](float v, float, float g) { return v > 0 && v < 6 ? g : 0.f; });
    case 2: return ew_grad(x, y, dy, dx, n, [alpha](float v, float, float g) { return v > 0 ? g : float(alpha * double(g)); });
    case 3:
      return ew_grad(x, y, dy, dx, n, [alpha](float v, float yv, float g) {
        return v > 0 ? g : float(double(g) * (double(yv) + alpha));
      });
    case 4:
      return ew_grad(x, y, dy, dx, n, [](float v, float, float g) {
        return float(double(g) * (v > 0 ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(double(v))));
      });
    case 5:
      return ew_grad(x, y, dy, dx, n, [](float v, float, float g) {
        double d = v;
        double cdf = 0.5 * std::erfc(-d * kSqrt1_2);
        double pdf = kInvSqrt2Pi * std::exp(-0.5 * d * d);
        return float(double(g) * (cdf + d * pdf));
      });
    case 6:
      return ew_grad(x, y, dy, dx, n, [](float, float s, float g) { return float(double(g) * s * (1.0 - s)); });
    case 7: return ew_grad(x, y, dy, dx, n, [](float v, float, float g) { return v > -3 && v < 3 ? float(g / 6.0) : 0.f; });
    case 8:
      return ew_grad(x, y, dy, dx, n, [](float, float t, float g) { return float(double(g) * (1.0 - double(t) * t)); });
    case 9: return ew_grad(x, y, dy, dx, n, [](float v, float, float g) { return float(double(g) * sigmoidd(v)); });
    case 10:
      return ew_grad(x, y, dy, dx, n, [](float v, float, float g) {
        double d = 1.0 + std::fabs(double(v));
        return float(double(g) / (d * d));
      });
    case 11:
      return ew_grad(x, y, dy, dx, n, [](float v, float, float g) {
        double s = sigmoidd(v);
        return float(double(g) * (s + double(v) * s * (1.0 - s)));
      });
    default: throw ArgError("activationGrad: unknown op code");
  }
}

// ---- binary ----------------------------------------------------------------------------------
namespace {

inline float jsmax(float a, float b) {
  if (a > b) return a;
  if (b > a) return b;
  if (a != a || b != b) return std::numeric_limits<float>::quiet_NaN();
  return std::signbit(a) ? b : a;
}
inline float jsmin(float a, float b) {
  if (a < b) return a;
  if (b < a) return b;
  if (a != a || b != b) return std::numeric_limits<float>::quiet_NaN();
  return std::signbit(a) ? a : b;
}
inline float jspow(float a, float b) {
  if (b != b) return std::numeric_limits<float>::quiet_NaN();
  if (std::fabs(a) == 1.f && std::isinf(b)) return std::numeric_limits<float>::quiet_NaN();
  return float(std::pow(double(a), double(b)));
}
inline float pymod(float a, float b) {
  double r = std::fmod(double(a), double(b));
  if (r != 0 && ((r < 0) != (double(b) < 0))) r += b;
  return float(r);
}

struct OpAdd { static float f(float a, float b) { return a + b; } };
struct OpSub { static float f(float a, float b) { return a - b; } };
struct OpMul { static float f(float a, float b) { return a * b; } };
struct OpDiv { static float f(float a, float b) { return a / b; } };
struct OpPow { static float f(float a, float b) { return jspow(a, b); } };
struct OpMax { static float f(float a, float b) { return jsmax(a, b); } };
struct OpMin { static float f(float a, float b) { return jsmin(a, b); } };
struct OpSqd { static float f(float a, float b) { float d = a - b; return d * d; } };
struct OpFloorDiv { static float f(float a, float b) { return float(std::floor(double(a) / double(b))); } };
struct OpMod { static float f(float a, float b) { return pymod(a, b); } };
struct OpAtan2 { static float f(float a, float b) { return float(std::atan2(double(a), double(b))); } };
struct OpEq { static float f(float a, float b) { return a == b ? 1.f : 0.f; } };
struct OpNe { static float f(float a, float b) { return a != b ? 1.f : 0.f; } };
struct OpGt { static float f(float a, float b) { return a > b ? 1.f : 0.f; } };
struct OpGe { static float f(float a, float b) { return a >= b ? 1.f : 0.f; } };
struct OpLt { static float f(float a, float b) { return a < b ? 1.f : 0.f; } };
struct OpLe { static float f(float a, float b) { return a <= b ? 1.f : 0.f; } };
struct OpAnd { static float f(float a, float b) { return a != 0 && b != 0 ? 1.f : 0.f; } };
struct OpOr { static float f(float a, float b) { return a != 0 || b != 0 ? 1.f : 0.f; } };

template <class Op, class T>
inline void run(const float* a, int64_t sa, const float* b, int64_t sb, T* out, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; i++) out[i] = T(Op::f(a[i], b[i]));
  } else if (sa == 1 && sb == 0) {
    const float bv = *b;
    for (int64_t i = 0; i < n; i++) out[i] = T(Op::f(a[i], bv));
  } else if (sa == 0 && sb == 1) {
    const float av = *a;
    for (int64_t i = 0; i < n; i++) out[i] = T(Op::f(av, b[i]));
  } else {
    for (int64_t i = 0; i < n; i++) out[i] = T(Op::f(a[i * sa], b[i * sb]));
  }
}

template <class Op, class T>
void binary_t(const float* a, const int64_t* as, const float* b, const int64_t* bs, T* out, const int64_t* shape,
              int rank) {
  int64_t size = 1;
  for (int d = 0; d < rank; d++) size *= shape[d];
  if (size == 0) return;
  if (rank == 0) {
    out[0] = T(Op::f(a[0], b[0]));
    return;
  }
  // Collapse to (rows x runLen) with per-dim strides; drop size-1 dims and merge dims that are
  // contiguous for both operands.
  int64_t sh[64], sA[64], sB[64];
  int r = 0;
  for (int d = 0; d < rank; d++) {
    if (shape[d] == 1) continue;
    if (r > 0 && sA[r - 1] == as[d] * shape[d] && sB[r - 1] == bs[d] * shape[d]) {
      sh[r - 1] *= shape[d];
      sA[r - 1] = as[d];
      sB[r - 1] = bs[d];
      continue;
    }
    sh[r] = shape[d];
    sA[r] = as[d];
    sB[r] = bs[d];
    r++;
  }
  if (r == 0) {
    out[0] = T(Op::f(a[0], b[0]));
    return;
  }
  const int last = r - 1;
  const int64_t runLen = sh[last], saL = sA[last], sbL = sB[last];
  const int64_t rows = size / runLen;
  if (rows == 1) {
    parallel_range(runLen, kEwGrain, 64, [&](int64_t s, int64_t e) {
      run<Op, T>(a + s * saL, saL, b + s * sbL, sbL, out + s, e - s);
    });
    return;
  }
  const int64_t grainRows = std::max<int64_t>(1, kEwGrain / runLen);
  parallel_range(rows, grainRows, 1, [&](int64_t r0, int64_t r1) {
    int64_t idx[64];
    int64_t rem = r0, ai = 0, bi = 0;
    for (int d = last - 1; d >= 0; d--) {
      idx[d] = rem % sh[d];
      rem /= sh[d];
      ai += idx[d] * sA[d];
      bi += idx[d] * sB[d];
    }
    for (int64_t row = r0; row < r1; row++) {
      run<Op, T>(a + ai, saL, b + bi, sbL, out + row * runLen, runLen);
      for (int d = last - 1; d >= 0; d--) {
        idx[d]++;
        ai += sA[d];
        bi += sB[d];
        if (idx[d] < sh[d]) break;
        ai -= idx[d] * sA[d];
        bi -= idx[d] * sB[d];
        idx[d] = 0;
      }
    }
  });
}

template <class T>
void binary_dispatch(int op, const float* a, const int64_t* as, const float* b, const int64_t* bs, T* out,
                     const int64_t* shape, int rank) {
#define TSR_B(code, Op) \
  case code: return binary_t<Op, T>(a, as, b, bs, out, shape, rank);
  switch (op) {
    TSR_B(0, OpAdd) TSR_B(1, OpSub) TSR_B(2, OpMul) TSR_B(3, OpDiv) TSR_B(4, OpPow) TSR_B(5, OpMax)
    TSR_B(6, OpMin) TSR_B(7, OpSqd) TSR_B(8, OpFloorDiv) TSR_B(9, OpMod) TSR_B(10, OpAtan2)
    TSR_B(11, OpEq) TSR_B(12, OpNe) TSR_B(13, OpGt) TSR_B(14, OpGe) TSR_B(15, OpLt) TSR_B(16, OpLe)
    TSR_B(17, OpAnd) TSR_B(18, OpOr)
    default: throw ArgError("binary: unknown op code");
  }
#undef TSR_B
}

}  // namespace

void binary_f32(int op, const float* a, const int64_t* as, const float* b, const int64_t* bs, void* out, int outKind,
                const int64_t* shape, int rank) {
  if (rank > 64) throw ArgError("binary: rank above 64");
  if (outKind == 0)
    binary_dispatch<float>(op, a, as, b, bs, static_cast<float*>(out), shape, rank);
  else
    binary_dispatch<uint8_t>(op, a, as, b, bs, static_cast<uint8_t*>(out), shape, rank);
}

// ---- reductions ---------------------------------------------------------------------------------
// order: sum max min prod
void reduce_f32(int op, const float* x, float* out, int64_t outer, int64_t len, int64_t inner) {
  const int64_t total = outer * inner;
  if (total == 0) return;
  const int64_t work = total * std::max<int64_t>(len, 1);
  if (inner == 1) {
    parallel_range(outer, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(len, 1)), 1, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; o++) {
        const float* r = x + o * len;
        double acc;
        switch (op) {
          case 0: {
            double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int64_t p = 0;
            for (; p + 8 <= len; p += 8)
              for (int q = 0; q < 8; q++) s[q] += r[p + q];
            double t = 0;
            for (; p < len; p++) t += r[p];
            acc = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + t;
            break;
          }
          case 1:
            acc = -std::numeric_limits<double>::infinity();
            for (int64_t p = 0; p < len; p++) {
              double v = r[p];
              if (v > acc || v != v) acc = v;
            }
            break;
          case 2:
            acc = std::numeric_limits<double>::infinity();
            for (int64_t p = 0; p < len; p++) {
              double v = r[p];
              if (v < acc || v != v) acc = v;
            }
            break;
          default:
            acc = 1;
            for (int64_t p = 0; p < len; p++) acc *= r[p];
            break;
        }
        out[o] = float(acc);
      }
    });
    return;
  }
  (void)work;
  // inner > 1: walk len rows, accumulating a strip of inner outputs in float64.
  const int64_t strip = 512;
  const int64_t strips = (inner + strip - 1) / strip;
  const int64_t units = outer * strips;
  parallel_range(units, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(len * strip, 1)), 1,
                 [&](int64_t u0, int64_t u1) {
                   double acc[512];
                   for (int64_t u = u0; u < u1; u++) {
                     const int64_t o = u / strips, i0 = (u % strips) * strip;
                     const int64_t w = std::min(strip, inner - i0);
                     const float* base = x + o * len * inner + i0;
                     double init = op == 0 ? 0.0
                                   : op == 1 ? -std::numeric_limits<double>::infinity()
                                   : op == 2 ? std::numeric_limits<double>::infinity()
                                             : 1.0;
                     for (int64_t i = 0; i < w; i++) acc[i] = init;
                     for (int64_t p = 0; p < len; p++) {
                       const float* r = base + p * inner;
                       switch (op) {
                         case 0:
                           for (int64_t i = 0; i < w; i++) acc[i] += r[i];
                           break;
                         case 1:
                           for (int64_t i = 0; i < w; i++) {
                             double v = r[i];
                             if (v > acc[i] || v != v) acc[i] = v;
                           }
                           break;
                         case 2:
                           for (int64_t i = 0; i < w; i++) {
                             double v = r[i];
                             if (v < acc[i] || v != v) acc[i] = v;
                           }
                           break;
                         default:
                           for (int64_t i = 0; i < w; i++) acc[i] *= r[i];
                           break;
                       }
                     }
                     float* orow = out + o * inner + i0;
                     for (int64_t i = 0; i < w; i++) orow[i] = float(acc[i]);
                   }
                 });
}

// order: argMax argMin. First extreme wins; NaN counts as the max.
void arg_reduce_f32(int op, const float* x, int32_t* out, int64_t outer, int64_t len, int64_t inner) {
  const bool isMax = op == 0;
  const int64_t total = outer * inner;
  parallel_range(total, std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(len, 1)), 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      const int64_t o = t / inner, i = t % inner;
      const float* base = x + o * len * inner + i;
      int32_t bestIdx = 0;
      if (len > 0) {
        float best = base[0];
        for (int64_t l = 1; l < len; l++) {
          const float v = base[l * inner];
          if (isMax) {
            if (best != best) break;
            if (v > best || v != v) {
              best = v;
              bestIdx = int32_t(l);
            }
          } else if (v < best || (best != best && v == v)) {
            best = v;
            bestIdx = int32_t(l);
          }
        }
      }
      out[t] = bestIdx;
    }
  });
}

// ---- transpose ----------------------------------------------------------------------------------
namespace {
template <class T>
void transpose_t(const T* x, T* out, const int64_t* shape, const int64_t* perm, int rank) {
  int64_t size = 1;
  for (int d = 0; d < rank; d++) size *= shape[d];
  if (size == 0) return;
  if (rank == 0) {
    out[0] = x[0];
    return;
  }
  int64_t inStr[64];
  for (int d = rank - 1, s = 1; d >= 0; d--) {
    inStr[d] = s;
    s *= shape[d];
  }
  // out dims (dropping size-1 dims, merging runs that stay contiguous in the input)
  int64_t osh[64], ostr[64];
  int r = 0;
  for (int d = 0; d < rank; d++) {
    int64_t len = shape[perm[d]], st = inStr[perm[d]];
    if (len == 1) continue;
    if (r > 0 && ostr[r - 1] == st * len) {
      osh[r - 1] *= len;
      ostr[r - 1] = st;
      continue;
    }
    osh[r] = len;
    ostr[r] = st;
    r++;
  }
  if (r <= 1) {
    std::memcpy(out, x, sizeof(T) * size);
    return;
  }
  const int last = r - 1;
  const int64_t runLen = osh[last], sL = ostr[last];
  const int64_t rows = size / runLen;
  if (sL != 1 && r >= 2) {
    // blocked 2-D tile over the last two out dims: out[.., i, j] = x[.. + i*s_i + j*s_j]
    const int64_t ni = osh[last - 1], si = ostr[last - 1];
    const int64_t outerRows = rows / ni;
    const int64_t B = 32;
    parallel_range(outerRows * ((ni + B - 1) / B), std::max<int64_t>(1, (1 << 15) / (B * runLen)), 1,
                   [&](int64_t u0, int64_t u1) {
                     const int64_t iBlocks = (ni + B - 1) / B;
                     for (int64_t u = u0; u < u1; u++) {
                       int64_t orow = u / iBlocks, ib = (u % iBlocks) * B;
                       // source offset of outer index orow
                       int64_t rem = orow, src = 0;
                       for (int d = last - 2; d >= 0; d--) {
                         src += (rem % osh[d]) * ostr[d];
                         rem /= osh[d];
                       }
                       T* obase = out + orow * ni * runLen;
                       const int64_t ie = std::min(ni, ib + B);
                       for (int64_t jb = 0; jb < runLen; jb += B) {
                         const int64_t je = std::min(runLen, jb + B);
                         for (int64_t i = ib; i < ie; i++) {
                           const T* s = x + src + i * si;
                           T* o = obase + i * runLen;
                           for (int64_t j = jb; j < je; j++) o[j] = s[j * sL];
                         }
                       }
                     }
                   });
    return;
  }
  parallel_range(rows, std::max<int64_t>(1, (1 << 15) / runLen), 1, [&](int64_t r0, int64_t r1) {
    int64_t idx[64];
    int64_t rem = r0, src = 0;
    for (int d = last - 1; d >= 0; d--) {
      idx[d] = rem % osh[d];
      rem /= osh[d];
      src += idx[d] * ostr[d];
    }
    for (int64_t row = r0; row < r1; row++) {
      std::memcpy(out + row * runLen, x + src, sizeof(T) * runLen);
      for (int d = last - 1; d >= 0; d--) {
        idx[d]++;
        src += ostr[d];
        if (idx[d] < osh[d]) break;
        src -= idx[d] * ostr[d];
        idx[d] = 0;
      }
    }
  });
}
}  // namespace

void transpose_any(const void* x, void* out, int elemSize, const int64_t* shape, const int64_t* perm, int rank) {
  if (rank > 64) throw ArgError("transpose: rank above 64");
  if (elemSize == 4)
    transpose_t(static_cast<const uint32_t*>(x), static_cast<uint32_t*>(out), shape, perm, rank);
  else
    transpose_t(static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out), shape, perm, rank);
}

// ---- matmul ---------------------------------------------------------------------------------------
void matmul_f32(const float* a, const float* b, float* out, int64_t batch, int64_t m, int64_t n, int64_t k,
                bool transA, bool transB, int64_t aBS, int64_t bBS) {
  const int64_t rsA = transA ? 1 : k, csA = transA ? m : 1;
  const int64_t rsB = transB ? 1 : n, csB = transB ? k : 1;
  if (batch <= 0 || m <= 0 || n <= 0) return;
  // Shared B with contiguous A rows: one tall GEMM over all batches.
  if (batch > 1 && bBS == 0 && !transA && aBS == m * k) {
    gemm(batch * m, n, k, a, rsA, csA, b, rsB, csB, out, n, false);
    return;
  }
  const int T = num_threads();
  const double per = double(m) * n * std::max<int64_t>(k, 1);
  if (batch >= 2 && T > 1 && per < 256.0 * 256 * 256 && double(batch) * per >= 64.0 * 64 * 64) {
    const int tasks = int(std::min<int64_t>(T, batch));
    parallel_tasks(tasks, [&](int t) {
      int64_t b0 = batch * t / tasks, b1 = batch * (t + 1) / tasks;
      for (int64_t i = b0; i < b1; i++)
        gemm_serial(m, n, k, a + i * aBS, rsA, csA, b + i * bBS, rsB, csB, out + i * m * n, n, false);
    });
    return;
  }
  for (int64_t i = 0; i < batch; i++)
    gemm(m, n, k, a + i * aBS, rsA, csA, b + i * bBS, rsB, csB, out + i * m * n, n, false);
}

// ---- softmax / cross-entropy --------------------------------------------------------------------
void softmax_f32(const float* x, float* out, int64_t rows, int64_t cols, bool log) {
  parallel_range(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(cols, 1)), 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * cols;
      float* o = out + r * cols;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t c = 0; c < cols; c++)
        if (xr[c] > mx) mx = xr[c];
      double sum = 0;
      if (log) {
        for (int64_t c = 0; c < cols; c++) sum += std::exp(double(xr[c]) - mx);
        const double lse = double(mx) + std::log(sum);
        for (int64_t c = 0; c < cols; c++) o[c] = float(double(xr[c]) - lse);
      } else {
        for (int64_t c = 0; c < cols; c++) {
          float e = std::exp(xr[c] - mx);
          o[c] = e;
          sum += e;
        }
        const float inv = float(1.0 / sum);
        if (std::isfinite(inv) && inv != 0)
          for (int64_t c = 0; c < cols; c++) o[c] *= inv;
        else
          for (int64_t c = 0; c < cols; c++) o[c] = float(o[c] / sum);
      }
    }
  });
}

void xent_f32(const float* logits, const int32_t* labels, float* loss, float* dlogits, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++)
    if (labels[r] < 0 || labels[r] >= cols)
      throw ArgError("sparseSoftmaxCrossEntropy: label " + std::to_string(labels[r]) + " at row " +
                     std::to_string(r) + " is outside [0, " + std::to_string(cols) + ")");
  parallel_range(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(cols, 1)), 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = logits + r * cols;
      const int32_t label = labels[r];
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t c = 0; c < cols; c++)
        if (xr[c] > mx) mx = xr[c];
      double sum = 0;
      for (int64_t c = 0; c < cols; c++) sum += std::exp(double(xr[c]) - mx);
      const double lse = double(mx) + std::log(sum);
      loss[r] = float(lse - xr[label]);
      if (dlogits) {
        float* d = dlogits + r * cols;
        for (int64_t c = 0; c < cols; c++) d[c] = float(std::exp(double(xr[c]) - lse) - (c == label ? 1.0 : 0.0));
      }
    }
  });
}

// ---- optimizers ---------------------------------------------------------------------------------
void sgd_f32(float* p, const float* g, float* v, int64_t n, double lr, double mu, bool nesterov) {
  parallel_range(n, 1 << 16, 64, [&](int64_t b, int64_t e) {
    if (!v) {
      for (int64_t i = b; i < e; i++) p[i] = float(double(p[i]) - lr * double(g[i]));
      return;
    }
    for (int64_t i = b; i < e; i++) {
      const double gi = g[i];
      const double vi = mu * double(v[i]) - lr * gi;
      const float vf = float(vi);
      v[i] = vf;
      p[i] = float(double(p[i]) + (nesterov ? mu * vi - lr * gi : vi));
    }
  });
}

void adam_f32(float* p, const float* g, float* m, float* v, int64_t n, double lr, double b1, double b2, double eps,
              double step, double wd) {
  // Scalars in double, the per-element update in float (as Keras does): the loop vectorises,
  // which matters because a small model's step is dominated by per-weight overheads.
  const float alpha = float(lr * std::sqrt(1 - std::pow(b2, step)) / (1 - std::pow(b1, step)));
  const float keep = float(1 - wd * lr);
  const float c1 = float(1 - b1), c2 = float(1 - b2), e = float(eps);
  const bool decay = wd != 0;
  parallel_range(n, 1 << 15, 64, [=](int64_t b, int64_t end) {
    // captured by value: scalars read through a reference kept the loop from vectorising
    float* __restrict pp = p;
    const float* __restrict gg = g;
    float* __restrict mm = m;
    float* __restrict vv = v;
    for (int64_t i = b; i < end; i++) {
      const float w = decay ? pp[i] * keep : pp[i];
      const float gi = gg[i];
      const float mi = mm[i] + (gi - mm[i]) * c1;
      const float vi = vv[i] + (gi * gi - vv[i]) * c2;
      mm[i] = mi;
      vv[i] = vi;
      pp[i] = w - (alpha * mi) / (std::sqrt(vi) + e);
    }
  });
}

}  // namespace tsr

// ---- fused bias add + activation (act: 0 linear, 1 relu) ------------------------------------------
namespace tsr {

// out[r, c] = f(x[r, c] + bias[c]); relu keeps NaN (like unary relu).
void bias_act_f32(const float* x, const float* bias, float* out, int64_t rows, int64_t cols, int act) {
  if (rows <= 0 || cols <= 0) return;
  parallel_range(rows, std::max<int64_t>(1, kEwGrain / cols), 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* __restrict xr = x + r * cols;
      const float* __restrict b = bias;
      float* __restrict o = out + r * cols;
      if (act == 1) {
        for (int64_t c = 0; c < cols; c++) {
          const float v = xr[c] + b[c];
          o[c] = v != v ? v : (v > 0 ? v : 0.f);
        }
      } else {
        for (int64_t c = 0; c < cols; c++) o[c] = xr[c] + b[c];
      }
    }
  });
}

// y = f(x + bias): dx = dy * f' (relu: from y, y > 0), dbias[c] = sum over rows of dx[., c] (double
// accumulators; rows split into a fixed number of blocks by size, summed in block order, so the result
// does not depend on the thread count).
void bias_act_grad_f32(const float* y, const float* dy, float* dx, float* dbias, int64_t rows, int64_t cols, int act) {
  if (cols <= 0) return;
  if (rows <= 0) {
    for (int64_t c = 0; c < cols; c++) dbias[c] = 0.f;
    return;
  }
  const int64_t total = rows * cols;
  const int blocks = int(std::max<int64_t>(1, std::min<int64_t>(rows, std::min<int64_t>(8, total / 16384))));
  std::vector<double> part(size_t(blocks) * size_t(cols), 0.0);
  parallel_tasks(blocks, [&](int bl) {
    {
      const int64_t r0 = rows * bl / blocks, r1 = rows * (bl + 1) / blocks;
      double* __restrict acc = part.data() + size_t(bl) * size_t(cols);
      for (int64_t r = r0; r < r1; r++) {
        const float* __restrict yr = y + r * cols;
        const float* __restrict g = dy + r * cols;
        float* __restrict d = dx + r * cols;
        // two loops over the (L1-resident) row so each vectorises
        if (act == 1) {
          for (int64_t c = 0; c < cols; c++) {
            const float gv = g[c];  // loaded unconditionally, so the select vectorises
            d[c] = yr[c] > 0 ? gv : 0.f;
          }
        } else {
          for (int64_t c = 0; c < cols; c++) d[c] = g[c];
        }
        for (int64_t c = 0; c < cols; c++) acc[c] += double(d[c]);
      }
    }
  });
  for (int64_t c = 0; c < cols; c++) {
    double s = 0.0;
    for (int bl = 0; bl < blocks; bl++) s += part[size_t(bl) * size_t(cols) + size_t(c)];
    dbias[c] = float(s);
  }
}

}  // namespace tsr

// N-API bindings of the Tessera native backend. Wrappers are kept lean: typed-array data
// pointers are read in place (no copies), sizes come as numbers or in one small Float64Array,
// and every length is checked against the sizes given so no kernel can go out of bounds.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "common.h"

namespace tsr {  // ops.cc
int64_t json_numbers(const uint8_t* b, int64_t len, int64_t start, double* out, int64_t cap, int maxDepth,
                     int64_t* end, int* status);
int64_t json_numbers(const uint8_t* b, int64_t len, int64_t start, float* out, int64_t cap, int maxDepth,
                     int64_t* end, int* status);
void bias_act_f32(const float* x, const float* bias, float* out, int64_t rows, int64_t cols, int act);
void bias_act_grad_f32(const float* y, const float* dy, float* dx, float* dbias, int64_t rows, int64_t cols, int act);
}  // namespace tsr

namespace {

using tsr::ArgError;

struct Arr {
  void* data = nullptr;
  size_t len = 0;
  napi_typedarray_type type = napi_float32_array;
};

enum Kind { kF32, kI32, kU8, kAny4, kAny };

const char* kind_name(Kind k) {
  switch (k) {
    case kF32: return "Float32Array";
    case kI32: return "Int32Array";
    case kU8: return "Uint8Array";
    default: return "typed array";
  }
}

Arr get_arr(napi_env env, napi_value v, Kind kind, const char* fn, const char* what) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) throw ArgError(std::string(fn) + ": " + what + " must be a " + kind_name(kind));
  Arr a;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &a.type, &a.len, &a.data, &ab, &off) != napi_ok)
    throw ArgError(std::string(fn) + ": could not read " + what);
  bool ok = kind == kAny || (kind == kF32 && a.type == napi_float32_array) ||
            (kind == kI32 && a.type == napi_int32_array) ||
            (kind == kU8 && (a.type == napi_uint8_array || a.type == napi_uint8_clamped_array)) ||
            (kind == kAny4 && (a.type == napi_float32_array || a.type == napi_int32_array ||
                               a.type == napi_uint32_array));
  if (!ok) throw ArgError(std::string(fn) + ": " + what + " must be a " + kind_name(kind));
  if (a.len > 0 && a.data == nullptr) throw ArgError(std::string(fn) + ": " + what + " is detached");
  return a;
}

bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

double get_num(napi_env env, napi_value v, const char* fn, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw ArgError(std::string(fn) + ": " + what + " must be a number");
  return d;
}

// a non-negative integer below 2^40 (so products of a few stay exact in int64)
int64_t to_dim(double d, const char* fn, const char* what) {
  if (!(d >= 0) || d != std::floor(d) || d > 1099511627776.0)
    throw ArgError(std::string(fn) + ": " + what + " must be a non-negative integer, got " + std::to_string(d));
  return int64_t(d);
}
int64_t to_int(double d, const char* fn, const char* what) {
  if (!(std::fabs(d) <= 1099511627776.0) || d != std::floor(d))
    throw ArgError(std::string(fn) + ": " + what + " must be an integer, got " + std::to_string(d));
  return int64_t(d);
}

int64_t get_dim(napi_env env, napi_value v, const char* fn, const char* what) {
  return to_dim(get_num(env, v, fn, what), fn, what);
}

// checked a*b with the 2^40 bound (lengths of JS typed arrays are far below it)
int64_t mul(int64_t a, int64_t b, const char* fn) {
  if (a == 0 || b == 0) return 0;
  if (a > (int64_t(1) << 40) / b) throw ArgError(std::string(fn) + ": sizes overflow");
  return a * b;
}

void need(const Arr& a, int64_t n, const char* fn, const char* what) {
  if (int64_t(a.len) < n)
    throw ArgError(std::string(fn) + ": " + what + " has length " + std::to_string(a.len) + ", needs at least " +
                   std::to_string(n));
}

int get_op(napi_env env, napi_value v, int count, const char* fn) {
  double d = get_num(env, v, fn, "op");
  if (!(d >= 0 && d < count) || d != std::floor(d)) throw ArgError(std::string(fn) + ": unknown op code");
  return int(d);
}

struct Args {
  napi_value argv[12];
  size_t argc = 12;
};

Args args(napi_env env, napi_callback_info info, size_t want, const char* fn) {
  Args a;
  napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr);
  if (a.argc < want) throw ArgError(std::string(fn) + ": expected " + std::to_string(want) + " arguments");
  return a;
}

napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

template <class F>
napi_value guarded(napi_env env, F&& f) {
  tsr::FlushDenormals ftz;
  try {
    return f();
  } catch (const ArgError& e) {
    napi_throw_error(env, "ERR_TESSERA_NATIVE", e.what());
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, "ERR_TESSERA_NATIVE", "tessera native: out of memory");
  } catch (const std::exception& e) {
    napi_throw_error(env, "ERR_TESSERA_NATIVE", e.what());
  }
  return nullptr;
}

#define TSR_FN(name) napi_value name(napi_env env, napi_callback_info info)

TSR_FN(NumThreads) {
  return guarded(env, [&] {
    napi_value r;
    napi_create_int32(env, tsr::num_threads(), &r);
    return r;
  });
}

TSR_FN(SetNumThreads) {
  return guarded(env, [&] {
    Args a = args(env, info, 1, "setNumThreads");
    int64_t n = get_dim(env, a.argv[0], "setNumThreads", "n");
    if (n < 1) throw ArgError("setNumThreads: n must be >= 1");
    tsr::set_num_threads(int(std::min<int64_t>(n, 256)));
    return undef(env);
  });
}

TSR_FN(Isa) {
  return guarded(env, [&] {
    napi_value r;
    const char* s = tsr::gemm_isa();
    napi_create_string_utf8(env, s, std::strlen(s), &r);
    return r;
  });
}

TSR_FN(ForceIsa) {
  return guarded(env, [&] {
    Args a = args(env, info, 1, "forceIsa");
    tsr::gemm_force_isa(int(get_dim(env, a.argv[0], "forceIsa", "isa")));
    return undef(env);
  });
}

// unary(op, x, out, alpha)
TSR_FN(Unary) {
  return guarded(env, [&] {
    const char* fn = "unary";
    Args a = args(env, info, 4, fn);
    int op = get_op(env, a.argv[0], 28, fn);
    Arr x = get_arr(env, a.argv[1], kF32, fn, "x"), out = get_arr(env, a.argv[2], kF32, fn, "out");
    need(out, int64_t(x.len), fn, "out");
    tsr::unary_f32(op, static_cast<float*>(x.data), static_cast<float*>(out.data), int64_t(x.len),
                   get_num(env, a.argv[3], fn, "alpha"));
    return undef(env);
  });
}

// activationGrad(op, x, y, dy, dx, alpha)
TSR_FN(ActivationGrad) {
  return guarded(env, [&] {
    const char* fn = "activationGrad";
    Args a = args(env, info, 6, fn);
    int op = get_op(env, a.argv[0], 12, fn);
    Arr x = get_arr(env, a.argv[1], kF32, fn, "x"), y = get_arr(env, a.argv[2], kF32, fn, "y");
    Arr dy = get_arr(env, a.argv[3], kF32, fn, "dy"), dx = get_arr(env, a.argv[4], kF32, fn, "dx");
    const int64_t n = int64_t(x.len);
    need(y, n, fn, "y");
    need(dy, n, fn, "dy");
    need(dx, n, fn, "dx");
    tsr::activation_grad_f32(op, static_cast<float*>(x.data), static_cast<float*>(y.data),
                             static_cast<float*>(dy.data), static_cast<float*>(dx.data), n,
                             get_num(env, a.argv[5], fn, "alpha"));
    return undef(env);
  });
}

// biasAdd(x, bias, out, rows, cols, act): out = f(x + bias) over [rows, cols]; act 0 linear, 1 relu
TSR_FN(BiasAdd) {
  return guarded(env, [&] {
    const char* fn = "biasAdd";
    Args a = args(env, info, 6, fn);
    Arr x = get_arr(env, a.argv[0], kF32, fn, "x"), b = get_arr(env, a.argv[1], kF32, fn, "bias");
    Arr out = get_arr(env, a.argv[2], kF32, fn, "out");
    const int64_t rows = get_dim(env, a.argv[3], fn, "rows"), cols = get_dim(env, a.argv[4], fn, "cols");
    const int act = get_op(env, a.argv[5], 2, fn);
    const int64_t n = mul(rows, cols, fn);
    need(x, n, fn, "x");
    need(out, n, fn, "out");
    need(b, cols, fn, "bias");
    tsr::bias_act_f32(static_cast<float*>(x.data), static_cast<float*>(b.data), static_cast<float*>(out.data), rows,
                      cols, act);
    return undef(env);
  });
}

// biasAddGrad(y, dy, dx, dbias, rows, cols, act)
TSR_FN(BiasAddGrad) {
  return guarded(env, [&] {
    const char* fn = "biasAddGrad";
    Args a = args(env, info, 7, fn);
    Arr y = get_arr(env, a.argv[0], kF32, fn, "y"), dy = get_arr(env, a.argv[1], kF32, fn, "dy");
    Arr dx = get_arr(env, a.argv[2], kF32, fn, "dx"), db = get_arr(env, a.argv[3], kF32, fn, "dbias");
    const int64_t rows = get_dim(env, a.argv[4], fn, "rows"), cols = get_dim(env, a.argv[5], fn, "cols");
    const int act = get_op(env, a.argv[6], 2, fn);
    const int64_t n = mul(rows, cols, fn);
    need(y, n, fn, "y");
    need(dy, n, fn, "dy");
    need(dx, n, fn, "dx");
    need(db, cols, fn, "dbias");
    tsr::bias_act_grad_f32(static_cast<float*>(y.data), static_cast<float*>(dy.data), static_cast<float*>(dx.data),
                           static_cast<float*>(db.data), rows, cols, act);
    return undef(env);
  });
}

// max index + 1 reachable with these strides over shape (0 if the shape is empty)
int64_t extent(const int64_t* shape, const int64_t* strides, int rank, const char* fn) {
  int64_t hi = 0;
  for (int d = 0; d < rank; d++) {
    if (shape[d] == 0) return 0;
    if (strides[d] < 0) throw ArgError(std::string(fn) + ": negative stride");
    hi += mul(shape[d] - 1, strides[d], fn);
  }
  return hi + 1;
}

// binary(op, a, b, out, geom = [rank, shape..., aStrides..., bStrides...])
TSR_FN(Binary) {
  return guarded(env, [&] {
    const char* fn = "binary";
    Args a = args(env, info, 5, fn);
    int op = get_op(env, a.argv[0], 19, fn);
    Arr A = get_arr(env, a.argv[1], kF32, fn, "a"), B = get_arr(env, a.argv[2], kF32, fn, "b");
    Arr O = get_arr(env, a.argv[3], kAny, fn, "out");
    int outKind;
    if (O.type == napi_float32_array)
      outKind = 0;
    else if (O.type == napi_uint8_array)
      outKind = 1;
    else
      throw ArgError("binary: out must be a Float32Array or Uint8Array");
    Arr G = get_arr(env, a.argv[4], kAny, fn, "geometry");
    if (G.type != napi_float64_array || G.len < 1) throw ArgError("binary: geometry must be a Float64Array");
    const double* g = static_cast<double*>(G.data);
    int64_t rank = to_dim(g[0], fn, "rank");
    if (rank > 64 || int64_t(G.len) < 1 + 3 * rank) throw ArgError("binary: bad rank");
    int64_t shape[64], as[64], bs[64];
    int64_t size = 1;
    for (int64_t d = 0; d < rank; d++) {
      shape[d] = to_dim(g[1 + d], fn, "shape");
      as[d] = to_dim(g[1 + rank + d], fn, "a stride");
      bs[d] = to_dim(g[1 + 2 * rank + d], fn, "b stride");
      size = mul(size, shape[d], fn);
    }
    if (size == 0) return undef(env);
    need(A, extent(shape, as, int(rank), fn), fn, "a");
    need(B, extent(shape, bs, int(rank), fn), fn, "b");
    need(O, size, fn, "out");
    tsr::binary_f32(op, static_cast<float*>(A.data), as, static_cast<float*>(B.data), bs, O.data, outKind, shape,
                    int(rank));
    return undef(env);
  });
}

// reduce(op, x, out, outer, len, inner)
TSR_FN(Reduce) {
  return guarded(env, [&] {
    const char* fn = "reduce";
    Args a = args(env, info, 6, fn);
    int op = get_op(env, a.argv[0], 4, fn);
    Arr x = get_arr(env, a.argv[1], kF32, fn, "x"), out = get_arr(env, a.argv[2], kF32, fn, "out");
    int64_t outer = get_dim(env, a.argv[3], fn, "outer"), len = get_dim(env, a.argv[4], fn, "len"),
            inner = get_dim(env, a.argv[5], fn, "inner");
    need(x, mul(mul(outer, len, fn), inner, fn), fn, "x");
    need(out, mul(outer, inner, fn), fn, "out");
    tsr::reduce_f32(op, static_cast<float*>(x.data), static_cast<float*>(out.data), outer, len, inner);
    return undef(env);
  });
}

TSR_FN(ArgReduce) {
  return guarded(env, [&] {
    const char* fn = "argReduce";
    Args a = args(env, info, 6, fn);
    int op = get_op(env, a.argv[0], 2, fn);
    Arr x = get_arr(env, a.argv[1], kF32, fn, "x"), out = get_arr(env, a.argv[2], kI32, fn, "out");
    int64_t outer = get_dim(env, a.argv[3], fn, "outer"), len = get_dim(env, a.argv[4], fn, "len"),
            inner = get_dim(env, a.argv[5], fn, "inner");
    if (len > 2147483647) throw ArgError("argReduce: len too large for int32 indices");
    need(x, mul(mul(outer, len, fn), inner, fn), fn, "x");
    need(out, mul(outer, inner, fn), fn, "out");
    tsr::arg_reduce_f32(op, static_cast<float*>(x.data), static_cast<int32_t*>(out.data), outer, len, inner);
    return undef(env);
  });
}

// transpose(x, out, geom = [rank, shape..., perm...])
TSR_FN(Transpose) {
  return guarded(env, [&] {
    const char* fn = "transpose";
    Args a = args(env, info, 3, fn);
    Arr x = get_arr(env, a.argv[0], kAny, fn, "x"), out = get_arr(env, a.argv[1], kAny, fn, "out");
    int es;
    auto esize = [](napi_typedarray_type t) {
      switch (t) {
        case napi_float32_array:
        case napi_int32_array:
        case napi_uint32_array: return 4;
        case napi_uint8_array:
        case napi_int8_array:
        case napi_uint8_clamped_array: return 1;
        default: return 0;
      }
    };
    es = esize(x.type);
    if (es == 0 || esize(out.type) != es) throw ArgError("transpose: x and out must be 4-byte or 1-byte typed arrays of one element size");
    Arr G = get_arr(env, a.argv[2], kAny, fn, "geometry");
    if (G.type != napi_float64_array || G.len < 1) throw ArgError("transpose: geometry must be a Float64Array");
    const double* g = static_cast<double*>(G.data);
    int64_t rank = to_dim(g[0], fn, "rank");
    if (rank > 64 || int64_t(G.len) < 1 + 2 * rank) throw ArgError("transpose: bad rank");
    int64_t shape[64], perm[64];
    bool seen[64] = {false};
    int64_t size = 1;
    for (int64_t d = 0; d < rank; d++) {
      shape[d] = to_dim(g[1 + d], fn, "shape");
      size = mul(size, shape[d], fn);
    }
    for (int64_t d = 0; d < rank; d++) {
      perm[d] = to_dim(g[1 + rank + d], fn, "perm");
      if (perm[d] >= rank || seen[perm[d]]) throw ArgError("transpose: perm is not a permutation");
      seen[perm[d]] = true;
    }
    need(x, size, fn, "x");
    need(out, size, fn, "out");
    tsr::transpose_any(x.data, out.data, es, shape, perm, int(rank));
    return undef(env);
  });
}

// matmul(a, b, out, geom = [batch, m, n, k, transA, transB, aBatchStride, bBatchStride])
TSR_FN(Matmul) {
  return guarded(env, [&] {
    const char* fn = "matmul";
    Args a = args(env, info, 4, fn);
    Arr A = get_arr(env, a.argv[0], kF32, fn, "a"), B = get_arr(env, a.argv[1], kF32, fn, "b");
    Arr O = get_arr(env, a.argv[2], kF32, fn, "out");
    Arr G = get_arr(env, a.argv[3], kAny, fn, "geometry");
    if (G.type != napi_float64_array || G.len < 8) throw ArgError("matmul: geometry must be a Float64Array(8)");
    const double* g = static_cast<double*>(G.data);
    int64_t batch = to_dim(g[0], fn, "batch"), m = to_dim(g[1], fn, "m"), n = to_dim(g[2], fn, "n"),
            k = to_dim(g[3], fn, "k");
    bool ta = g[4] != 0, tb = g[5] != 0;
    int64_t aBS = to_dim(g[6], fn, "aBatchStride"), bBS = to_dim(g[7], fn, "bBatchStride");
    if (batch == 0) return undef(env);
    need(O, mul(batch, mul(m, n, fn), fn), fn, "out");
    if (m == 0 || n == 0) return undef(env);
    if (k > 0) {
      need(A, mul(batch - 1, aBS, fn) + mul(m, k, fn), fn, "a");
      need(B, mul(batch - 1, bBS, fn) + mul(k, n, fn), fn, "b");
    }
    tsr::matmul_f32(static_cast<float*>(A.data), static_cast<float*>(B.data), static_cast<float*>(O.data), batch,
                    m, n, k, ta, tb, aBS, bBS);
    return undef(env);
  });
}

// jsonNumbers(bytes, start, out: Float64Array | Float32Array, outStart, state: Float64Array(2),
// maxDepth) -> count, written from out[outStart]; state = [end, status]; maxDepth: array levels in
// all (1: flat) (see native/json.cc)
TSR_FN(JsonNumbers) {
  return guarded(env, [&] {
    const char* fn = "jsonNumbers";
    Args a = args(env, info, 6, fn);
    const int64_t maxDepth = get_dim(env, a.argv[5], fn, "maxDepth");
    if (maxDepth < 1 || maxDepth > 512) throw ArgError(std::string(fn) + ": maxDepth must be 1 to 512");
    Arr bytes = get_arr(env, a.argv[0], kU8, fn, "bytes");
    const int64_t start = get_dim(env, a.argv[1], fn, "start");
    Arr out = get_arr(env, a.argv[2], kAny, fn, "out"), st = get_arr(env, a.argv[4], kAny, fn, "state");
    const int64_t outStart = get_dim(env, a.argv[3], fn, "outStart");
    const bool f32 = out.type == napi_float32_array;
    if ((!f32 && out.type != napi_float64_array) || st.type != napi_float64_array || st.len < 2)
      throw ArgError(std::string(fn) + ": out must be a Float64Array or Float32Array, state a Float64Array of length 2");
    if (outStart > int64_t(out.len)) throw ArgError(std::string(fn) + ": outStart is past the end of out");
    int64_t end = 0;
    int status = 0;
    const tsr::KeepDenormals ieee;  // (guarded() flushes them for the kernels)
    const auto* b = static_cast<const uint8_t*>(bytes.data);
    const int64_t cap = int64_t(out.len) - outStart;
    const int64_t k =
        f32 ? tsr::json_numbers(b, int64_t(bytes.len), start, static_cast<float*>(out.data) + outStart, cap,
                                int(maxDepth), &end, &status)
            : tsr::json_numbers(b, int64_t(bytes.len), start, static_cast<double*>(out.data) + outStart, cap,
                                int(maxDepth), &end, &status);
    double* s = static_cast<double*>(st.data);
    s[0] = double(end);
    s[1] = double(status);
    napi_value r;
    napi_create_int64(env, k, &r);
    return r;
  });
}

// softmax(x, out, rows, cols, log)
TSR_FN(Softmax) {
  return guarded(env, [&] {
    const char* fn = "softmax";
    Args a = args(env, info, 5, fn);
    Arr x = get_arr(env, a.argv[0], kF32, fn, "x"), out = get_arr(env, a.argv[1], kF32, fn, "out");
    int64_t rows = get_dim(env, a.argv[2], fn, "rows"), cols = get_dim(env, a.argv[3], fn, "cols");
    bool lg = get_num(env, a.argv[4], fn, "log") != 0;
    need(x, mul(rows, cols, fn), fn, "x");
    need(out, mul(rows, cols, fn), fn, "out");
    tsr::softmax_f32(static_cast<float*>(x.data), static_cast<float*>(out.data), rows, cols, lg);
    return undef(env);
  });
}

// xent(logits, labels, loss, dlogits|null, rows, cols)
TSR_FN(Xent) {
  return guarded(env, [&] {
    const char* fn = "sparseSoftmaxCrossEntropy";
    Args a = args(env, info, 6, fn);
    Arr x = get_arr(env, a.argv[0], kF32, fn, "logits"), lab = get_arr(env, a.argv[1], kI32, fn, "labels");
    Arr loss = get_arr(env, a.argv[2], kF32, fn, "loss");
    float* d = nullptr;
    int64_t rows = get_dim(env, a.argv[4], fn, "rows"), cols = get_dim(env, a.argv[5], fn, "cols");
    if (!is_nullish(env, a.argv[3])) {
      Arr dl = get_arr(env, a.argv[3], kF32, fn, "dlogits");
      need(dl, mul(rows, cols, fn), fn, "dlogits");
      d = static_cast<float*>(dl.data);
    }
    need(x, mul(rows, cols, fn), fn, "logits");
    need(lab, rows, fn, "labels");
    need(loss, rows, fn, "loss");
    if (rows > 0 && cols == 0) throw ArgError("sparseSoftmaxCrossEntropy: cols must be >= 1");
    tsr::xent_f32(static_cast<float*>(x.data), static_cast<int32_t*>(lab.data), static_cast<float*>(loss.data), d,
                  rows, cols);
    return undef(env);
  });
}

tsr::ConvGeom conv_geom(const Arr& G, bool depthwise, const char* fn) {
  if (G.type != napi_float64_array || G.len < 16) throw ArgError(std::string(fn) + ": geometry must be a Float64Array(16)");
  const double* v = static_cast<double*>(G.data);
  tsr::ConvGeom g;
  g.N = to_dim(v[0], fn, "batch");
  g.H = to_dim(v[1], fn, "inH");
  g.W = to_dim(v[2], fn, "inW");
  g.C = to_dim(v[3], fn, "inC");
  g.OH = to_dim(v[4], fn, "outH");
  g.OW = to_dim(v[5], fn, "outW");
  g.OC = to_dim(v[6], fn, "outC");
  g.KH = to_dim(v[7], fn, "kH");
  g.KW = to_dim(v[8], fn, "kW");
  g.SH = to_dim(v[9], fn, "strideH");
  g.SW = to_dim(v[10], fn, "strideW");
  g.DH = to_dim(v[11], fn, "dilationH");
  g.DW = to_dim(v[12], fn, "dilationW");
  g.PT = to_int(v[13], fn, "padTop");
  g.PL = to_int(v[14], fn, "padLeft");
  g.M = depthwise ? to_dim(v[15], fn, "multiplier") : 1;
  if (g.SH < 1 || g.SW < 1 || g.DH < 1 || g.DW < 1) throw ArgError(std::string(fn) + ": strides and dilations must be >= 1");
  if (depthwise && g.OC != g.C * g.M) throw ArgError(std::string(fn) + ": outC must equal inC * multiplier");
  // all index arithmetic stays far inside int64 with the 2^40 bounds; keep the products sane
  mul(mul(mul(g.N, g.H, fn), g.W, fn), std::max<int64_t>(g.C, 1), fn);
  mul(mul(mul(g.N, g.OH, fn), g.OW, fn), std::max<int64_t>(g.OC, 1), fn);
  return g;
}

int64_t x_len(const tsr::ConvGeom& g, const char* fn) { return mul(mul(mul(g.N, g.H, fn), g.W, fn), g.C, fn); }
int64_t y_len(const tsr::ConvGeom& g, const char* fn) { return mul(mul(mul(g.N, g.OH, fn), g.OW, fn), g.OC, fn); }
int64_t w_len(const tsr::ConvGeom& g, bool dw, const char* fn) {
  return mul(mul(mul(g.KH, g.KW, fn), g.C, fn), dw ? g.M : g.OC, fn);
}

enum ConvKind { kFwd, kDx, kDw };

template <ConvKind kind, bool depthwise>
napi_value conv_entry(napi_env env, napi_callback_info info, const char* fn) {
  return guarded(env, [&] {
    Args a = args(env, info, 4, fn);
    Arr p0 = get_arr(env, a.argv[0], kF32, fn, kind == kDx ? "dy" : "x");
    Arr p1 = get_arr(env, a.argv[1], kF32, fn, kind == kFwd ? "w" : (kind == kDx ? "w" : "dy"));
    Arr p2 = get_arr(env, a.argv[2], kF32, fn, kind == kFwd ? "out" : (kind == kDx ? "dx" : "dw"));
    Arr G = get_arr(env, a.argv[3], kAny, fn, "geometry");
    tsr::ConvGeom g = conv_geom(G, depthwise, fn);
    const int64_t xl = x_len(g, fn), yl = y_len(g, fn), wl = w_len(g, depthwise, fn);
    const float* i0 = static_cast<float*>(p0.data);
    const float* i1 = static_cast<float*>(p1.data);
    float* o = static_cast<float*>(p2.data);
    if (kind == kFwd) {
      need(p0, xl, fn, "x");
      need(p1, wl, fn, "w");
      need(p2, yl, fn, "out");
      if (depthwise)
        tsr::dw_conv2d_f32(i0, i1, o, g);
      else
        tsr::conv2d_f32(i0, i1, o, g);
    } else if (kind == kDx) {
      need(p0, yl, fn, "dy");
      need(p1, wl, fn, "w");
      need(p2, xl, fn, "dx");
      if (depthwise)
        tsr::dw_conv2d_dx_f32(i0, i1, o, g);
      else
        tsr::conv2d_dx_f32(i0, i1, o, g);
    } else {
      need(p0, xl, fn, "x");
      need(p1, yl, fn, "dy");
      need(p2, wl, fn, "dw");
      if (depthwise)
        tsr::dw_conv2d_dw_f32(i0, i1, o, g);
      else
        tsr::conv2d_dw_f32(i0, i1, o, g);
    }
    return undef(env);
  });
}

TSR_FN(Conv2d) { return conv_entry<kFwd, false>(env, info, "conv2d"); }
TSR_FN(Conv2dDx) { return conv_entry<kDx, false>(env, info, "conv2dBackpropInput"); }
TSR_FN(Conv2dDw) { return conv_entry<kDw, false>(env, info, "conv2dBackpropFilter"); }
TSR_FN(DwConv2d) { return conv_entry<kFwd, true>(env, info, "depthwiseConv2d"); }
TSR_FN(DwConv2dDx) { return conv_entry<kDx, true>(env, info, "depthwiseConv2dBackpropInput"); }
TSR_FN(DwConv2dDw) { return conv_entry<kDw, true>(env, info, "depthwiseConv2dBackpropFilter"); }

tsr::PoolGeom pool_geom(const Arr& G, const char* fn) {
  if (G.type != napi_float64_array || G.len < 12) throw ArgError(std::string(fn) + ": geometry must be a Float64Array(12)");
  const double* v = static_cast<double*>(G.data);
  tsr::PoolGeom g;
  g.N = to_dim(v[0], fn, "batch");
  g.H = to_dim(v[1], fn, "inH");
  g.W = to_dim(v[2], fn, "inW");
  g.C = to_dim(v[3], fn, "channels");
  g.OH = to_dim(v[4], fn, "outH");
  g.OW = to_dim(v[5], fn, "outW");
  g.PH = to_dim(v[6], fn, "poolH");
  g.PW = to_dim(v[7], fn, "poolW");
  g.SH = to_dim(v[8], fn, "strideH");
  g.SW = to_dim(v[9], fn, "strideW");
  g.PT = to_int(v[10], fn, "padTop");
  g.PL = to_int(v[11], fn, "padLeft");
  int64_t xl = mul(mul(mul(g.N, g.H, fn), g.W, fn), g.C, fn);
  if (xl > 2147483647) throw ArgError(std::string(fn) + ": input too large for int32 argmax");
  mul(mul(mul(g.N, g.OH, fn), g.OW, fn), g.C, fn);
  return g;
}

int64_t px_len(const tsr::PoolGeom& g) { return g.N * g.H * g.W * g.C; }
int64_t py_len(const tsr::PoolGeom& g) { return g.N * g.OH * g.OW * g.C; }

// conv2dMaxPool(x, w, bias | null, out, convGeom, poolGeom, act, winograd): inference-only
// out = act(maxPool(conv2d(x, w)) + bias), act 0 linear, 1 relu; poolGeom pools conv's output;
// winograd (0/1): 3x3 convolutions may run as Winograd (F(2x2), F(4x4) or F(5x5) tiles, see conv.cc).
TSR_FN(Conv2dMaxPool) {
  return guarded(env, [&] {
    const char* fn = "conv2dMaxPool";
    Args a = args(env, info, 8, fn);
    Arr x = get_arr(env, a.argv[0], kF32, fn, "x"), w = get_arr(env, a.argv[1], kF32, fn, "w");
    const bool winograd = get_num(env, a.argv[7], fn, "winograd") != 0;
    const bool withBias = !is_nullish(env, a.argv[2]);
    Arr b{};
    if (withBias) b = get_arr(env, a.argv[2], kF32, fn, "bias");
    Arr out = get_arr(env, a.argv[3], kF32, fn, "out");
    tsr::ConvGeom g = conv_geom(get_arr(env, a.argv[4], kAny, fn, "convGeometry"), false, fn);
    tsr::PoolGeom p = pool_geom(get_arr(env, a.argv[5], kAny, fn, "poolGeometry"), fn);
    const int act = get_op(env, a.argv[6], 2, fn);
    if (p.N != g.N || p.H != g.OH || p.W != g.OW || p.C != g.OC)
      throw ArgError(std::string(fn) + ": poolGeometry must describe the convolution's output [N, outH, outW, outC]");
    need(x, x_len(g, fn), fn, "x");
    need(w, w_len(g, false, fn), fn, "w");
    if (withBias) need(b, g.OC, fn, "bias");
    need(out, py_len(p), fn, "out");
    tsr::conv2d_maxpool_f32(static_cast<float*>(x.data), static_cast<float*>(w.data),
                            withBias ? static_cast<float*>(b.data) : nullptr, static_cast<float*>(out.data), g, p,
                            act == 1, winograd);
    return undef(env);
  });
}

// maxPool2d(x, out, argmax | null, geom)
TSR_FN(MaxPool) {
  return guarded(env, [&] {
    const char* fn = "maxPool2d";
    Args a = args(env, info, 4, fn);
    Arr x = get_arr(env, a.argv[0], kF32, fn, "x"), out = get_arr(env, a.argv[1], kF32, fn, "out");
    // argmax null: inference, no indices kept
    const bool withArg = !is_nullish(env, a.argv[2]);
    Arr am{};
    if (withArg) am = get_arr(env, a.argv[2], kI32, fn, "argmax");
    tsr::PoolGeom g = pool_geom(get_arr(env, a.argv[3], kAny, fn, "geometry"), fn);
    need(x, px_len(g), fn, "x");
    need(out, py_len(g), fn, "out");
    if (withArg) need(am, py_len(g), fn, "argmax");
    tsr::maxpool_f32(static_cast<float*>(x.data), static_cast<float*>(out.data),
                     withArg ? static_cast<int32_t*>(am.data) : nullptr, g);
    return undef(env);
  });
}

// maxPool2dBackward(dy, argmax, dx, geom)
TSR_FN(MaxPoolBwd) {
  return guarded(env, [&] {
    const char* fn = "maxPool2dBackward";
    Args a = args(env, info, 4, fn);
    Arr dy = get_arr(env, a.argv[0], kF32, fn, "dy"), am = get_arr(env, a.argv[1], kI32, fn, "argmax");
    Arr dx = get_arr(env, a.argv[2], kF32, fn, "dx");
    tsr::PoolGeom g = pool_geom(get_arr(env, a.argv[3], kAny, fn, "geometry"), fn);
    need(dy, py_len(g), fn, "dy");
    need(am, py_len(g), fn, "argmax");
    need(dx, px_len(g), fn, "dx");
    if (!tsr::maxpool_bwd_f32(static_cast<float*>(dy.data), static_cast<int32_t*>(am.data),
                              static_cast<float*>(dx.data), g, int64_t(dx.len)))
      throw ArgError("maxPool2dBackward: argmax holds an index outside dx");
    return undef(env);
  });
}

TSR_FN(AvgPool) {
  return guarded(env, [&] {
    const char* fn = "avgPool2d";
    Args a = args(env, info, 3, fn);
    Arr x = get_arr(env, a.argv[0], kF32, fn, "x"), out = get_arr(env, a.argv[1], kF32, fn, "out");
    tsr::PoolGeom g = pool_geom(get_arr(env, a.argv[2], kAny, fn, "geometry"), fn);
    need(x, px_len(g), fn, "x");
    need(out, py_len(g), fn, "out");
    tsr::avgpool_f32(static_cast<float*>(x.data), static_cast<float*>(out.data), g);
    return undef(env);
  });
}

TSR_FN(AvgPoolBwd) {
  return guarded(env, [&] {
    const char* fn = "avgPool2dBackward";
    Args a = args(env, info, 3, fn);
    Arr dy = get_arr(env, a.argv[0], kF32, fn, "dy"), dx = get_arr(env, a.argv[1], kF32, fn, "dx");
    tsr::PoolGeom g = pool_geom(get_arr(env, a.argv[2], kAny, fn, "geometry"), fn);
    need(dy, py_len(g), fn, "dy");
    need(dx, px_len(g), fn, "dx");
    tsr::avgpool_bwd_f32(static_cast<float*>(dy.data), static_cast<float*>(dx.data), g);
    return undef(env);
  });
}

// sgd(param, grad, velocity|null, lr, momentum, nesterov)
TSR_FN(Sgd) {
  return guarded(env, [&] {
    const char* fn = "sgdUpdate";
    Args a = args(env, info, 6, fn);
    Arr p = get_arr(env, a.argv[0], kF32, fn, "param"), gr = get_arr(env, a.argv[1], kF32, fn, "grad");
    const int64_t n = int64_t(p.len);
    need(gr, n, fn, "grad");
    float* v = nullptr;
    if (!is_nullish(env, a.argv[2])) {
      Arr va = get_arr(env, a.argv[2], kF32, fn, "velocity");
      need(va, n, fn, "velocity");
      v = static_cast<float*>(va.data);
    }
    napi_value nb = a.argv[5];
    bool nesterov = false;
    if (napi_get_value_bool(env, nb, &nesterov) != napi_ok) nesterov = get_num(env, nb, fn, "nesterov") != 0;
    tsr::sgd_f32(static_cast<float*>(p.data), static_cast<float*>(gr.data), v, n, get_num(env, a.argv[3], fn, "lr"),
                 get_num(env, a.argv[4], fn, "momentum"), nesterov);
    return undef(env);
  });
}

// adam(param, grad, m, v, lr, beta1, beta2, epsilon, step, weightDecay)
TSR_FN(Adam) {
  return guarded(env, [&] {
    const char* fn = "adamUpdate";
    Args a = args(env, info, 10, fn);
    Arr p = get_arr(env, a.argv[0], kF32, fn, "param"), gr = get_arr(env, a.argv[1], kF32, fn, "grad");
    Arr m = get_arr(env, a.argv[2], kF32, fn, "m"), v = get_arr(env, a.argv[3], kF32, fn, "v");
    const int64_t n = int64_t(p.len);
    need(gr, n, fn, "grad");
    need(m, n, fn, "m");
    need(v, n, fn, "v");
    tsr::adam_f32(static_cast<float*>(p.data), static_cast<float*>(gr.data), static_cast<float*>(m.data),
                  static_cast<float*>(v.data), n, get_num(env, a.argv[4], fn, "lr"),
                  get_num(env, a.argv[5], fn, "beta1"), get_num(env, a.argv[6], fn, "beta2"),
                  get_num(env, a.argv[7], fn, "epsilon"), get_num(env, a.argv[8], fn, "step"),
                  get_num(env, a.argv[9], fn, "weightDecay"));
    return undef(env);
  });
}

}  // namespace

// Fused recurrent kernels (native/rnn.cc).
void tsr_register_rnn(napi_env env, napi_value exports);

NAPI_MODULE_INIT() {
  struct Entry {
    const char* name;
    napi_callback cb;
  };
  const Entry entries[] = {
      {"numThreads", NumThreads},
      {"setNumThreads", SetNumThreads},
      {"isa", Isa},
      {"forceIsa", ForceIsa},
      {"unary", Unary},
      {"activationGrad", ActivationGrad},
      {"biasAdd", BiasAdd},
      {"biasAddGrad", BiasAddGrad},
      {"binary", Binary},
      {"reduce", Reduce},
      {"argReduce", ArgReduce},
      {"transpose", Transpose},
      {"matmul", Matmul},
      {"softmax", Softmax},
      {"sparseSoftmaxCrossEntropy", Xent},
      {"conv2d", Conv2d},
      {"conv2dBackpropInput", Conv2dDx},
      {"conv2dBackpropFilter", Conv2dDw},
      {"depthwiseConv2d", DwConv2d},
      {"depthwiseConv2dBackpropInput", DwConv2dDx},
      {"depthwiseConv2dBackpropFilter", DwConv2dDw},
      {"conv2dMaxPool", Conv2dMaxPool},
      {"jsonNumbers", JsonNumbers},
      {"maxPool2d", MaxPool},
      {"maxPool2dBackward", MaxPoolBwd},
      {"avgPool2d", AvgPool},
      {"avgPool2dBackward", AvgPoolBwd},
      {"sgdUpdate", Sgd},
      {"adamUpdate", Adam},
  };
  for (const Entry& e : entries) {
    napi_value fnv;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.cb, nullptr, &fnv);
    napi_set_named_property(env, exports, e.name, fnv);
  }
  tsr_register_rnn(env, exports);
  return exports;
}

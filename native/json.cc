// The number arrays of inference request bodies (KServe V2 "data": [0.15, 0.3, ...]): the same
// grammar as the JavaScript loop in src/serve/json.ts, without its per-byte bounds checks and
// tagged arithmetic. A number of at most 15 significant digits, no exponent and a power of ten up
// to 1e22 takes the exact fast path (one division). One of 16-19 digits or with an exponent, the
// value m * 10^q with |q| <= 27, goes through the x87 format's 64-bit significand where the
// compiler has it (x86), exact unless the result lands on a midpoint between two doubles; any
// other valid number (and those midpoints) is converted by std::from_chars (strtod where the
// standard library lacks it), which rounds correctly too, so the values are always the ones
// JSON.parse gives. A number beyond the double range, or an element that is not a number, stops
// the scan and the JavaScript parser takes over.
#include <cerrno>
#include <cfloat>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

#include "common.h"

namespace tsr {
namespace {
constexpr double kPow10[23] = {1,    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
inline bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
inline bool is_ws(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// The double nearest a valid JSON number's text [first, last); false when it is out of the double
// range (the caller leaves it to JavaScript, whose Infinity or 0 is then the answer).
inline bool text_to_double(const char* first, const char* last, double* v) {
#if defined(__cpp_lib_to_chars) && !defined(TSR_JSON_STRTOD)
  const std::from_chars_result r = std::from_chars(first, last, *v);
  return r.ec == std::errc() && r.ptr == last;
#else
  // A standard library without floating-point from_chars: strtod, correctly rounded too in glibc
  // and the BSD libcs, on a NUL-terminated copy (node never calls setlocale: the C locale's '.').
  // It also reports subnormal results as ERANGE; those are left to JavaScript as well.
  const std::string text(first, last);
  char* stop = nullptr;
  errno = 0;
  *v = std::strtod(text.c_str(), &stop);
  return stop == text.c_str() + text.size() && errno != ERANGE;
#endif
}

#if (defined(__x86_64__) || defined(__i386__)) && LDBL_MANT_DIG == 64
#define TSR_JSON_X87 1
// 10^0 .. 10^27: exact in the x87 format (5^27 < 2^64; the powers of two are the exponent's).
const long double kPow10L[28] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
                                 1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
                                 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

// m * 10^q (m < 2^64, |q| <= 27) as the double nearest it, through the x87 format's 64-bit
// significand: m and 10^|q| are exact there, so the one multiply or divide gives r, the exact value
// t rounded once to 64 bits. Rounding is monotonic and every midpoint between two adjacent doubles
// (54 bits) is exact in 64, so r and t lie on the same side of each midpoint unless r is one: then
// (the 11 bits below a double's 53 are exactly 10000000000) t may be on either side, and this gives
// up (false) for from_chars to decide. Otherwise r rounds to the same double as t. For the
// 16-19-digit numbers clients print floats with (17 for a float32's or float64's shortest form),
// which the double fast path cannot take: bodies of them scan 1.16-1.31x faster than with
// from_chars alone (bench/json.ts). Out of line, so that the common loop's code stays as it was.
__attribute__((noinline)) bool x87_to_double(uint64_t m, int q, double* v) {
  const long double x = static_cast<long double>(m);
  const long double r = q < 0 ? x / kPow10L[-q] : x * kPow10L[q];
  uint64_t bits;
  std::memcpy(&bits, &r, 8);  // the explicit 64-bit significand, integer bit included
  if ((bits & 0x7ff) == 0x400) return false;
  *v = static_cast<double>(r);
  return true;
}
#endif

// A byte at which every rule below stops (it is not a digit, whitespace, '[', ']', ',', '-', '+',
// '.', 'e' or 'E'), so the scan never reads past one: '}' ends every request body.
inline bool is_stopper(uint8_t c) {
  return !(is_digit(c) || is_ws(c) || c == '[' || c == ']' || c == ',' || c == '-' || c == '+' || c == '.' ||
           c == 'e' || c == 'E');
}

// The scan; Checked: every read is bounds-checked (bytes past len read as 0), else the caller has
// made sure a stopper byte lies at or after start, before len.
template <bool Checked, typename T>
int64_t scan_numbers(const uint8_t* b, int64_t len, int64_t start, T* out, int64_t cap, int maxDepth,
                     int64_t* end, int* status) {
  int64_t i = start, k = 0;
  int depth = 1;
  auto at = [&](int64_t j) -> uint8_t {
    if constexpr (Checked) return j < len ? b[j] : 0;
    return b[j];
  };
  for (;;) {
    // at an element: the start of an array's contents or just after a comma, whitespace skipped
    const int64_t elem = i;
    uint8_t c = at(i);
    if (c == '[') {
      if (depth >= maxDepth) {
        *end = elem;
        *status = 0;
        return k;
      }
      depth++;
      c = at(++i);
      while (is_ws(c)) c = at(++i);
      if (c != ']') continue;  // its first element; an empty array closes below
    } else {
      if (k == cap) {
        *end = elem;
        *status = 2;
        return k;
      }
      bool neg = false;
      if (c == '-') {
        neg = true;
        c = at(++i);
      }
      uint64_t m = 0;
      int digits = 0, exp = 0;
      if (c == '0') {
        c = at(++i);
        if (is_digit(c)) {
          *status = -1;
          *end = i;
          return k;
        }
      } else if (c >= '1' && c <= '9') {
        do {
          m = m * 10 + (c - '0');
          digits++;
          c = at(++i);
        } while (is_digit(c));
      } else {
        // not a number ('-' alone included): the JavaScript parser decides what it is
        *end = elem;
        *status = 0;
        return k;
      }
      if (c == '.') {
        c = at(++i);
        if (!is_digit(c)) {
          *status = -1;
          *end = i;
          return k;
        }
        do {
          m = m * 10 + (c - '0');
          if (m != 0) digits++;
          exp--;
          c = at(++i);
        } while (is_digit(c));
      }
      if (c == 'e' || c == 'E' || digits > 15 || exp < -22) {
        // Beyond the fast path: check the rest of the number's grammar (an exponent: e or E, an
        // optional sign, digits), then convert it through the x87 format where that is exact, else
        // with from_chars on its text, sign included.
        int64_t e10 = 0;  // capped: past 99999 only from_chars takes it
        if (c == 'e' || c == 'E') {
          c = at(++i);
          const bool eneg = c == '-';
          if (c == '+' || c == '-') c = at(++i);
          if (!is_digit(c)) {
            *status = -1;
            *end = i;
            return k;
          }
          do {
            if (e10 < 100000) e10 = e10 * 10 + (c - '0');
            c = at(++i);
          } while (is_digit(c));
          if (eneg) e10 = -e10;
        }
        double v = 0;
        bool done = false;
#if defined(TSR_JSON_X87)
        // 16-19 significant digits, or an exponent: m is exact up to 19 (digits counts from the
        // first nonzero one)
        const int64_t q = exp + e10;
        if (digits <= 19 && q >= -27 && q <= 27 && x87_to_double(m, int(q), &v)) {
          if (neg) v = -v;
          done = true;
        }
#endif
        if (!done &&
            !text_to_double(reinterpret_cast<const char*>(b + elem), reinterpret_cast<const char*>(b + i), &v)) {
          *end = elem;  // 1e400, 1e-400: JSON.parse's Infinity or 0 is the JS parser's to give
          *status = 0;
          return k;
        }
        out[k++] = T(v);
      } else {
        // at most 15 significant digits: m is exact as a double, and so is the one division (Clinger)
        const double v = exp == 0 ? double(m) : double(m) / kPow10[-exp];
        out[k++] = T(neg ? -v : v);
      }
      while (is_ws(c)) c = at(++i);
    }
    // after a value: the arrays it closes, then a comma or the end of the outer array
    while (c == ']') {
      i++;
      if (--depth == 0) {
        *end = i;
        *status = 1;
        return k;
      }
      c = at(i);
      while (is_ws(c)) c = at(++i);
    }
    if (c == ',') {
      c = at(++i);
      while (is_ws(c)) c = at(++i);
      continue;
    }
    *status = -1;
    *end = i;
    return k;
  }
}

// The float conversion below is IEEE 754's (defined for every double, where C++ leaves it to the
// implementation beyond the float range).
static_assert(std::numeric_limits<float>::is_iec559, "float32 output needs IEEE 754 floats");

template <typename T>
int64_t json_numbers_t(const uint8_t* b, int64_t len, int64_t start, T* out, int64_t cap, int maxDepth,
                       int64_t* end, int* status) {
  // The last non-whitespace byte of a body is almost always its closing '}': the reads then need no
  // bounds checks, 1.14-1.22x faster (bench/json.ts bodies, paired).
  int64_t last = len - 1;
  while (last >= start && is_ws(b[last])) last--;
  if (last >= start && is_stopper(b[last]))
    return scan_numbers<false, T>(b, len, start, out, cap, maxDepth, end, status);
  return scan_numbers<true, T>(b, len, start, out, cap, maxDepth, end, status);
}

}  // namespace

// Reads numbers from b[start] (just after '[' and whitespace) into out, nested arrays (up to
// maxDepth levels in all, 1: none) flattened in row-major order ([[1, 2], [3]] gives 1, 2, 3, as
// the codec flattens KServe's nested "data"); an array nested deeper stops the scan (status 0).
// Returns how many; *end and *status tell where and why it stopped: 1 at the closing ']' of the
// outer array (end just past it), 0 at an element the fast path does not take (end at its first
// byte), 2 when out is full (end at the element), -1 on a syntax error. Bytes past len read as 0,
// which no rule accepts.
// Into doubles, or into floats (each the float nearest the double: the conversion a Float32Array
// store makes, round to nearest even; past the float range, an infinity of its sign).
int64_t json_numbers(const uint8_t* b, int64_t len, int64_t start, double* out, int64_t cap, int maxDepth,
                     int64_t* end, int* status) {
  return json_numbers_t(b, len, start, out, cap, maxDepth, end, status);
}

int64_t json_numbers(const uint8_t* b, int64_t len, int64_t start, float* out, int64_t cap, int maxDepth,
                     int64_t* end, int* status) {
  return json_numbers_t(b, len, start, out, cap, maxDepth, end, status);
}

}  // namespace tsr

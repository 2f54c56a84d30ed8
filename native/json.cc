// The number arrays of inference request bodies (KServe V2 "data": [0.15, 0.3, ...]): the same
// grammar as the JavaScript loop in src/serve/json.ts, without its per-byte bounds checks and
// tagged arithmetic. A number of at most 15 significant digits, no exponent and a power of ten up
// to 1e22 takes the exact fast path (one division); any other valid number (17-digit float
// reprs, exponents) is converted by std::from_chars (strtod where the standard library lacks it),
// which rounds correctly too, so the values are always the ones JSON.parse gives. A number beyond
// the double range, or an element that is not a number, stops the scan and the JavaScript parser
// takes over.
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
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

// A byte at which every rule below stops (it is not a digit, whitespace, '[', ']', ',', '-', '+',
// '.', 'e' or 'E'), so the scan never reads past one: '}' ends every request body.
inline bool is_stopper(uint8_t c) {
  return !(is_digit(c) || is_ws(c) || c == '[' || c == ']' || c == ',' || c == '-' || c == '+' || c == '.' ||
           c == 'e' || c == 'E');
}

// The scan; Checked: every read is bounds-checked (bytes past len read as 0), else the caller has
// made sure a stopper byte lies at or after start, before len.
template <bool Checked>
int64_t scan_numbers(const uint8_t* b, int64_t len, int64_t start, double* out, int64_t cap, int maxDepth,
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
        // optional sign, digits), then let from_chars convert its text, sign included.
        if (c == 'e' || c == 'E') {
          c = at(++i);
          if (c == '+' || c == '-') c = at(++i);
          if (!is_digit(c)) {
            *status = -1;
            *end = i;
            return k;
          }
          do c = at(++i);
          while (is_digit(c));
        }
        double v = 0;
        if (!text_to_double(reinterpret_cast<const char*>(b + elem), reinterpret_cast<const char*>(b + i), &v)) {
          *end = elem;  // 1e400, 1e-400: JSON.parse's Infinity or 0 is the JS parser's to give
          *status = 0;
          return k;
        }
        out[k++] = v;
      } else {
        // at most 15 significant digits: m is exact as a double, and so is the one division (Clinger)
        const double v = exp == 0 ? double(m) : double(m) / kPow10[-exp];
        out[k++] = neg ? -v : v;
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
}  // namespace

// Reads numbers from b[start] (just after '[' and whitespace) into out, nested arrays (up to
// maxDepth levels in all, 1: none) flattened in row-major order ([[1, 2], [3]] gives 1, 2, 3, as
// the codec flattens KServe's nested "data"); an array nested deeper stops the scan (status 0).
// Returns how many; *end and *status tell where and why it stopped: 1 at the closing ']' of the
// outer array (end just past it), 0 at an element the fast path does not take (end at its first
// byte), 2 when out is full (end at the element), -1 on a syntax error. Bytes past len read as 0,
// which no rule accepts.
int64_t json_numbers(const uint8_t* b, int64_t len, int64_t start, double* out, int64_t cap, int maxDepth,
                     int64_t* end, int* status) {
  // The last non-whitespace byte of a body is almost always its closing '}': the reads then need no
  // bounds checks, 1.14-1.22x faster (bench/json.ts bodies, paired).
  int64_t last = len - 1;
  while (last >= start && is_ws(b[last])) last--;
  if (last >= start && is_stopper(b[last]))
    return scan_numbers<false>(b, len, start, out, cap, maxDepth, end, status);
  return scan_numbers<true>(b, len, start, out, cap, maxDepth, end, status);
}

}  // namespace tsr

// STREAM-style bandwidth loops (McCalpin's STREAM; BabelStream's kernel names and byte counts).
// Non-temporal variants store with VMOVNTPD so written lines are not read first (no
// write-allocate), which is what DRAM-sized working sets want; callers fence with _mm_sfence via
// these functions.
#include "chipgauge/kernels/cpu.hpp"

#include <immintrin.h>

namespace chipgauge::kernels::cpu {

namespace {

__attribute__((target("avx512f"))) void copy512(const double* a, double* c, std::size_t n,
                                                bool nt) {
  std::size_t i = 0;
  if (nt) {
    for (; i + 8 <= n; i += 8) _mm512_stream_pd(c + i, _mm512_load_pd(a + i));
    _mm_sfence();
  }
  for (; i < n; ++i) c[i] = a[i];
}

__attribute__((target("avx512f"))) void scale512(double* b, const double* c, double s,
                                                 std::size_t n, bool nt) {
  std::size_t i = 0;
  const __m512d vs = _mm512_set1_pd(s);
  if (nt) {
    for (; i + 8 <= n; i += 8) _mm512_stream_pd(b + i, _mm512_mul_pd(vs, _mm512_load_pd(c + i)));
    _mm_sfence();
  }
  for (; i < n; ++i) b[i] = s * c[i];
}

__attribute__((target("avx512f"))) void add512(const double* a, const double* b, double* c,
                                               std::size_t n, bool nt) {
  std::size_t i = 0;
  if (nt) {
    for (; i + 8 <= n; i += 8)
      _mm512_stream_pd(c + i, _mm512_add_pd(_mm512_load_pd(a + i), _mm512_load_pd(b + i)));
    _mm_sfence();
  }
  for (; i < n; ++i) c[i] = a[i] + b[i];
}

__attribute__((target("avx512f"))) void triad512(double* a, const double* b, const double* c,
                                                 double s, std::size_t n, bool nt) {
  std::size_t i = 0;
  const __m512d vs = _mm512_set1_pd(s);
  if (nt) {
    for (; i + 8 <= n; i += 8)
      _mm512_stream_pd(a + i, _mm512_fmadd_pd(vs, _mm512_load_pd(c + i), _mm512_load_pd(b + i)));
    _mm_sfence();
  }
  for (; i < n; ++i) a[i] = b[i] + s * c[i];
}

__attribute__((target("avx2,fma"))) void copy256(const double* a, double* c, std::size_t n,
                                                 bool nt) {
  std::size_t i = 0;
  if (nt) {
    for (; i + 4 <= n; i += 4) _mm256_stream_pd(c + i, _mm256_load_pd(a + i));
    _mm_sfence();
  }
  for (; i < n; ++i) c[i] = a[i];
}

__attribute__((target("avx2,fma"))) void scale256(double* b, const double* c, double s,
                                                  std::size_t n, bool nt) {
  std::size_t i = 0;
  const __m256d vs = _mm256_set1_pd(s);
  if (nt) {
    for (; i + 4 <= n; i += 4) _mm256_stream_pd(b + i, _mm256_mul_pd(vs, _mm256_load_pd(c + i)));
    _mm_sfence();
  }
  for (; i < n; ++i) b[i] = s * c[i];
}

__attribute__((target("avx2,fma"))) void add256(const double* a, const double* b, double* c,
                                                std::size_t n, bool nt) {
  std::size_t i = 0;
  if (nt) {
    for (; i + 4 <= n; i += 4)
      _mm256_stream_pd(c + i, _mm256_add_pd(_mm256_load_pd(a + i), _mm256_load_pd(b + i)));
    _mm_sfence();
  }
  for (; i < n; ++i) c[i] = a[i] + b[i];
}

__attribute__((target("avx2,fma"))) void triad256(double* a, const double* b, const double* c,
                                                  double s, std::size_t n, bool nt) {
  std::size_t i = 0;
  const __m256d vs = _mm256_set1_pd(s);
  if (nt) {
    for (; i + 4 <= n; i += 4)
      _mm256_stream_pd(a + i, _mm256_fmadd_pd(vs, _mm256_load_pd(c + i), _mm256_load_pd(b + i)));
    _mm_sfence();
  }
  for (; i < n; ++i) a[i] = b[i] + s * c[i];
}

__attribute__((target("avx512f"))) double read512(const double* a, std::size_t n, int repeats) {
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd(), s2 = _mm512_setzero_pd(),
          s3 = _mm512_setzero_pd();
  double tail = 0;
  for (int r = 0; r < repeats; ++r) {
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      s0 = _mm512_add_pd(s0, _mm512_load_pd(a + i));
      s1 = _mm512_add_pd(s1, _mm512_load_pd(a + i + 8));
      s2 = _mm512_add_pd(s2, _mm512_load_pd(a + i + 16));
      s3 = _mm512_add_pd(s3, _mm512_load_pd(a + i + 24));
    }
    for (; i < n; ++i) tail += a[i];
  }
  double lanes[8];
  _mm512_storeu_pd(lanes, _mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
  double sum = tail;
  for (const double x : lanes) sum += x;
  return sum;
}

__attribute__((target("avx2,fma"))) double read256(const double* a, std::size_t n, int repeats) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), s2 = _mm256_setzero_pd(),
          s3 = _mm256_setzero_pd();
  double tail = 0;
  for (int r = 0; r < repeats; ++r) {
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      s0 = _mm256_add_pd(s0, _mm256_load_pd(a + i));
      s1 = _mm256_add_pd(s1, _mm256_load_pd(a + i + 4));
      s2 = _mm256_add_pd(s2, _mm256_load_pd(a + i + 8));
      s3 = _mm256_add_pd(s3, _mm256_load_pd(a + i + 12));
    }
    for (; i < n; ++i) tail += a[i];
  }
  const __m256d s = _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3));
  double lanes[4];
  _mm256_storeu_pd(lanes, s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + tail;
}

double read_scalar(const double* a, std::size_t n, int repeats) {
  double s = 0;
  for (int r = 0; r < repeats; ++r) {
    for (std::size_t i = 0; i < n; ++i) s += a[i];
  }
  return s;
}

}  // namespace

void stream_copy(isa level, const double* a, double* c, std::size_t n, bool nontemporal) {
  if (level == isa::avx512) return copy512(a, c, n, nontemporal);
  if (level == isa::avx2) return copy256(a, c, n, nontemporal);
  for (std::size_t i = 0; i < n; ++i) c[i] = a[i];
}

void stream_scale(isa level, double* b, const double* c, double s, std::size_t n,
                  bool nontemporal) {
  if (level == isa::avx512) return scale512(b, c, s, n, nontemporal);
  if (level == isa::avx2) return scale256(b, c, s, n, nontemporal);
  for (std::size_t i = 0; i < n; ++i) b[i] = s * c[i];
}

void stream_add(isa level, const double* a, const double* b, double* c, std::size_t n,
                bool nontemporal) {
  if (level == isa::avx512) return add512(a, b, c, n, nontemporal);
  if (level == isa::avx2) return add256(a, b, c, n, nontemporal);
  for (std::size_t i = 0; i < n; ++i) c[i] = a[i] + b[i];
}

void stream_triad(isa level, double* a, const double* b, const double* c, double s, std::size_t n,
                  bool nontemporal) {
  if (level == isa::avx512) return triad512(a, b, c, s, n, nontemporal);
  if (level == isa::avx2) return triad256(a, b, c, s, n, nontemporal);
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

double read_sum(isa level, const double* a, std::size_t n, int repeats) {
  if (level == isa::avx512) return read512(a, n, repeats);
  if (level == isa::avx2) return read256(a, n, repeats);
  return read_scalar(a, n, repeats);
}

}  // namespace chipgauge::kernels::cpu

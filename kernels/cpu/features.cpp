// CPUID-based feature detection (Intel SDM vol. 2A "CPUID"; AMD APM vol. 3 appendix E).
#include "chipgauge/kernels/cpu.hpp"

#include <cpuid.h>

#include <cstring>

namespace chipgauge::kernels::cpu {

namespace {

struct regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

regs cpuid(unsigned leaf, unsigned subleaf = 0) {
  regs r;
  __cpuid_count(leaf, subleaf, r.a, r.b, r.c, r.d);
  return r;
}

bool bit(unsigned v, int n) { return ((v >> n) & 1U) != 0; }

// XCR0: which register states the OS saves (bit 1 SSE, 2 AVX, 5-7 AVX-512, 17-18 AMX).
unsigned long long xgetbv0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

}  // namespace

cpu_features detect_features() {
  cpu_features f;
  const regs r0 = cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor, &r0.b, 4);
  std::memcpy(vendor + 4, &r0.d, 4);
  std::memcpy(vendor + 8, &r0.c, 4);
  f.vendor = vendor;
  const unsigned max_leaf = r0.a;

  const regs r1 = cpuid(1);
  const unsigned base_family = (r1.a >> 8) & 0xF;
  const unsigned ext_family = (r1.a >> 20) & 0xFF;
  const unsigned base_model = (r1.a >> 4) & 0xF;
  const unsigned ext_model = (r1.a >> 16) & 0xF;
  f.family = base_family == 0xF ? base_family + ext_family : base_family;
  f.model = (base_family == 0x6 || base_family == 0xF) ? (ext_model << 4) + base_model : base_model;

  const bool osxsave = bit(r1.c, 27);
  const unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;

  f.fma = os_avx && bit(r1.c, 12);
  if (max_leaf >= 7) {
    const regs r7 = cpuid(7, 0);
    const regs r71 = cpuid(7, 1);
    f.avx2 = os_avx && bit(r7.b, 5);
    f.avx512f = os_avx512 && bit(r7.b, 16);
    f.avx512bw = os_avx512 && bit(r7.b, 30);
    f.avx512vl = os_avx512 && bit(r7.b, 31);
    f.avx512_vnni = os_avx512 && bit(r7.c, 11);
    f.avx512_fp16 = os_avx512 && bit(r7.d, 23);
    f.amx_bf16 = os_amx && bit(r7.d, 22);
    f.amx_int8 = os_amx && bit(r7.d, 25);
    f.avx512_bf16 = os_avx512 && bit(r71.a, 5);
    f.avx_vnni = os_avx && bit(r71.a, 4);
  }

  const regs e0 = cpuid(0x80000000);
  if (e0.a >= 0x80000004) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      const regs r = cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &r, 16);
    }
    f.brand = brand;
    const auto first = f.brand.find_first_not_of(' ');
    f.brand = first == std::string::npos ? "" : f.brand.substr(first);
    while (!f.brand.empty() && (f.brand.back() == ' ' || f.brand.back() == '\0'))
      f.brand.pop_back();
  }
  return f;
}

std::vector<std::string> cpu_features::names() const {
  std::vector<std::string> out;
  const std::pair<bool, const char*> all[] = {{fma, "fma"},
                                              {avx2, "avx2"},
                                              {avx512f, "avx512f"},
                                              {avx512bw, "avx512bw"},
                                              {avx512vl, "avx512vl"},
                                              {avx512_vnni, "avx512_vnni"},
                                              {avx512_bf16, "avx512_bf16"},
                                              {avx512_fp16, "avx512_fp16"},
                                              {avx_vnni, "avx_vnni"},
                                              {amx_bf16, "amx_bf16"},
                                              {amx_int8, "amx_int8"}};
  for (const auto& [on, name] : all) {
    if (on) out.emplace_back(name);
  }
  return out;
}

const char* to_string(isa i) noexcept {
  switch (i) {
    case isa::scalar: return "scalar";
    case isa::avx2: return "avx2";
    case isa::avx512: return "avx512";
  }
  return "?";
}

}  // namespace chipgauge::kernels::cpu

// The verdict rates of `chipgauge compare` on synthetic data (docs/compare.md#measured-rates): for
// each noise level, sample count and true drop in rate, TRIALS seeded trials draw both sides from
// normal distributions (relative noise sigma) and count how often the verdict is slower, unknown,
// same or faster. Prints a Markdown table.
//   build/bench/micro/compare_rates [TRIALS]      (default 10000)
#include "chipgauge/bench/compare.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

// Box-Muller on mt19937_64, whose output the standard fixes: the same draws everywhere.
class normal_source {
 public:
  explicit normal_source(std::uint64_t seed) : gen_(seed) {}
  double operator()() {
    const double u1 = (static_cast<double>(gen_() >> 11) + 1) / 9007199254740993.0;
    const double u2 = static_cast<double>(gen_() >> 11) / 9007199254740992.0;
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * 3.14159265358979323846 * u2);
  }

 private:
  std::mt19937_64 gen_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace chipgauge::bench;
  const int trials = argc > 1 ? std::atoi(argv[1]) : 10000;
  const compare_settings s;
  std::printf(
      "| noise | n per side | true change | slower | unknown | same | faster |\n"
      "|---|---|---|---|---|---|---|\n");
  for (const double noise : {0.01, 0.03}) {
    for (const std::size_t n : {5UL, 10UL, 20UL}) {
      for (const double drop : {0.0, 0.01, 0.02, 0.05, 0.10}) {
        normal_source g(0x5eed + static_cast<std::uint64_t>(1000 * noise) * 1000 + n * 10 +
                        static_cast<std::uint64_t>(100 * drop));
        int count[4] = {0, 0, 0, 0};
        std::vector<double> a(n), b(n);
        for (int t = 0; t < trials; ++t) {
          for (auto& x : a) x = 1e9 * (1 + noise * g());
          for (auto& x : b) x = 1e9 * (1 - drop) * (1 + noise * g());
          ++count[static_cast<int>(compare_samples(a, b, s.min_effect, s).v)];
        }
        const auto pct = [&](verdict v) { return 100.0 * count[static_cast<int>(v)] / trials; };
        std::printf("| %.0f %% | %zu | %s%.0f %% | %.2f %% | %.2f %% | %.2f %% | %.2f %% |\n",
                    100 * noise, n, drop > 0 ? "-" : "", 100 * drop, pct(verdict::slower),
                    pct(verdict::unknown), pct(verdict::same), pct(verdict::faster));
      }
    }
  }
  return 0;
}

#pragma once

#include "chipgauge/bench/backend.hpp"

#include <memory>
#include <string>

namespace chipgauge::bench {

/// The CPU backend: one device (this machine's CPUs in the process's affinity mask), one pinned
/// thread per core. Compute: FP64/FP32 FMA (AVX-512, AVX2/FMA or scalar), BF16 dot (AVX512_BF16),
/// INT8 dot (AVX512_VNNI or AVX_VNNI). Memory: STREAM copy/scale/add/triad over a working set of
/// at least 4 x the last-level cache, and a read sweep over L1, L2, L3 and DRAM footprints.
/// Theoretical peaks come from `specs_dir`/arch/cpu.json and the measured clock.
std::unique_ptr<backend> make_cpu_backend(const std::string& specs_dir);

}  // namespace chipgauge::bench

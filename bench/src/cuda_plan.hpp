#pragma once

// The CUDA backend's decisions that need no device: which benchmarks a GPU of given properties
// runs and why it skips the others, how large the DRAM arrays and L2 footprints are, and which
// fixed (clock-independent) peaks apply, with their basis. Plain C++ (no CUDA), so that it is
// tested on machines without a GPU. Internal to bench/.

#include "chipgauge/bench/backend.hpp"
#include "cuda_arch.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace chipgauge::bench {

/// What the catalogue and the fixed peaks depend on (CUDA device properties and attributes).
struct cuda_device_facts {
  int index = 0;
  std::string name;  ///< as CUDA reports it ("NVIDIA H200")
  int major = 0;
  int minor = 0;
  int sm_count = 0;
  int max_threads_per_sm = 2048;
  double l2_bytes = 0;
  double memory_bytes = 0;  ///< total device memory
  std::size_t smem_per_sm = 0;
  std::size_t smem_reserved_per_block = 0;
  int smem_optin = 0;  ///< bytes of shared memory one block may opt in to
  int mem_clock_khz = 0;
  int bus_width = 0;  ///< bits

  [[nodiscard]] int cc() const { return major * 10 + minor; }
  /// Blocks of `threads` that fit on one SM by the thread limit, at least 1 and at most `wanted`.
  [[nodiscard]] int fit(int wanted, int threads) const;
};

/// Another GPU of the process and whether this one can reach its memory (cudaDeviceCanAccessPeer).
struct cuda_peer {
  int index = 0;
  bool accessible = false;
};

/// A peak that does not scale with the SM clock (DRAM, PCIe), with what it rests on.
struct fixed_peak {
  double rate = 0;
  std::string basis;
};

/// The wgmma kernel variants: N of each instruction and the shared-memory operand layout.
struct wgmma_variant {
  const char* suffix;  ///< appended to "wgmma_<precision>": "", "_sw128", "_n256", "_n256_sw128"
  int n;               ///< 128 or 256
  bool swizzle128;     ///< 128-byte-swizzle K-major descriptors; else no swizzle (interleaved core
                       ///< matrices)
};
inline constexpr wgmma_variant wgmma_variants[] = {
    {"", 128, false}, {"_sw128", 128, true}, {"_n256", 256, false}, {"_n256_sw128", 256, true}};

/// The parameters of each kind of CUDA case, captured when the catalogue is built, so that the
/// backend constructs a case from its entry and never parses a benchmark name back.
namespace cuda_params {
/// The injected fault (CHIPGAUGE_CUDA_FAULT) named in the entry.
struct fault {
  std::string kind;
};
enum class vector_kind { fp64, fp32, fp16x2, int32 };
/// Vector FMA; `rate_key`: the per-SM rate in specs/arch/cuda.json.
struct vector {
  vector_kind kind;
  std::string rate_key;
};
/// Tensor cores through mma.sync, or wgmma with the variant's N and operand layout.
struct tensor {
  classifier::precision prec;
  bool wgmma = false;
  int n = 128;
  bool swizzle128 = false;
  std::string rate_key;
};
/// A cuBLASLt GEMM of size x size x size.
struct gemm {
  classifier::precision prec;
  int size = 0;
  std::string rate_key;
};
enum class dram_kind { read, write, copy, triad };
/// A DRAM stream over arrays of cuda_dram_array_bytes, `blocks_per_sm` resident blocks of 256.
struct dram {
  dram_kind kind;
  int blocks_per_sm = 8;
};
/// A read of `footprint` bytes, `passes` per launch; `dram_peak`: from 4 x L2 up the DRAM peak
/// applies.
struct l2_read {
  double footprint = 0;
  unsigned passes = 1;
  bool dram_peak = false;
};
/// A shared-memory read of a `tile`-byte tile per block.
struct smem_read {
  std::size_t tile = 0;
};
/// Peer-to-peer copies to cuda:`to`, one way or both ways at once.
struct p2p {
  int to = 0;
  bool both = false;
  std::size_t bytes = 0;
};
enum class copy_kind { h2d, d2h, bidirectional };
/// Pinned host-device copies.
struct host_copy {
  copy_kind kind;
  std::size_t bytes = 0;
};
/// A path the catalogue lists, so a report shows what it lacks, with no case written yet.
struct not_written {};
}  // namespace cuda_params

using cuda_case_params =
    std::variant<cuda_params::not_written, cuda_params::fault, cuda_params::vector,
                 cuda_params::tensor, cuda_params::gemm, cuda_params::dram, cuda_params::l2_read,
                 cuda_params::smem_read, cuda_params::p2p, cuda_params::host_copy>;

/// One catalogue entry: what a report lists, the case's parameters, and why it is skipped on this
/// device (nullopt: it runs).
struct cuda_entry {
  benchmark_info info;
  cuda_case_params params;
  std::optional<std::string> skipped;
};

/// Every benchmark the CUDA backend knows for this device in `mode`, in listing order, run or
/// skipped with the reason. `fault`: the injected fault's name (CHIPGAUGE_CUDA_FAULT), if any.
std::vector<cuda_entry> cuda_entries(const cuda_device_facts& g,
                                     const std::vector<cuda_peer>& peers, run_mode mode,
                                     const std::optional<std::string>& fault);

/// cuda_entries split into what runs and what is skipped with the reason, each in listing order.
std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>> cuda_catalogue(
    const cuda_device_facts& g, const std::vector<cuda_peer>& peers, run_mode mode,
    const std::optional<std::string>& fault);

/// Bytes of each DRAM array: at least 8 x L2 and 4 GiB (launch gaps cost 1-2 % of a 1 GiB pass on
/// an H200), but at most an eighth of device memory (the triad's three arrays stay under 3/8 of
/// it), in whole MiB.
double cuda_dram_array_bytes(const cuda_device_facts& g);

/// The DRAM peak with both bases: computed (2 transfers per memory clock x bus width / 8, from the
/// CUDA device attributes) and, when specs/arch/cuda.json maps the device to a spec sheet, the
/// sheet's figure. The rate (what the fraction uses) is the computed one, a hard bound at the
/// clock the memory runs at; the basis names both and the ratio. With no memory clock or bus width
/// there is no computed figure: the sheet's figure is used if there is one, else nullopt.
std::optional<fixed_peak> cuda_dram_peak(const cuda_device_facts& g,
                                         const std::optional<dram_datasheet>& sheet);

/// Footprints of the L2 read sweep: quick, L2/8, L2/2 and 4 x L2; full, every power of two from
/// 256 KiB below 4 x L2, then 4 x L2.
std::vector<double> cuda_l2_footprints(const cuda_device_facts& g, run_mode mode);
/// Passes per launch of an L2 read of `footprint` bytes: one launch reads at least 2 GiB.
unsigned cuda_l2_passes(double footprint);
/// Why an L2 read of `footprint` bytes gets no peak: inside L2 no published figure applies;
/// between L2 and 4 x L2 part of the footprint still hits in L2, so the DRAM peak does not bound
/// it. nullopt from 4 x L2 up, where the DRAM peak applies.
std::optional<std::string> cuda_l2_no_peak_reason(double footprint, double l2_bytes);

/// Tiles of the shared-memory sweep: multiples of 4 KiB up to the block's opt-in maximum; quick,
/// 16 KiB and the largest; full, 4 KiB, every power of two and the largest.
std::vector<std::size_t> cuda_smem_tiles(const cuda_device_facts& g, run_mode mode);
/// Blocks of `threads` with a `tile`-byte shared tile one SM holds at once, 1 to 4.
int cuda_smem_resident(const cuda_device_facts& g, std::size_t tile, int threads);

}  // namespace chipgauge::bench

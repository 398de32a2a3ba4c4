#include "cuda_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

using chipgauge::classifier::parse_precision;
using chipgauge::classifier::precision;

namespace chipgauge::bench {

int cuda_device_facts::fit(int wanted, int threads) const {
  return std::max(1, std::min(wanted, max_threads_per_sm / threads));
}

double cuda_dram_array_bytes(const cuda_device_facts& g) {
  constexpr double mib = 1048576.0;
  const double wanted = std::max(8.0 * g.l2_bytes, 4096.0 * mib);
  const double cap = g.memory_bytes > 0 ? g.memory_bytes / 8 : wanted;
  return std::max(mib, std::floor(std::min(wanted, cap) / mib) * mib);
}

std::optional<fixed_peak> cuda_dram_peak(const cuda_device_facts& g,
                                         const std::optional<dram_datasheet>& sheet) {
  std::string quoted;
  if (sheet) {
    quoted = sheet->lo == sheet->hi
                 ? fmt::format("{:.0f} GB/s", sheet->lo / 1e9)
                 : fmt::format("{:.0f}-{:.0f} GB/s", sheet->lo / 1e9, sheet->hi / 1e9);
  }
  if (g.mem_clock_khz <= 0 || g.bus_width <= 0) {
    if (!sheet) return std::nullopt;
    return fixed_peak{
        sheet->hi,
        fmt::format(
            "datasheet: {} ({}); the fraction uses it (no memory clock or bus width from CUDA, "
            "so no computed figure)",
            quoted, sheet->sheet)};
  }
  // 2 transfers per memory clock (DDR; HBM and GDDR report their clock so) x bus width.
  const double computed = 2.0 * g.mem_clock_khz * 1e3 * g.bus_width / 8;
  auto basis = fmt::format(
      "computed: 2 x {} MHz memory clock x {} bit bus / 8 = {:.0f} GB/s (CUDA device "
      "attributes); the fraction uses it",
      g.mem_clock_khz / 1000, g.bus_width, computed / 1e9);
  if (sheet) {
    basis += fmt::format("; datasheet: {} ({}), computed / datasheet = {:.3f}", quoted,
                         sheet->sheet, computed / sheet->hi);
  } else {
    basis += "; datasheet: none (no sheet mapped to this device in specs/arch/cuda.json)";
  }
  return fixed_peak{computed, basis};
}

std::vector<double> cuda_l2_footprints(const cuda_device_facts& g, run_mode mode) {
  const double l2 = g.l2_bytes;
  if (mode == run_mode::quick) return {l2 / 8, l2 / 2, 4 * l2};
  std::vector<double> out;
  for (double f = 256.0 * 1024; f < 4 * l2; f *= 2) out.push_back(f);
  out.push_back(4 * l2);  // the first footprint the DRAM peak bounds
  return out;
}

unsigned cuda_l2_passes(double footprint) {
  return static_cast<unsigned>(std::max(1.0, std::ceil(2.0 * 1073741824 / footprint)));
}

std::optional<std::string> cuda_l2_no_peak_reason(double footprint, double l2_bytes) {
  if (footprint >= 4 * l2_bytes) return std::nullopt;
  if (footprint <= l2_bytes) return std::string("inside L2: no published L2 bandwidth figure");
  return std::string(
      "between L2 and 4 x L2: part of the footprint still hits in L2, so the DRAM peak does not "
      "bound it and no single peak does");
}

int cuda_smem_resident(const cuda_device_facts& g, std::size_t tile, int threads) {
  const auto per_block = tile + g.smem_reserved_per_block;
  return g.fit(std::max<int>(1, std::min<int>(4, static_cast<int>(g.smem_per_sm / per_block))),
               threads);
}

std::vector<std::size_t> cuda_smem_tiles(const cuda_device_facts& g, run_mode mode) {
  const std::size_t unit = 4096;
  const std::size_t largest = static_cast<std::size_t>(std::max(g.smem_optin, 4096)) / unit * unit;
  std::vector<std::size_t> out;
  if (mode == run_mode::quick) {
    out = {std::min<std::size_t>(16384, largest)};
  } else {
    for (std::size_t t = unit; t < largest; t *= 2) out.push_back(t);
  }
  if (out.back() != largest) out.push_back(largest);
  return out;
}

std::vector<cuda_entry> cuda_entries(const cuda_device_facts& g,
                                     const std::vector<cuda_peer>& peers, run_mode mode,
                                     const std::optional<std::string>& fault) {
  namespace cp = cuda_params;
  std::vector<cuda_entry> out;
  const auto run = [&out](benchmark_info info, cuda_case_params params) {
    out.push_back({std::move(info), std::move(params), {}});
  };
  const auto skip = [&out](benchmark_info info, cuda_case_params params, std::string why) {
    out.push_back({std::move(info), std::move(params), std::move(why)});
  };
  if (fault) {
    run({fmt::format("fault_{}", *fault), "fault", std::nullopt, metric_kind::ops_per_s, "sass",
         fmt::format("injected fault (CHIPGAUGE_CUDA_FAULT={})", *fault), 0},
        cp::fault{*fault});
  }
  const auto vector = [&](const char* name, std::optional<precision> p, const char* what,
                          cp::vector_kind k) {
    run({name, "vector", p, metric_kind::ops_per_s, "sass", what, 0}, cp::vector{k, name});
  };
  vector("fma_fp64", precision::fp64, "FP64 vector FMA (DFMA)", cp::vector_kind::fp64);
  vector("fma_fp32", precision::fp32, "FP32 vector FMA (FFMA)", cp::vector_kind::fp32);
  vector("fma_fp16x2", precision::fp16, "FP16x2 vector FMA (HFMA2)", cp::vector_kind::fp16x2);
  vector("mad_int32", std::nullopt, "INT32 multiply-add (IMAD)", cp::vector_kind::int32);
  const double bytes = cuda_dram_array_bytes(g);
  const std::pair<const char*, cp::dram_kind> dram_kinds[] = {{"read", cp::dram_kind::read},
                                                              {"write", cp::dram_kind::write},
                                                              {"copy", cp::dram_kind::copy},
                                                              {"triad", cp::dram_kind::triad}};
  for (const auto& [k, kind] : dram_kinds) {
    const std::string ks = k;
    run({"dram_" + ks, "memory", std::nullopt, metric_kind::bytes_per_s, "sass",
         fmt::format("DRAM {} with 16-byte accesses over arrays of {:.0f} MiB (hashed data)", ks,
                     bytes / 1048576.0),
         bytes * (ks == "triad"  ? 3
                  : ks == "copy" ? 2
                                 : 1)},
        cp::dram{kind, 8});
  }
  if (mode == run_mode::full) {
    // Occupancy: resident blocks of 256 threads per SM, up to what the SM holds.
    for (const int occ : {1, 2, 4, 8}) {
      if (occ * 256 > g.max_threads_per_sm) continue;
      run({fmt::format("dram_triad_occ{}", occ), "memory", std::nullopt, metric_kind::bytes_per_s,
           "sass",
           fmt::format("DRAM triad with {} blocks of 256 threads per SM (occupancy sweep)", occ),
           3 * bytes},
          cp::dram{cp::dram_kind::triad, occ});
    }
  }
  // Read bandwidth against footprint, through L2 (L1 bypassed) and beyond it into DRAM.
  for (const double fb : cuda_l2_footprints(g, mode)) {
    const auto no_peak = cuda_l2_no_peak_reason(fb, g.l2_bytes);
    run({fmt::format("l2_read_{}kib", static_cast<long long>(fb / 1024)), "sweep", std::nullopt,
         metric_kind::bytes_per_s, "sass",
         fmt::format("read of a {:.0f} KiB footprint ({:.3g} x L2), {} passes per launch; {}",
                     fb / 1024, fb / g.l2_bytes, cuda_l2_passes(fb),
                     no_peak ? "no peak: " + *no_peak : std::string("peak: DRAM (4 x L2 or more)")),
         fb},
        cp::l2_read{fb, cuda_l2_passes(fb), !no_peak});
  }
  // Shared memory against the tile each block reads.
  for (const std::size_t tile : cuda_smem_tiles(g, mode)) {
    run({fmt::format("smem_read_{}kib", tile / 1024), "sweep", std::nullopt,
         metric_kind::bytes_per_s, "sass",
         fmt::format("shared-memory read, 16-byte words, {} KiB tile per block, {} block(s) per SM",
                     tile / 1024, cuda_smem_resident(g, tile, 256)),
         static_cast<double>(tile)},
        cp::smem_read{tile});
  }
  constexpr std::size_t copy_bytes = 256U << 20;
  for (const auto& other : peers) {
    if (other.index == g.index) continue;
    for (const bool both : {false, true}) {
      const char* way = both ? "bi" : "uni";
      benchmark_info t{
          fmt::format("p2p_{}_to_{}_{}", g.index, other.index, way),
          "interconnect",
          std::nullopt,
          metric_kind::bytes_per_s,
          "copy engine",
          fmt::format("peer-to-peer copies of 256 MiB, cuda:{} to cuda:{}, {}directional", g.index,
                      other.index, way),
          256.0 * 1048576 * (both ? 2 : 1)};
      const cp::p2p params{other.index, both, copy_bytes};
      if (other.accessible) run(std::move(t), params);
      else
        skip(std::move(t), params,
             "these two GPUs cannot access each other's memory (no peer path)");
    }
  }
  const std::pair<const char*, cp::copy_kind> copies[] = {
      {"h2d", cp::copy_kind::h2d},
      {"d2h", cp::copy_kind::d2h},
      {"bidirectional", cp::copy_kind::bidirectional}};
  for (const auto& [k, kind] : copies) {
    const std::string ks = k;
    run({"pcie_" + ks, "interconnect", std::nullopt, metric_kind::bytes_per_s, "copy engine",
         fmt::format("pinned host-device copy, {} of 256 MiB", ks),
         256.0 * 1048576 * (ks == "bidirectional" ? 2 : 1)},
        cp::host_copy{kind, copy_bytes});
  }
  const int cc = g.cc();
  for (const std::string p : {"fp16", "bf16", "tf32", "int8", "fp8", "fp64"}) {
    const auto prec = *parse_precision(p);
    benchmark_info t{"mma_" + p, "compute",
                     prec,       metric_kind::ops_per_s,
                     "mma.sync", fmt::format("tensor cores, warp-level mma.sync, {} dense", p),
                     0};
    const cp::tensor params{prec, false, 128, false, "tensor_" + p};
    if (cc < 80) {
      skip(std::move(t), params, "mma.sync tensor kernels need compute capability 8.0 or later");
    } else if (p == "fp8" && cc < 89) {
      skip(std::move(t), params, "FP8 (e4m3) tensor cores need compute capability 8.9 or later");
    } else if (p == "fp8" && g.major == 9) {
      // Native on 8.9 (Ada), 10.x and 12.x (QMMA in their SASS); on 9.0 ptxas converts the
      // operands to FP16 and issues HMMA (CUTLASS issue 1986, maintainer's reply).
      skip(std::move(t), params,
           "on compute capability 9.0 mma.sync with FP8 (e4m3) operands is not native: it is "
           "converted to FP16 and runs at the FP16 tensor rate, not the FP8 peak (CUTLASS issue "
           "1986); Hopper's FP8 path is wgmma (wgmma_fp8)");
    } else {
      run(std::move(t), params);
    }
  }
  for (const std::string p : {"fp16", "bf16", "tf32", "fp8", "int8"}) {
    const auto prec = *parse_precision(p);
    for (const auto& v : wgmma_variants) {
      benchmark_info t{
          fmt::format("wgmma_{}{}", p, v.suffix),
          "compute",
          prec,
          metric_kind::ops_per_s,
          "wgmma",
          fmt::format(
              "tensor cores, warpgroup wgmma m64n{} (sm_90a), {} dense, {} shared-memory operands",
              v.n, p, v.swizzle128 ? "128-byte-swizzle" : "no-swizzle"),
          0};
      const cp::tensor params{prec, true, v.n, v.swizzle128, "tensor_" + p};
      if (cc == 90) run(std::move(t), params);
      else
        skip(std::move(t), params,
             cc >= 100 ? "wgmma is Hopper-only; Blackwell's tcgen05 path is not written yet"
                       : "wgmma needs compute capability 9.0 (sm_90a)");
    }
  }
  // Blackwell's own tensor paths: listed, so a report shows what it lacks, until they are written
  // (the extension point: a tensor_op and a kernel beside kernels/cuda/tensor_wgmma.cu).
  if (cc >= 100) {
    const bool datacenter = cc < 120;  // sm_100/103 have tcgen05 and tensor memory; sm_120 does not
    for (const std::string p : {"fp16", "bf16", "tf32", "fp8", "fp6", "fp4", "int8"}) {
      benchmark_info t{fmt::format("{}_{}", datacenter ? "tcgen05" : "mma_block_scaled", p),
                       "compute",
                       parse_precision(p),
                       metric_kind::ops_per_s,
                       datacenter ? "tcgen05" : "mma.sync kind::f8f6f4",
                       fmt::format("tensor cores, {} dense", p),
                       0};
      if (!datacenter && (p == "fp16" || p == "bf16" || p == "tf32" || p == "int8"))
        continue;  // sm_120 runs these through mma.sync above
      skip(std::move(t), cp::not_written{},
           datacenter
               ? "the tcgen05 (sm_100a) kernels are not written yet; mma.sync and cuBLASLt give "
                 "this GPU's tensor rates meanwhile, below its peak"
               : "the sm_120a block-scaled mma.sync kernels (FP8/FP6/FP4) are not written yet");
    }
  }
  // The application view: cuBLASLt GEMMs, one shape in quick mode, a sweep in full mode.
  const std::vector<int> sizes =
      mode == run_mode::quick ? std::vector<int>{8192} : std::vector<int>{4096, 8192, 16384};
  for (const std::string p : {"bf16", "fp16", "tf32", "fp8", "int8"}) {
    const auto prec = *parse_precision(p);
    for (int size : sizes) {
      benchmark_info t{fmt::format("gemm_{}_{}", p, size),
                       "gemm",
                       prec,
                       metric_kind::ops_per_s,
                       "cuBLASLt",
                       fmt::format("cuBLASLt {0} GEMM {1}x{1}x{1} (TN)", p, size),
                       0};
      const cp::gemm params{prec, size, "tensor_" + p};
      if (p == "fp8" && cc < 89)
        skip(std::move(t), params, "FP8 GEMMs need compute capability 8.9 or later");
      else run(std::move(t), params);
    }
  }
  return out;
}

std::pair<std::vector<benchmark_info>, std::vector<skipped_benchmark>> cuda_catalogue(
    const cuda_device_facts& g, const std::vector<cuda_peer>& peers, run_mode mode,
    const std::optional<std::string>& fault) {
  std::vector<benchmark_info> run;
  std::vector<skipped_benchmark> skip;
  for (auto& e : cuda_entries(g, peers, mode, fault)) {
    if (e.skipped) skip.push_back({std::move(e.info), std::move(*e.skipped)});
    else run.push_back(std::move(e.info));
  }
  return {run, skip};
}

}  // namespace chipgauge::bench

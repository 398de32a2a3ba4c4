// The CUDA backend end to end. Without a device every GPU test skips with the reason; the one
// test that needs no GPU checks that the absence is reported clearly.
#include "chipgauge/bench/cuda_backend.hpp"
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/core/error.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace chipgauge::bench {
namespace {

TEST(CudaBackend, AbsentDeviceIsAClearError) {
  std::string reason;
  if (cuda_device_available(&reason)) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_FALSE(reason.empty());
  measure_options o;
  o.backend = "cuda";
  o.specs_dir = test::specs_dir();
  try {
    (void)measure(o);
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("the cuda backend found no device: " + reason), std::string::npos) << e.what();
  }
  o.backend = "auto";
  o.filter = "^fma_fp64$";
  const auto r = measure(o);
  ASSERT_EQ(r.devices.size(), 1U);
  EXPECT_EQ(r.devices[0].backend, "cpu") << "auto falls back to the CPU without a GPU";
}

TEST(CudaBackend, VectorMemoryAndCopiesAreVerified) {
  std::string reason;
  if (!cuda_device_available(&reason)) GTEST_SKIP() << "no CUDA device: " << reason;
  measure_options o;
  o.backend = "cuda";
  o.specs_dir = test::specs_dir();
  o.filter = "^(fma_fp32|fma_fp64|fma_fp16x2|mad_int32|mma_bf16|mma_int8|mma_fp64|wgmma_bf16|wgmma_fp8|gemm_bf16_8192|gemm_fp8_8192|dram_triad|dram_read|l2_read_.*|smem_read|pcie_h2d|pcie_bidirectional|p2p_.*)$";
  const auto r = measure(o);
  ASSERT_FALSE(r.devices.empty());
  for (const auto& m : r.results) {
    // wgmma runs on sm_90a only, FP8 from sm_89: elsewhere they are skipped, with the reason.
    if (m.status == result_status::skipped) {
      EXPECT_FALSE(m.reason.empty()) << m.info.name;
      continue;
    }
    EXPECT_EQ(m.status, result_status::ok) << m.info.name << ": " << m.reason;
    EXPECT_GT(m.rate.median, 1e9) << m.info.name;
    if (m.fraction_of_theoretical) {
      EXPECT_LT(*m.fraction_of_theoretical, 1.05) << m.info.name;
    }
    EXPECT_GT(m.clock.count, 0U) << m.info.name << ": the clock probe reads every sample";
  }
}

}  // namespace
}  // namespace chipgauge::bench

// The CUDA backend end to end. Without a device every GPU test skips with the reason; the one
// test that needs no GPU checks that the absence is reported clearly.
#include "chipgauge/bench/cuda_backend.hpp"
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/core/error.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

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
    EXPECT_NE(std::string(e.what()).find("the cuda backend found no device: " + reason),
              std::string::npos)
        << e.what();
  }
  o.backend = "auto";
  o.filter = "^fma_fp64$";
  std::string notice;
  o.notice = [&](const std::string& line) { notice += line; };
  const auto r = measure(o);
  ASSERT_EQ(r.devices.size(), 1U);
  EXPECT_EQ(r.devices[0].backend, "cpu") << "auto falls back to the CPU without a GPU";
  EXPECT_EQ(notice, "CUDA not used (" + reason + "); measuring the CPU") << "and says why";
}

TEST(CudaBackend, MalformedFaultAndDeadlineSettingsAreUsageErrors) {
  // Checked when the backend is made, before any device is touched: so also without a GPU.
  measure_options o;
  o.backend = "cuda";
  o.specs_dir = test::specs_dir();
  ::setenv("CHIPGAUGE_CUDA_FAULT", "explode", 1);
  try {
    (void)measure(o);
    ADD_FAILURE() << "expected a usage_error";
  } catch (const usage_error& e) {
    EXPECT_STREQ(e.what(), "CHIPGAUGE_CUDA_FAULT='explode': expected hang, illegal or launch");
  }
  ::unsetenv("CHIPGAUGE_CUDA_FAULT");
  ::setenv("CHIPGAUGE_CUDA_DEADLINE_S", "0", 1);
  try {
    (void)measure(o);
    ADD_FAILURE() << "expected a usage_error";
  } catch (const usage_error& e) {
    EXPECT_STREQ(e.what(), "CHIPGAUGE_CUDA_DEADLINE_S='0': expected seconds in (0, 86400]");
  }
  ::unsetenv("CHIPGAUGE_CUDA_DEADLINE_S");
}

TEST(CudaBackend, VectorMemoryAndCopiesAreVerified) {
  std::string reason;
  if (!cuda_device_available(&reason)) GTEST_SKIP() << "no CUDA device: " << reason;
  measure_options o;
  o.backend = "cuda";
  o.specs_dir = test::specs_dir();
  o.filter =
      "^(fma_fp32|fma_fp64|fma_fp16x2|mad_int32|mma_bf16|mma_int8|mma_fp8|mma_fp64|wgmma_bf16(_."
      "*)?|wgmma_fp8(_.*)?|gemm_bf16_8192|gemm_fp8_8192|dram_triad|dram_read|l2_read_.*|smem_rea"
      "d_.*|pcie_h2d|pcie_bidirectional|p2p_.*)$";
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
    // cuBLASLt: the fastest of the heuristic's candidates, named in the description.
    if (m.info.name.rfind("gemm_", 0) == 0) {
      EXPECT_NE(m.info.description.find("algorithm: heuristic index"), std::string::npos)
          << m.info.description;
    }
    if (m.info.name == "dram_read") {
      EXPECT_NE(m.theoretical_basis.find("computed: 2 x"), std::string::npos)
          << m.theoretical_basis;
    }
  }
}

TEST(CudaBackend, DevicesCarryIdentityAndAnOutOfRangeDeviceIsAUsageError) {
  std::string reason;
  if (!cuda_device_available(&reason)) GTEST_SKIP() << "no CUDA device: " << reason;
  measure_options o;
  o.backend = "cuda";
  o.specs_dir = test::specs_dir();
  o.filter = "^fma_fp32$";
  o.devices = {"99"};
  EXPECT_THROW((void)measure(o), usage_error);
  o.devices = {"0"};
  const auto r = measure(o);
  ASSERT_EQ(r.devices.size(), 1U);
  const auto& d = r.devices[0];
  auto prop = [&](const std::string& key) {
    for (const auto& [k, v] : d.properties) {
      if (k == key) return v;
    }
    return std::string();
  };
  for (const char* key :
       {"uuid", "pci_bus_id", "compute_capability", "sm_count", "max_sm_clock_mhz", "memory_bytes",
        "l2_bytes", "ecc", "mig", "driver_version", "cuda_runtime", "peaks"})
    EXPECT_FALSE(prop(key).empty()) << key;
  EXPECT_EQ(prop("uuid").rfind("GPU-", 0), 0U) << prop("uuid");
  ASSERT_EQ(r.results.size(), 1U);
  EXPECT_EQ(r.results[0].status, result_status::ok) << r.results[0].reason;
}

// Fault injection (CHIPGAUGE_CUDA_FAULT): ctest runs each test in its own process, so a poisoned
// context does not leak into other tests. The hang is checked by scripts/gpu-check.sh, since the
// process must end abruptly after it.
class CudaFault : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("CHIPGAUGE_CUDA_FAULT"); }
  static measurement_report run(const char* fault) {
    ::setenv("CHIPGAUGE_CUDA_FAULT", fault, 1);
    measure_options o;
    o.backend = "cuda";
    o.specs_dir = test::specs_dir();
    o.filter = std::string("^(fault_") + fault + "|fma_fp32)$";
    return measure(o);
  }
};

TEST_F(CudaFault, RefusedLaunchFailsThatCaseOnly) {
  std::string reason;
  if (!cuda_device_available(&reason)) GTEST_SKIP() << "no CUDA device: " << reason;
  const auto r = run("launch");
  ASSERT_EQ(r.results.size(), 2U);
  EXPECT_EQ(r.results[0].status, result_status::invalid);
  EXPECT_NE(r.results[0].reason.find("cudaErrorInvalidConfiguration"), std::string::npos)
      << r.results[0].reason;
  EXPECT_EQ(r.results[1].status, result_status::ok)
      << "the context survives a refused launch: " << r.results[1].reason;
}

TEST_F(CudaFault, IllegalAddressStopsTheDeviceWithTheReason) {
  std::string reason;
  if (!cuda_device_available(&reason)) GTEST_SKIP() << "no CUDA device: " << reason;
  const auto r = run("illegal");
  ASSERT_EQ(r.results.size(), 2U);
  EXPECT_EQ(r.results[0].status, result_status::invalid);
  EXPECT_NE(r.results[0].reason.find("cudaErrorIllegalAddress"), std::string::npos)
      << r.results[0].reason;
  EXPECT_EQ(r.results[1].status, result_status::skipped);
  EXPECT_NE(
      r.results[1].reason.find("can run nothing more in this process after fault_illegal failed"),
      std::string::npos)
      << r.results[1].reason;
}

}  // namespace
}  // namespace chipgauge::bench

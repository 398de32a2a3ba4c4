// Writes the dashboard's synthetic history store (tests/dashboard_store.hpp), its certificates
// included, for the browser test, and beside it the truth the test checks the site against: the
// run ids of the known regression, the certificates of the H100 part, the fleet's failing node and
// outlier. The signing key pair goes beside the store.
// Usage: dashboard_fixture STORE EXPECTED_JSON
#include "chipgauge/core/files.hpp"
#include "dashboard_store.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fputs("usage: dashboard_fixture STORE EXPECTED_JSON\n", stderr);
    return 2;
  }
  try {
    const auto dir = std::filesystem::absolute(argv[1]).parent_path();
    for (const auto& f : {std::filesystem::path(argv[1]), dir / "lab.key", dir / "lab.pub"})
      std::filesystem::remove(f);
    auto s = chipgauge::history::store::open(argv[1]);
    const auto ids = chipgauge::test::fill_dashboard_store(s);
    const auto certs = chipgauge::test::fill_dashboard_certificates(s, dir.string());
    using chipgauge::testing::synthetic_fleet;
    const nlohmann::json expected{
        {"device", "NVIDIA H100 80GB HBM3"},
        {"identity", "GPU-dash-0001"},
        {"benchmark", "gemm_fp16"},
        {"regression_run_ids", {ids[chipgauge::test::dashboard_regression_night - 1]}},
        {"runs", ids.size()},
        {"certificates",
         {{"part", synthetic_fleet::skus[0]},
          {"runs", certs.h100_runs},
          {"verified_run", certs.verified_run},
          {"verified_tpp", 11111.5},
          {"failed_part", synthetic_fleet::skus[1]},
          {"failed_run", certs.failed_run}}},
        {"fleet",
         {{"devices", certs.fleet.nodes * certs.fleet.gpus},
          {"failing_nodes", nlohmann::json::array({synthetic_fleet::node_name(0)})},
          {"outliers", nlohmann::json::array({nlohmann::json::array(
                           {synthetic_fleet::node_name(0), synthetic_fleet::device_id(1)})})},
          {"unverified", 2}}}};
    chipgauge::write_file_atomically(argv[2], expected.dump(2) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dashboard_fixture: %s\n", e.what());
    return 1;
  }
  return 0;
}

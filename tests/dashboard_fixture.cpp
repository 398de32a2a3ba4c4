// Writes the dashboard's synthetic history store (tests/dashboard_store.hpp) for the browser test,
// and beside it the truth the test checks the site against: the run ids of the known regression.
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
    std::filesystem::remove(argv[1]);
    auto s = chipgauge::history::store::open(argv[1]);
    const auto ids = chipgauge::test::fill_dashboard_store(s);
    const nlohmann::json expected{
        {"device", "NVIDIA H100 80GB HBM3"},
        {"benchmark", "gemm_fp16"},
        {"regression_run_ids", {ids[chipgauge::test::dashboard_regression_night - 1]}},
        {"runs", ids.size()}};
    chipgauge::write_file_atomically(argv[2], expected.dump(2) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dashboard_fixture: %s\n", e.what());
    return 1;
  }
  return 0;
}

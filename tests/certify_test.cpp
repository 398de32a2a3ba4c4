// chipgauge certify on fake devices: identity matching, envelopes (and the loader's refusal of a
// unit slip), the checks and verdicts, outliers across a node, the certificate body, its schema
// fields, sealing, tampering and re-signing.
#include "chipgauge/certify/certify.hpp"
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/bench/statistics.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/signing.hpp"
#include "test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

using chipgauge::classifier::catalog;
using chipgauge::classifier::precision;

namespace chipgauge {
namespace {

using namespace chipgauge::bench;
using certify::outcome;

catalog& bundled() {
  static catalog c = catalog::load(test::specs_dir());
  return c;
}

// An H100 SXM5 as the CUDA backend would describe it (its sheet carries PCI id 10de:2330).
device_info h100(int index, const std::string& pci = "10de:2330") {
  device_info d;
  d.backend = "cuda";
  d.id = fmt::format("cuda:{}", index);
  d.name = "NVIDIA H100 80GB HBM3";
  d.vendor = "NVIDIA";
  d.units = 132;
  d.properties = {
      {"pci_id", pci}, {"compute_capability", "9.0"}, {"uuid", fmt::format("GPU-{}", index)}};
  return d;
}

// A verified result of `n` samples around `rate` (ops/s or bytes/s), as the runner leaves it.
measurement result(const std::string& device, const std::string& name, std::optional<precision> p,
                   double rate, std::optional<double> peak,
                   std::optional<std::uint64_t> reasons = 0x1) {
  measurement m;
  const bool memory = !p;
  m.info = {name,
            memory ? "memory" : "compute",
            p,
            memory ? metric_kind::bytes_per_s : metric_kind::ops_per_s,
            "fake",
            "fake " + name,
            memory ? 1e9 : 0};
  m.device_id = device;
  m.status = result_status::ok;
  m.verified = true;
  m.check = {true, 0, 0, "exact"};
  std::vector<double> rates;
  for (int i = 0; i < 9; ++i) {
    sample s;
    s.seconds = 0.1;
    s.work = rate * 0.1 * (1 + 0.001 * (i % 3));
    s.throttle_reasons = reasons;
    s.temperature_c = 60;
    m.samples.push_back(s);
    rates.push_back(s.rate());
  }
  m.rate = summarize(rates);
  m.stopped = stop_reason::noise_target;
  m.reps_per_sample = 1;
  m.host_contention = 0;
  m.host_steal = 0;
  if (peak) {
    m.theoretical = *peak;
    m.theoretical_basis = "fake peak";
    m.fraction_of_theoretical = m.rate.median / *peak;
    m.theoretical_at_max_clock = *peak;
    m.ceiling = *peak;
    m.ceiling_basis = "fake peak";
  }
  return m;
}

measurement_report report_of(const std::vector<device_info>& devices) {
  measurement_report r;
  r.tool_version = "test";
  r.git_sha = "0000000";
  r.created_utc = "2026-01-20T10:00:00Z";
  r.mode = "quick";
  r.host.hostname = "testhost";
  r.host.kernel = "Linux 6.1";
  r.host.os = "Debian 12";
  r.host.compiler = "GCC 12";
  r.devices = devices;
  return r;
}

// An H100 device with a healthy DRAM triad (`triad` GB/s) and BF16 tensor rate (TFLOP/s).
void add_h100_results(measurement_report& r, const std::string& device, double triad_gb_s,
                      double bf16_tflops = 800, std::optional<std::uint64_t> reasons = 0x1) {
  r.results.push_back(
      result(device, "dram_triad", std::nullopt, triad_gb_s * 1e9, std::nullopt, reasons));
  r.results.push_back(
      result(device, "mma_bf16", precision::bf16, bf16_tflops * 1e12, 989.4e12, reasons));
}

const char* h100_envelope = R"({
  "schema": "chipgauge.envelope/1", "id": "test-h100", "scope": "sku", "part": "nvidia-h100-sxm5-80gb",
  "description": "test envelope",
  "references": [{"id": "r", "url": "https://example.org/reference", "title": "a test reference"}],
  "telemetry": {"throttle_reasons": "idle_only"},
  "checks": [
    {"benchmark": "dram_triad", "peak": {"sheet": "memory.bandwidth_gb_s"},
     "floor": {"value": 2680, "unit": "GB/s", "fraction": 0.80}, "ceiling": {"value": 3517.5, "unit": "GB/s", "fraction": 1.05},
     "reference": "r", "evidence": "published_measurement"},
    {"benchmark": "mma_bf16", "peak": {"sheet": "dense_tops.bf16"},
     "floor": {"value": 653, "unit": "TFLOP/s", "fraction": 0.66}, "reference": "r", "evidence": "published_measurement"}
  ]
})";

const char* cpu_envelope = R"({
  "schema": "chipgauge.envelope/1", "id": "test-cpu", "scope": "architecture", "backend": "cpu", "architecture": "x86-64",
  "description": "test", "references": [{"id": "m", "url": "docs/measurement.md", "title": "measurement"}], "telemetry": {},
  "checks": [{"benchmark": "fma_fp64", "floor": {"fraction": 0.8}, "ceiling": {"fraction": 1.03}, "reference": "m", "evidence": "project_measurement"}]
})";

certify::envelope_set envelopes() {
  certify::envelope_set s;
  s.add(certify::parse_envelope(h100_envelope, "test-h100.json", bundled().parts()));
  s.add(certify::parse_envelope(cpu_envelope, "test-cpu.json", bundled().parts()));
  return s;
}

certify::certify_context context(const std::string& spec = "") {
  certify::certify_context c;
  c.lab = "Test Lab";
  c.tester = "T. Ester";
  c.location = "US";
  c.as_of = *date::parse("2026-01-20");
  c.spec = spec;
  c.source = "test";
  c.started_utc = "2026-01-20T10:00:00Z";
  c.ended_utc = "2026-01-20T10:01:00Z";
  return c;
}

bool has_check(const certify::device_certificate& dc, const std::string& kind, outcome o,
               const std::string& benchmark = "") {
  return std::any_of(dc.checks.begin(), dc.checks.end(), [&](const auto& c) {
    return c.kind == kind && c.result == o && (benchmark.empty() || c.benchmark == benchmark);
  });
}

TEST(Certify, HealthyPartMatchedByPciIdPasses) {
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 3000);
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  ASSERT_EQ(n.devices.size(), 1U);
  const auto& dc = n.devices[0];
  ASSERT_NE(dc.match.sheet, nullptr);
  EXPECT_EQ(dc.match.sheet->id, "nvidia-h100-sxm5-80gb");
  EXPECT_EQ(dc.match.method, certify::match_method::pci);
  EXPECT_EQ(dc.verdict, outcome::pass) << (dc.reasons.empty() ? "" : dc.reasons.front());
  EXPECT_EQ(n.exit_status(), 0);
  EXPECT_TRUE(has_check(dc, "floor", outcome::pass, "dram_triad"));
  EXPECT_TRUE(has_check(dc, "ceiling", outcome::pass, "dram_triad"));
  EXPECT_TRUE(has_check(dc, "telemetry", outcome::pass));
  // The body: the verdict, the sheet and how, the TPP trio and the classification's date.
  const auto& b = dc.body;
  EXPECT_EQ(b.at("verdict").at("outcome"), "pass");
  EXPECT_EQ(b.at("sheet").at("matched_by"), "pci");
  EXPECT_EQ(b.at("who").at("location"), "US");
  EXPECT_NEAR(b.at("tpp").at("measured").get<double>(), 800 * 16, 800 * 16 * 0.01);
  EXPECT_TRUE(
      b.at("tpp").at("declared").is_null());  // the sheet's declaration attests an ECCN, no TPP
  EXPECT_TRUE(b.at("tpp").at("derived").is_number());
  EXPECT_EQ(b.at("classification").at("as_of"), "2026-01-20");
  EXPECT_FALSE(b.at("classification").at("regimes").empty());
  // The gate is the median, reported with min and max beside it.
  const auto& res = b.at("results").at(0);
  EXPECT_LE(res.at("min").get<double>(), res.at("median").get<double>());
  EXPECT_GE(res.at("max").get<double>(), res.at("median").get<double>());
}

TEST(Certify, BelowTheFloorFails) {
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 2000);
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  EXPECT_EQ(n.devices[0].verdict, outcome::fail);
  EXPECT_TRUE(has_check(n.devices[0], "floor", outcome::fail, "dram_triad"));
  EXPECT_EQ(n.exit_status(), 4);
}

TEST(Certify, AboveTheCeilingFailsAsAMeasurementError) {
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 3700);
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  EXPECT_EQ(n.devices[0].verdict, outcome::fail);
  ASSERT_TRUE(has_check(n.devices[0], "ceiling", outcome::fail, "dram_triad"));
  const auto& reasons = n.devices[0].reasons;
  EXPECT_TRUE(std::any_of(reasons.begin(), reasons.end(), [](const auto& s) {
    return s.find("counting error") != std::string::npos;
  }));
}

TEST(Certify, ThrottledSamplesFail) {
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 3000, 800, 0x4);  // SW power cap
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  EXPECT_EQ(n.devices[0].verdict, outcome::fail);
  EXPECT_TRUE(has_check(n.devices[0], "telemetry", outcome::fail));
}

TEST(Certify, UnreadableThrottleReasonsAreInconclusive) {
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 3000, 800, std::nullopt);
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  EXPECT_EQ(n.devices[0].verdict, outcome::inconclusive);
  EXPECT_EQ(n.exit_status(), 3);
}

TEST(Certify, OutlierAmongFourDevicesOfOneSkuFails) {
  auto r = report_of({h100(0), h100(1), h100(2), h100(3)});
  // All above the floor; cuda:3 is 12 % below its peers.
  for (int i = 0; i < 3; ++i) add_h100_results(r, fmt::format("cuda:{}", i), 3300);
  add_h100_results(r, "cuda:3", 2900);
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(n.devices[i].verdict, outcome::pass) << i;
  EXPECT_EQ(n.devices[3].verdict, outcome::fail);
  EXPECT_TRUE(has_check(n.devices[3], "outlier", outcome::fail, "dram_triad"));
  EXPECT_TRUE(has_check(n.devices[3], "floor", outcome::pass, "dram_triad"));
  EXPECT_EQ(n.exit_status(), 4);
}

TEST(Certify, UnknownPartIsCertifiedAgainstItsDerivedPeaksOnly) {
  device_info cpu;
  cpu.backend = "cpu";
  cpu.id = "cpu0";
  cpu.name = "Imaginary CPU 1234";
  cpu.vendor = "GenuineIntel";
  cpu.units = 4;
  cpu.properties = {{"family", "6"}, {"model", "250"}};
  auto r = report_of({cpu});
  r.results.push_back(result("cpu0", "fma_fp64", precision::fp64, 95e9, 100e9));
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  const auto& dc = n.devices[0];
  EXPECT_EQ(dc.match.sheet, nullptr);
  EXPECT_EQ(dc.body.at("verdict").at("unknown_part"), true);
  EXPECT_TRUE(dc.body.at("sheet").at("id").is_null());
  ASSERT_FALSE(dc.reasons.empty());
  EXPECT_NE(dc.reasons.front().find("unknown part"), std::string::npos);
#if defined(__x86_64__)
  EXPECT_EQ(dc.verdict, outcome::pass);
  EXPECT_TRUE(has_check(dc, "floor", outcome::pass, "fma_fp64"));
#endif
}

TEST(Certify, SheetThatContradictsTheDeviceIsRefused) {
  // An H200's PCI id with the H100 sheet given.
  auto r = report_of({h100(0, "10de:2335")});
  add_h100_results(r, "cuda:0", 3000);
  EXPECT_THROW(
      (void)certify::certify_report(bundled(), envelopes(), r, context("nvidia-h100-sxm5-80gb")),
      usage_error);
  // A CPU given a GPU's sheet: vendor and model differ.
  device_info cpu{
      "cpu", "cpu0", "AMD EPYC 9654", "AuthenticAMD", 96, {}, {{"family", "25"}, {"model", "17"}}};
  auto r2 = report_of({cpu});
  EXPECT_THROW(
      (void)certify::certify_report(bundled(), envelopes(), r2, context("nvidia-h100-sxm5-80gb")),
      usage_error);
}

TEST(Certify, SpecConfirmedByIdentity) {
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 3000);
  const auto n =
      certify::certify_report(bundled(), envelopes(), r, context("nvidia-h100-sxm5-80gb"));
  EXPECT_EQ(n.devices[0].match.method, certify::match_method::spec_option);
  EXPECT_EQ(n.devices[0].verdict, outcome::pass);
}

TEST(Certify, UnverifiableResultIsInconclusive) {
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 3000);
  r.results[0].status = result_status::invalid;
  r.results[0].verified = false;
  r.results[0].reason = "verification failed: max error 0.5 > 1e-6";
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  EXPECT_EQ(n.devices[0].verdict, outcome::inconclusive);
  EXPECT_TRUE(has_check(n.devices[0], "verification", outcome::inconclusive));
  EXPECT_EQ(n.exit_status(), 3);
}

TEST(Certify, EnvelopeWithAUnitSlipIsRefusedNamingFileAndField) {
  // DCGM's H200 memory floor: 2,333 MB/s where 3,110,000 x 0.75 MB/s was meant.
  const std::string slip = R"({
    "schema": "chipgauge.envelope/1", "id": "slip", "scope": "sku", "part": "nvidia-h200-sxm-141gb", "description": "DCGM's figure",
    "references": [{"id": "d", "url": "https://github.com/NVIDIA/DCGM", "title": "DCGM"}], "telemetry": {},
    "checks": [{"benchmark": "dram_read", "peak": {"sheet": "memory.bandwidth_gb_s"},
                "floor": {"value": 2333, "unit": "MB/s", "fraction": 0.65}, "reference": "d", "evidence": "vendor_tool_threshold"}]
  })";
  try {
    (void)certify::parse_envelope(slip, "specs/envelopes/slip.json", bundled().parts());
    FAIL() << "accepted a floor at 0.05 % of the peak";
  } catch (const spec_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("specs/envelopes/slip.json"), std::string::npos) << what;
    EXPECT_NE(what.find("$.checks[0].floor.value"), std::string::npos) << what;
  }
  // A fraction that disagrees with the value, and one above 110 %.
  auto bad = std::string(h100_envelope);
  bad.replace(bad.find("\"fraction\": 0.80"), 16, "\"fraction\": 0.50");
  EXPECT_THROW((void)certify::parse_envelope(bad, "x.json", bundled().parts()), spec_error);
  auto high = std::string(cpu_envelope);
  high.replace(high.find("\"fraction\": 0.8}"), 16, "\"fraction\": 1.2}");
  EXPECT_THROW((void)certify::parse_envelope(high, "x.json", bundled().parts()), spec_error);
}

TEST(Certify, BundledEnvelopesLoad) {
  const auto set = certify::envelope_set::load(test::specs_dir() + "/envelopes", bundled().parts());
  EXPECT_NE(set.for_part("nvidia-h200-sxm-141gb"), nullptr);
  EXPECT_NE(set.for_part("nvidia-h100-sxm5-80gb"), nullptr);
  ASSERT_NE(set.for_part("nvidia-a100-sxm4-80gb"), nullptr);
  // The PCIe floor is a fraction of half the sheet's bidirectional PCIe Gen4 x16 rate: 32 GB/s.
  const auto& checks = set.for_part("nvidia-a100-sxm4-80gb")->checks;
  const auto pcie = std::find_if(checks.begin(), checks.end(),
                                 [](const auto& c) { return c.benchmark == "pcie_h2d"; });
  ASSERT_NE(pcie, checks.end());
  EXPECT_DOUBLE_EQ(pcie->peak, 32e9);
  EXPECT_NE(set.for_architecture("cpu", "x86-64"), nullptr);
  EXPECT_NE(set.for_architecture("cuda", "9.0"), nullptr);
}

TEST(Certify, SoakRoundsMergeIntoOneMedian) {
  auto base = report_of({h100(0)});
  add_h100_results(base, "cuda:0", 3000);
  auto round = report_of({h100(0)});
  add_h100_results(round, "cuda:0", 3200);
  certify::merge_round(base, round);
  EXPECT_EQ(base.results[0].samples.size(), 18U);
  EXPECT_EQ(base.results[0].rate.count, 18U);
  EXPECT_FALSE(implausible(base.results[0], run_settings::quick()).has_value());
}

TEST(Certify, RenderingsPutTheVerdictFirst) {
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 2000);
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  const auto sealed = seal_certificate(n.devices[0].body, std::nullopt);
  const auto text = certify::render_certificate(sealed, certify::render_format::text);
  EXPECT_EQ(text.rfind("VERDICT: FAIL", 0), 0U) << text.substr(0, 80);
  const auto html = certify::render_certificate(sealed, certify::render_format::html);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
  EXPECT_EQ(
      html.find("http"),
      html.find("https://example.org"));  // no external resource, only the reference link text
  EXPECT_LT(html.find("FAIL"), html.find("TPP declared"));
  EXPECT_LT(html.find("TPP declared"), html.find("Results"));
  const auto md = certify::render_certificate(sealed, certify::render_format::md);
  EXPECT_EQ(md.rfind("# Certificate: fail", 0), 0U);
}

TEST(Certify, TamperedAndReSignedCertificatesFailVerification) {
  test::temp_dir dir;
  const auto keys = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  const auto other = generate_ed25519_key(dir.path() + "/other.key", dir.path() + "/other.pub");
  auto r = report_of({h100(0)});
  add_h100_results(r, "cuda:0", 2000);
  const auto n = certify::certify_report(bundled(), envelopes(), r, context());
  const auto sealed = seal_certificate(n.devices[0].body, keys.private_path);
  EXPECT_EQ(verify_certificate(sealed, keys.public_path).status(), exit_code::ok);
  // One changed field of the body: the hash no longer matches.
  auto tampered = sealed;
  tampered["body"]["verdict"]["outcome"] = "pass";
  EXPECT_EQ(verify_certificate(tampered, keys.public_path).status(), exit_code::regression);
  // The changed body re-sealed with another key: intact, but not the lab's signature.
  const auto resigned = seal_certificate(tampered["body"], other.private_path);
  EXPECT_EQ(verify_certificate(resigned, keys.public_path).status(), exit_code::regression);
}

// --- The command, end to end on a stored report (no measurement: the fast, deterministic path) ---

const std::string source_dir = std::filesystem::path(CHIPGAUGE_SOURCE_SPECS).parent_path().string();

test::run_result chipgauge_cli(const std::string& args, const std::string& specs = "specs") {
  return test::run_command("cd '" + source_dir + "' && '" + CHIPGAUGE_BINARY + "' --specs-dir '" +
                           specs + "' " + args);
}

TEST(CertifyCli, StoredReportGivesASealedCertificateThatVerifiesAndRenders) {
  test::temp_dir dir;
  const auto r = chipgauge_cli(
      "certify --report tests/data/measurement-sample.json --as-of 2026-01-20 --lab 'Test Lab' "
      "--tester 'T. Ester' --location us --out '" +
      dir.path() + "'");
  // The sample has no fma_fp32, which the x86-64 envelope requires: inconclusive, and still
  // written.
  EXPECT_EQ(r.status, 3) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("node verdict: inconclusive", 0), 0U) << r.out;
  const auto file = dir.path() + "/certificate-cpu0.json";
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/certificate-cpu0.html"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/node-summary.json"));
  EXPECT_EQ(chipgauge_cli("certificate verify '" + file + "'").status, 0);

  auto cert = nlohmann::json::parse(read_text_file(file));
  EXPECT_EQ(cert.at("body").at("who").at("location"), "US");
  EXPECT_EQ(cert.at("body").at("verdict").at("unknown_part"), true);
  // The golden: the body with what depends on the build and the clock fixed, sealed again.
  auto body = cert.at("body");
  body["when"]["start_utc"] = "2026-01-20T10:00:00Z";
  body["when"]["end_utc"] = "2026-01-20T10:01:00Z";
  body["tooling"]["argv"] = nlohmann::json::array({"chipgauge", "certify"});
  body["tooling"]["build_type"] = "Release";
  body["tooling"]["build_flags"] = "";
  const auto normalised = certificate_text(seal_certificate(body, std::nullopt));
  const std::string golden = source_dir + "/tests/golden/certificate-sample.json";
  if (const char* update = std::getenv("CHIPGAUGE_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    write_file_atomically(golden, normalised);
  } else {
    EXPECT_EQ(normalised, read_text_file(golden))
        << "output differs from " << golden << " (CHIPGAUGE_UPDATE_GOLDEN=1 rewrites it)";
  }

  // One byte of the body changed: verification fails with 4.
  auto text = read_text_file(file);
  const auto at = text.find("\"lab\": \"Test Lab\"");
  ASSERT_NE(at, std::string::npos);
  text[at + 9] = 'B';
  write_file_atomically(dir.path() + "/tampered.json", text);
  EXPECT_EQ(chipgauge_cli("certificate verify '" + dir.path() + "/tampered.json'").status, 4);

  const auto html = chipgauge_cli("certificate show '" + file + "' --format html");
  EXPECT_EQ(html.status, 0);
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0U);
  const auto md = chipgauge_cli("certificate show '" + file + "' --format md");
  EXPECT_EQ(md.out.rfind("# Certificate: inconclusive (unknown part)", 0), 0U)
      << md.out.substr(0, 100);
}

TEST(CertifyCli, SignedCertificateVerifiesWithTheLabKeyOnly) {
  test::temp_dir dir;
  ASSERT_EQ(chipgauge_cli("certificate keygen --out '" + dir.path() + "/lab'").status, 0);
  ASSERT_EQ(chipgauge_cli("certificate keygen --out '" + dir.path() + "/other'").status, 0);
  const auto r =
      chipgauge_cli("certify --report tests/data/measurement-sample.json --sign '" + dir.path() +
                    "/lab.key' --out '" + dir.path() + "/out' --format json");
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("certificates").size(), 1U);
  const auto file = dir.path() + "/out/certificate-cpu0.json";
  EXPECT_EQ(chipgauge_cli("certificate verify '" + file + "' --pubkey '" + dir.path() + "/lab.pub'")
                .status,
            0);
  EXPECT_EQ(
      chipgauge_cli("certificate verify '" + file + "' --pubkey '" + dir.path() + "/other.pub'")
          .status,
      4);
}

TEST(CertifyCli, BadEnvelopeIsExitTwoNamingFileAndField) {
  test::temp_dir dir;
  ASSERT_EQ(test::run_command("cp -r '" + source_dir + "/specs' '" + dir.path() + "/specs'").status,
            0);
  const std::string slip =
      R"({"schema": "chipgauge.envelope/1", "id": "slip", "scope": "sku", "part": "nvidia-h200-sxm-141gb",
    "description": "DCGM's H200 floor", "references": [{"id": "d", "url": "https://github.com/NVIDIA/DCGM", "title": "DCGM"}],
    "telemetry": {}, "checks": [{"benchmark": "dram_read", "peak": {"sheet": "memory.bandwidth_gb_s"},
    "floor": {"value": 2333, "unit": "MB/s", "fraction": 0.65}, "reference": "d", "evidence": "vendor_tool_threshold"}]})";
  // A second H200 envelope would clash first: replace the bundled one.
  const auto path = dir.write("specs/envelopes/nvidia-h200-sxm-141gb.json", slip);
  const auto r = chipgauge_cli(
      "certify --report tests/data/measurement-sample.json --out '" + dir.path() + "/out'",
      dir.path() + "/specs");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("$.checks[0].floor.value"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/out/certificate-cpu0.json"));
}

TEST(CertifyCli, SheetThatContradictsTheDeviceIsExitTwo) {
  test::temp_dir dir;
  const auto r = chipgauge_cli(
      "certify --report tests/data/measurement-sample.json --spec nvidia-h100-sxm5-80gb --out '" +
      dir.path() + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--spec nvidia-h100-sxm5-80gb"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/certificate-cpu0.json"));
}

}  // namespace
}  // namespace chipgauge

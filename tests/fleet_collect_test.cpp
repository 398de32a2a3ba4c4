// certify/fleet.hpp: the collector over a synthetic fleet (every injected outlier found and none
// invented, requeues counted once, tampered certificates unverified), the quota totals,
// `fleet collect --format json` against its golden and schema, and the same collection over the
// history store's certificates (history/certificates.hpp).
#include "chipgauge/certify/fleet.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/history/certificates.hpp"
#include "chipgauge/history/ingest.hpp"
#include "fleet_synthetic.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

using chipgauge::classifier::catalog;
using chipgauge::classifier::evaluate_fleet;
using chipgauge::classifier::licensing_engine;
using chipgauge::classifier::output_format;

using namespace chipgauge;
using chipgauge::testing::synthetic_fleet;

namespace {

certify::fleet_collection collect(const synthetic_fleet& f, certify::fleet_collect_options o = {}) {
  certify::fleet_collector c(o);
  for (int n = 0; n < f.nodes; ++n)
    for (int g = 0; g < f.gpus; ++g) c.add(fmt::format("{}-{}.json", n, g), f.certificate(n, g));
  return std::move(c).finish();
}

std::set<std::pair<std::string, std::string>> flagged(const certify::fleet_collection& c) {
  std::set<std::pair<std::string, std::string>> s;
  for (const auto& o : c.outliers) s.insert({o.node, o.device});
  return s;
}

// Everything a collection answers, as one comparable value.
nlohmann::json answer(const certify::fleet_collection& c) {
  nlohmann::json j;
  for (const auto& d : c.devices)
    j["devices"].push_back({d.node, d.device, d.serial, d.sku, d.driver, d.verdict, d.reasons,
                            d.file, d.end_utc, d.tpp, d.certificates, d.medians});
  for (const auto& n : c.nodes)
    j["nodes"].push_back({n.node, n.verdict, n.devices, n.passed, n.failed, n.inconclusive});
  for (const auto& u : c.unverified) j["unverified"].push_back({u.file, u.reason});
  for (const auto& o : c.outliers)
    j["outliers"].push_back(
        {o.node, o.device, o.sku, o.benchmark, o.value, o.median, o.scale, o.z, o.peers});
  j["sku_mix"] = c.sku_mix;
  j["driver_mix"] = c.driver_mix;
  j["read"] = c.certificates_read;
  j["superseded"] = c.superseded;
  return j;
}

}  // namespace

TEST(FleetCollect, StoreAnswersAsTheDirectoryOfTheSameCertificates) {
  synthetic_fleet f;
  f.nodes = 6;
  f.benchmarks = 3;
  f.degrade_every(11, 4);
  const test::temp_dir dir;
  const std::string certs = dir.path() + "/certs";
  for (int n = 0; n < f.nodes; ++n) {
    std::filesystem::create_directories(certs + "/" + synthetic_fleet::node_name(n));
    for (int g = 0; g < f.gpus; ++g)
      write_file_atomically(fmt::format("{}/{}/{}.json", certs, synthetic_fleet::node_name(n), g),
                            certificate_text(f.certificate(n, g)));
  }
  // Node 1 was requeued and certified again later; node 3's GPU 2 was edited after sealing; a
  // node summary sits beside the certificates.
  std::filesystem::create_directories(certs + "/requeue");
  for (int g = 0; g < f.gpus; ++g)
    write_file_atomically(fmt::format("{}/requeue/1-{}.json", certs, g),
                          certificate_text(f.certificate(1, g, 30)));
  auto tampered = f.certificate(3, 2);
  tampered["body"]["tpp"]["measured"] = 1e9;
  write_file_atomically(certs + "/" + synthetic_fleet::node_name(3) + "/2.json",
                        certificate_text(tampered));
  write_file_atomically(certs + "/node-summary.json",
                        R"({"schema": "chipgauge.certificate-summary/1"})"
                        "\n");

  const auto from_dir = certify::collect_fleet_dir(certs, {});
  ASSERT_EQ(from_dir.unverified.size(), 1U);
  ASSERT_EQ(from_dir.superseded, 8);

  auto store = history::store::open(dir.path() + "/h.db");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(certs))
    if (e.is_regular_file() && e.path().filename() != "node-summary.json")
      files.push_back(e.path().string());
  // Ingested in an order unlike the directory's: the answer must not depend on it.
  std::sort(files.rbegin(), files.rend());
  int failed = 0;
  for (const auto& file : files) failed += history::ingest_file(store, file).integrity == "failed";
  EXPECT_EQ(failed, 1);

  const auto from_store = history::collect_fleet_store(store, {}, {});
  EXPECT_EQ(answer(from_store), answer(from_dir));
  EXPECT_EQ(from_store.devices.size(), 47U);  // 6 x 8, less the tampered one, which is not counted
  EXPECT_FALSE(from_store.outliers.empty());

  // A selection narrows it: only node 0's devices (their identities hold the node number).
  const auto one = history::collect_fleet_store(
      store, history::parse_selector("history:device=GPU-00000000-"), {});
  EXPECT_EQ(one.devices.size(), 8U);
}

TEST(FleetCollect, FindsEveryInjectedOutlierAndInventsNone) {
  synthetic_fleet f;
  f.nodes = 125;  // 1,000 certificates
  f.benchmarks = 8;
  f.degrade_every(97, 13);
  ASSERT_GE(f.degraded.size(), 10U);
  const auto c = collect(f);
  std::set<std::pair<std::string, std::string>> expected;
  for (const auto& [n, g] : f.degraded)
    expected.insert({synthetic_fleet::node_name(n), synthetic_fleet::device_id(g)});
  EXPECT_EQ(flagged(c), expected);
  // Every benchmark of every degraded device, against its own SKU only.
  EXPECT_EQ(c.outliers.size(), f.degraded.size() * 8);
  for (const auto& o : c.outliers) {
    EXPECT_LT(o.z, -3.5);
    EXPECT_EQ(o.sku, synthetic_fleet::skus[std::stoi(o.node.substr(4)) % 3]);
  }
  EXPECT_EQ(c.devices.size(), 1000U);
  EXPECT_EQ(c.nodes.size(), 125U);
  EXPECT_EQ(c.count("fail"), static_cast<long long>(f.degraded.size()));
  EXPECT_EQ(c.count("pass"), 1000 - static_cast<long long>(f.degraded.size()));
  EXPECT_TRUE(c.unverified.empty());
  EXPECT_EQ(c.sku_mix.size(), 3U);
  EXPECT_EQ(c.sku_mix.at("nvidia-h100-sxm5-80gb"), 42 * 8);
  EXPECT_EQ(c.driver_mix.at("535.161.08"), 25 * 8);
}

TEST(FleetCollect, ThresholdIsConfigurable) {
  synthetic_fleet f;
  f.nodes = 30;
  f.benchmarks = 2;
  f.degrade_every(50, 7);
  certify::fleet_collect_options strict;
  strict.z_threshold = 50;  // far beyond the injected z of about -10
  EXPECT_TRUE(collect(f, strict).outliers.empty());
  EXPECT_FALSE(collect(f).outliers.empty());
}

TEST(FleetCollect, EqualDevicesHaveNoOutliers) {
  // MAD 0 and mean absolute deviation 0: no scale, no call.
  synthetic_fleet f;
  f.nodes = 3;
  f.benchmarks = 1;
  certify::fleet_collector c({});
  const auto cert = f.certificate(0, 0);
  for (int i = 0; i < 5; ++i) {
    auto copy = cert;
    copy["body"]["host"]["hostname"] = fmt::format("n{}", i);
    c.add(fmt::format("{}.json", i), seal_certificate(copy.at("body"), std::nullopt));
  }
  EXPECT_TRUE(std::move(c).finish().outliers.empty());
}

TEST(FleetCollect, RequeuedDeviceCountsOnceLatestWins) {
  synthetic_fleet f;
  f.nodes = 4;
  f.benchmarks = 2;
  certify::fleet_collector c({});
  for (int n = 0; n < f.nodes; ++n)
    for (int g = 0; g < f.gpus; ++g)
      c.add(fmt::format("first-{}-{}.json", n, g), f.certificate(n, g, 0));
  // The requeued node 2 certifies again later, and this time GPU 3 is slow.
  f.degraded.insert({2, 3});
  for (int g = 0; g < f.gpus; ++g)
    c.add(fmt::format("again-2-{}.json", g), f.certificate(2, g, 30));
  // An older certificate read after the newer one does not win.
  f.degraded.clear();
  c.add("old-2-3.json", f.certificate(2, 3, 0));
  const auto r = std::move(c).finish();
  EXPECT_EQ(r.devices.size(), 32U);
  EXPECT_EQ(r.certificates_read, 32 + 8 + 1);
  EXPECT_EQ(r.superseded, 9);
  for (const auto& d : r.devices) {
    if (d.node != synthetic_fleet::node_name(2)) continue;
    EXPECT_EQ(d.certificates, d.device == "cuda:3" ? 3 : 2);
    EXPECT_EQ(d.verdict, d.device == "cuda:3" ? "fail" : "pass") << d.device;
  }
}

TEST(FleetCollect, UnverifiableCertificatesAreListedNeverCounted) {
  synthetic_fleet f;
  f.nodes = 3;
  f.benchmarks = 1;
  certify::fleet_collector c({});
  c.add("good.json", f.certificate(0, 0));
  auto tampered = f.certificate(1, 0);
  tampered["body"]["verdict"]["outcome"] = "pass";
  tampered["body"]["tpp"]["measured"] = 1e9;
  c.add("tampered.json", tampered);
  c.add("not-a-certificate.json", nlohmann::json{{"schema", "chipgauge.certificate/1"}});
  c.add_unreadable("truncated.json", "malformed JSON");
  const auto r = std::move(c).finish();
  EXPECT_EQ(r.devices.size(), 1U);
  ASSERT_EQ(r.unverified.size(), 3U);
  EXPECT_EQ(r.unverified[0].file, "tampered.json");
  EXPECT_NE(r.unverified[0].reason.find("failed"), std::string::npos) << r.unverified[0].reason;
}

TEST(FleetCollect, TrustedKeyIsReadOnceAndEverySignatureChecked) {
  synthetic_fleet f;
  f.nodes = 1;
  f.benchmarks = 1;
  test::temp_dir dir;
  const auto lab = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  const auto other = generate_ed25519_key(dir.path() + "/other.key", dir.path() + "/other.pub");
  certify::fleet_collect_options o;
  o.trusted_key = lab.public_path;
  certify::fleet_collector c(o);
  // Read when the collector is made: the file gone afterwards changes nothing.
  std::filesystem::remove(lab.public_path);
  c.add("lab.json", seal_certificate(f.certificate(0, 0).at("body"), lab.private_path));
  c.add("other.json", seal_certificate(f.certificate(0, 1).at("body"), other.private_path));
  c.add("unsigned.json", f.certificate(0, 2));
  auto forged = seal_certificate(f.certificate(0, 3).at("body"), lab.private_path);
  forged["body"]["verdict"]["outcome"] = "fail";
  forged["integrity"]["sha256"] =
      sha256_hex(canonical_json(forged.at("body")));  // hash redone, signature not
  c.add("forged.json", forged);
  const auto r = std::move(c).finish();
  ASSERT_EQ(r.devices.size(), 1U);
  EXPECT_EQ(r.devices[0].file, "lab.json");
  ASSERT_EQ(r.unverified.size(), 3U);
  EXPECT_NE(r.unverified[0].reason.find("wrong signer"), std::string::npos)
      << r.unverified[0].reason;
  EXPECT_NE(r.unverified[1].reason.find("not signed"), std::string::npos) << r.unverified[1].reason;
  EXPECT_NE(r.unverified[2].reason.find("signature does not verify"), std::string::npos)
      << r.unverified[2].reason;
  // A key file that is not there is a usage error when the collector is made, before any
  // certificate.
  EXPECT_THROW(certify::fleet_collector{o}, usage_error);
}

TEST(FleetCollect, TotalsUseTheSheetsAndTheFleetChecks) {
  synthetic_fleet f;
  f.nodes = 6;
  f.benchmarks = 1;
  const auto c = collect(f);
  auto cat = catalog::load(test::specs_dir());
  const auto items = certify::fleet_items(c, cat);
  ASSERT_EQ(items.size(), 3U);
  long long n = 0;
  for (const auto& i : items) {
    n += i.quantity;
    EXPECT_EQ(i.basis, "sheet");
    EXPECT_GT(i.tpp_each, 0);
  }
  EXPECT_EQ(n, 48);
  const licensing_engine engine(cat.rules(), cat.licensing(), cat.countries());
  const auto totals = evaluate_fleet(items, engine, *date::parse("2026-01-01"));
  double tpp = 0;
  for (const auto& i : items) tpp += i.tpp_each * static_cast<double>(i.quantity);
  EXPECT_DOUBLE_EQ(totals.tpp, tpp);
  const auto json = nlohmann::json::parse(certify::render_fleet_collection(
      c, items, totals, *date::parse("2026-01-01"), output_format::json));
  EXPECT_EQ(json.at("schema"), "chipgauge.fleet-collection/1");
  EXPECT_EQ(json.at("devices_counted"), 48);
  EXPECT_EQ(json.at("totals").at("schema"), "chipgauge.fleet/1");
  const auto text = certify::render_fleet_collection(c, items, totals, *date::parse("2026-01-01"),
                                                     output_format::text);
  EXPECT_NE(text.find("fleet: 48 device(s) on 6 node(s): 48 pass"), std::string::npos) << text;
}

// The command end to end on a directory: its JSON is the golden tests/golden/fleet-collection-
// synthetic.json (the temporary directory written FLEET), which the SchemaCheck test validates
// against specs/schema/fleet-collection.schema.json. Every list is non-empty: an outlier, a
// superseded certificate, an unverified one, a failing node. CHIPGAUGE_UPDATE_GOLDEN=1 rewrites it.
TEST(FleetCollectCli, JsonOutputIsTheGoldenTheSchemaChecks) {
  synthetic_fleet f;
  f.nodes = 6;
  f.gpus = 4;  // 8 devices per SKU: with fewer, an honest 2 % spread can have a tiny MAD
  f.benchmarks = 2;
  f.degraded.insert({4, 1});
  test::temp_dir dir;
  auto write = [&](const std::string& name, const nlohmann::json& cert) {
    std::filesystem::create_directories(
        std::filesystem::path(dir.path() + "/" + name).parent_path());
    write_file_atomically(dir.path() + "/" + name, certificate_text(cert));
  };
  for (int n = 0; n < f.nodes; ++n)
    for (int g = 0; g < f.gpus; ++g)
      write(fmt::format("{}/attempt-0/cuda-{}.json", synthetic_fleet::node_name(n), g),
            f.certificate(n, g));
  write("gpu-00002/attempt-1/cuda-0.json",
        f.certificate(2, 0, 30));  // requeued: supersedes attempt-0
  auto tampered = f.certificate(5, 0, 45);
  tampered["body"]["verdict"]["outcome"] = "fail";
  write("gpu-00005/attempt-1/cuda-0.json", tampered);
  write("gpu-00005/node-summary.json",
        nlohmann::json{{"schema", "chipgauge.node-summary/1"}});  // skipped

  const std::string source_dir =
      std::filesystem::path(CHIPGAUGE_SOURCE_SPECS).parent_path().string();
  const auto args = "fleet collect '" + dir.path() + "' --format json --as-of 2026-01-01";
  const auto r = test::run_command("cd '" + source_dir + "' && '" + CHIPGAUGE_BINARY +
                                   "' --specs-dir specs " + args);
  EXPECT_EQ(r.status, 4) << r.err;  // a device fails
  auto out = r.out;
  for (auto at = out.find(dir.path()); at != std::string::npos; at = out.find(dir.path(), at))
    out.replace(at, dir.path().size(), "FLEET");
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j.at("certificates_read"), 26);
  EXPECT_EQ(j.at("superseded"), 1);
  EXPECT_EQ(j.at("devices_counted"), 24);
  ASSERT_EQ(j.at("unverified").size(), 1U);
  EXPECT_EQ(j.at("unverified")[0].at("file"), "FLEET/gpu-00005/attempt-1/cuda-0.json");
  ASSERT_FALSE(j.at("outliers").empty());
  for (const auto& o : j.at("outliers")) {
    EXPECT_EQ(o.at("node"), "gpu-00004");
    EXPECT_EQ(o.at("device"), "cuda:1");
  }

  const std::string golden = source_dir + "/tests/golden/fleet-collection-synthetic.json";
  if (const char* update = std::getenv("CHIPGAUGE_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    write_file_atomically(golden, out);
  } else {
    EXPECT_EQ(out, read_text_file(golden))
        << "output differs from " << golden << " (CHIPGAUGE_UPDATE_GOLDEN=1)";
  }
}

// collect_fleet_dir reads and checks on options.jobs threads and counts in file-name order, so
// one thread and four give the same answer byte for byte: outliers, a requeue, a tampered, an
// unsigned and a truncated certificate (listed in name order), a skipped file, every signature
// checked against one trusted key shared by the threads.
TEST(FleetCollect, DirectoryAnswerIsTheSameOnOneThreadAndOnFour) {
  synthetic_fleet f;
  f.nodes = 24;  // 192 certificates
  f.benchmarks = 2;
  f.degrade_every(37, 5);
  test::temp_dir dir;
  const auto lab = generate_ed25519_key(dir.path() + "/lab.key", dir.path() + "/lab.pub");
  const std::string fleet_dir = dir.path() + "/fleet";
  auto write_text = [&](const std::string& name, const std::string& text) {
    std::filesystem::create_directories(
        std::filesystem::path(fleet_dir + "/" + name).parent_path());
    write_file_atomically(fleet_dir + "/" + name, text);
  };
  auto sealed = [&](int n, int g, int minute) {
    return seal_certificate(f.certificate(n, g, minute).at("body"), lab.private_path);
  };
  for (int n = 0; n < f.nodes; ++n)
    for (int g = 0; g < f.gpus; ++g)
      write_text(fmt::format("{}/attempt-0/cuda-{}.json", synthetic_fleet::node_name(n), g),
                 certificate_text(sealed(n, g, 0)));
  write_text("gpu-00003/attempt-1/cuda-0.json", certificate_text(sealed(3, 0, 30)));  // requeued
  auto tampered = sealed(7, 2, 40);
  tampered["body"]["verdict"]["outcome"] = "fail";
  write_text("gpu-00007/attempt-1/cuda-2.json", certificate_text(tampered));
  write_text("gpu-00011/attempt-1/cuda-4.json",
             certificate_text(f.certificate(11, 4, 50)));  // not signed
  write_text("gpu-00009/attempt-1/cuda-1.json",
             "{\"schema\": \"chipgauge.certificate/1\", \"body\": {");
  write_text("gpu-00009/node-summary.json",
             nlohmann::json{{"schema", "chipgauge.node-summary/1"}}.dump());

  auto cat = catalog::load(test::specs_dir());
  const licensing_engine engine(cat.rules(), cat.licensing(), cat.countries());
  const auto as_of = *date::parse("2026-01-01");
  auto answer = [&](unsigned jobs) {
    certify::fleet_collect_options o;
    o.trusted_key = lab.public_path;
    o.jobs = jobs;
    const auto c = certify::collect_fleet_dir(fleet_dir, o);
    const auto items = certify::fleet_items(c, cat);
    return certify::render_fleet_collection(c, items, evaluate_fleet(items, engine, as_of), as_of,
                                            output_format::json);
  };
  const auto one = answer(1);
  EXPECT_EQ(answer(4), one);
  EXPECT_EQ(answer(0), one);  // the hardware's thread count

  const auto j = nlohmann::json::parse(one);
  EXPECT_EQ(j.at("certificates_read"), 192 + 4);
  EXPECT_EQ(j.at("superseded"), 1);
  EXPECT_EQ(j.at("devices_counted"), 192);
  ASSERT_EQ(j.at("unverified").size(), 3U);
  EXPECT_EQ(j.at("unverified")[0].at("file"), fleet_dir + "/gpu-00007/attempt-1/cuda-2.json");
  EXPECT_EQ(j.at("unverified")[1].at("file"), fleet_dir + "/gpu-00009/attempt-1/cuda-1.json");
  EXPECT_EQ(j.at("unverified")[2].at("file"), fleet_dir + "/gpu-00011/attempt-1/cuda-4.json");
  EXPECT_NE(j.at("unverified")[0].at("reason").get<std::string>().find("failed"), std::string::npos)
      << j.at("unverified")[0];
  EXPECT_EQ(j.at("unverified")[1].at("reason").get<std::string>().rfind("unreadable: ", 0), 0U)
      << j.at("unverified")[1];
  EXPECT_NE(j.at("unverified")[2].at("reason").get<std::string>().find("not signed"),
            std::string::npos)
      << j.at("unverified")[2];
  std::set<std::pair<std::string, std::string>> found, expected;
  for (const auto& o : j.at("outliers"))
    found.insert({o.at("node").get<std::string>(), o.at("device").get<std::string>()});
  for (const auto& [n, g] : f.degraded)
    expected.insert({synthetic_fleet::node_name(n), synthetic_fleet::device_id(g)});
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(found, expected);
}

TEST(FleetCollectCli, JobsOutOfRangeIsAUsageError) {
  test::temp_dir dir;
  const auto r =
      test::run_command("'" + std::string(CHIPGAUGE_BINARY) + "' --specs-dir '" +
                        test::specs_dir() + "' fleet collect '" + dir.path() + "' --jobs 0");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--jobs"), std::string::npos) << r.err;
}

// The dashboard generator: pages written, data embedded and equal to the store, regression markers
// where compare's verdict is `slower`, thresholds read from the rule files, atomic writes, and the
// CLI's exit codes.
#include "chipgauge/bench/compare.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/dashboard/site.hpp"
#include "chipgauge/history/query.hpp"
#include "dashboard_store.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

using chipgauge::classifier::catalog;

namespace chipgauge {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// The JSON a page embeds in <script id="chipgauge-data">.
json embedded(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"chipgauge-data\">";
  const auto at = html.find(open);
  EXPECT_NE(at, std::string::npos);
  if (at == std::string::npos) return json();
  const auto begin = at + open.size();
  const auto end = html.find("</script>", begin);
  return json::parse(html.substr(begin, end - begin));
}

struct fixture {
  test::temp_dir dir;
  history::store store = history::store::open(dir.path() + "/h.db");
  std::vector<std::int64_t> runs = test::fill_dashboard_store(store);
  catalog cat = catalog::load(test::specs_dir());
  dashboard::options opts;
  fixture() { opts.as_of = *date::parse("2026-12-01"); }
};

const std::string& trend_file(const dashboard::site& s, const std::string& benchmark) {
  for (const auto& [path, content] : s.files)
    if (path.starts_with("trend/") && embedded(content)["benchmark"] == benchmark) return path;
  static const std::string none;
  ADD_FAILURE() << "no trend page for " << benchmark;
  return none;
}

TEST(Dashboard, WritesIndexTrendPartAndPlanePages) {
  fixture f;
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  EXPECT_TRUE(s.files.count("index.html"));
  EXPECT_TRUE(s.files.count("plane.html"));
  EXPECT_TRUE(s.files.count("assets/dashboard.js"));
  EXPECT_EQ(s.series, 2U);
  EXPECT_EQ(s.parts, f.cat.parts().parts().size());
  for (const auto& p : f.cat.parts().parts())
    EXPECT_TRUE(s.files.count("part/" + p->id + ".html")) << p->id;
  const auto index = embedded(s.files.at("index.html"));
  EXPECT_EQ(index["page"], "index");
  EXPECT_EQ(index["series"].size(), 2U);
  EXPECT_EQ(index["parts"].size(), f.cat.parts().parts().size());
}

TEST(Dashboard, TrendDataEqualsTheStoreAndMarksTheKnownRegression) {
  fixture f;
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  EXPECT_EQ(s.regressions, 1U);
  const auto data = embedded(s.files.at(trend_file(s, "gemm_fp16")));
  const auto dev = history::find_devices(f.store, "GPU-dash-0001");
  ASSERT_EQ(dev.size(), 1U);
  const auto points = history::trend(f.store, dev[0].id, "gemm_fp16");
  ASSERT_EQ(data["points"].size(), points.size());
  ASSERT_EQ(points.size(), static_cast<std::size_t>(test::dashboard_nights));
  EXPECT_EQ(data["interval"], "q1-q3");
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = data["points"][i];
    EXPECT_EQ(p["run_id"].get<std::int64_t>(), points[i].run_id);
    EXPECT_DOUBLE_EQ(p["median"].get<double>(), points[i].median);
    EXPECT_DOUBLE_EQ(p["q1"].get<double>(), points[i].q1);
    EXPECT_DOUBLE_EQ(p["q3"].get<double>(), points[i].q3);
    const bool regression = static_cast<int>(i) + 1 == test::dashboard_regression_night;
    EXPECT_EQ(p["verdict"] == "slower", regression) << "night " << i + 1 << ": " << p.dump();
  }
  EXPECT_TRUE(data["points"][0]["verdict"].is_null());  // no baseline yet
  EXPECT_EQ(data["points"][1]["baseline_runs"], 1);
  EXPECT_EQ(data["points"][11]["baseline_runs"], 11);
}

TEST(Dashboard, BaselineLengthIsConfigurableAndInvalidRunsAreNotCompared) {
  fixture f;
  f.opts.baseline_runs = 3;
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  const auto gemm = embedded(s.files.at(trend_file(s, "gemm_fp16")));
  EXPECT_EQ(gemm["points"][11]["baseline_runs"], 3);
  const auto triad = embedded(s.files.at(trend_file(s, "stream_triad")));
  EXPECT_EQ(triad["points"][9]["status"], "invalid");
  EXPECT_TRUE(triad["points"][9]["verdict"].is_null());
  for (const auto& p : triad["points"]) EXPECT_NE(p["verdict"], "slower");
  f.opts.baseline_runs = 0;
  EXPECT_THROW((void)dashboard::build_site(&f.store, f.cat, f.opts), usage_error);
}

// A sample of no time and no work reads as a NaN rate. The trend leaves such samples out of both
// sides, as compare does, so each verdict is compare's over the readable samples alone, also
// while the run with them slides through the rolling baseline; a run with none is not compared.
TEST(Dashboard, UnreadableSamplesAreLeftOutAsCompareLeavesThemOut) {
  test::temp_dir dir;
  auto store = history::store::open(dir.path() + "/h.db");
  constexpr std::size_t nights = 9;
  std::vector<std::vector<double>> readable(nights);
  for (std::size_t night = 0; night < nights; ++night) {
    auto m = test::dashboard_result("gemm_fp16", bench::metric_kind::ops_per_s,
                                    1.0e15 * (1 + 0.004 * static_cast<double>(night % 4)), true);
    for (std::size_t i = 0; i < m.samples.size(); ++i) {
      if ((night == 3 && (i == 2 || i == 5)) || night == 6) m.samples[i].seconds = 0;
      if ((night == 3 && (i == 2 || i == 5)) || night == 6) m.samples[i].work = 0;
      if (m.samples[i].seconds > 0) readable[night].push_back(m.samples[i].rate());
    }
    bench::measurement_report r;
    r.tool_version = "0.1.0";
    r.created_utc = fmt::format("2026-11-{:02}T02:00:00Z", night + 1);
    r.host.hostname = "node1";
    bench::device_info d;
    d.backend = "cuda";
    d.id = "cuda:0";
    d.name = "NVIDIA H100 80GB HBM3";
    d.properties = {{"uuid", "GPU-nan-0001"}};
    r.devices = {d};
    r.results = {m};
    const std::string key = fmt::format("nan-night-{}", night);
    history::ingest_report(store, r,
                           {history::source_kind::chipgauge_report, history::sha256_hex(key), key});
  }
  dashboard::options o;
  o.as_of = *date::parse("2026-12-01");
  o.baseline_runs = 2;
  auto cat = catalog::load(test::specs_dir());
  const auto s = dashboard::build_site(&store, cat, o);
  const auto points = embedded(s.files.at(trend_file(s, "gemm_fp16")))["points"];
  ASSERT_EQ(points.size(), static_cast<std::size_t>(nights));
  EXPECT_EQ(points[6]["why"], "no readable samples: not compared");
  EXPECT_TRUE(points[6]["verdict"].is_null());
  std::vector<std::size_t> usable;  // nights compared so far, oldest first
  for (std::size_t night = 0; night < nights; ++night) {
    if (night == 6) continue;
    SCOPED_TRACE(night);
    const auto& p = points[night];
    if (usable.empty()) {
      EXPECT_TRUE(p["verdict"].is_null());
    } else {
      std::vector<double> base;
      const auto from = usable.size() > 2 ? usable.size() - 2 : 0;
      for (auto k = from; k < usable.size(); ++k)
        base.insert(base.end(), readable[usable[k]].begin(), readable[usable[k]].end());
      const auto t = bench::compare_samples(base, readable[night],
                                            o.settings.min_effect_for("gemm_fp16"), o.settings);
      EXPECT_EQ(p["baseline_runs"], usable.size() - from);
      EXPECT_EQ(p["verdict"], bench::to_string(t.v));
      EXPECT_DOUBLE_EQ(p["p"].get<double>(), t.test.p);
      EXPECT_DOUBLE_EQ(p["ratio"].get<double>(), t.ratio);
    }
    usable.push_back(night);
  }
}

TEST(Dashboard, PlaneThresholdsComeFromTheRuleFilesParameters) {
  fixture f;
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  const auto plane = embedded(s.files.at("plane.html"));
  std::size_t expected = 0;
  for (const auto& r : f.cat.rules().regimes())
    for (const auto& p : r.parameters)
      if ((p.unit == "TPP" || p.unit == "TPP/mm^2") && p.value_on(f.opts.as_of) > 0) {
        ++expected;
        bool found = false;
        for (const auto& t : plane["thresholds"])
          found = found || (t["regime"] == r.id && t["parameter"] == p.name &&
                            t["value"].get<double>() == p.value_on(f.opts.as_of));
        EXPECT_TRUE(found) << r.id << " " << p.name;
      }
  EXPECT_GT(expected, 0U);
  EXPECT_EQ(plane["thresholds"].size(), expected);
  EXPECT_EQ(plane["parts"].size() + plane["unplotted"].size(), f.cat.parts().parts().size());
  for (const auto& p : plane["parts"]) {
    EXPECT_GT(p["tpp"].get<double>(), 0);
    EXPECT_GT(p["pd"].get<double>(), 0);
  }
}

TEST(Dashboard, PartPagesCarryTppsAndEveryRegimesEccn) {
  fixture f;
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  const auto& first = *f.cat.parts().parts().front();
  const auto data = embedded(s.files.at("part/" + first.id + ".html"));
  EXPECT_EQ(data["id"], first.id);
  EXPECT_TRUE(data["tpp"].contains("declared"));
  EXPECT_TRUE(data["tpp"].contains("derived"));
  EXPECT_TRUE(
      data["tpp"]["measured"].is_null());  // fail closed: the store holds no TPP measurement
  EXPECT_EQ(data["regimes"].size(), f.cat.rules().regimes().size());
  EXPECT_TRUE(data["certificates"].empty());
}

TEST(Dashboard, PartPagesListTheStoresCertificatesOnlyVerifiedOnesCount) {
  fixture f;
  const auto certs = test::fill_dashboard_certificates(f.store, f.dir.path());
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  EXPECT_EQ(s.certificates, 14U);
  const auto& h100 = s.files.at("part/nvidia-h100-sxm5-80gb.html");
  const auto data = embedded(h100);
  std::vector<std::int64_t> runs;
  for (const auto& c : data["certificates"]) {
    runs.push_back(c["run_id"].get<std::int64_t>());
    EXPECT_EQ(c["verified"].get<bool>(), c["run_id"] == certs.verified_run) << c.dump();
    EXPECT_EQ(c["integrity"], c["run_id"] == certs.verified_run ? "verified" : "unsigned")
        << c.dump();
    EXPECT_TRUE(c["tpp_measured"].is_number());
    EXPECT_EQ(c["date"], "2026-01-01T00:00:30Z");
  }
  EXPECT_EQ(runs, certs.h100_runs);
  // The degraded device's certificate says fail.
  EXPECT_EQ(data["certificates"][1]["verdict"], "fail");
  EXPECT_EQ(data["tpp"]["measured"],
            11111.5);  // the verified certificate's, never an unsigned one's
  EXPECT_NE(h100.find("<table id=\"certificates\">"), std::string::npos);
  EXPECT_NE(h100.find("not verified (unsigned)"), std::string::npos);

  const auto h200 = embedded(s.files.at("part/nvidia-h200-sxm-141gb.html"));
  bool failed = false;
  for (const auto& c : h200["certificates"])
    if (c["run_id"] == certs.failed_run)
      failed = c["integrity"] == "failed" && !c["verified"].get<bool>();
  EXPECT_TRUE(failed) << h200["certificates"].dump();
  EXPECT_TRUE(h200["tpp"]["measured"].is_null());  // no verified certificate of the H200
}

TEST(Dashboard, FleetPageIsFleetCollectOverTheStore) {
  fixture f;
  test::fill_dashboard_certificates(f.store, f.dir.path());
  auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  auto data = embedded(s.files.at("fleet.html"));
  EXPECT_EQ(data["page"], "fleet");
  EXPECT_EQ(data["devices_counted"], 12);
  EXPECT_EQ(data["failed"], 1);
  EXPECT_EQ(data["unverified"].size(), 2U);  // the signed one (no key given) and the tampered one
  ASSERT_EQ(data["nodes"].size(), 3U);
  EXPECT_EQ(data["nodes"][0]["node"], "gpu-00000");
  EXPECT_EQ(data["nodes"][0]["verdict"], "fail");
  ASSERT_EQ(data["outliers"].size(), 2U);  // both benchmarks of the degraded device
  for (const auto& o : data["outliers"]) {
    EXPECT_EQ(o["node"], "gpu-00000");
    EXPECT_EQ(o["device"], "cuda:1");
  }
  const auto& html = s.files.at("fleet.html");
  EXPECT_NE(html.find("<tr class=\"fail\" data-node=\"gpu-00000\">"), std::string::npos);
  EXPECT_NE(html.find("12 device(s) on 3 node(s)"), std::string::npos);
  // With the signing key, only the certificate it signed counts: unsigned ones fail against a key.
  f.opts.trusted_key = f.dir.path() + "/lab.pub";
  s = dashboard::build_site(&f.store, f.cat, f.opts);
  data = embedded(s.files.at("fleet.html"));
  EXPECT_EQ(data["devices_counted"], 1);
  EXPECT_EQ(data["unverified"].size(), 13U);
}

TEST(Dashboard, EmbeddedJsonCannotCloseItsScriptTag) {
  fixture f;
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  for (const auto& [path, content] : s.files) {
    if (!path.ends_with(".html")) continue;
    const auto open = content.find("id=\"chipgauge-data\">");
    const auto close = content.find("</script>", open);
    EXPECT_EQ(content.substr(open, close - open).find('<'), std::string::npos) << path;
  }
}

TEST(Dashboard, WritesTheSiteWithChartJsAndItsLicense) {
  fixture f;
  const test::temp_dir js;
  js.write("chart.min.js", "/* stand-in */");
  f.opts.chartjs_dir = js.path();
  f.opts.chartjs_license = js.write("copyright", "Expat");
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  const std::string out = f.dir.path() + "/site";
  dashboard::write_site(s, out, f.opts);
  EXPECT_TRUE(fs::is_regular_file(out + "/index.html"));
  EXPECT_EQ(read_text_file(out + "/assets/chart.min.js"), "/* stand-in */");
  EXPECT_EQ(read_text_file(out + "/assets/chart.js-LICENSE.txt"), "Expat");
  EXPECT_TRUE(fs::is_regular_file(out + "/" + dashboard::marker_file));
  // A second run replaces the site as a whole.
  dashboard::write_site(s, out, f.opts);
  EXPECT_TRUE(fs::is_regular_file(out + "/plane.html"));
}

TEST(Dashboard, AFailedWriteLeavesNothingBehind) {
  fixture f;
  const test::temp_dir js;
  js.write("chart.min.js", "/* stand-in */");
  f.opts.chartjs_dir = js.path();
  f.opts.chartjs_license = js.write("copyright", "Expat");
  auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  const std::string out = f.dir.path() + "/site";
  dashboard::write_site(s, out, f.opts);
  const auto before = read_text_file(out + "/index.html");
  // A page that cannot be written (its directory is a file) fails after others were written.
  s.files["index.html"] = "changed";
  s.files["zzz"] = "a file";
  s.files["zzz/page.html"] = "under a file";
  EXPECT_THROW(dashboard::write_site(s, out, f.opts), error);
  EXPECT_EQ(read_text_file(out + "/index.html"), before);
  for (const auto& e : fs::directory_iterator(f.dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".site."), std::string::npos) << e.path();
  // Missing Chart.js: nothing written at all.
  const std::string fresh = f.dir.path() + "/fresh";
  f.opts.chartjs_dir = f.dir.path() + "/no-such-dir";
  EXPECT_THROW(dashboard::write_site(s, fresh, f.opts), error);
  EXPECT_FALSE(fs::exists(fresh));
}

TEST(Dashboard, RefusesAnOutThatIsNotItsOwn) {
  fixture f;
  const auto s = dashboard::build_site(&f.store, f.cat, f.opts);
  EXPECT_THROW(dashboard::write_site(s, f.dir.path() + "/no/such/parent/site", f.opts),
               usage_error);
  const auto file = f.dir.write("a-file", "x");
  EXPECT_THROW(dashboard::write_site(s, file, f.opts), usage_error);
  f.dir.write("other/keep.txt", "someone else's");
  EXPECT_THROW(dashboard::write_site(s, f.dir.path() + "/other", f.opts), usage_error);
  EXPECT_EQ(read_text_file(f.dir.path() + "/other/keep.txt"), "someone else's");
}

test::run_result chipgauge(const std::string& args) {
  return test::run_command(std::string("'") + CHIPGAUGE_BINARY + "' --specs-dir '" +
                           test::specs_dir() + "' " + args);
}

TEST(DashboardCli, ExitCodes) {
  fixture f;
  const auto db = f.store.path();
  auto r =
      chipgauge("dashboard --history '" + db + "' --out '" + f.dir.path() + "/no/such/dir/site'");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = chipgauge("dashboard --history '" + db + "' --out '" + f.dir.write("plain", "x") + "'");
  EXPECT_EQ(r.status, 2) << r.err;
  r = chipgauge("dashboard --history '" + db + "' --baseline 0 --out '" + f.dir.path() + "/s'");
  EXPECT_EQ(r.status, 2) << r.err;
  r = chipgauge("dashboard --history '" + f.dir.path() + "/missing.db' --out '" + f.dir.path() +
                "/s'");
  EXPECT_EQ(r.status, 2) << r.err;
  r = chipgauge("dashboard --history '" + db + "'");
  EXPECT_EQ(r.status, 2) << r.err;
}

}  // namespace
}  // namespace chipgauge

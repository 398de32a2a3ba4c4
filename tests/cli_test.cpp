// The chipgauge binary end to end: golden outputs and the error contract (exit 2, a message
// naming file and JSON path, nothing on stdout). Set CHIPGAUGE_UPDATE_GOLDEN=1 to rewrite goldens.
#include "chipgauge/core/files.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

using chipgauge::classifier::country;

namespace chipgauge {
namespace {

using test::run_command;

const std::string source_dir = std::filesystem::path(CHIPGAUGE_SOURCE_SPECS).parent_path().string();

// Runs chipgauge from the source tree with the bundled specs (paths in output are relative).
test::run_result chipgauge(const std::string& args) {
  return run_command("cd '" + source_dir + "' && '" + CHIPGAUGE_BINARY + "' --specs-dir specs " +
                     args);
}

// The CLI against a copy of the bundled specs in which the AI Diffusion framework binds from
// 2025-01-13 (test::specs_with_binding_diffusion): the real framework never bound a shipment, so
// the ledger's quota mechanics are exercised on this copy.
test::run_result chipgauge_binding(const test::temp_dir& dir, const std::string& args) {
  const auto specs = dir.path() + "/specs";
  if (!std::filesystem::exists(specs)) (void)test::specs_with_binding_diffusion(dir);
  return run_command("cd '" + source_dir + "' && '" + CHIPGAUGE_BINARY + "' --specs-dir '" + specs +
                     "' " + args);
}

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = source_dir + "/tests/golden/" + name;
  if (const char* update = std::getenv("CHIPGAUGE_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    write_file_atomically(path, actual);
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path))
      << "missing golden " << path << " (run with CHIPGAUGE_UPDATE_GOLDEN=1)";
  EXPECT_EQ(actual, read_text_file(path)) << "output differs from " << path;
}

TEST(CliGolden, ClassifyH100Text) {
  const auto r = chipgauge("classify nvidia-h100-sxm5-80gb --as-of 2025-06-01");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_golden("classify-h100-2025-06-01.txt", r.out);
}

TEST(CliGolden, ClassifyH100Json) {
  const auto r = chipgauge("classify nvidia-h100-sxm5-80gb --as-of 2025-06-01 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_golden("classify-h100-2025-06-01.json", r.out);
}

TEST(CliGolden, ClassifyFoundationPartsMarkdownAndCsv) {
  const std::string parts =
      "nvidia-a100-sxm4-80gb nvidia-a800-sxm4-80gb nvidia-h100-sxm5-80gb nvidia-h20 "
      "nvidia-geforce-rtx-4090 nvidia-l4";
  const auto md = chipgauge("classify " + parts + " --as-of 2023-06-01 --format md");
  ASSERT_EQ(md.status, 0) << md.err;
  expect_golden("classify-six-2023-06-01.md", md.out);
  const auto csv = chipgauge("classify " + parts + " --as-of 2024-06-01 --format csv");
  ASSERT_EQ(csv.status, 0) << csv.err;
  expect_golden("classify-six-2024-06-01.csv", csv.out);
}

TEST(CliGolden, ClassifyMeasuredAgainstASheet) {
  const auto r = chipgauge(
      "classify --measured tests/data/measurement-sample.json --spec amd-epyc-9654 --as-of "
      "2026-11-29 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_golden("classify-measured-sample.json", r.out);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_LT(j.at("measured").at("tpp").get<double>(),
            j.at("measured").at("derived_tpp").get<double>());
  const auto findings = j.at("measured").at("findings").dump();
  EXPECT_NE(findings.find("measured TPP is only"), std::string::npos)
      << "a 2-core slice is far below a 96-core EPYC";
  EXPECT_NE(findings.find("carries no model number, so the sheet"), std::string::npos) << findings;
}

TEST(CliGolden, RulesList) {
  const auto r = chipgauge("rules list --as-of 2025-06-01");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_golden("rules-list-2025-06-01.txt", r.out);
}

TEST(CliJson, ContractFieldsArePresent) {
  const auto r = chipgauge("classify nvidia-l4 --as-of 2026-01-01 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("schema"), "chipgauge.classification/1");
  EXPECT_EQ(j.at("part").at("id"), "nvidia-l4");
  EXPECT_EQ(j.at("as_of"), "2026-01-01");
  EXPECT_TRUE(j.at("metrics").at("tpp").is_number());
  EXPECT_TRUE(j.at("metrics").at("pd").is_number());
  EXPECT_EQ(j.at("eccn"), "3A090.a.2");
  EXPECT_EQ(j.at("controlled"), true);
  ASSERT_TRUE(j.at("verdicts").is_array());
  const auto& v = j.at("verdicts").at(0);
  for (const char* key :
       {"regime", "status", "outcome", "eccn", "reason", "tests", "citations", "weakest_evidence"})
    EXPECT_TRUE(v.contains(key)) << key;
  EXPECT_NE(j.at("disclaimer").get<std::string>().find("Not legal advice"), std::string::npos);
}

TEST(CliJson, SeveralPartsGiveAnArray) {
  const auto r = chipgauge("classify nvidia-l4 nvidia-h20 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j.size(), 2U);
}

TEST(CliErrors, MalformedSpecFileExits2NamingFileAndPosition) {
  test::temp_dir dir;
  const auto f = dir.write("bad.json", "{\"schema\": \"chipgauge.spec/1\",\n  \"id\": }");
  const auto r = chipgauge("classify '" + f + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty()) << "no partial output";
  EXPECT_NE(r.err.find(f), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

TEST(CliErrors, MisspelledFieldNamesPathAndSuggestion) {
  test::temp_dir dir;
  const auto f = dir.write(
      "x.json",
      R"({"schema": "chipgauge.spec/1", "id": "x", "vendor": "v", "name": "n", "kind": "ic",
    "processing_units": [{"name": "u", "dense_tops": {"int8": 100}}], "memory": {"bandwith_gb_s": 100}})");
  const auto r = chipgauge("classify '" + f + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("$.memory.bandwith_gb_s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'bandwidth_gb_s'"), std::string::npos) << r.err;
}

TEST(CliErrors, UnknownPartIdSuggestsTheClosest) {
  const auto r = chipgauge("classify nvidia-h100-sxm5");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("unknown part"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean"), std::string::npos) << r.err;
}

TEST(CliErrors, BadDateAndFormatAreUsageErrors) {
  const auto d = chipgauge("classify nvidia-l4 --as-of 2024-02-30");
  EXPECT_EQ(d.status, 2);
  EXPECT_NE(d.err.find("YYYY-MM-DD"), std::string::npos) << d.err;
  const auto f = chipgauge("classify nvidia-l4 --format xml");
  EXPECT_EQ(f.status, 2);
  EXPECT_NE(f.err.find("text, json, md or csv"), std::string::npos) << f.err;
  EXPECT_EQ(chipgauge("frobnicate").status, 2);
  EXPECT_EQ(chipgauge("classify").status, 2);
}

TEST(CliErrors, BrokenRuleFileExits2NamingFileAndPath) {
  test::temp_dir dir;
  std::filesystem::copy(source_dir + "/specs", dir.path() + "/specs",
                        std::filesystem::copy_options::recursive);
  const auto rule = dir.path() + "/specs/rules/us-2023-11-17-3a090.json";
  auto text = read_text_file(rule);
  const std::string from = "\"when\": \"tpp >= tpp_a1\"";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "\"when\": \"tpp >= tpp_a1 and tps > 3\"");
  write_file_atomically(rule, text);
  const auto r = run_command("'" + std::string(CHIPGAUGE_BINARY) + "' --specs-dir '" + dir.path() +
                             "/specs' classify nvidia-l4");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("us-2023-11-17-3a090.json: $.clauses[0].when"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unknown metric or parameter 'tps'"), std::string::npos) << r.err;
}

TEST(CliSpecs, ValidateReportsEveryBundledSheet) {
  const auto r = chipgauge("specs validate");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("sheet(s) valid, 0 error(s)"), std::string::npos) << r.out;
}

TEST(CliSpecs, ValidateGivenFilesCountsErrors) {
  test::temp_dir dir;
  const auto bad = dir.write(
      "neg.json", R"({"schema": "chipgauge.spec/1", "id": "neg", "vendor": "v", "name": "n",
    "kind": "ic", "processing_units": [{"name": "u", "dense_tops": {"int8": -5}}]})");
  const auto r = chipgauge("specs validate '" + bad + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("$.processing_units[0].dense_tops.int8"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("1 error(s)"), std::string::npos) << r.out;
}

TEST(CliSpecs, ValidateWarnsWhenADeclaredEccnDisagrees) {
  test::temp_dir dir;
  auto sheet = nlohmann::json::parse(read_text_file(source_dir + "/specs/chips/nvidia-l4.json"));
  sheet["id"] = "l4-copy";
  sheet["declared"] = {{"eccn", "5A992.c"}, {"as_of", "2024-06-01"}, {"by", "vendor"}};
  const auto file = dir.write("l4-copy.json", sheet.dump(2));
  const auto r = chipgauge("specs validate '" + file + "'");
  EXPECT_EQ(r.status, 0) << "a warning, not an error: " << r.err;
  EXPECT_NE(
      r.out.find("$.declared.eccn: declared ECCN 5A992.c (as of 2024-06-01) disagrees with the "
                 "computed 3A090.a.2"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 sheet(s) valid, 0 error(s), 1 warning(s)"), std::string::npos) << r.out;
}

TEST(CliMeasured, SheetOfAnotherPartIsRefused) {
  test::temp_dir dir;
  auto report =
      nlohmann::json::parse(read_text_file(source_dir + "/tests/data/measurement-sample.json"));
  report["devices"][0]["name"] = "NVIDIA H200";
  report["devices"][0]["vendor"] = "NVIDIA";
  const auto file = dir.write("h200.json", report.dump(2));
  const auto wrong =
      chipgauge("classify --measured '" + file + "' --spec nvidia-h100-sxm5-80gb --format json");
  EXPECT_EQ(wrong.status, 2);
  EXPECT_TRUE(wrong.out.empty()) << wrong.out;
  EXPECT_NE(wrong.err.find("shares no model number with the measured device 'NVIDIA H200'"),
            std::string::npos)
      << wrong.err;
  const auto right =
      chipgauge("classify --measured '" + file + "' --spec nvidia-h200-sxm-141gb --format json");
  ASSERT_EQ(right.status, 0) << right.err;
  EXPECT_EQ(nlohmann::json::parse(right.out)
                .at("measured")
                .at("findings")
                .dump()
                .find("cannot be confirmed"),
            std::string::npos);
  // A CPU's report against a GPU's sheet: the vendors differ, whatever the names say.
  const auto cpu = chipgauge(
      "classify --measured tests/data/measurement-sample.json --spec nvidia-h100-sxm5-80gb");
  EXPECT_EQ(cpu.status, 2);
  EXPECT_NE(
      cpu.err.find("is a NVIDIA part but the measured device 'AMD EPYC' is made by AuthenticAMD"),
      std::string::npos)
      << cpu.err;
}

TEST(CliMeasured, MeasuredTppBelowALineIsNotDemonstratedNeverNotControlled) {
  const auto r = chipgauge(
      "classify --measured tests/data/measurement-sample.json --as-of 2026-11-29 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("outcome"), "undetermined");
  EXPECT_EQ(j.at("metrics").at("tpp_lower_bound"), true);
  for (const auto& v : j.at("verdicts")) EXPECT_NE(v.at("outcome"), "not_controlled") << v.dump();
  const auto text =
      chipgauge("classify --measured tests/data/measurement-sample.json --as-of 2026-11-29");
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("not demonstrated by this measurement"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("not controlled"), std::string::npos) << text.out;
}

TEST(CliMeasured, EditedRatesAreRefusedOnLoad) {
  test::temp_dir dir;
  auto report =
      nlohmann::json::parse(read_text_file(source_dir + "/tests/data/measurement-sample.json"));
  // Multiply the compute rates by 1,000, summaries only: they no longer match their samples.
  for (auto& r : report["results"]) {
    if (r["metric"] != "ops_per_s" || r["status"] != "ok") continue;
    r["median"] = r["median"].get<double>() * 1000;
    r["rate_summary"]["median"] = r["median"];
  }
  const auto summaries =
      chipgauge("classify --measured '" + dir.write("a.json", report.dump(2)) + "'");
  EXPECT_EQ(summaries.status, 2);
  EXPECT_NE(summaries.err.find("disagrees with its samples' median"), std::string::npos)
      << summaries.err;
  // Samples too: now the rate exceeds the peak at the maximum clock.
  for (auto& r : report["results"]) {
    if (r["metric"] != "ops_per_s" || r["status"] != "ok") continue;
    for (auto& s : r["sample_values"]) s["work"] = s["work"].get<double>() * 1000;
  }
  const auto samples =
      chipgauge("classify --measured '" + dir.write("b.json", report.dump(2)) + "'");
  EXPECT_EQ(samples.status, 2);
  EXPECT_NE(samples.err.find("impossible rate"), std::string::npos) << samples.err;
}

TEST(CliRules, ShowAndValidate) {
  const auto show = chipgauge("rules show us-2023-11-17-3a090 --as-of 2024-06-01");
  EXPECT_EQ(show.status, 0) << show.err;
  EXPECT_NE(show.out.find("3A090.a.2 [ic; V]: datacenter and tpp >= tpp_a2 and pd >= pd_a2"),
            std::string::npos)
      << show.out;
  EXPECT_EQ(chipgauge("rules show us-2023-11-17").status, 2);
  const auto v = chipgauge("rules validate");
  EXPECT_EQ(v.status, 0) << v.err;
}

TEST(CliDocs, PartsDocIsCurrent) {
  // docs/parts.md records the date it was generated for; regenerate for that date and compare.
  const auto doc = read_text_file(source_dir + "/docs/parts.md");
  const std::string marker = "--as-of ";
  const auto at = doc.find(marker);
  ASSERT_NE(at, std::string::npos) << "docs/parts.md lacks its generated-by line";
  const auto as_of = doc.substr(at + marker.size(), 10);
  const auto r = chipgauge("specs table --format md --as-of " + as_of);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, doc) << "docs/parts.md is stale: run scripts/gen-parts-doc.sh " << as_of;
}

TEST(CliSpecs, TableHasARowPerPartAndAColumnPerRegime) {
  const auto r = chipgauge("specs table --format csv --as-of 2025-06-01");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto header = r.out.substr(0, r.out.find('\n'));
  EXPECT_NE(header.find("us-2022-10-07-3a090 (superseded)"), std::string::npos) << header;
  EXPECT_NE(header.find("us-2023-11-17-3a090"), std::string::npos) << header;
  const auto list = chipgauge("specs list --format csv");
  ASSERT_EQ(list.status, 0);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'),
            std::count(list.out.begin(), list.out.end(), '\n'));
}

}  // namespace
}  // namespace chipgauge

namespace chipgauge {
namespace {

TEST(CliMeasure, BadOptionsExit2BeforeMeasuring) {
  const auto backend = chipgauge("measure --backend tpu");
  EXPECT_EQ(backend.status, 2);
  EXPECT_NE(backend.err.find("unknown backend 'tpu'"), std::string::npos) << backend.err;
  const auto regex = chipgauge("measure --filter '('");
  EXPECT_EQ(regex.status, 2);
  EXPECT_NE(regex.err.find("not a valid regular expression"), std::string::npos) << regex.err;
  const auto none = chipgauge("measure --filter nothing_matches_this");
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("matches no benchmark"), std::string::npos) << none.err;
  const auto out = chipgauge("measure --filter fma_fp64 --out /nonexistent-dir/report.json");
  EXPECT_EQ(out.status, 2);
  EXPECT_NE(out.err.find("cannot write --out /nonexistent-dir/report.json"), std::string::npos)
      << out.err;
  EXPECT_TRUE(out.out.empty()) << "nothing measured, nothing printed";
  EXPECT_EQ(chipgauge("measure --format yaml").status, 2);
  const auto device = chipgauge("measure --backend cpu --device 7 --filter fma_fp64");
  EXPECT_EQ(device.status, 2);
  EXPECT_NE(device.err.find("--device '7' names no cpu device; there is 1: 0 = cpu0"),
            std::string::npos)
      << device.err;
  EXPECT_TRUE(device.out.empty()) << "nothing measured, nothing printed";
  EXPECT_EQ(chipgauge("measure --backend cpu --device gpu0").status, 2);
}

TEST(CliMeasure, UnloadableRulesCostOnlyTheTppLine) {
  // The bit lengths come from specs/rules/metrics.json; without it the measurement still prints.
  test::temp_dir dir;
  const auto r = run_command("'" + std::string(CHIPGAUGE_BINARY) + "' --specs-dir '" + dir.path() +
                             "' measure --backend cpu --filter '^fma_fp64$'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("cpu0    fma_fp64"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TPP not computed: " + dir.path() + "/rules: $: not a directory"),
            std::string::npos)
      << r.out;
}

TEST(CliMeasure, NothingMeasuredIsAFailure) {
  // A filter that selects only benchmarks this machine skips delivers nothing: exit 1, with the
  // skip reasons in the results. (Skipped if this CPU happens to have AVX512_FP16.)
  const auto r = chipgauge("measure --backend cpu --filter '^fma_fp16$' --format json");
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("results").size(), 1U);
  if (j.at("results")[0].at("status") != "skipped") GTEST_SKIP() << "this CPU runs FP16 FMA";
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nothing was measured"), std::string::npos) << r.err;
  EXPECT_FALSE(j.at("results")[0].at("reason").get<std::string>().empty());
}

TEST(CliMeasure, ShortRunWritesAReportThatClassifies) {
  if (!std::getenv("CHIPGAUGE_TEST_SERIAL"))
    GTEST_SKIP()
        << "measures for real: runs in its own CTest entry, CliMeasure.ShortRunAlone, with no "
           "other test alongside";
  test::temp_dir dir;
  const auto report = dir.path() + "/m.json";
  const auto r = chipgauge("measure --backend cpu --device 0 --filter '^fma_fp64$' --out '" +
                           report + "' --format gbench");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto g = nlohmann::json::parse(r.out);
  const auto c = chipgauge("classify --measured '" + report + "' --format json");
  // On a machine busy with other work (parallel tests) the run is suspect and refused, by design.
  const auto stored = nlohmann::json::parse(read_text_file(report));
  // The Google Benchmark export: one entry per sample and 3 aggregates; nothing for a suspect
  // result.
  const auto samples = stored.at("results").at(0).at("samples").get<std::size_t>();
  EXPECT_EQ(g.at("benchmarks").size(),
            stored.at("results").at(0).at("suspect") == true ? 0U : samples + 3);
  if (stored.at("results").at(0).at("suspect") == true) {
    EXPECT_EQ(c.status, 2);
    // Other processes on the CPUs, or (on a VM) time the hypervisor stole: either makes it suspect.
    EXPECT_NE(c.err.find("fma_fp64: suspect ("), std::string::npos) << c.err;
    GTEST_SKIP() << "the machine was busy during the run, so its result is suspect: " << c.err;
  }
  ASSERT_EQ(c.status, 0) << c.err;
  const auto j = nlohmann::json::parse(c.out);
  EXPECT_GT(j.at("measured").at("tpp").get<double>(), 0);
  EXPECT_EQ(j.at("metrics").at("tpp").get<double>(), j.at("measured").at("tpp").get<double>());
  EXPECT_EQ(j.at("controlled"), false);
  const auto text = chipgauge("measure --backend cpu --filter '^fma_fp64$'");
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("cpu0 TPP: measured "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(fp64 x 64 bits, verified; a lower bound)"), std::string::npos)
      << text.out;
}

TEST(CliMeasure, CorruptReportToClassifyExits2) {
  test::temp_dir dir;
  const auto bad =
      dir.write("bad.json", "{\"schema\": \"chipgauge.measurement/1\", \"tool_version\": ");
  const auto r = chipgauge("classify --measured '" + bad + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  const auto wrong =
      dir.write("spec.json", read_text_file(source_dir + "/specs/chips/nvidia-l4.json"));
  const auto w = chipgauge("classify --measured '" + wrong + "'");
  EXPECT_EQ(w.status, 2);
  EXPECT_NE(w.err.find("$.schema: expected \"chipgauge.measurement/1\""), std::string::npos)
      << w.err;
  EXPECT_EQ(chipgauge("classify nvidia-l4 --measured '" + bad + "'").status, 2)
      << "parts and --measured exclude each other";
}

}  // namespace
}  // namespace chipgauge

namespace chipgauge {
namespace {

TEST(CliLicense, IcWithoutRatesIsNeverNoLicense) {
  // An H100 sheet stripped of its processing units: TPP unknown, so neither the classification nor
  // the license answer may come out as "not controlled" / "no".
  test::temp_dir dir;
  auto sheet =
      nlohmann::json::parse(read_text_file(source_dir + "/specs/chips/nvidia-h100-sxm5-80gb.json"));
  sheet["id"] = "no-rates";
  sheet["processing_units"] = nlohmann::json::array();
  sheet.erase("declared");
  const auto file = dir.write("no-rates.json", sheet.dump(2));
  const auto c = chipgauge("classify '" + file + "' --as-of 2026-02-01 --format json");
  ASSERT_EQ(c.status, 0) << c.err;
  const auto j = nlohmann::json::parse(c.out);
  EXPECT_EQ(j.at("outcome"), "undetermined");
  EXPECT_TRUE(j.at("metrics").at("tpp").is_null());
  const auto l = chipgauge("license '" + file + "' --to CN --as-of 2026-02-01");
  ASSERT_EQ(l.status, 0) << l.err;
  EXPECT_NE(l.out.find("licence required: undetermined"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("TPP unknown: the sheet lists no processing unit"), std::string::npos)
      << l.out;
  const auto v = chipgauge("specs validate '" + file + "'");
  EXPECT_EQ(v.status, 2);
  EXPECT_NE(v.err.find("$.processing_units: an IC lists no processing unit"), std::string::npos)
      << v.err;
}

TEST(CliLicense, JsonAnswerCarriesTheContract) {
  const auto r =
      chipgauge("license nvidia-h200-sxm-141gb --to China --as-of 2026-02-01 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_golden("license-h200-cn-2026-02-01.json", r.out);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("license_required"), true);
  EXPECT_EQ(j.at("review_policy"), "case_by_case");
  EXPECT_TRUE(j.at("exceptions").is_array());
  EXPECT_TRUE(j.at("overlays").is_array());
  EXPECT_FALSE(j.at("reasons").empty());
  EXPECT_NE(j.at("disclaimer").get<std::string>().find("Not legal advice"), std::string::npos);
}

TEST(CliLicense, TextSaysNotLegalAdviceAndWeakEvidence) {
  const auto r = chipgauge("license nvidia-h20 --to CN --as-of 2025-06-01 --exporter nvidia");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("licence required: yes (by letter"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rests on evidence S"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(
                "notice: us-2025-04-09-h20-letters / h20-letter binds only its recipients (NVIDIA"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Not legal advice"), std::string::npos);
}

// The Diffusion framework in two layers: the default answer is what binds (nothing: before its
// compliance date, then not enforced) and says what the text would require; --what-if shows the
// text, labelled with why it does not bind.
TEST(CliLicense, DiffusionTwoLayers) {
  for (const char* d : {"2025-05-14", "2025-05-15"}) {
    const auto r = chipgauge(std::string("license nvidia-h100-sxm5-80gb --to BR --as-of ") + d);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("licence required: no\n"), std::string::npos) << r.out;
    EXPECT_NE(
        r.out.find("notice: us-2025-01-13-ai-diffusion / tier2 would require a licence under the "
                   "regulation's text"),
        std::string::npos)
        << r.out;
  }
  const auto before =
      chipgauge("license nvidia-h100-sxm5-80gb --to BR --as-of 2025-05-12 --what-if");
  EXPECT_NE(before.out.find(
                "what-if us-2025-01-13-ai-diffusion / tier2: licence, presumption_of_approval"),
            std::string::npos)
      << before.out;
  EXPECT_NE(before.out.find("not binding on this date: before its compliance date 2025-05-15"),
            std::string::npos)
      << before.out;
  const auto announced =
      chipgauge("license nvidia-h100-sxm5-80gb --to BR --as-of 2025-05-14 --what-if");
  EXPECT_NE(announced.out.find("not binding on this date: announced_not_enforced"),
            std::string::npos)
      << announced.out;
  const auto after =
      chipgauge("license nvidia-h100-sxm5-80gb --to BR --as-of 2025-05-15 --what-if --format json");
  const auto j = nlohmann::json::parse(after.out);
  EXPECT_FALSE(j.at("license_required").get<bool>());
  EXPECT_EQ(j.at("what_if_reasons").at(0).at("requirement"), "tier2");
  const auto tariff = chipgauge(
      "license nvidia-h200-sxm-141gb --from TW --to US --as-of 2026-02-01 --end-use datacentre");
  EXPECT_EQ(tariff.status, 2);
  EXPECT_NE(tariff.err.find("unknown --end-use 'datacentre'"), std::string::npos) << tariff.err;
}

// A letter binds its recipients: without --exporter the answer is undetermined and names the
// option; a misspelt exporter is a usage error.
TEST(CliLicense, LetterNeedsTheExporter) {
  const auto r = chipgauge("license nvidia-h20 --to CN --as-of 2025-06-01");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("licence required: undetermined"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("state --exporter"), std::string::npos) << r.out;
  const auto other = chipgauge("license nvidia-h20 --to CN --as-of 2025-06-01 --exporter other");
  EXPECT_NE(other.out.find("licence required: no\n"), std::string::npos) << other.out;
  const auto bad = chipgauge("license nvidia-h20 --to CN --as-of 2025-06-01 --exporter nvida");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("unknown --exporter 'nvida'"), std::string::npos) << bad.err;
}

TEST(CliLicense, EmbargoIsTheFirstReason) {
  for (const char* to : {"RU", "Iran", "KP", "Cuba", "Syria", "Belarus", "Crimea"}) {
    const auto r =
        chipgauge(std::string("license nvidia-h100-sxm5-80gb --to ") + to + " --as-of 2024-06-01");
    ASSERT_EQ(r.status, 0) << to << ": " << r.err;
    EXPECT_NE(r.out.find("licence required: yes (review: presumption_of_denial"), std::string::npos)
        << r.out;
    const auto at = r.out.find("\n  because ");
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_EQ(r.out.compare(at + 1, 19, "  because embargo: "), 0) << r.out;
    EXPECT_NE(r.out.substr(at, r.out.find('\n', at + 1) - at).find("746."), std::string::npos)
        << r.out;
  }
  const auto h20 = chipgauge("license nvidia-h20 --to RU --as-of 2024-06-01");
  ASSERT_EQ(h20.status, 0) << h20.err;
  EXPECT_NE(h20.out.find("because embargo: us-2022-02-24-russia-belarus-sanctions / ccl-any-eccn"),
            std::string::npos)
      << h20.out;
  EXPECT_EQ(h20.out.find("us-2023-11-17-licence"), std::string::npos)
      << "no 3A090 paragraph for the H20: " << h20.out;
  EXPECT_NE(h20.out.find("you can state: --eccn 5A992.c"), std::string::npos) << h20.out;
}

TEST(CliLicense, StatedEccnAndEndUserChangeTheAnswer) {
  const auto sy = chipgauge(
      "license nvidia-geforce-rtx-4090-d --to SY --as-of 2025-09-02 --eccn ear99 --format json");
  ASSERT_EQ(sy.status, 0) << sy.err;
  const auto j = nlohmann::json::parse(sy.out);
  EXPECT_EQ(j.at("stated_eccn"), "EAR99");
  EXPECT_EQ(j.at("exceptions").at(0).at("id"), "SPP");
  EXPECT_EQ(j.at("reasons").at(0).at("embargo"), true);
  const auto ru = chipgauge(
      "license nvidia-geforce-rtx-4090-d --to RU --as-of 2024-06-01 --eccn 5a992.C --end-user "
      "civil --format json");
  ASSERT_EQ(ru.status, 0) << ru.err;
  EXPECT_EQ(nlohmann::json::parse(ru.out).at("reasons").size(), 0U) << ru.out;
  const auto bad = chipgauge("license nvidia-geforce-rtx-4090-d --to RU --eccn 5Z999");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("is not an ECCN"), std::string::npos) << bad.err;
  const auto who = chipgauge("license nvidia-geforce-rtx-4090-d --to RU --end-user pirate");
  EXPECT_EQ(who.status, 2);
  EXPECT_NE(who.err.find("expected one of"), std::string::npos) << who.err;
  const auto clash =
      chipgauge("license nvidia-h100-sxm5-80gb --to RU --as-of 2024-06-01 --eccn EAR99");
  EXPECT_EQ(clash.status, 2);
  EXPECT_NE(clash.err.find("contradicts the part's classification"), std::string::npos)
      << clash.err;
}

TEST(CliLicense, UkraineNeedsARegion) {
  const auto plain = chipgauge("license nvidia-geforce-rtx-4090-d --to Ukraine --as-of 2024-06-01");
  EXPECT_EQ(plain.status, 2);
  EXPECT_TRUE(plain.out.empty());
  EXPECT_NE(plain.err.find("UA-43 (Crimea)"), std::string::npos) << plain.err;
  const auto crimea = chipgauge("license nvidia-geforce-rtx-4090-d --to UA-43 --as-of 2024-06-01");
  ASSERT_EQ(crimea.status, 0) << crimea.err;
  EXPECT_NE(crimea.out.find("to UA-43"), std::string::npos) << crimea.out;
  EXPECT_NE(crimea.out.find("because embargo: us-2022-02-24-ukraine-regions-embargo / crimea"),
            std::string::npos)
      << crimea.out;
  const auto kyiv = chipgauge("license nvidia-geforce-rtx-4090-d --to UA-30 --as-of 2024-06-01");
  ASSERT_EQ(kyiv.status, 0) << kyiv.err;
  EXPECT_NE(kyiv.out.find("licence required: no"), std::string::npos) << kyiv.out;
}

TEST(CliLicense, BadInputExits2WithAClearMessage) {
  const auto country = chipgauge("license nvidia-h100-sxm5-80gb --to Chna");
  EXPECT_EQ(country.status, 2);
  EXPECT_NE(country.err.find("unknown country 'Chna' (did you mean CN 'China'?)"),
            std::string::npos)
      << country.err;
  EXPECT_TRUE(country.out.empty());
  const auto early = chipgauge("license nvidia-h100-sxm5-80gb --to CN --as-of 2022-10-06");
  EXPECT_EQ(early.status, 2);
  EXPECT_NE(early.err.find("before the first advanced-computing rule"), std::string::npos)
      << early.err;
  EXPECT_EQ(chipgauge("license nvidia-h100-sxm5-80gb --to CN --as-of 2024-13-01").status, 2);
  const auto qty = chipgauge("license nvidia-h100-sxm5-80gb --to CN --quantity 0");
  EXPECT_EQ(qty.status, 2);
  EXPECT_NE(qty.err.find("expected 1 or more"), std::string::npos) << qty.err;
  EXPECT_EQ(chipgauge("license nvidia-h100-sxm5-80gb --to CN --quantity -3").status, 2);
  const auto tx = chipgauge("license nvidia-h100-sxm5-80gb --to CN --from DE --transaction export");
  EXPECT_EQ(tx.status, 2);
  EXPECT_NE(tx.err.find("an export leaves the United States"), std::string::npos) << tx.err;
}

TEST(CliLedger, AddCheckReportAndLppCeiling) {
  test::temp_dir dir;
  const auto ledger = dir.path() + "/shipments.json";
  auto add = [&](const std::string& qty, const std::string& extra = "") {
    return chipgauge_binding(
        dir, "ledger add --ledger '" + ledger +
                 "' nvidia-h100-sxm5-80gb --to BR --consignee Acme --quantity " + qty +
                 " --date 2025-03-01 --format json" + extra);
  };
  const auto first = add("1000");
  ASSERT_EQ(first.status, 0) << first.err;
  auto j = nlohmann::json::parse(first.out);
  EXPECT_EQ(j.at("shipment").at("quota"), "lpp");
  const auto check = chipgauge_binding(
      dir, "ledger check --ledger '" + ledger +
               "' nvidia-h100-sxm5-80gb --to BR --consignee Acme --quantity 700 --date 2025-04-01 "
               "--format json");
  ASSERT_EQ(check.status, 0) << check.err;
  j = nlohmann::json::parse(check.out);
  bool lpp_fits = true;
  for (const auto& q : j.at("quotas")) {
    if (q.at("quota") == "lpp") lpp_fits = q.at("fits").get<bool>();
  }
  EXPECT_FALSE(lpp_fits) << "1,000 + 700 H100 exceed 26.9 M TPP";
  EXPECT_EQ(nlohmann::json::parse(read_text_file(ledger)).at("shipments").size(), 1U)
      << "check does not record";
  const auto report = chipgauge_binding(dir, "ledger report --ledger '" + ledger + "'");
  ASSERT_EQ(report.status, 0) << report.err;
  EXPECT_NE(report.out.find("15,831,200"), std::string::npos) << report.out;
}

TEST(CliLedger, CorruptOrLockedLedgerIsLeftExactlyAsItWas) {
  test::temp_dir dir;
  const std::string corrupt_text = "{\"schema\": \"chipgauge.ledger/1\", \"shipments\": [";
  const auto corrupt = dir.write("corrupt.json", corrupt_text);
  const auto r =
      chipgauge("ledger add --ledger '" + corrupt +
                "' nvidia-h100-sxm5-80gb --to BR --consignee Acme --quantity 1 --date 2025-03-01");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(corrupt), std::string::npos) << r.err;
  EXPECT_EQ(read_text_file(corrupt), corrupt_text);

  const auto ledger = dir.path() + "/busy.json";
  ASSERT_EQ(chipgauge("ledger add --ledger '" + ledger +
                      "' nvidia-l4 --to BR --consignee A --quantity 1 --date 2025-03-01")
                .status,
            0);
  const auto before = read_text_file(ledger);
  // Another writer holds the lock for the duration of our attempt.
  const auto locked =
      run_command("flock '" + ledger + ".lock' sh -c \"cd '" + source_dir + "' && '" +
                  CHIPGAUGE_BINARY + "' --specs-dir specs ledger add --ledger '" + ledger +
                  "' nvidia-l4 --to BR --consignee A --quantity 1 --date 2025-03-02\"");
  EXPECT_EQ(locked.status, 2);
  EXPECT_NE(locked.err.find("is being written by another process"), std::string::npos)
      << locked.err;
  EXPECT_EQ(read_text_file(ledger), before);
}

TEST(CliFleet, TotalsAndThresholds) {
  const auto r =
      chipgauge("fleet nvidia-h100-sxm5-80gb:60000 nvidia-l4:10 --as-of 2025-03-01 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j.at("peak_ops").get<double>(), 1e20);
  bool reporting = false;
  for (const auto& c : j.at("checks")) {
    if (c.at("check") == "cluster-reporting")
      reporting = c.at("holds").get<bool>() && c.at("status") == "proposed";
  }
  EXPECT_TRUE(reporting);
  EXPECT_EQ(chipgauge("fleet nvidia-h100-sxm5-80gb:0").status, 2);
  const auto measured = chipgauge("fleet tests/data/measurement-sample.json:4");
  EXPECT_EQ(measured.status, 0) << measured.err;
  EXPECT_NE(measured.out.find("measured (lower bound)"), std::string::npos) << measured.out;
}

}  // namespace
}  // namespace chipgauge

namespace chipgauge {
namespace {

TEST(CliErrors, OutputThatCannotBeWrittenIsAFailure) {
  const auto r = run_command("(cd '" + source_dir + "' && '" + CHIPGAUGE_BINARY +
                             "' --specs-dir specs classify --all > /dev/full)");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot write the output"), std::string::npos) << r.err;
}

TEST(CliErrors, NumbersBeyondADoubleAndDirectoriesAreSpecErrors) {
  test::temp_dir dir;
  const auto big = dir.write(
      "big.json",
      R"({"schema": "chipgauge.spec/1", "id": "big", "vendor": "v", "name": "n", "kind": "ic",
    "processing_units": [{"name": "u", "dense_tops": {"fp16": 1e400}}]})");
  const auto r = chipgauge("classify '" + big + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("number overflow"), std::string::npos) << r.err;
  const auto d = chipgauge("classify '" + dir.path() + "/'");
  EXPECT_EQ(d.status, 2);
  EXPECT_NE(d.err.find("is a directory"), std::string::npos) << d.err;
}

TEST(CliErrors, MeasuredAgainstABoardAndAbsurdQuantitiesAreRefused) {
  const auto board = chipgauge(
      "classify --measured tests/data/measurement-sample.json --spec nvidia-hgx-h100-8gpu");
  EXPECT_EQ(board.status, 2);
  EXPECT_NE(board.err.find("takes an IC sheet"), std::string::npos) << board.err;
  EXPECT_EQ(chipgauge("license nvidia-l4 --to CN --quantity 2000000000").status, 2);
  EXPECT_EQ(chipgauge("fleet nvidia-l4:99999999999999999999").status, 2);
}

}  // namespace
}  // namespace chipgauge

// Hostile input: every reproducer is generated here, not stored.
namespace chipgauge {
namespace {

// Runs chipgauge against a copy of the bundled specs in `dir` (so a test can change a rule).
test::run_result chipgauge_in(const test::temp_dir& dir, const std::string& args) {
  if (!std::filesystem::exists(dir.path() + "/specs"))
    std::filesystem::copy(source_dir + "/specs", dir.path() + "/specs",
                          std::filesystem::copy_options::recursive);
  return run_command("cd '" + dir.path() + "' && '" + CHIPGAUGE_BINARY + "' --specs-dir specs " +
                     args);
}

std::string ledger_add(const std::string& ledger, const std::string& rest) {
  return "ledger add --ledger '" + ledger + "' " + rest;
}

TEST(CliHostile, InlineComponentsNestedTenThousandDeepAreRefusedWhileParsing) {
  test::temp_dir dir;
  // A board whose inline component holds a board whose inline component holds ... 10,000 deep.
  std::string open;
  std::string close;
  for (int i = 0; i < 10000; ++i) {
    open += R"({"kind": "board", "contains": [{"count": 1, "spec": )";
    close += "}]}";
  }
  const auto sheet =
      dir.write("deep.json", open + R"({"schema": "chipgauge.spec/1", "id": "leaf"})" + close);
  const auto r = chipgauge("specs validate '" + sheet + "'");
  EXPECT_EQ(r.status, 2) << r.err.substr(0, 2000);
  EXPECT_NE(r.err.find("nest deeper than 64 levels"), std::string::npos) << r.err.substr(0, 2000);
  EXPECT_NE(r.err.find("$.contains[0].spec.contains[0]"), std::string::npos)
      << r.err.substr(0, 2000);
  EXPECT_LT(r.err.size(), 5000U);
}

TEST(CliHostile, HugeRuleExpressionsAreRefusedAtLoadAndLongChainsWithinTheLimitsClassify) {
  const std::string from = "\"when\": \"tpp >= tpp_a1\"";
  auto with_when = [&](const test::temp_dir& dir, const std::string& term, int terms) {
    chipgauge_in(dir, "--version");
    const auto rule = dir.path() + "/specs/rules/us-2023-11-17-3a090.json";
    auto text = read_text_file(rule);
    std::string when = term;
    for (int i = 1; i < terms; ++i) when += " and " + term;
    text.replace(text.find(from), from.size(), "\"when\": \"" + when + "\"");
    write_file_atomically(rule, text);
    return rule;
  };
  {
    test::temp_dir dir;  // 200,000 terms: a 3 MB rule file
    const auto rule = with_when(dir, "tpp >= tpp_a1", 200000);
    const auto r = chipgauge_in(dir, "rules validate '" + rule + "'");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("a rule file may be at most 1048576 bytes"), std::string::npos) << r.err;
    EXPECT_EQ(chipgauge_in(dir, "classify nvidia-l4").status, 2);
  }
  {
    test::temp_dir dir;  // 5,000 compact terms: under 64 KiB of text, over 16,384 nodes
    const auto rule = with_when(dir, "tpp>=1", 5000);
    const auto r = chipgauge_in(dir, "rules validate '" + rule + "'");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("more than 16384 operands and operators"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("$.clauses[0].when"), std::string::npos) << r.err;
  }
  {
    test::temp_dir dir;  // 3,000 terms within the limits: evaluated without recursion
    with_when(dir, "tpp >= tpp_a1", 3000);
    const auto r =
        chipgauge_in(dir, "classify nvidia-h100-sxm5-80gb --as-of 2025-06-01 --format json");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out).at("eccn"), "3A090.a.1") << r.out.substr(0, 2000);
  }
}

TEST(CliHostile, DuplicateJsonKeysAreRefusedWithTheirPath) {
  test::temp_dir dir;
  const auto ledger = dir.write("dup.json", R"({"schema": "chipgauge.ledger/1", "shipments": [
    {"date": "2025-03-01", "part": "nvidia-l4", "tpp_each": 1940, "quantity": 1, "consignee": "A", "country": "BR",
     "quota": "", "eccn": ""}], "shipments": []})");
  const auto before = read_text_file(ledger);
  const auto r = chipgauge("ledger report --ledger '" + ledger + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(ledger + ": $.shipments: duplicate key 'shipments'"), std::string::npos)
      << r.err;
  const auto add = chipgauge(
      ledger_add(ledger, "nvidia-l4 --to BR --consignee A --quantity 1 --date 2025-03-01"));
  EXPECT_EQ(add.status, 2);
  EXPECT_EQ(read_text_file(ledger), before);
  // Nested: the path names the object and the key.
  const auto sheet = dir.write(
      "dup-sheet.json", R"({"schema": "chipgauge.spec/1", "id": "d", "vendor": "v", "name": "n",
    "kind": "ic", "processing_units": [{"name": "u", "name": "w", "dense_tops": {"int8": 1}}]})");
  const auto s = chipgauge("specs validate '" + sheet + "'");
  EXPECT_EQ(s.status, 2);
  EXPECT_NE(s.err.find("$.processing_units[0].name: duplicate key 'name'"), std::string::npos)
      << s.err;
}

TEST(CliHostile, CsvLedgerNumbersFollowJsonRules) {
  test::temp_dir dir;
  const std::string header = "date,part,tpp_each,quantity,consignee,country,quota,eccn\n";
  for (const std::string row :
       {"2025-03-01,nvidia-l4,inf,1,A,BR,,", "2025-03-01,nvidia-l4,1e400,1,A,BR,,",
        "2025-03-01,nvidia-l4,0x1p4,1,A,BR,,", "2025-03-01,nvidia-l4,nan,1,A,BR,,",
        "2025-03-01,nvidia-l4, 1940,1,A,BR,,", "2025-03-01,nvidia-l4,+1940,1,A,BR,,",
        "2025-03-01,nvidia-l4,1940,99999999999999999999999,A,BR,,",
        "2025-03-01,nvidia-l4,1940,1.0,A,BR,,", "2025-03-01,nvidia-l4,1940,0x10,A,BR,,",
        "2025-03-01,nvidia-l4,1e8,1,A,BR,,"}) {
    const auto ledger = dir.write("l.csv", header + row + "\n");
    const auto r = chipgauge("ledger report --ledger '" + ledger + "'");
    EXPECT_EQ(r.status, 2) << row << "\n" << r.out;
    EXPECT_NE(r.err.find("line 2: "), std::string::npos) << r.err;
  }
  // Old eight-column ledgers still load; the next add writes the licensing columns.
  const auto old = dir.write("old.csv", header + "2025-03-01,nvidia-l4,1940,2,A,BR,,\n");
  const auto report = chipgauge("ledger report --ledger '" + old + "'");
  ASSERT_EQ(report.status, 0) << report.err;
  EXPECT_NE(report.out.find("3,880"), std::string::npos) << report.out;
  ASSERT_EQ(
      chipgauge_binding(
          dir, ledger_add(old, "nvidia-l4 --to BR --consignee A --quantity 1 --date 2025-03-02"))
          .status,
      0);
  const auto text = read_text_file(old);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "date,part,tpp_each,quantity,consignee,country,quota,eccn,license_required,license");
  EXPECT_NE(text.find("2025-03-01,nvidia-l4,1940,2,A,BR,,,,\n"), std::string::npos) << text;
  EXPECT_NE(text.find("2025-03-02,nvidia-l4,1940,1,A,BR,lpp,3A090.a.2,yes,\n"), std::string::npos)
      << text;
}

TEST(CliHostile, SymlinkedLedgerIsWrittenThroughAndSharesOneLock) {
  test::temp_dir dir;
  std::filesystem::create_directory(dir.path() + "/real");
  const auto target = dir.path() + "/real/ledger.json";
  const auto link = dir.path() + "/link.json";
  std::filesystem::create_symlink("real/ledger.json", link);  // dangling until the first add
  ASSERT_EQ(
      chipgauge(ledger_add(link, "nvidia-l4 --to BR --consignee A --quantity 1 --date 2025-03-01"))
          .status,
      0);
  ASSERT_EQ(
      chipgauge(ledger_add(link, "nvidia-l4 --to BR --consignee A --quantity 2 --date 2025-03-02"))
          .status,
      0);
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(nlohmann::json::parse(read_text_file(target)).at("shipments").size(), 2U);
  // The lock of the target holds against a writer that names the link.
  EXPECT_TRUE(std::filesystem::exists(target + ".lock"));
  EXPECT_FALSE(std::filesystem::exists(link + ".lock"));
  const auto locked =
      run_command("flock '" + target + ".lock' sh -c \"cd '" + source_dir + "' && '" +
                  CHIPGAUGE_BINARY + "' --specs-dir specs " +
                  ledger_add(link, "nvidia-l4 --to BR --consignee A --quantity 1") + "\"");
  EXPECT_EQ(locked.status, 2);
  EXPECT_NE(locked.err.find("is being written by another process"), std::string::npos)
      << locked.err;
}

TEST(CliHostile, NamesThatAreNotUtf8AreUsageErrorsAndMessagesAreEscapedAndCapped) {
  test::temp_dir dir;
  const auto ledger = dir.path() + "/l.json";
  const auto bad = chipgauge(
      ledger_add(ledger, "nvidia-l4 --to BR --consignee \"$(printf 'Acme\\377')\" --quantity 1"));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--consignee is not valid UTF-8 (byte 0xff at offset 4)"),
            std::string::npos)
      << bad.err;
  EXPECT_FALSE(std::filesystem::exists(ledger));
  // A terminal escape and a byte that is not UTF-8 in an id come back escaped.
  const auto esc = chipgauge("classify \"$(printf 'nv\\033[31mred\\001\\376')\"");
  EXPECT_EQ(esc.status, 2);
  EXPECT_NE(esc.err.find("unknown part 'nv\\x1b[31mred\\x01\\xfe'"), std::string::npos) << esc.err;
  EXPECT_EQ(esc.err.find('\x1b'), std::string::npos);
  // A 100 KB country name gives a short line that still says what was expected.
  const auto big = chipgauge("license nvidia-l4 --to " + std::string(100000, 'x'));
  EXPECT_EQ(big.status, 2);
  EXPECT_LT(big.err.size(), 400U) << big.err.size();
  EXPECT_NE(big.err.find("... (100000 bytes)"), std::string::npos) << big.err;
  EXPECT_NE(big.err.find("give an ISO 3166 code"), std::string::npos) << big.err;
  // A huge key in a file: the message is capped too.
  const auto sheet = dir.write("key.json", "{\"" + std::string(1000000, 'k') + "\": 1}");
  const auto k = chipgauge("specs validate '" + sheet + "'");
  EXPECT_EQ(k.status, 2);
  EXPECT_LT(k.err.size(), 5000U);
}

TEST(CliHostile, StaleTemporariesOfAKilledWriterAreRemovedOnTheNextWrite) {
  test::temp_dir dir;
  const auto ledger = dir.path() + "/l.json";
  ASSERT_EQ(chipgauge(ledger_add(ledger,
                                 "nvidia-l4 --to BR --consignee A --quantity 1 --date 2025-03-01"))
                .status,
            0);
  // A writer killed with -9 mid-write: its temporary names its host and a pid that is gone.
  const auto host = run_command("hostname").out;
  const auto child = run_command("sh -c 'echo $$'").out;  // a process that has exited
  std::string h = host.substr(0, host.find('\n'));
  for (char& c : h) {
    if (c == '-') c = '_';
  }
  const std::string pid = child.substr(0, child.find('\n'));
  const auto dead = dir.write(".l.json.tmp-" + h + "-" + pid + "-AbC123", "half a ledger");
  const auto old = dir.write(".l.json.tmp-XYZ789", "an old temporary of unknown origin");
  const auto fresh =
      dir.write(".l.json.tmp-otherhost-1-QwE456", "another host may be writing this");
  ASSERT_EQ(run_command("touch -d '2 hours ago' '" + old + "'").status, 0);
  const auto other = dir.write(".other.json.tmp-" + h + "-" + pid + "-AbC123", "not this ledger's");
  ASSERT_EQ(chipgauge(ledger_add(ledger,
                                 "nvidia-l4 --to BR --consignee A --quantity 1 --date 2025-03-02"))
                .status,
            0);
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_FALSE(std::filesystem::exists(old));
  EXPECT_TRUE(std::filesystem::exists(fresh));
  EXPECT_TRUE(std::filesystem::exists(other));
  EXPECT_EQ(nlohmann::json::parse(read_text_file(ledger)).at("shipments").size(), 2U);
}

TEST(CliHostile, OversizedFilesAreRefusedNamingSizeAndLimit) {
  test::temp_dir dir;
  const std::string big =
      R"({"schema": "chipgauge.spec/1", "id": ")" + std::string(2 << 20, 'x') + "\"}";
  const auto sheet = dir.write("big.json", big);
  const auto r = chipgauge("specs validate '" + sheet + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(sheet + ": $: the file is " + std::to_string(big.size()) +
                       " bytes: a spec sheet may be at most 1048576 bytes"),
            std::string::npos)
      << r.err;
  const auto ledger = dir.path() + "/big-ledger.csv";
  ASSERT_EQ(run_command("truncate -s 70M '" + ledger + "'").status, 0);
  const auto l = chipgauge("ledger report --ledger '" + ledger + "'");
  EXPECT_EQ(l.status, 2);
  EXPECT_NE(l.err.find("a ledger may be at most 67108864 bytes"), std::string::npos) << l.err;
}

TEST(CliLedger, ShipmentsCarryTheLicensingAnswer) {
  test::temp_dir dir;
  const auto ledger = dir.path() + "/l.json";
  const std::string h100 = "nvidia-h100-sxm5-80gb --date 2025-06-01 ";
  // 5,000 H100 to China: a license is required and says so; recorded without --fail-on-exceed.
  const auto cn = chipgauge(ledger_add(ledger, h100 + "--to CN --consignee Acme --quantity 5000"));
  ASSERT_EQ(cn.status, 0) << cn.err;
  EXPECT_NE(cn.out.find("licence required: yes"), std::string::npos) << cn.out;
  EXPECT_NE(cn.out.find("no licence recorded"), std::string::npos) << cn.out;
  auto doc = nlohmann::json::parse(read_text_file(ledger));
  EXPECT_EQ(doc.at("shipments").at(0).at("license_required"), "yes");
  // --fail-on-exceed: exit 4 and nothing recorded, until a license is given.
  const auto gate = chipgauge(
      ledger_add(ledger, h100 + "--to CN --consignee Acme --quantity 10 --fail-on-exceed"));
  EXPECT_EQ(gate.status, 4) << gate.err;
  EXPECT_NE(gate.out.find("not recorded"), std::string::npos) << gate.out;
  EXPECT_NE(gate.out.find("refused: needs a licence"), std::string::npos) << gate.out;
  EXPECT_EQ(nlohmann::json::parse(read_text_file(ledger)).at("shipments").size(), 1U);
  const auto licensed = chipgauge(ledger_add(
      ledger,
      h100 + "--to CN --consignee Acme --quantity 10 --fail-on-exceed --license D1234567 --format "
             "json"));
  ASSERT_EQ(licensed.status, 0) << licensed.err;
  const auto j = nlohmann::json::parse(licensed.out);
  EXPECT_EQ(j.at("shipment").at("license_required"), "yes");
  EXPECT_EQ(j.at("shipment").at("license"), "D1234567");
  EXPECT_TRUE(j.at("licensing").at("license_required").get<bool>());
  EXPECT_TRUE(j.at("fail_on_exceed").empty());
  doc = nlohmann::json::parse(read_text_file(ledger));
  EXPECT_EQ(doc.at("shipments").at(1).at("license"), "D1234567");
  // Whatever the licensing data says for a destination is what the ledger carries: the same
  // answer as `license`.
  const auto kp = chipgauge("ledger check --ledger '" + ledger + "' " + h100 +
                            "--to KP --consignee X --quantity 10 --format json");
  ASSERT_EQ(kp.status, 0) << kp.err;
  const auto lic = nlohmann::json::parse(
      chipgauge(
          "license nvidia-h100-sxm5-80gb --to KP --quantity 10 --as-of 2025-06-01 --format json")
          .out);
  const auto kj = nlohmann::json::parse(kp.out);
  EXPECT_EQ(kj.at("licensing").at("license_required"), lic.at("license_required"));
  EXPECT_EQ(kj.at("licensing").at("determined"), lic.at("determined"));
  // A quota exceeded fails the gate too (LPP: 1,700 H100 to one Tier 2 consignee in a year).
  // (On a copy of the data where the Diffusion framework binds before 2025-05-13: the real one
  // never did.)
  const auto br = dir.path() + "/br.json";
  ASSERT_EQ(
      chipgauge_binding(
          dir,
          ledger_add(
              br,
              "nvidia-h100-sxm5-80gb --date 2025-03-01 --to BR --consignee Acme --quantity 1000"))
          .status,
      0);
  const auto over = chipgauge_binding(
      dir, "ledger check --ledger '" + br +
               "' nvidia-h100-sxm5-80gb --date 2025-04-01 --to BR --consignee Acme --quantity 700 "
               "--fail-on-exceed");
  EXPECT_EQ(over.status, 4) << over.out << over.err;
  EXPECT_NE(over.out.find("refused: exceeds"), std::string::npos) << over.out;
  // Tier 2 under the diffusion rule: a license is required, LPP may apply; the gate wants the
  // authorisation named.
  const auto l4 = chipgauge_binding(
      dir, "ledger check --ledger '" + br +
               "' nvidia-l4 --date 2025-04-01 --to BR --consignee B --quantity 1 --fail-on-exceed");
  EXPECT_EQ(l4.status, 4) << l4.out;
  EXPECT_NE(l4.out.find("licence exceptions that may apply (on their conditions): ACM, LPP"),
            std::string::npos)
      << l4.out;
  EXPECT_EQ(
      chipgauge_binding(dir, "ledger check --ledger '" + br +
                                 "' nvidia-l4 --date 2025-04-01 --to BR --consignee B --quantity 1 "
                                 "--fail-on-exceed --license LPP")
          .status,
      0);
  // A part that needs no license and fits: exit 0 with the gate on.
  const auto t4 = chipgauge_binding(
      dir, "ledger check --ledger '" + br +
               "' nvidia-t4 --date 2025-04-01 --to BR --consignee B --quantity 1 --fail-on-exceed");
  // With the bundled data the same check needs no license: the framework never bound a shipment.
  const auto real = chipgauge(
      "ledger check --ledger '" + br +
      "' nvidia-l4 --date 2025-04-01 --to BR --consignee B --quantity 1 --fail-on-exceed");
  EXPECT_EQ(real.status, 0) << real.out;
  EXPECT_NE(real.out.find("licence required: no\n"), std::string::npos) << real.out;
  EXPECT_EQ(t4.status, 0) << t4.out;
  EXPECT_NE(t4.out.find("licence required: no\n"), std::string::npos) << t4.out;
}

TEST(CliLedger, BlankConsigneeOrLicenseIsRefused) {
  test::temp_dir dir;
  const auto ledger = dir.path() + "/l.json";
  for (const std::string consignee : {"''", "'   '"}) {
    const auto r = chipgauge(
        ledger_add(ledger, "nvidia-h100-sxm5-80gb --to CN --quantity 1 --consignee " + consignee));
    EXPECT_EQ(r.status, 2) << consignee;
    EXPECT_NE(r.err.find("--consignee is empty"), std::string::npos) << r.err;
    EXPECT_EQ(chipgauge("ledger check --ledger '" + ledger +
                        "' nvidia-l4 --to BR --quantity 1 --consignee " + consignee)
                  .status,
              2);
  }
  EXPECT_EQ(
      chipgauge(ledger_add(ledger, "nvidia-l4 --to BR --quantity 1 --consignee A --license ' '"))
          .status,
      2);
  EXPECT_FALSE(std::filesystem::exists(ledger));
}

}  // namespace
}  // namespace chipgauge

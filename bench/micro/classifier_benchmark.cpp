// Classifier throughput (targets: >= 1,000,000 parts/s on one core for a parsed spec
// against every regime in force; < 50 ms to load, validate and classify all of specs/; <= 20 us
// to classify and render one part as JSON; < 5 ms to classify and render every bundled part as
// one JSON array, the batch form of POST /v1/classify with nothing cached).
//   build/bench/micro/classifier_benchmark --benchmark_min_time=1
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/report.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

using chipgauge::classifier::catalog;
using chipgauge::classifier::classification;
using chipgauge::classifier::classification_engine;
using chipgauge::classifier::evaluation_plan;

namespace {

using namespace chipgauge;

const catalog& bundled() {
  static const catalog cat = catalog::load(CHIPGAUGE_SOURCE_SPECS);
  return cat;
}

// One parsed spec against every regime in force today, reusing the result's buffers.
void BM_ClassifyParsedSpec(benchmark::State& state) {
  const auto& cat = bundled();
  const evaluation_plan plan(cat.rules(), date::today());
  const classification_engine engine(cat.rules());
  const auto* spec = cat.parts().find("nvidia-h100-sxm5-80gb");
  classification out;
  for (auto _ : state) {
    engine.classify(*spec, plan, out);
    benchmark::DoNotOptimize(out.eccn.data());
  }
  if (out.eccn != "3A090.a.1") state.SkipWithError("unexpected ECCN");
  state.SetItemsProcessed(state.iterations());
  state.counters["regimes"] = static_cast<double>(plan.entries().size());
}
BENCHMARK(BM_ClassifyParsedSpec);

// Every part of the database in turn (ranges, boards, HBM stacks included).
void BM_ClassifyEveryPart(benchmark::State& state) {
  const auto& cat = bundled();
  const evaluation_plan plan(cat.rules(), date::today());
  const classification_engine engine(cat.rules());
  const auto& parts = cat.parts().parts();
  classification out;
  std::size_t i = 0;
  for (auto _ : state) {
    engine.classify(*parts[i], plan, out);
    benchmark::DoNotOptimize(out.eccn.data());
    if (++i == parts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClassifyEveryPart);

// Classification plus its JSON rendering (what `classify --format json` does per part).
void BM_ClassifyAndRenderJson(benchmark::State& state) {
  const auto& cat = bundled();
  const evaluation_plan plan(cat.rules(), date::today());
  const classification_engine engine(cat.rules());
  const auto* spec = cat.parts().find("nvidia-h100-sxm5-80gb");
  classification out;
  for (auto _ : state) {
    engine.classify(*spec, plan, out);
    auto text = to_json(out, plan);
    benchmark::DoNotOptimize(text.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClassifyAndRenderJson);

// The batch of every bundled part (POST /v1/classify with an array of {"part": ID}, or
// `classify --all --format json`) when nothing is cached: classify each part, render the array.
void BM_ClassifyAndRenderJsonEveryPart(benchmark::State& state) {
  const auto& cat = bundled();
  const evaluation_plan plan(cat.rules(), date::today());
  const classification_engine engine(cat.rules());
  const auto& parts = cat.parts().parts();
  std::vector<classification> out(parts.size());
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < parts.size(); ++i) engine.classify(*parts[i], plan, out[i]);
    auto text = to_json(out, plan);
    benchmark::DoNotOptimize(text.data());
    bytes = text.size();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(parts.size()));
  state.counters["parts"] = static_cast<double>(parts.size());
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ClassifyAndRenderJsonEveryPart)->Unit(benchmark::kMillisecond);

// Cold path: load and validate every rule and sheet under specs/, then classify every part.
void BM_LoadValidateClassifyAll(benchmark::State& state) {
  std::size_t parts = 0;
  for (auto _ : state) {
    const auto cat = catalog::load(CHIPGAUGE_SOURCE_SPECS);
    const evaluation_plan plan(cat.rules(), date::today());
    const classification_engine engine(cat.rules());
    classification out;
    for (const auto& p : cat.parts().parts()) {
      engine.classify(*p, plan, out);
      benchmark::DoNotOptimize(out.eccn.data());
    }
    parts = cat.parts().parts().size();
  }
  state.counters["parts"] = static_cast<double>(parts);
}
BENCHMARK(BM_LoadValidateClassifyAll)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

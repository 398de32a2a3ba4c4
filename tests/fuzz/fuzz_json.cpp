// Fuzz target: the JSON reader of core (parse_json_text and json_node's strict accessors).
// Every value of a document is visited with every accessor; a document that parses must print
// and parse back to the same value.
#include "fuzz_target.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace {

using chipgauge::json_node;
using chipgauge::spec_error;

// The harness's own recursion stops here (its stack, not the product's, is at stake below).
constexpr int max_walk_depth = 256;

template <typename F>
void rejected_or_ok(F&& f) {
  try {
    f();
  } catch (const spec_error& e) {
    chipgauge::fuzz::check(!e.file().empty() && !e.json_path().empty(),
                           "a spec_error without file or JSON path");
  }
}

// Visits values depth first, at most `budget` of them (a large document would otherwise make each
// run slow): the accessors of the value's own type, and one of another type in turn, which must
// fail with the file and path.
void walk(const json_node& n, int depth, int& budget) {
  if (depth > max_walk_depth || --budget < 0) return;
  const auto& v = n.raw();
  if (v.is_string()) {
    rejected_or_ok([&] { (void)n.string(); });
    rejected_or_ok([&] { (void)n.one_of({"in_force", "proposed"}); });
  } else if (v.is_number()) {
    rejected_or_ok([&] { (void)n.number(); });
    rejected_or_ok([&] { (void)n.number_in(0, 1e5, "GB/s"); });
    rejected_or_ok([&] { (void)n.integer_in(1, 1LL << 40); });
  } else if (v.is_boolean()) {
    rejected_or_ok([&] { (void)n.boolean(); });
  }
  switch (budget % 5) {
    case 0: rejected_or_ok([&] { (void)n.string(); }); break;
    case 1: rejected_or_ok([&] { (void)n.number(); }); break;
    case 2:
      rejected_or_ok([&] { n.expect_keys({"schema", "id", "bandwidth_gb_s", "area_mm2"}); });
      break;
    case 3: rejected_or_ok([&] { (void)n.at("schema"); }); break;
    default: rejected_or_ok([&] { (void)n.at(std::size_t{0}); }); break;
  }
  if (n.is_object()) {
    std::vector<std::string_view> keys;
    const auto members = n.members();
    for (const auto& [key, value] : members) keys.push_back(key);
    for (const auto& [key, value] : members) {
      chipgauge::fuzz::check(n.find(key).has_value() || value.is_null(),
                             "a member find() does not see");
      walk(value, depth + 1, budget);
    }
    if (!keys.empty()) (void)chipgauge::closest_match(keys.front(), keys);
  } else if (n.is_array()) {
    for (const auto& e : n.elements()) walk(e, depth + 1, budget);
  }
}

}  // namespace

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  const auto text = chipgauge::fuzz::as_text(data, size);
  const std::string file = "fuzz.json";
  nlohmann::json doc;
  try {
    doc = chipgauge::parse_json_text(text, file);
  } catch (const spec_error& e) {
    chipgauge::fuzz::rejected(e);
    chipgauge::fuzz::check(e.file() == file, "a parse error that does not name the file");
    return 0;
  }
  int budget = 2000;
  walk(json_node(doc, file), 0, budget);
  // What parsed prints and parses back to the same value.
  const auto printed = doc.dump();
  nlohmann::json again;
  try {
    again = chipgauge::parse_json_text(printed, file);
  } catch (const spec_error& e) {
    chipgauge::fuzz::check(false, std::string("a printed document does not parse: ") + e.what());
  }
  chipgauge::fuzz::check(again == doc, "a document differs after printing and parsing it again");
  return 0;
}

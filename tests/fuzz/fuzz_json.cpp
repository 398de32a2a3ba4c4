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
    chipgauge::fuzz::check(!e.file().empty() && !e.json_path().empty(), "a spec_error without file or JSON path");
  }
}

void walk(const json_node& n, int depth) {
  if (depth > max_walk_depth) return;
  rejected_or_ok([&] { (void)n.string(); });
  rejected_or_ok([&] { (void)n.one_of({"in_force", "proposed"}); });
  rejected_or_ok([&] { (void)n.boolean(); });
  rejected_or_ok([&] { (void)n.number(); });
  rejected_or_ok([&] { (void)n.number_in(0, 1e5, "GB/s"); });
  rejected_or_ok([&] { (void)n.integer_in(1, 1LL << 40); });
  rejected_or_ok([&] { n.expect_keys({"schema", "id", "bandwidth_gb_s", "area_mm2"}); });
  rejected_or_ok([&] { (void)n.at("schema"); });
  rejected_or_ok([&] { (void)n.find("id"); });
  rejected_or_ok([&] { (void)n.at(std::size_t{0}); });
  if (n.is_object()) {
    std::vector<std::string_view> keys;
    const auto members = n.members();
    for (const auto& [key, value] : members) keys.push_back(key);
    for (const auto& [key, value] : members) {
      chipgauge::fuzz::check(n.find(key).has_value() || value.is_null(), "a member find() does not see");
      (void)chipgauge::closest_match(key, keys);
      walk(value, depth + 1);
    }
  } else if (n.is_array()) {
    for (const auto& e : n.elements()) walk(e, depth + 1);
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
  walk(json_node(doc, file), 0);
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

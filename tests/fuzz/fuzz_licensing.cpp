// Fuzz target: a licensing file (`chipgauge.licensing/1`) as the licensing directory holds it,
// compiled against the bundled country groups; a file that loads answers licensing questions
// (parts of three kinds, four destinations, two dates, with and without what-if) and checks
// quotas against a small ledger. The file is named after its "id", as the loader requires.
#include "fuzz_target.hpp"

#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/ledger.hpp"
#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/core/error.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

using chipgauge::classifier::catalog;
using chipgauge::classifier::check_quotas;
using chipgauge::classifier::chip_spec;
using chipgauge::classifier::claimed_quota;
using chipgauge::classifier::ledger_report;
using chipgauge::classifier::license_query;
using chipgauge::classifier::licensing_engine;
using chipgauge::classifier::licensing_set;
using chipgauge::classifier::shipment;
using chipgauge::classifier::shipment_ledger;

namespace {

using namespace chipgauge;

struct fixture {
  catalog cat;
  std::vector<const chip_spec*> parts;
  std::string dir;
};

fixture& bundled() {
  static fixture f = [] {
    fixture x{catalog::load(fuzz::specs_dir()), {}, fuzz::scratch_dir() + "/licensing"};
    (void)x.cat.countries();
    for (const auto* id : {"nvidia-h100-sxm5-80gb", "nvidia-h20", "nvidia-hgx-h100-8gpu"}) {
      if (const auto* p = x.cat.parts().find(id)) x.parts.push_back(p);
    }
    std::filesystem::create_directories(x.dir);
    return x;
  }();
  return f;
}

// The file name the loader expects: the document's id when it looks like one.
std::string file_name_for(std::string_view text) {
  static const std::regex id_re("[a-z0-9][a-z0-9._-]{0,79}");
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_object() && doc.contains("id") && doc["id"].is_string()) {
    const auto id = doc["id"].get<std::string>();
    if (std::regex_match(id, id_re)) return id + ".json";
  }
  return "fuzz.json";
}

}  // namespace

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  auto& fx = bundled();
  const auto text = fuzz::as_text(data, size);
  for (const auto& e : fs::directory_iterator(fx.dir)) fs::remove(e.path());
  fuzz::write_scratch("licensing/" + file_name_for(text), text);
  licensing_set set;
  try {
    set = licensing_set::load(fx.dir, fx.cat.countries());
  } catch (const error& e) {
    fuzz::rejected(e);
    return 0;  // rejected: what bad input must get
  }
  const licensing_engine engine(fx.cat.rules(), set, fx.cat.countries());
  shipment_ledger ledger;
  for (const auto* p : fx.parts) {
    for (const auto* to : {"CN", "AE", "DE", "KP"}) {
      for (const auto* day : {"2024-06-01", "2026-02-01"}) {
        for (const bool what_if : {false, true}) {
          license_query q;
          q.part = p;
          q.to = to;
          q.quantity = 1000;
          q.as_of = *date::parse(day);
          q.what_if = what_if;
          try {
            const auto answer = engine.answer(q);
            fuzz::check(nlohmann::json::accept(to_json(answer)),
                        "a licence answer's JSON is not valid JSON");
            (void)to_text(answer);
            shipment s;
            s.day = q.as_of;
            s.part = p->id;
            s.tpp_each = answer.item.metrics.tpp;
            s.quantity = q.quantity;
            s.consignee = "Acme";
            s.country = to;
            s.eccn = std::string(answer.item.eccn);
            const auto checks = check_quotas(ledger, s, *p, engine, what_if);
            s.quota = claimed_quota(checks);
            ledger.shipments.push_back(s);
          } catch (const error&) {
            // A question the data cannot answer is refused with a chipgauge error.
          }
        }
      }
    }
  }
  (void)ledger_report(ledger, 1000);
  return 0;
}

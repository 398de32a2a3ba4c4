// Fuzz target: a shipment ledger, JSON (`chipgauge.ledger/1`) when the input starts with '{'
// (after white space), CSV otherwise. A ledger that loads is saved in both formats and loaded
// again: every shipment must come back unchanged. Its report is rendered.
#include "fuzz_target.hpp"

#include "chipgauge/classifier/ledger.hpp"
#include "chipgauge/core/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>

using chipgauge::classifier::ledger_report;
using chipgauge::classifier::load_ledger;
using chipgauge::classifier::save_ledger;
using chipgauge::classifier::shipment;
using chipgauge::classifier::shipment_ledger;

namespace {

using namespace chipgauge;

bool same(const shipment& a, const shipment& b) {
  return a.day == b.day && a.part == b.part && a.tpp_each == b.tpp_each &&
         a.quantity == b.quantity && a.consignee == b.consignee && a.country == b.country &&
         a.quota == b.quota && a.eccn == b.eccn;
}

void check_round_trip(const shipment_ledger& ledger, const std::string& name) {
  const auto path = fuzz::scratch_dir() + "/" + name;
  try {
    save_ledger(path, ledger);
  } catch (const error&) {
    return;  // refusing to write is allowed; writing what cannot be read back is not
  }
  shipment_ledger again;
  try {
    again = load_ledger(path);
  } catch (const error& e) {
    fuzz::check(false, "a saved ledger (" + name + ") does not load again: " + e.what());
  }
  fuzz::check(again.shipments.size() == ledger.shipments.size(),
              "a saved ledger (" + name + ") has another number of shipments");
  for (std::size_t i = 0; i < ledger.shipments.size(); ++i)
    fuzz::check(same(again.shipments[i], ledger.shipments[i]),
                "a shipment changes when saved and loaded (" + name + ")");
}

}  // namespace

int fuzz_one(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && text[first] == '{';
  const auto path = fuzz::write_scratch(json ? "in.json" : "in.csv", text);
  shipment_ledger ledger;
  try {
    ledger = load_ledger(path);
  } catch (const error& e) {
    fuzz::rejected(e);
    return 0;  // rejected: what bad input must get
  }
  check_round_trip(ledger, "out.json");
  check_round_trip(ledger, "out.csv");
  (void)ledger_report(ledger, 1000);
  return 0;
}

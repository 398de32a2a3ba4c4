// chipgauge license PART --to COUNTRY [...]; chipgauge ledger add|check|report; chipgauge fleet
// ITEM...; chipgauge fleet collect DIR|history:SELECTOR [--history FILE] [--format text|json|md]
// [--z-threshold Z] [--pubkey FILE]
//                          [--as-of DATE] [--jobs N]
#include "chipgauge/bench/fleet.hpp"
#include "chipgauge/certify/fleet.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/fleet.hpp"
#include "chipgauge/classifier/ledger.hpp"
#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/signing.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/history/certificates.hpp"
#include "chipgauge/history/store.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>

using chipgauge::classifier::assess_shipment;
using chipgauge::classifier::canonical_stated_eccn;
using chipgauge::classifier::catalog;
using chipgauge::classifier::check_ledger_name;
using chipgauge::classifier::evaluate_fleet;
using chipgauge::classifier::fleet_item;
using chipgauge::classifier::ledger_lock;
using chipgauge::classifier::ledger_report;
using chipgauge::classifier::license_query;
using chipgauge::classifier::licensing_engine;
using chipgauge::classifier::load_ledger;
using chipgauge::classifier::max_plausible_quantity;
using chipgauge::classifier::output_format;
using chipgauge::classifier::render_fleet;
using chipgauge::classifier::render_ledger_check;
using chipgauge::classifier::save_ledger;
using chipgauge::classifier::shipment;
using chipgauge::classifier::transaction_kind;

namespace chipgauge::cli {

namespace {

std::optional<transaction_kind> parse_transaction(const std::string& t) {
  if (t.empty()) return std::nullopt;
  static constexpr transaction_kind kinds[] = {
      transaction_kind::export_, transaction_kind::reexport, transaction_kind::in_country,
      transaction_kind::import_};
  return kinds[parse_choice("--transaction", t, {"export", "reexport", "in-country", "import"})];
}

struct license_options {
  std::string part;
  std::string to;
  std::string as_of;
  std::string from = "US";
  std::string party_hq;
  std::string transaction;
  long long quantity = 1;
  bool what_if = false;
  std::string format = "text";
  std::string eccn;
  std::string end_user;
  std::string end_use;
  std::string exporter;
};

// --eccn: EAR99 or an ECCN such as 5A992.c (digit, category letter A-E, three digits, paragraphs).
std::string parse_stated_eccn(const std::string& text) {
  const auto eccn = canonical_stated_eccn(text);
  if (!eccn)
    throw usage_error(fmt::format(
        "--eccn '{}' is not an ECCN: expected EAR99 or a number such as 5A992.c or 3A991.a", text));
  return *eccn;
}

}  // namespace

void add_license(CLI::App& app, const global_options& g, action& run) {
  auto o = std::make_shared<license_options>();
  auto* cmd = app.add_subcommand(
      "license", "may this part go there, to them, on that date, and under what condition?");
  cmd->add_option("part", o->part, "part id or spec-sheet path")->required();
  cmd->add_option(
         "--to", o->to,
         "destination country or region (ISO 3166-1 or 3166-2 code, or name: CN, UA-43, Crimea)")
      ->required();
  cmd->add_option("--as-of", o->as_of, "date, YYYY-MM-DD (default: today; 2022-10-07 or later)");
  cmd->add_option("--from", o->from, "country the item ships from (default: US)");
  cmd->add_option("--party-hq", o->party_hq,
                  "where the consignee or end user is headquartered (default: the destination)");
  cmd->add_option("--transaction", o->transaction,
                  "export, reexport, in-country or import (default: from the countries)");
  cmd->add_option("--quantity", o->quantity, "units in the shipment (default 1)");
  cmd->add_flag("--what-if", o->what_if,
                "also evaluate regimes announced but not enforced, or proposed (labelled)");
  cmd->add_option(
      "--eccn", o->eccn,
      "the item's ECCN where chipgauge does not classify it (EAR99, 5A992.c); default: the "
      "stricter reading");
  cmd->add_option(
      "--end-user", o->end_user,
      "end-user type for the embargo carve-outs and conditional country groups (government, "
      "state-owned, civil, approved-commercial); default: none applies");
  cmd->add_option(
      "--end-use", o->end_use,
      "end use for the tariff exemptions (us-datacenter, repair, us-rd, startup, consumer, "
      "civil-industrial, us-public-sector); default: none applies");
  cmd->add_option(
      "--exporter", o->exporter,
      "who exports (nvidia, amd, intel, other): a letter binds only its recipients; default: "
      "unknown");
  cmd->add_option("--format", o->format, "text or json");
  cmd->callback([&run, &g, o] {
    run = [&g, o] {
      const auto format = parse_text_or_json(o->format);
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      const auto& countries = cat.countries();
      const licensing_engine engine(cat.rules(), cat.licensing(), countries);
      license_query q;
      q.as_of = license_date(o->as_of, engine);
      const auto to = countries.resolve_place(o->to);
      q.to = to.in->alpha2;
      if (to.part) q.to_region = to.part->code;
      const auto from = countries.resolve_place(o->from);
      q.from = from.in->alpha2;
      if (from.part) q.from_region = from.part->code;
      q.stated_eccn = parse_stated_eccn(o->eccn);
      q.end_user = o->end_user;
      q.end_use = o->end_use;
      q.exporter = o->exporter;
      if (!o->party_hq.empty()) q.party_hq = countries.resolve(o->party_hq).alpha2;
      q.transaction = parse_transaction(o->transaction);
      check_quantity("--quantity", o->quantity, false);
      q.quantity = o->quantity;
      q.what_if = o->what_if;
      q.part = &cat.part(o->part);
      const auto a = engine.answer(q);
      emit(format == output_format::json ? to_json(a) : to_text(a));
      return 0;
    };
  });
}

void add_ledger(CLI::App& app, const global_options& g, action& run) {
  auto* ledger = app.add_subcommand(
      "ledger", "a shipment ledger: TPP per consignee, country and year against quotas");
  ledger->require_subcommand(1);
  struct options {
    std::string file;
    std::string part;
    std::string to;
    std::string consignee;
    long long quantity = 1;
    std::string date;
    std::string license;
    bool what_if = false;
    bool fail_on_exceed = false;
    std::string format = "text";
  };
  for (const char* verb : {"add", "check"}) {
    auto o = std::make_shared<options>();
    const bool add = std::string(verb) == "add";
    auto* cmd = ledger->add_subcommand(
        verb, add ? "record a shipment (and say whether it fits the quotas and needs a licence)"
                  : "would this shipment fit the quotas, and does it need a licence?");
    cmd->add_option("--ledger", o->file,
                    "the ledger file (.json or .csv); created by the first add")
        ->required();
    cmd->add_option("part", o->part, "part id or sheet path")->required();
    cmd->add_option("--to", o->to, "destination country")->required();
    cmd->add_option("--consignee", o->consignee, "ultimate consignee")->required();
    cmd->add_option("--quantity", o->quantity, "units (1 or more)")->required();
    cmd->add_option("--date", o->date, "shipment date, YYYY-MM-DD (default: today)");
    cmd->add_option(
        "--license", o->license,
        "the authorisation the shipment goes under, recorded with it: a licence number, or a "
        "licence exception the answer lists (LPP) whose conditions are met");
    cmd->add_flag(
        "--what-if", o->what_if,
        "test quotas of regimes announced but not enforced (the diffusion rule after 2025-05-13)");
    cmd->add_flag(
        "--fail-on-exceed", o->fail_on_exceed,
        "exit 4 (and, for add, record nothing) when the shipment exceeds a quota in force or "
        "needs a licence (or cannot be shown not to) and no --license is given");
    cmd->add_option("--format", o->format, "text or json");
    cmd->callback([&run, &g, o, add] {
      run = [&g, o, add] {
        const auto format = parse_text_or_json(o->format);
        check_quantity("--quantity", o->quantity, true);
        check_ledger_name("--consignee", o->consignee);
        if (!o->license.empty()) check_ledger_name("--license", o->license);
        auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
        const auto& countries = cat.countries();
        const licensing_engine engine(cat.rules(), cat.licensing(), countries);
        const auto day = license_date(o->date, engine, "--date");
        const auto& part = cat.part(o->part);
        // The file itself, through any symbolic link: locked, read and replaced under one name.
        const std::string file = resolve_write_target(o->file);
        std::unique_ptr<ledger_lock> lock;
        if (add) lock = std::make_unique<ledger_lock>(file);
        auto l = load_ledger(file);
        shipment s;
        s.day = day;
        s.quantity = o->quantity;
        s.consignee = o->consignee;
        s.country = countries.resolve(o->to).alpha2;
        s.license = o->license;
        const auto a = assess_shipment(l, std::move(s), part, engine, o->what_if);
        const bool refused = a.refused(o->fail_on_exceed);
        const bool record = add && !refused;
        // The output is rendered before the ledger is written: a failure here leaves it unchanged.
        const auto text = render_ledger_check(a, {o->file, add, record, o->fail_on_exceed}, format);
        if (record) {
          l.shipments.push_back(a.s);
          save_ledger(file, l);
        }
        emit(text);
        return refused ? static_cast<int>(exit_code::regression) : 0;
      };
    });
  }
  auto ro = std::make_shared<options>();
  auto* report = ledger->add_subcommand("report", "totals per consignee and country per year");
  report->add_option("--ledger", ro->file, "the ledger file")->required();
  report->callback([&run, &g, ro] {
    run = [&g, ro] {
      if (!std::filesystem::exists(ro->file))
        throw usage_error(fmt::format("no ledger at {}", ro->file));
      const auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      emit(ledger_report(load_ledger(ro->file),
                         cat.rules().definitions().h100_equivalent_tpp.value));
      return 0;
    };
  });
}

namespace {

// fleet collect: certificates from a whole fleet (a directory, e.g. a Slurm array's shared output,
// or the history store's) aggregated by certify/fleet.hpp. Exit 0 when every counted device passes
// and every certificate verifies, 4 when any device fails, 3 otherwise (inconclusive or unverified
// certificates).
CLI::App* add_fleet_collect(CLI::App& fleet_cmd, const global_options& g, action& run) {
  struct options {
    std::string dir;
    std::string format = "text";
    double z = 3.5;
    std::string pubkey;
    std::string as_of;
    std::string history;
    unsigned jobs = 0;
  };
  auto o = std::make_shared<options>();
  auto* cmd = fleet_cmd.add_subcommand(
      "collect",
      "aggregate a directory of certificates, or those in the history store: per node and "
      "device verdicts, outliers per SKU, SKU and driver mix, totals against quotas (exit 0 all "
      "pass, 4 any fail, 3 otherwise)");
  cmd->add_option(
         "dir", o->dir,
         "directory searched recursively for chipgauge.certificate/1 files, or "
         "history:device=SUBSTR,since=DATE,until=DATE for the certificates in the history store")
      ->required();
  cmd->add_option("--history", o->history,
                  "the history store for a history: selector (default: $CHIPGAUGE_HISTORY, else "
                  "$XDG_DATA_HOME/chipgauge/history.db)");
  cmd->add_option("--format", o->format, "text, json or md");
  cmd->add_option(
      "--z-threshold", o->z,
      "outlier when a device's modified z-score among its SKU is below minus this (default 3.5)");
  cmd->add_option("--pubkey", o->pubkey,
                  "count only certificates signed by this Ed25519 public key");
  cmd->add_option("--as-of", o->as_of, "date for the quota and reporting checks (default: today)");
  cmd->add_option(
         "--jobs", o->jobs,
         "threads reading and verifying certificates (default: the hardware threads); same "
         "answer for any N")
      ->check(CLI::Range(1U, 1024U));
  cmd->callback([&run, &g, o] {
    run = [&g, o] {
      static constexpr output_format formats[] = {output_format::text, output_format::json,
                                                  output_format::md};
      const auto format = formats[parse_choice("--format", o->format, {"text", "json", "md"})];
      if (!(o->z > 0) || o->z > 100)
        throw usage_error(
            fmt::format("--z-threshold {}: expected a number above 0 and at most 100", o->z));
      certify::fleet_collect_options opts;
      opts.z_threshold = o->z;
      opts.jobs = o->jobs;
      if (!o->pubkey.empty()) {
        (void)load_ed25519_public_key(o->pubkey);
        opts.trusted_key = o->pubkey;
      }
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      const licensing_engine fleet_engine(cat.rules(), cat.licensing(), cat.countries());
      const auto as_of = license_date(o->as_of, fleet_engine);
      certify::fleet_collection c;
      if (history::is_selector(o->dir)) {
        const auto sel = history::parse_selector(o->dir);
        history::open_options ho;
        ho.create = false;  // a typo in the path is not an empty fleet
        auto store = history::store::open(history::locate_store(o->history), ho);
        c = history::collect_fleet_store(store, sel, opts);
      } else {
        if (!o->history.empty())
          throw usage_error("--history goes with a history: selector, not a directory");
        c = certify::collect_fleet_dir(o->dir, opts);
      }
      const auto items = certify::fleet_items(c, cat);
      emit(certify::render_fleet_collection(c, items, evaluate_fleet(items, fleet_engine, as_of),
                                            as_of, format));
      if (c.count("fail") > 0) return 4;
      return c.unverified.empty() && c.count("pass") == static_cast<long long>(c.devices.size()) &&
                     !c.devices.empty()
                 ? 0
                 : 3;
    };
  });
  return cmd;
}

}  // namespace

void add_fleet(CLI::App& app, const global_options& g, action& run) {
  struct options {
    std::vector<std::string> items;
    std::string as_of;
    std::string format = "text";
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand(
      "fleet", "total TPP and dense peak OP/s of parts or measured devices against thresholds");
  cmd->add_option(
      "items", o->items,
      "PART_OR_REPORT[:COUNT]... (a part id, a sheet path or a measurement report; default "
      "count 1)");
  cmd->add_option("--as-of", o->as_of, "date (default: today)");
  cmd->add_option("--format", o->format, "text or json");
  auto* collect = add_fleet_collect(*cmd, g, run);
  cmd->callback([&run, &g, o, collect] {
    if (collect->parsed()) return;
    run = [&g, o] {
      if (o->items.empty())
        throw usage_error("fleet: expected PART_OR_REPORT[:COUNT]... or 'collect DIR'");
      const auto format = parse_text_or_json(o->format);
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      const licensing_engine fleet_engine(cat.rules(), cat.licensing(), cat.countries());
      const auto as_of = license_date(o->as_of, fleet_engine);
      std::vector<fleet_item> items;
      for (const auto& arg : o->items) {
        std::string name = arg;
        long long count = 1;
        if (const auto colon = arg.rfind(':'); colon != std::string::npos) {
          name = arg.substr(0, colon);
          const auto n = arg.substr(colon + 1);
          char* end = nullptr;
          errno = 0;
          count = std::strtoll(n.c_str(), &end, 10);
          if (n.empty() || *end != '\0' || count < 1 || count > max_plausible_quantity ||
              errno == ERANGE)
            throw usage_error(fmt::format("'{}': the count after ':' must be between 1 and {}",
                                          quote_input(arg), max_plausible_quantity));
        }
        items.push_back(bench::fleet_item_for(cat, name, count));
      }
      emit(render_fleet(items, evaluate_fleet(items, fleet_engine, as_of), as_of, format));
      return 0;
    };
  });
}

}  // namespace chipgauge::cli

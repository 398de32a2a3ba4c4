// chipgauge license PART --to COUNTRY [...]; chipgauge ledger add|check|report; chipgauge fleet ITEM...
#include "chipgauge/bench/measure.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/engine.hpp"
#include "chipgauge/classifier/fleet.hpp"
#include "chipgauge/classifier/ledger.hpp"
#include "chipgauge/classifier/licensing.hpp"
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/core/version.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cerrno>
#include <regex>
#include <filesystem>
#include <memory>

namespace chipgauge::cli {

namespace {

// Input sanity, not regulation: no shipment or fleet counts more units than this.
constexpr long long max_quantity = 1'000'000'000;

std::optional<transaction_kind> parse_transaction(const std::string& t) {
  if (t.empty()) return std::nullopt;
  if (t == "export") return transaction_kind::export_;
  if (t == "reexport") return transaction_kind::reexport;
  if (t == "in-country") return transaction_kind::in_country;
  if (t == "import") return transaction_kind::import_;
  throw usage_error(fmt::format("unknown --transaction '{}': expected export, reexport, in-country or import", quote_input(t)));
}

// A date option, checked against the first rule the data holds.
date licence_date(const std::string& text, const licensing_engine& engine, const char* option = "--as-of") {
  if (!text.empty() && text != "today" && !date::parse(text))
    throw usage_error(fmt::format("{} '{}' is not a date: expected YYYY-MM-DD (e.g. 2025-03-01)", option, quote_input(text)));
  const auto d = parse_as_of(text);
  if (d < engine.first_date())
    throw usage_error(fmt::format("{} {} is before the first advanced-computing rule ({}): expected that date or later", option,
                                  d.to_string(), engine.first_date().to_string()));
  return d;
}

struct licence_options {
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
};

// --eccn: EAR99 or an ECCN such as 5A992.c (digit, category letter A-E, three digits, paragraphs).
std::string parse_stated_eccn(const std::string& text) {
  if (text.empty()) return text;
  static const std::regex re("(EAR99|[0-9][A-E][0-9]{3}(\\.[a-z0-9]+)*)", std::regex::icase);
  if (!std::regex_match(text, re))
    throw usage_error(fmt::format("--eccn '{}' is not an ECCN: expected EAR99 or a number such as 5A992.c or 3A991.a", text));
  if (text.size() == 5 && std::toupper(static_cast<unsigned char>(text[0])) == 'E') return "EAR99";
  std::string out = text;  // 5a992.C -> 5A992.c
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    out[i] = static_cast<char>(i < 5 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

std::string quota_text(const std::vector<quota_check>& checks, double h100) {
  std::string out;
  for (const auto& c : checks) {
    out += fmt::format("  {} {}{} ({}): used {} + this {} = {} of {} TPP ({:.1f} of {:.1f} H100-equivalents): {}\n",
                       c.regime->id, c.quota->id, c.what_if ? " [what-if]" : "", c.scope, group_thousands(c.used_tpp),
                       group_thousands(c.shipment_tpp), group_thousands(c.used_tpp + c.shipment_tpp),
                       group_thousands(c.limit_tpp), (c.used_tpp + c.shipment_tpp) / h100, c.limit_tpp / h100,
                       c.fits ? "fits" : "exceeds");
  }
  if (checks.empty()) out += "  no quota applies to this shipment on its date (add --what-if to test announced regimes)\n";
  return out;
}

nlohmann::ordered_json quota_json(const std::vector<quota_check>& checks, double h100) {
  auto arr = nlohmann::ordered_json::array();
  for (const auto& c : checks)
    arr.push_back({{"regime", c.regime->id}, {"quota", c.quota->id}, {"what_if", c.what_if}, {"scope", c.scope},
                   {"used_tpp", c.used_tpp}, {"shipment_tpp", c.shipment_tpp}, {"limit_tpp", c.limit_tpp},
                   {"total_h100_equivalents", (c.used_tpp + c.shipment_tpp) / h100}, {"fits", c.fits},
                   {"evidence", std::string(to_string(c.quota->evidence))}});
  return arr;
}

}  // namespace

void add_license(CLI::App& app, const global_options& g, action& run) {
  auto o = std::make_shared<licence_options>();
  auto* cmd = app.add_subcommand("license", "may this part go there, to them, on that date, and under what condition?");
  cmd->add_option("part", o->part, "part id or spec-sheet path")->required();
  cmd->add_option("--to", o->to, "destination country or region (ISO 3166-1 or 3166-2 code, or name: CN, UA-43, Crimea)")->required();
  cmd->add_option("--as-of", o->as_of, "date, YYYY-MM-DD (default: today; 2022-10-07 or later)");
  cmd->add_option("--from", o->from, "country the item ships from (default: US)");
  cmd->add_option("--party-hq", o->party_hq, "where the consignee or end user is headquartered (default: the destination)");
  cmd->add_option("--transaction", o->transaction, "export, reexport, in-country or import (default: from the countries)");
  cmd->add_option("--quantity", o->quantity, "units in the shipment (default 1)");
  cmd->add_flag("--what-if", o->what_if, "also evaluate regimes announced but not enforced, or proposed (labelled)");
  cmd->add_option("--eccn", o->eccn, "the item's ECCN where chipgauge does not classify it (EAR99, 5A992.c); default: the stricter reading");
  cmd->add_option("--end-user", o->end_user, "end-user type for the embargo carve-outs (government, state-owned, civil); default: none applies");
  cmd->add_option("--format", o->format, "text or json");
  cmd->callback([&run, &g, o] {
    run = [&g, o] {
      if (o->format != "text" && o->format != "json") throw usage_error(fmt::format("unknown --format '{}': expected text or json", quote_input(o->format)));
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      const auto& countries = cat.countries();
      const licensing_engine engine(cat.rules(), cat.licensing(), countries);
      licence_query q;
      q.as_of = licence_date(o->as_of, engine);
      const auto to = countries.resolve_place(o->to);
      q.to = to.in->alpha2;
      if (to.part) q.to_region = to.part->code;
      const auto from = countries.resolve_place(o->from);
      q.from = from.in->alpha2;
      if (from.part) q.from_region = from.part->code;
      q.stated_eccn = parse_stated_eccn(o->eccn);
      q.end_user = o->end_user;
      if (!o->party_hq.empty()) q.party_hq = countries.resolve(o->party_hq).alpha2;
      q.transaction = parse_transaction(o->transaction);
      if (o->quantity > max_quantity)
        throw usage_error(fmt::format("--quantity {} is implausible: expected at most {} units", o->quantity, max_quantity));
      q.quantity = o->quantity;
      q.what_if = o->what_if;
      q.part = &cat.part(o->part);
      const auto a = engine.answer(q);
      emit(o->format == "json" ? to_json(a) : to_text(a));
      return 0;
    };
  });
}

namespace {

// A name given on the command line that is stored in the ledger: UTF-8, no control characters,
// not blank. Throws usage_error naming the option.
void check_name_option(const char* option, const std::string& value) {
  std::size_t bad = 0;
  if (!valid_utf8(value, &bad))
    throw usage_error(fmt::format("{} is not valid UTF-8 (byte 0x{:02x} at offset {}): expected a name in UTF-8", option,
                                  static_cast<unsigned char>(value[bad]), bad));
  for (const char ch : value) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      throw usage_error(fmt::format("{} holds a control character (a line break?): expected a plain name", option));
  }
  if (value.find_first_not_of(" ") == std::string::npos)
    throw usage_error(fmt::format("{} is empty: expected a name", option));
}

// The licence exceptions in force the answer lists as available.
std::vector<std::string> exception_ids(const licence_answer& a) {
  std::vector<std::string> out;
  for (const auto& e : a.exceptions) {
    if (!e.what_if) out.push_back(e.exception->id);
  }
  return out;
}

std::string licence_text(const licence_answer& a, const shipment& s) {
  std::string out;
  switch (s.license_required) {
    case licence_status::required:
      out = fmt::format("  licence required: yes{}", a.policy ? fmt::format(" ({}{})", to_string(*a.policy),
                                                                      a.policy_from ? ", " + a.policy_from->id : "")
                                                           : " (by letter; no review policy stated)");
      break;
    case licence_status::undetermined: out = "  licence required: undetermined (the data cannot decide it)"; break;
    default: out = "  licence required: no"; break;
  }
  std::string exceptions;
  for (const auto& id : exception_ids(a)) exceptions += (exceptions.empty() ? "" : ", ") + id;
  if (s.license_required != licence_status::not_required && !exceptions.empty())
    out += fmt::format("; licence exceptions that may apply (on their conditions): {}", exceptions);
  if (!s.license.empty()) {
    out += fmt::format("; licence recorded: {}\n", s.license);
  } else if (s.license_required == licence_status::required || s.license_required == licence_status::undetermined) {
    out += "; no licence recorded (give --license with the licence, or the exception used)\n";
  } else {
    out += "\n";
  }
  for (const auto& u : a.undetermined_because) out += "    because " + u + "\n";
  return out;
}

}  // namespace

void add_ledger(CLI::App& app, const global_options& g, action& run) {
  auto* ledger = app.add_subcommand("ledger", "a shipment ledger: TPP per consignee, country and year against quotas");
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
    auto* cmd = ledger->add_subcommand(verb, add ? "record a shipment (and say whether it fits the quotas and needs a licence)"
                                                 : "would this shipment fit the quotas, and does it need a licence?");
    cmd->add_option("--ledger", o->file, "the ledger file (.json or .csv); created by the first add")->required();
    cmd->add_option("part", o->part, "part id or sheet path")->required();
    cmd->add_option("--to", o->to, "destination country")->required();
    cmd->add_option("--consignee", o->consignee, "ultimate consignee")->required();
    cmd->add_option("--quantity", o->quantity, "units (1 or more)")->required();
    cmd->add_option("--date", o->date, "shipment date, YYYY-MM-DD (default: today)");
    cmd->add_option("--license", o->license,
                    "the authorisation the shipment goes under, recorded with it: a licence number, or a licence "
                    "exception the answer lists (LPP) whose conditions are met");
    cmd->add_flag("--what-if", o->what_if, "test quotas of regimes announced but not enforced (the diffusion rule after 2025-05-13)");
    cmd->add_flag("--fail-on-exceed", o->fail_on_exceed,
                  "exit 4 (and, for add, record nothing) when the shipment exceeds a quota in force or needs a licence "
                  "(or cannot be shown not to) and no --license is given");
    cmd->add_option("--format", o->format, "text or json");
    cmd->callback([&run, &g, o, add] {
      run = [&g, o, add] {
        if (o->format != "text" && o->format != "json")
          throw usage_error(fmt::format("unknown --format '{}': expected text or json", quote_input(o->format)));
        if (o->quantity < 1) throw usage_error(fmt::format("--quantity {} is not a quantity: expected 1 or more units", o->quantity));
        if (o->quantity > max_quantity)
          throw usage_error(fmt::format("--quantity {} is implausible: expected at most {} units", o->quantity, max_quantity));
        check_name_option("--consignee", o->consignee);
        if (!o->license.empty()) check_name_option("--license", o->license);
        auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
        const auto& countries = cat.countries();
        const licensing_engine engine(cat.rules(), cat.licensing(), countries);
        const auto day = licence_date(o->date, engine, "--date");
        const auto& part = cat.part(o->part);
        // The file itself, through any symbolic link: locked, read and replaced under one name.
        const std::string file = resolve_write_target(o->file);
        std::unique_ptr<ledger_lock> lock;
        if (add) lock = std::make_unique<ledger_lock>(file);
        auto l = load_ledger(file);
        shipment s;
        s.day = day;
        s.part = part.id;
        s.tpp_each = compute_metrics(part, cat.rules().definitions()).tpp;
        s.quantity = o->quantity;
        s.consignee = o->consignee;
        s.country = countries.resolve(o->to).alpha2;
        s.eccn = std::string(classifier(cat.rules()).classify(part, evaluation_plan(cat.rules(), day)).eccn);
        s.license = o->license;
        // The licensing answer for this part, destination, quantity and date: what `license` says.
        licence_query q;
        q.part = &part;
        q.to = s.country;
        q.quantity = s.quantity;
        q.as_of = day;
        const auto answer = engine.answer(q);
        s.license_required = licence_status_of(answer);
        const auto checks = check_quotas(l, s, part, engine, o->what_if);
        s.quota = claimed_quota(checks);
        const double h100 = cat.rules().definitions().h100_equivalent_tpp.value;
        // What --fail-on-exceed refuses: a quota in force exceeded, or a licence needed (or not
        // shown to be unneeded) with none recorded.
        std::vector<std::string> failures;
        for (const auto& c : checks) {
          if (!c.what_if && !c.fits) failures.push_back(fmt::format("exceeds {} {} ({})", c.regime->id, c.quota->id, c.scope));
        }
        if (s.license.empty() && s.license_required == licence_status::required)
          failures.emplace_back("needs a licence and none is recorded (--license)");
        if (s.license.empty() && s.license_required == licence_status::undetermined)
          failures.emplace_back("may need a licence (undetermined) and none is recorded (--license)");
        const bool refused = o->fail_on_exceed && !failures.empty();
        const bool record = add && !refused;
        // The output is rendered before the ledger is written: a failure here leaves it unchanged.
        std::string text;
        if (o->format == "json") {
          nlohmann::ordered_json j;
          j["schema"] = "chipgauge.ledger-check/1";
          j["tool_version"] = tool_version;
          j["ledger"] = o->file;
          j["recorded"] = record;
          j["shipment"] = {{"date", s.day.to_string()}, {"part", s.part}, {"tpp_each", s.tpp_each}, {"quantity", s.quantity},
                           {"tpp", s.tpp()}, {"h100_equivalents", s.tpp() / h100}, {"consignee", s.consignee},
                           {"country", s.country}, {"quota", s.quota}, {"eccn", s.eccn},
                           {"license_required", std::string(to_string(s.license_required))}, {"license", s.license}};
          j["licensing"] = {{"license_required", answer.license_required},
                            {"determined", answer.determined},
                            {"undetermined_because", answer.undetermined_because},
                            {"exceptions", exception_ids(answer)},
                            {"review_policy", answer.policy ? nlohmann::ordered_json(std::string(to_string(*answer.policy)))
                                                            : nlohmann::ordered_json(nullptr)}};
          j["quotas"] = quota_json(checks, h100);
          j["fail_on_exceed"] = failures;
          j["disclaimer"] = std::string(disclaimer());
          // The ledger path is the user's and need not be UTF-8.
          text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        } else {
          text = fmt::format("{} {} x {} ({} TPP, {:.1f} H100-equivalents) to {} for {} on {}{}\n",
                             add ? (record ? "recorded" : "not recorded") : "checked", s.quantity, s.part,
                             group_thousands(s.tpp()), s.tpp() / h100, s.country, s.consignee, s.day.to_string(),
                             s.quota.empty() ? "" : " under " + s.quota) +
                 licence_text(answer, s) + quota_text(checks, h100);
          for (const auto& f : failures) text += fmt::format("  {}: {}\n", o->fail_on_exceed ? "refused" : "note", f);
          text += std::string(disclaimer()) + "\n";
        }
        if (record) {
          l.shipments.push_back(s);
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
      if (!std::filesystem::exists(ro->file)) throw usage_error(fmt::format("no ledger at {}", ro->file));
      const auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      emit(ledger_report(load_ledger(ro->file), cat.rules().definitions().h100_equivalent_tpp.value));
      return 0;
    };
  });
}

void add_fleet(CLI::App& app, const global_options& g, action& run) {
  struct options {
    std::vector<std::string> items;
    std::string as_of;
    std::string format = "text";
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand("fleet", "total TPP and dense peak OP/s of parts or measured devices against thresholds");
  cmd->add_option("items", o->items, "PART_OR_REPORT[:COUNT]... (a part id, a sheet path or a measurement report; default count 1)")->required();
  cmd->add_option("--as-of", o->as_of, "date (default: today)");
  cmd->add_option("--format", o->format, "text or json");
  cmd->callback([&run, &g, o] {
    run = [&g, o] {
      if (o->format != "text" && o->format != "json") throw usage_error(fmt::format("unknown --format '{}': expected text or json", quote_input(o->format)));
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      const licensing_engine fleet_engine(cat.rules(), cat.licensing(), cat.countries());
      const auto as_of = licence_date(o->as_of, fleet_engine);
      const auto& defs = cat.rules().definitions();
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
          if (n.empty() || *end != '\0' || count < 1 || count > max_quantity || errno == ERANGE)
            throw usage_error(fmt::format("'{}': the count after ':' must be between 1 and {}", quote_input(arg), max_quantity));
        }
        fleet_item it;
        it.quantity = count;
        // A measurement report: its verified rates; anything else: a part.
        bool is_report = false;
        if (std::filesystem::exists(name) && name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
          const auto doc = read_text_file(name, file_limits::report);
          is_report = doc.find("\"chipgauge.measurement/1\"") != std::string::npos;
        }
        if (is_report) {
          const auto report = bench::load_report(name);
          const auto m = bench::measured_from(report, name, "", defs);
          it.label = name + " (" + m.device_name + ")";
          it.tpp_each = m.tpp;
          double best = 0;
          for (const auto& t : m.tops) {
            if (t) best = std::max(best, *t * 1e12);
          }
          it.peak_ops_each = best;
          it.basis = "measured (lower bound)";
        } else {
          const auto& part = cat.part(name);
          it.label = part.id;
          it.tpp_each = compute_metrics(part, defs).tpp;
          it.peak_ops_each = dense_peak_ops(part, defs);
          it.basis = "sheet";
        }
        items.push_back(std::move(it));
      }
      const auto r = evaluate_fleet(items, fleet_engine, as_of);
      if (o->format == "json") {
        nlohmann::ordered_json j;
        j["schema"] = "chipgauge.fleet/1";
        j["tool_version"] = tool_version;
        j["as_of"] = as_of.to_string();
        auto arr = nlohmann::ordered_json::array();
        for (const auto& i : items)
          arr.push_back({{"item", i.label}, {"quantity", i.quantity}, {"tpp_each", i.tpp_each},
                         {"peak_ops_each", i.peak_ops_each}, {"basis", i.basis}});
        j["items"] = arr;
        j["tpp"] = r.tpp;
        j["peak_ops"] = r.peak_ops;
        j["h100_equivalents"] = r.h100_equivalents;
        auto checks = nlohmann::ordered_json::array();
        for (const auto& c : r.checks)
          checks.push_back({{"regime", c.regime->id}, {"check", c.check->id}, {"status", std::string(to_string(c.status))},
                            {"holds", c.holds}, {"effect", c.check->effect}, {"evidence", std::string(to_string(c.check->evidence))}});
        j["checks"] = checks;
        j["disclaimer"] = std::string(disclaimer());
        emit(j.dump(2) + "\n");
        return 0;
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& i : items)
        rows.push_back({i.label, std::to_string(i.quantity), group_thousands(i.tpp_each), fmt::format("{:.3g}", i.peak_ops_each), i.basis});
      std::string out = render_table({"item", "count", "TPP each", "peak OP/s each", "basis"}, rows, {false, true, true, true, false});
      out += fmt::format("\nfleet: TPP {}, {:.2f} H100-equivalents, dense peak {:.3g} OP/s (as of {})\n", group_thousands(r.tpp),
                         r.h100_equivalents, r.peak_ops, as_of.to_string());
      for (const auto& c : r.checks)
        out += fmt::format("  {} / {} [{}]: {} - {} [evidence {}]\n", c.regime->id, c.check->id, to_string(c.status),
                           c.holds ? "yes" : "no", c.check->effect, to_string(c.check->evidence));
      emit(out + "\n" + std::string(disclaimer()) + "\n");
      return 0;
    };
  });
}

}  // namespace chipgauge::cli

// chipgauge rules list [--as-of DATE] | show ID | validate [FILE...]
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace chipgauge::cli {

namespace {

std::string list_rules(const rule_set& rules, date as_of, output_format format) {
  std::vector<std::string> header{"id", "role", "status", "in_force_from", "evidence", "title"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : rules.regimes()) {
    const auto from = r.in_force_from();
    rows.push_back({r.id, std::string(to_string(r.role)), std::string(to_string(r.status_on(as_of))),
                    from ? from->to_string() : "-", std::string(to_string(r.evidence)), r.title});
  }
  switch (format) {
    case output_format::csv: return render_csv(header, rows);
    case output_format::md: return render_markdown_table(header, rows);
    case output_format::json: {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& row : rows) {
        nlohmann::ordered_json o;
        for (std::size_t i = 0; i < header.size(); ++i) o[header[i]] = row[i];
        arr.push_back(o);
      }
      return arr.dump(2) + "\n";
    }
    case output_format::text: break;
  }
  return fmt::format("regimes as of {} ({} files)\n", as_of.to_string(), rows.size()) + render_table(header, rows);
}

std::string show_rule(const regime& r, date as_of) {
  std::string out = fmt::format("{}\n{}\nfile: {}\nrole: {}; status on {}: {}; evidence {}\n", r.id, r.title, r.file,
                                to_string(r.role), as_of.to_string(), to_string(r.status_on(as_of)), to_string(r.evidence));
  out += "timeline:\n";
  for (const auto& t : r.timeline)
    out += fmt::format("  {}  {}{}\n", t.from.to_string(), to_string(t.status), t.note.empty() ? "" : "  " + t.note);
  out += "citations:\n";
  for (const auto& c : r.citations)
    out += fmt::format("  {} [{}]{}\n", c.cite, to_string(c.evidence), c.url.empty() ? "" : " " + c.url);
  if (!r.parameters.empty()) {
    out += fmt::format("parameters (values on {}):\n", as_of.to_string());
    for (const auto& p : r.parameters)
      out += fmt::format("  {} = {} {} [{}]{}\n", p.name, human_number(p.value_on(as_of)), p.unit, to_string(p.evidence),
                         p.note.empty() ? "" : "  " + p.note);
  }
  out += "clauses (tested in order):\n";
  for (const auto& c : r.clauses) {
    std::string kinds;
    for (auto k : c.applies_to) kinds += (kinds.empty() ? "" : ",") + std::string(to_string(k));
    out += fmt::format("  {} [{}; {}]: {}\n", c.eccn, kinds, to_string(c.evidence), c.when.text());
  }
  if (!r.exceptions.empty()) {
    out += "exceptions:\n";
    for (const auto& x : r.exceptions) {
      std::string cls;
      for (const auto& c : x.clauses) cls += (cls.empty() ? "" : ",") + c;
      out += fmt::format("  {} for {}{}{}{} [{}]\n", x.id, cls, x.when ? " when " + x.when->text() : "",
                         x.from ? " from " + x.from->to_string() : "", x.until ? " until " + x.until->to_string() : "",
                         to_string(x.evidence));
    }
  }
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

}  // namespace

void add_rules(CLI::App& app, const global_options& g, action& run) {
  auto* rules = app.add_subcommand("rules", "the dated regimes: list, show, validate");
  rules->require_subcommand(1);

  struct list_options {
    std::string as_of;
    std::string format = "text";
  };
  auto lo = std::make_shared<list_options>();
  auto* list = rules->add_subcommand("list", "list every regime with its status on a date");
  list->add_option("--as-of", lo->as_of, "date, YYYY-MM-DD (default: today)");
  list->add_option("--format", lo->format, "text, json, md or csv");
  list->callback([&run, &g, lo] {
    run = [&g, lo] {
      const auto format = parse_format(lo->format);
      const auto as_of = parse_as_of(lo->as_of);
      const auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      emit(list_rules(cat.rules(), as_of, format));
      return 0;
    };
  });

  struct show_options {
    std::string id;
    std::string as_of;
    std::string format = "text";
  };
  auto so = std::make_shared<show_options>();
  auto* show = rules->add_subcommand("show", "print one regime: timeline, parameters, clauses");
  show->add_option("id", so->id, "regime id (see 'chipgauge rules list')")->required();
  show->add_option("--as-of", so->as_of, "date for parameter values and status (default: today)");
  show->add_option("--format", so->format, "text, or json for the file as stored");
  show->callback([&run, &g, so] {
    run = [&g, so] {
      const auto format = parse_format(so->format);
      const auto as_of = parse_as_of(so->as_of);
      const auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      const auto* r = cat.rules().find(so->id);
      if (!r) {
        std::vector<std::string_view> ids;
        for (const auto& x : cat.rules().regimes()) ids.push_back(x.id);
        const auto near = closest_match(so->id, ids);
        throw usage_error(fmt::format("unknown regime '{}'{}: see 'chipgauge rules list'", quote_input(so->id),
                                      near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
      }
      emit(format == output_format::json ? read_text_file(r->file, file_limits::rule_file) : show_rule(*r, as_of));
      return 0;
    };
  });

  auto files = std::make_shared<std::vector<std::string>>();
  auto* validate = rules->add_subcommand("validate", "check every regime file, or the given ones");
  validate->add_option("files", *files, "regime files to check (default: the bundled rules directory)");
  validate->callback([&run, &g, files] {
    run = [&g, files] {
      const auto dir = (std::filesystem::path(catalog::locate_specs_dir(g.specs_dir)) / "rules").string();
      if (files->empty()) {
        const auto rs = rule_set::load(dir);
        emit(fmt::format("{} regime file(s) valid, plus {}\n", rs.regimes().size(), rs.definitions().file));
        return 0;
      }
      auto rs = rule_set::load_definitions(dir);
      int errors = 0;
      for (const auto& f : *files) {
        try {
          if (!std::filesystem::exists(f)) throw usage_error(fmt::format("no such file: {}", f));
          rs.add_regime_file(f);
        } catch (const error& e) {
          print_error(e);
          ++errors;
        }
      }
      emit(fmt::format("{} regime file(s) valid, {} error(s)\n", rs.regimes().size(), errors));
      return errors == 0 ? 0 : static_cast<int>(exit_code::usage_error);
    };
  });
}

}  // namespace chipgauge::cli

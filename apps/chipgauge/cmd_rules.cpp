// chipgauge rules list [--as-of DATE] | show ID | validate [FILE...]
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/listing.hpp"
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

using chipgauge::classifier::catalog;
using chipgauge::classifier::output_format;
using chipgauge::classifier::render_regime;
using chipgauge::classifier::render_rules_list;
using chipgauge::classifier::rule_set;

namespace chipgauge::cli {

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
      emit(render_rules_list(cat.rules(), as_of, format));
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
        throw usage_error(
            fmt::format("unknown regime '{}'{}: see 'chipgauge rules list'", quote_input(so->id),
                        near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
      }
      emit(format == output_format::json ? read_text_file(r->file, file_limits::rule_file)
                                         : render_regime(*r, as_of));
      return 0;
    };
  });

  auto files = std::make_shared<std::vector<std::string>>();
  auto* validate = rules->add_subcommand("validate", "check every regime file, or the given ones");
  validate->add_option("files", *files,
                       "regime files to check (default: the bundled rules directory)");
  validate->callback([&run, &g, files] {
    run = [&g, files] {
      const auto dir =
          (std::filesystem::path(catalog::locate_specs_dir(g.specs_dir)) / "rules").string();
      if (files->empty()) {
        const auto rs = rule_set::load(dir);
        emit(fmt::format("{} regime file(s) valid, plus {}\n", rs.regimes().size(),
                         rs.definitions().file));
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

// chipgauge specs list | show ID | validate [FILE...]
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/text.hpp"
#include "commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace chipgauge::cli {

namespace {

std::string list_parts(const catalog& cat, output_format format) {
  std::vector<std::string> header{"id", "vendor", "name", "kind", "evidence", "datacenter", "tpp"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : cat.parts().parts()) {
    const auto m = compute_metrics(*p, cat.rules().definitions());
    rows.push_back({p->id, p->vendor, p->name, std::string(to_string(p->kind)), std::string(to_string(p->evidence)),
                    p->datacenter.defaulted ? "unstated (true)" : (p->datacenter.value ? "yes" : "no"),
                    format == output_format::csv ? fmt::format("{:.1f}", m.tpp) : group_thousands(m.tpp)});
  }
  switch (format) {
    case output_format::csv: return render_csv(header, rows);
    case output_format::md: return render_markdown_table(header, rows);
    case output_format::json: {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& p : cat.parts().parts()) {
        const auto m = compute_metrics(*p, cat.rules().definitions());
        arr.push_back({{"id", p->id}, {"vendor", p->vendor}, {"name", p->name}, {"kind", to_string(p->kind)},
                       {"evidence", to_string(p->evidence)}, {"datacenter", p->datacenter.value},
                       {"datacenter_defaulted", p->datacenter.defaulted}, {"tpp", m.tpp}, {"file", p->file}});
      }
      return arr.dump(2) + "\n";
    }
    case output_format::text: break;
  }
  return render_table(header, rows, {false, false, false, false, false, false, true}) +
         fmt::format("{} parts in {}/chips\n", rows.size(), cat.specs_dir());
}

}  // namespace

void add_specs(CLI::App& app, const global_options& g, action& run) {
  auto* specs = app.add_subcommand("specs", "the parts database: list, show, validate");
  specs->require_subcommand(1);

  auto list_format = std::make_shared<std::string>("text");
  auto* list = specs->add_subcommand("list", "list every part in the database");
  list->add_option("--format", *list_format, "text, json, md or csv");
  list->callback([&run, &g, list_format] {
    run = [&g, list_format] {
      const auto format = parse_format(*list_format);
      const auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      emit(list_parts(cat, format));
      return 0;
    };
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = specs->add_subcommand("show", "print one part's sheet (as stored)");
  show->add_option("id", *show_id, "part id or sheet path")->required();
  show->callback([&run, &g, show_id] {
    run = [&g, show_id] {
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      const auto& part = cat.part(*show_id);
      emit(read_text_file(part.file));
      return 0;
    };
  });

  auto files = std::make_shared<std::vector<std::string>>();
  auto* validate = specs->add_subcommand("validate", "check the database, or the given sheets against it");
  validate->add_option("files", *files, "sheets to check (default: every sheet in the database)");
  validate->callback([&run, &g, files] {
    run = [&g, files] {
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      std::string out;
      int errors = 0;
      std::size_t checked = cat.parts().parts().size();
      std::size_t warned_before = cat.parts().warnings().size();
      if (!files->empty()) {
        checked = 0;
        for (const auto& f : *files) {
          try {
            if (!std::filesystem::exists(f)) throw usage_error(fmt::format("no such file: {}", f));
            cat.parts().add_external(load_spec_file(f), cat.rules().definitions());
            ++checked;
          } catch (const error& e) {
            std::cerr << "chipgauge: error: " << e.what() << "\n";
            ++errors;
          }
        }
      } else {
        warned_before = 0;
      }
      const auto& warnings = cat.parts().warnings();
      for (std::size_t i = warned_before; i < warnings.size(); ++i)
        out += fmt::format("warning: {}: {}: {}\n", warnings[i].file, warnings[i].json_path, warnings[i].message);
      out += fmt::format("{} sheet(s) valid, {} error(s), {} warning(s)\n", checked, errors, warnings.size() - warned_before);
      emit(out);
      return errors == 0 ? 0 : static_cast<int>(exit_code::usage_error);
    };
  });
}

}  // namespace chipgauge::cli

// chipgauge dashboard --out DIR [--history FILE] [--as-of DATE] [--baseline N] [--device SUBSTR]
// [--min-effect PCT] [--pubkey KEY.pub] — option parsing only; the site is built by the dashboard
// library.
#include "chipgauge/bench/compare.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/core/signing.hpp"
#include "chipgauge/dashboard/site.hpp"
#include "chipgauge/history/store.hpp"
#include "commands.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

using chipgauge::classifier::catalog;

namespace chipgauge::cli {

void add_dashboard(CLI::App& app, const global_options& g, action& run) {
  struct opts {
    std::string out;
    std::string history;
    std::string as_of;
    std::string device;
    std::string min_effect;
    int baseline = 20;
    std::string pubkey;
  };
  auto o = std::make_shared<opts>();
  auto* cmd = app.add_subcommand(
      "dashboard",
      "write a static site (opens from disk, no network): trends per device x benchmark with "
      "runs compare finds slower than the rolling baseline, a page per part with its TPPs, "
      "ECCNs and certificates, the TPP-PD plane with every regime's thresholds, the fleet "
      "(fleet collect over the store's certificates)");
  cmd->add_option("--out", o->out,
                  "directory to write the site into (replaced as a whole; its parent must exist)")
      ->required();
  cmd->add_option(
      "--history", o->history,
      "the history store (default: $CHIPGAUGE_HISTORY, else "
      "$XDG_DATA_HOME/chipgauge/history.db; without one, only parts and the plane are drawn)");
  cmd->add_option("--as-of", o->as_of, "date for the ECCNs and threshold values (default: today)");
  cmd->add_option("--baseline", o->baseline,
                  "compare each run against the previous N usable runs (default 20)");
  cmd->add_option("--device", o->device, "only devices whose name or identity contains this");
  cmd->add_option("--min-effect", o->min_effect,
                  "the smallest change in rate that counts (default 2%)");
  cmd->add_option(
      "--pubkey", o->pubkey,
      "the fleet page counts only certificates signed by this Ed25519 public key (as fleet "
      "collect)");
  cmd->callback([&run, &g, o] {
    run = [&g, o] {
      dashboard::options d;
      d.as_of = parse_as_of(o->as_of);
      d.baseline_runs = o->baseline;
      d.device = o->device;
      if (!o->min_effect.empty())
        d.settings.min_effect = bench::parse_effect("--min-effect", o->min_effect);
      if (!o->pubkey.empty()) {
        (void)load_ed25519_public_key(o->pubkey);
        d.trusted_key = o->pubkey;
      }
      auto cat = catalog::load(catalog::locate_specs_dir(g.specs_dir));
      // A store named on the command line or in the environment must exist; the default one may not
      // yet.
      const char* env = std::getenv("CHIPGAUGE_HISTORY");
      const bool named = !o->history.empty() || (env != nullptr && *env != '\0');
      const std::string path = history::locate_store(o->history);
      std::optional<history::store> store;
      if (named || std::filesystem::exists(path)) {
        history::open_options oo;
        oo.create = false;
        store.emplace(history::store::open(path, oo));
      }
      const auto site = dashboard::build_site(store ? &*store : nullptr, cat, d);
      dashboard::write_site(site, o->out, d);
      emit(fmt::format(
          "dashboard written to {}/index.html: {} device x benchmark series ({} run(s) slower "
          "than their baseline), {} parts{}\n",
          o->out, site.series, site.regressions, site.parts,
          store ? "" : "; no history store at " + path));
      return 0;
    };
  });
}

}  // namespace chipgauge::cli

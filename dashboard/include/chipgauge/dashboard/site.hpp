#pragma once

// The static dashboard (docs/history.md#dashboard): an index of devices, benchmarks and parts;
// one trend page per device x benchmark with each run's median, its interquartile range and the
// runs that bench::compare_samples finds `slower` than the rolling baseline; one page per bundled
// part (TPPs, ECCN under each regime, certificates in the store); the TPP-PD plane with every
// regime's threshold lines; a fleet page (`fleet collect` over the store's certificates). Pages
// embed their data as JSON (<script id="chipgauge-data">) and draw it with the packaged Chart.js
// copied into the site, so the site opens from disk with no network.

#include "chipgauge/bench/compare.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/core/date.hpp"
#include "chipgauge/history/query.hpp"
#include "chipgauge/history/store.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace chipgauge::dashboard {

struct options {
  /// Compare each run against the pooled samples of this many previous usable runs (1 or more).
  int baseline_runs = 20;
  /// The verdict thresholds (minimum effect, alpha) handed to bench::compare_samples.
  bench::compare_settings settings;
  /// The day whose rules give the ECCNs and threshold values.
  date as_of = date::today();
  /// Only device x benchmark series whose device name or identity contains this (empty: all).
  std::string device;
  /// Where Chart.js (chart.min.js) is; empty: $CHIPGAUGE_CHARTJS_DIR, else Debian's
  /// /usr/share/javascript/chart.js (libjs-chart.js).
  std::string chartjs_dir;
  /// The Chart.js license file copied beside it; empty: /usr/share/doc/libjs-chart.js/copyright.
  std::string chartjs_license;
  /// The Ed25519 public key (PEM) certificates must be signed by for the fleet page to count them
  /// (as `fleet collect --pubkey`); without it only unsigned, intact ones are counted.
  std::optional<std::string> trusted_key;
};

/// The site in memory: relative path -> content (pages, script, style; not the Chart.js copy).
struct site {
  std::map<std::string, std::string> files;
  std::size_t series = 0;
  std::size_t parts = 0;
  std::size_t regressions = 0;   ///< trend points marked slower
  std::size_t certificates = 0;  ///< certificate runs in the store
};

/// Builds every page. `history` may be null (no store: the index says so; parts and the plane
/// are still drawn, the fleet page is not). `cat` is not const: the fleet page's totals read
/// sheets and the licensing data, which the catalog loads on demand.
site build_site(history::store* history, classifier::catalog& cat, const options& o);

/// The data the trend page of one device x benchmark series charts, as the page embeds it
/// (`"page": "trend"`, the device, benchmark, metric, unit, the baseline settings, and `points`:
/// one per run, oldest first, with compare's verdict against the rolling baseline), as one line of
/// JSON. `chipgauge serve` answers it at /v1/history/trend.
std::string trend_json(history::store& st, const history::series_row& series, const options& o);

/// Chart.js and its license, by the paths the site gives them (`assets/chart.min.js`,
/// `assets/chart.js-LICENSE.txt`), read from `o.chartjs_dir` and `o.chartjs_license` (or their
/// defaults). Throws chipgauge::error when either file is missing.
std::map<std::string, std::string> chartjs_files(const options& o);

/// Writes `s` and the Chart.js copy (with its license) to `out_dir`, atomically: everything goes
/// to a temporary directory beside it, which then replaces `out_dir`; on any failure `out_dir` is
/// left as it was and the temporary directory is removed. Throws usage_error when `out_dir`'s
/// parent does not exist, when `out_dir` is not a directory, or when it is a non-empty directory
/// this command did not write (no `.chipgauge-dashboard` marker); chipgauge::error when Chart.js
/// is missing or a write fails.
void write_site(const site& s, const std::string& out_dir, const options& o);

/// The marker file written into every generated site.
inline constexpr const char* marker_file = ".chipgauge-dashboard";

}  // namespace chipgauge::dashboard

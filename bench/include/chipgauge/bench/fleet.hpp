#pragma once

#include "chipgauge/bench/measure.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/fleet.hpp"

#include <string>

namespace chipgauge::bench {

/// Whether the file at `path` is a measurement report: a JSON object whose "schema" member is
/// "chipgauge.measurement/1". A file that does not parse as JSON is not one (false); one that
/// cannot be read or exceeds file_limits::report throws error.
bool is_measurement_report(const std::string& path);

/// A fleet line for a measured device: its verified rates (a lower bound), labelled
/// "REPORT (DEVICE NAME)".
classifier::fleet_item fleet_item_of(const measured_tpp& m, const std::string& report_file,
                                     long long quantity);

/// A fleet line for `name`: an existing `.json` file that is_measurement_report (its first device),
/// else a part (id or sheet path, as catalog::part). Throws as load_report, measured_from and
/// catalog::part do.
classifier::fleet_item fleet_item_for(classifier::catalog& cat, const std::string& name,
                                      long long quantity);

}  // namespace chipgauge::bench

#pragma once

// Ingest: a measurement report (or a file holding one, a Google Benchmark JSON or a certificate)
// becomes one run in the store, in one transaction (docs/history.md#ingest).

#include "chipgauge/bench/report.hpp"
#include "chipgauge/history/store.hpp"

#include <string>

namespace chipgauge::history {

/// Writes `report` as one run keyed by `source.sha256`. When a run with that key exists nothing
/// is written (already_present). Everything (run, devices, benchmarks, results, samples) is
/// written in one transaction; on any exception it is rolled back and the store is as before.
/// Throws spec_error naming `source.name` for a report the store cannot hold (a result naming a
/// device the report does not list, two devices with the same identity, a time stamp that does
/// not parse).
ingest_outcome ingest_report(store& s, const bench::measurement_report& report, const ingest_source& source,
                             const row_hook& hook = {});

/// Reads `path`, recognises its kind (a `chipgauge.measurement/1` report, or Google Benchmark JSON
/// read by bench::parse_gbench_json; certificates are refused until their format exists) and
/// ingests it as ingest_report does. The
/// SHA-256 is of the file's bytes, so an identical file is found before it is parsed. Throws
/// spec_error naming the file for one that cannot be read as any supported kind.
ingest_outcome ingest_file(store& s, const std::string& path, const row_hook& hook = {});

/// ingest_file over bytes already read: `text` is the document, `path` the name errors and the
/// run's `source_name` give it (a file's path, or "request body" for `chipgauge serve`'s ingest
/// routes). The SHA-256 is of `text`, so bytes ingested before are found before they are parsed.
ingest_outcome ingest_bytes(store& s, const std::string& text, const std::string& path, const row_hook& hook = {});

}  // namespace chipgauge::history

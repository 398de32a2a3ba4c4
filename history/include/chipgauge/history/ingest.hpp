#pragma once

// Ingest: a measurement report (or a file holding one, a Google Benchmark JSON or a certificate)
// becomes one run in the store, in one transaction (docs/history.md#ingest).

#include "chipgauge/bench/report.hpp"
#include "chipgauge/history/store.hpp"

#include <nlohmann/json.hpp>

#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace chipgauge::history {

/// Writes `report` as one run keyed by `source.sha256`. When a run with that key exists nothing
/// is written (already_present). Everything (run, devices, benchmarks, results, samples) is
/// written in one transaction; on any exception it is rolled back and the store is as before.
/// Throws spec_error naming `source.name` for a report the store cannot hold (a result naming a
/// device the report does not list, two devices with the same identity, a time stamp that does
/// not parse).
ingest_outcome ingest_report(store& s, const bench::measurement_report& report,
                             const ingest_source& source, const row_hook& hook = {});

/// What ingest needs beyond the file.
struct ingest_options {
  /// The Ed25519 public key file (PEM) a certificate must be signed by to be stored as verified
  /// (`--pubkey`); without it no certificate is stored as verified unless it is unsigned and
  /// intact ('unsigned', never shown as verified either).
  std::optional<std::string> trusted_key;
};

/// Writes a certificate (`chipgauge.certificate/1`, parsed as `doc` from `text`) as one run of
/// source kind certificate: its device, its results (summary statistics only: a certificate
/// holds no samples, so sample_count is the number measured and no samples row is written), its
/// checks, and a `certificates` row with the document and what verify_certificate found with
/// `options.trusted_key` (docs/history.md#certificates). A certificate that fails verification
/// is stored marked 'failed', its results unverified; it is never refused for that. Idempotent
/// by `source.sha256` and written in one transaction as ingest_report. Throws spec_error naming
/// `source.name` and the JSON path for a document that is not a certificate body it can read,
/// usage_error for an unreadable key file.
ingest_outcome ingest_certificate(store& s, std::string_view text, const nlohmann::json& doc,
                                  const ingest_source& source, const ingest_options& options,
                                  const row_hook& hook = {});

/// Reads `path`, recognises its kind (a `chipgauge.measurement/1` report, Google Benchmark JSON
/// read by bench::parse_gbench_json, or a `chipgauge.certificate/1` certificate) and ingests it
/// as ingest_report or ingest_certificate does. The SHA-256 is of the file's bytes, so an
/// identical file is found before it is parsed. Throws spec_error naming the file for one that
/// cannot be read as any supported kind.
ingest_outcome ingest_file(store& s, const std::string& path, const ingest_options& options,
                           const row_hook& hook = {});
ingest_outcome ingest_file(store& s, const std::string& path, const row_hook& hook = {});

/// ingest_file over bytes already read: `text` is the document, `path` the name errors and the
/// run's `source_name` give it (a file's path, or "request body" for `chipgauge serve`'s ingest
/// routes). The SHA-256 is of `text`, so bytes ingested before are found before they are parsed.
ingest_outcome ingest_bytes(store& s, const std::string& text, const std::string& path,
                            const ingest_options& options, const row_hook& hook = {});
ingest_outcome ingest_bytes(store& s, const std::string& text, const std::string& path,
                            const row_hook& hook = {});

/// A document read, hashed and parsed but not stored: what ingest_file does before it needs the
/// store. prepare_file and prepare_bytes share nothing, so any number of threads may run them at
/// once; `history ingest FILE...` prepares files on worker threads while one thread stores them,
/// in the order given, with ingest_prepared.
struct prepared_document {
  ingest_source source;  ///< its kind, the SHA-256 of its bytes (empty if unread) and its name
  std::string text;      ///< a certificate's bytes (stored with it); empty for other kinds
  nlohmann::json doc;    ///< a certificate's document; null for other kinds
  bench::measurement_report report;  ///< a report's or a Google Benchmark JSON's results
  /// Why the document could not be read or parsed. ingest_prepared throws it unless the same
  /// bytes are stored already: as with ingest_file, bytes once ingested stay "already present".
  std::exception_ptr error;
  /// The bytes were in the store when prepared, so they were not parsed: `text` holds them, and
  /// ingest_prepared parses them only if the run has gone by the time it stores them.
  bool parse_skipped = false;
};

/// Reads and prepares `path`; never throws for the file (an unreadable or malformed file is
/// prepared_document::error, with the exception ingest_file would have thrown). With `lookup`, a
/// store connection no other thread uses meanwhile, bytes already stored are hashed and not parsed
/// (a re-ingest costs a read and a hash per file); where the lookup fails they are parsed.
prepared_document prepare_file(const std::string& path, store* lookup = nullptr);
/// prepare_file over bytes already read, named `path`.
prepared_document prepare_bytes(std::string_view text, const std::string& path,
                                store* lookup = nullptr);
/// Stores a prepared document as ingest_file stores the file; the same outcome and errors.
ingest_outcome ingest_prepared(store& s, const prepared_document& d, const ingest_options& options,
                               const row_hook& hook = {});

}  // namespace chipgauge::history

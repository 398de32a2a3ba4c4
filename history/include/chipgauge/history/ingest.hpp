#pragma once

// Ingest: a measurement report (or a file holding one, a Google Benchmark JSON or a certificate)
// becomes one run in the store, in one transaction (docs/history.md#ingest).

#include "chipgauge/bench/report.hpp"
#include "chipgauge/history/store.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// How ingest_files groups and threads its work.
struct ingest_files_options {
  ingest_options ingest;
  /// Threads reading, hashing and parsing files; 0: the hardware threads, at most 16.
  unsigned jobs = 0;
  /// Where the store is, as it was opened (a file, or a URL with its password): each worker
  /// opens a connection of its own there to look its files' hashes up, so that files already
  /// stored are hashed and not parsed. Empty, or where a connection cannot be opened (a server's
  /// connection limit): that worker parses every file.
  std::string lookup_path;
  /// A batch (one transaction, history::write_batch) ends after this many files or once this
  /// long has passed, whichever comes first: each commit writes the index pages its runs touched,
  /// so larger batches write fewer per run (docs/history.md#scale), while writers on other
  /// connections wait for the write lock for up to a batch's time.
  std::size_t files_per_batch = 4096;
  std::chrono::milliseconds batch_time{2000};
};

/// Ingests `files` in the order given, each all or nothing, as ingest_file would one by one:
/// the same runs with the same ids, however many jobs. Files are read, hashed and parsed on
/// `options.jobs` threads, at most 16 per thread ahead of the store; the calling thread stores
/// them with ingest_prepared, `options.files_per_batch` to a transaction. Calls, on the calling
/// thread and in file order, `failed(i, error)` as soon as file i's turn comes for a file that
/// cannot be read, parsed or stored (rolled back alone; the other files still apply), and
/// `stored(i, outcome)` for each file of a batch once the batch is committed. Throws what a
/// commit throws (disk, connection), after which the open batch's files are not in the store and
/// were not reported stored. A process killed midway leaves the store as before the open batch.
void ingest_files(store& s, const std::vector<std::string>& files,
                  const ingest_files_options& options,
                  const std::function<void(std::size_t, const ingest_outcome&)>& stored,
                  const std::function<void(std::size_t, std::exception_ptr)>& failed);

}  // namespace chipgauge::history

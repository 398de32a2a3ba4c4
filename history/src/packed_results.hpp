#pragma once

// A run's results packed into one BLOB: how a SQLite store (schema version 5) keeps them, in table
// `result_sets`, one row per run; the rest of the code reads them as the table `results` through a
// virtual table (docs/history.md#schema). A PostgreSQL store keeps one row per result.
//
// The format, every integer and double little-endian, doubles IEEE 754 binary64:
//   "CGR1"                                   the format and its version
//   then one record per result, in id order:
//   u32 size                                 bytes of the record after this field
//   u32 ordinal                              the result's id minus result_sets.first_id
//   u32 device_id, u32 benchmark_id
//   u8  status                               0 ok, 1 skipped, 2 invalid
//   u8  flags                                record_flags (packed_results.cpp)
//   u8  encoding                             record_encoding: bit 0, clocks as u16
//   f64 median, min, max, q1, q3, cv         of the rate
//   u32 sample_count, u32 throttled_samples
//   f64 clock_mhz, f64 theoretical, f64 fraction   each only where its flag is set
//   str reason, str stop_reason              u32 length, then the UTF-8 bytes
//   str suspect_reasons                      only where its flag is set (JSON array text)
//   u32 bytes, rates                         only where its flag is set (the samples' BLOB)
//   clocks                                   only where its flag is set: u32 bytes, the BLOB;
//                                            or, encoding bit 0, u32 count, u16 MHz each
//                                            (65,535: unread, NaN in the BLOB)
// Ids, counts and ordinals above 2^32 - 1 are refused when written.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace chipgauge::history::detail {

/// One result as the store keeps it. Text and BLOB fields view memory the caller keeps alive
/// (the strings being written, or the BLOB being read).
struct result_record {
  std::int64_t id = 0;
  std::int64_t device_id = 0;
  std::int64_t benchmark_id = 0;
  std::string_view status;  ///< "ok", "skipped" or "invalid"
  std::string_view reason;
  bool verified = false;
  bool suspect = false;
  std::optional<std::string_view> suspect_reasons;  ///< JSON array text; nullopt: none
  std::string_view stop_reason;
  double median = 0, min = 0, max = 0, q1 = 0, q3 = 0, cv = 0;
  std::int64_t sample_count = 0;
  std::optional<double> clock_mhz;
  std::int64_t throttled_samples = 0;
  std::optional<double> theoretical;
  std::optional<double> fraction;
  /// The samples' BLOBs (connection.hpp to_blob); nullopt where the store has NULL.
  std::optional<std::span<const unsigned char>> rates;
  std::optional<std::span<const unsigned char>> clocks;
};

/// Builds one result_sets BLOB. Records must be added in id order.
class result_set_writer {
 public:
  result_set_writer() { clear(); }
  /// Starts a new BLOB (the capacity is kept).
  void clear();
  /// Appends `r` as the record of id `r.id`, `first_id` being the set's first id. Throws
  /// chipgauge::error for a status other than ok, skipped or invalid, or an id, ordinal or count
  /// outside 32 bits; the set is then as it was before the call.
  void add(const result_record& r, std::int64_t first_id);
  [[nodiscard]] std::span<const unsigned char> bytes() const { return out_; }
  [[nodiscard]] std::int64_t count() const { return count_; }

 private:
  std::vector<unsigned char> out_;
  std::vector<std::uint16_t> clocks_;  ///< a record's clocks as u16, reused
  std::int64_t count_ = 0;
};

/// Reads the records of one result_sets BLOB in order.
class result_set_reader {
 public:
  /// `bytes` must stay alive while records are read. Throws chipgauge::error when it does not
  /// start with the format's tag.
  result_set_reader(std::span<const unsigned char> bytes, std::int64_t first_id);
  /// The next record into `r`: false at the end. Its views hold until the next call. Throws
  /// chipgauge::error for a truncated or malformed record.
  bool next(result_record& r);
  /// The next record's device and benchmark without decoding the rest: false at the end. `skip`
  /// then passes over it, `next` decodes it.
  bool peek(std::int64_t& device_id, std::int64_t& benchmark_id);
  void skip();

 private:
  const unsigned char* p_;
  const unsigned char* end_;
  std::int64_t first_id_;
  std::vector<unsigned char> clocks_;  ///< u16 clocks expanded to the BLOB's doubles
};

/// Registers on `db` the virtual table module `chipgauge_results` and the aggregate
/// `chipgauge_pack_results(id, device_id, benchmark_id, status, reason, verified, suspect,
/// suspect_reasons, stop_reason, median, min, max, q1, q3, cv, sample_count, clock_mhz,
/// throttled_samples, theoretical, fraction, rates, clocks)`, which packs a group of result rows
/// into a result_sets BLOB (migration 5). Returns SQLITE_OK or SQLite's error code.
int register_result_sets(sqlite3* db);
/// Where the store keeps its results in result_sets (schema version 5 or later), creates the
/// connection's TEMP table `results` reading them; otherwise does nothing.
void attach_results_table(sqlite3* db, const std::string& file);

}  // namespace chipgauge::history::detail

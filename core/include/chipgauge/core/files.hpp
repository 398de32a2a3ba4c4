#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chipgauge {

/// The largest input file of one kind chipgauge reads (docs/spec-format.md, "Limits"). Checked
/// before the content is read: a larger file is refused with its size and the limit.
struct file_limit {
  const char* kind;  ///< "spec sheet", named in the error
  std::uintmax_t max_bytes;
};

namespace file_limits {
inline constexpr file_limit spec_sheet{"spec sheet", std::uintmax_t{1} << 20};          // 1 MiB
inline constexpr file_limit rule_file{"rule file", std::uintmax_t{1} << 20};            // 1 MiB
inline constexpr file_limit licensing_file{"licensing file", std::uintmax_t{1} << 20};  // 1 MiB
inline constexpr file_limit country_file{"country file", std::uintmax_t{4} << 20};      // 4 MiB
/// Measurement reports and every other JSON file (architecture tables) read without a kind.
inline constexpr file_limit json_file{"JSON file or measurement report",
                                      std::uintmax_t{16} << 20};  // 16 MiB
inline constexpr file_limit report = json_file;
inline constexpr file_limit ledger{"ledger", std::uintmax_t{64} << 20};  // 64 MiB
}  // namespace file_limits

/// Writes `content` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk and renamed over `path`, so readers see the old file or the new one, never a
/// part. A symbolic link at `path` is followed: its target is written and the link kept.
/// Before writing, stale temporary files of the same target are removed (stale_temporary()).
/// Throws chipgauge::error naming the path on failure, leaving `path` untouched.
void write_file_atomically(const std::string& path, std::string_view content);

/// `path` with every symbolic link resolved (also a dangling final link: its target, which
/// may not exist yet), made absolute. The file a write to `path` must replace, and the one
/// name every spelling of it shares (for locks). Throws chipgauge::error for a link loop.
std::string resolve_write_target(const std::string& path);

/// Whether a temporary file left beside `target` by write_file_atomically is stale and may be
/// removed. Temporaries are named `.NAME.tmp-HOST-PID-XXXXXX`; one is stale when it is older
/// than an hour (a write keeps its temporary for the time it takes to write and flush it), or
/// when it was made on this host by a process that no longer runs (killed mid-write).
/// `name` is the directory entry, `age_s` its age from its modification time.
bool stale_temporary(const std::string& target_filename, const std::string& name, double age_s);

/// The whole file as text. Throws chipgauge::error naming the path on failure.
std::string read_text_file(const std::string& path);
/// The whole file as text if it holds at most `limit.max_bytes`; throws spec_error naming the
/// file, its size and the limit otherwise (before reading it).
std::string read_text_file(const std::string& path, const file_limit& limit);

}  // namespace chipgauge

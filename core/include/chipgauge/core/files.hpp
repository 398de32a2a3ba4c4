#pragma once

#include <string>
#include <string_view>

namespace chipgauge {

/// Writes `content` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk and renamed over `path`, so readers see the old file or the new one, never a
/// part. Throws chipgauge::error naming the path on failure, leaving `path` untouched.
void write_file_atomically(const std::string& path, std::string_view content);

/// The whole file as text. Throws chipgauge::error naming the path on failure.
std::string read_text_file(const std::string& path);

}  // namespace chipgauge

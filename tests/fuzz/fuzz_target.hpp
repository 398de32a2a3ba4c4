// The contract every fuzz target implements, and what the targets share.
//
// Each target is one function, fuzz_one, linked either with libfuzzer_main.cpp (the libFuzzer
// entry point, clang -fsanitize=fuzzer) or with replay_main.cpp (a plain main that runs the inputs
// named on its command line, for the regression tests of any build). An input the product rejects
// with chipgauge::error is a success; a crash, a sanitizer report, any other exception or a failed
// fuzz_check is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

/// Runs one input. Returns 0 (libFuzzer's contract).
int fuzz_one(const std::uint8_t* data, std::size_t size);

namespace chipgauge::fuzz {

/// The input as text (bytes as they are; nothing is validated).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Called for an input the product rejected (a success): prints the reason on stderr when
/// $CHIPGAUGE_FUZZ_VERBOSE is set, for checking that seeds get past the parser.
void rejected(const std::exception& e);

/// Aborts with `what` on stderr when `ok` is false: an invariant the product broke.
void check(bool ok, std::string_view what);

/// The specs/ directory the targets load bundled data from: $CHIPGAUGE_SPECS_DIR, else the
/// source tree's specs/ recorded at build time.
const std::string& specs_dir();

/// A private scratch directory for this process (created on first use, removed at exit).
const std::string& scratch_dir();

/// Writes `content` to scratch_dir()/name (replacing it) and returns the full path.
std::string write_scratch(const std::string& name, std::string_view content);

}  // namespace chipgauge::fuzz

#include "fuzz_target.hpp"

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace chipgauge::fuzz {

void check(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

void rejected(const std::exception& e) {
  static const bool verbose = std::getenv("CHIPGAUGE_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "rejected: %s\n", e.what());
}

const std::string& specs_dir() {
  static const std::string dir = [] {
    const char* env = std::getenv("CHIPGAUGE_SPECS_DIR");
    return std::string(env && *env ? env : CHIPGAUGE_SOURCE_SPECS);
  }();
  return dir;
}

namespace {

// Removes the scratch directory when the process ends normally.
struct scratch_holder {
  std::string path;
  scratch_holder() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "chipgauge-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path = tmpl;
  }
  ~scratch_holder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  scratch_holder(const scratch_holder&) = delete;
  scratch_holder& operator=(const scratch_holder&) = delete;
};

}  // namespace

const std::string& scratch_dir() {
  static const scratch_holder holder;
  return holder.path;
}

std::string write_scratch(const std::string& name, std::string_view content) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  check(static_cast<bool>(out), "cannot write the scratch file " + path);
  return path;
}

}  // namespace chipgauge::fuzz

#include "chipgauge/serve/dataset.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

using chipgauge::classifier::catalog;
using chipgauge::classifier::licensing_engine;

namespace chipgauge::serve {

namespace {

std::string fingerprint(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a 64 offset basis
  const auto mix = [&h](const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(p[i]);
      h *= 1099511628211ULL;
    }
  };
  for (const auto& f : files) {
    const auto rel = fs::relative(f, dir).generic_string();
    mix(rel.data(),
        rel.size() + 1);  // with its terminating NUL, so that names and bytes cannot run together
    std::ifstream in(f, std::ios::binary);
    if (!in) throw error(fmt::format("cannot read {}", f.string()));
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    mix(bytes.data(), bytes.size());
  }
  return fmt::format("{:016x}", h);
}

}  // namespace

render_cache::key render_cache::make_key(const void* part, date as_of, bool what_if) {
  return key{part, static_cast<long long>(as_of.days().time_since_epoch().count()), what_if};
}

bool render_cache::find(const void* part, date as_of, bool what_if, entry& out) const {
  const std::shared_lock lock(mutex_);
  const auto it = map_.find(make_key(part, as_of, what_if));
  if (it == map_.end()) return false;
  out = it->second;
  return true;
}

void render_cache::insert(const void* part, date as_of, bool what_if, const entry& e) const {
  const std::unique_lock lock(mutex_);
  if (map_.size() >= max_entries) map_.clear();
  map_.emplace(make_key(part, as_of, what_if), e);
}

std::size_t render_cache::size() const {
  const std::shared_lock lock(mutex_);
  return map_.size();
}

std::shared_ptr<const dataset> dataset::load(const std::string& specs_dir) {
  auto d = std::make_shared<dataset>();
  d->specs_dir = specs_dir;
  d->cat = catalog::load(specs_dir);
  const auto& countries = d->cat.countries();
  const auto& licensing = d->cat.licensing();
  (void)d->cat.findings();
  d->licensing = std::make_unique<licensing_engine>(d->cat.rules(), licensing, countries);
  for (const auto& p : d->cat.parts().parts())
    d->sheet_text.emplace(p->id, read_text_file(p->file, file_limits::spec_sheet));
  for (const auto& r : d->cat.rules().regimes())
    d->rule_text.emplace(r.id, read_text_file(r.file, file_limits::rule_file));
  d->openapi =
      read_text_file((std::filesystem::path(specs_dir) / "schema" / "openapi.json").string(),
                     file_limit{"OpenAPI document", std::uintmax_t{1} << 20});
  d->version = fingerprint(specs_dir);
  d->loaded_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return d;
}

}  // namespace chipgauge::serve

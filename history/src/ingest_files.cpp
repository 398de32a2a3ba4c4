// Ingest of many files: parsed on worker threads, stored by one, in the order given
// (docs/history.md#ingest).
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/in_order.hpp"
#include "chipgauge/core/text.hpp"
#include "chipgauge/history/ingest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>
#include <utility>

namespace chipgauge::history {

void ingest_files(store& s, const std::vector<std::string>& files,
                  const ingest_files_options& options,
                  const std::function<void(std::size_t, const ingest_outcome&)>& stored,
                  const std::function<void(std::size_t, std::exception_ptr)>& failed) {
  const unsigned jobs =
      options.jobs != 0 ? options.jobs : std::clamp(std::thread::hardware_concurrency(), 1U, 16U);
  const std::size_t files_per_batch = std::max<std::size_t>(options.files_per_batch, 1);

  // The workers' lookup connections, opened here, before a batch holds the write lock. With one
  // job the files are prepared on this thread, which looks up on `s` itself.
  std::vector<std::optional<store>> lookups;
  if (jobs > 1 && !options.lookup_path.empty()) {
    lookups.resize(jobs);
    open_options o;
    o.create = false;
    for (auto& l : lookups) {
      try {
        l.emplace(store::open(options.lookup_path, o));
      } catch (const std::exception&) {
        break;  // only a shortcut: the rest parse every file
      }
    }
  }
  const auto lookup = [&](unsigned worker) -> store* {
    if (jobs == 1) return &s;
    return worker < lookups.size() && lookups[worker] ? &*lookups[worker] : nullptr;
  };
  const auto prepare = [&](std::size_t i, unsigned worker) {
    const auto& file = files[i];
    if (!std::filesystem::is_regular_file(file)) {
      prepared_document d;
      d.source.name = file;
      d.error = std::make_exception_ptr(
          usage_error(fmt::format("{} does not exist or is not a file", quote_input(file))));
      return d;
    }
    return prepare_file(file, lookup(worker));
  };

  std::optional<write_batch> batch;
  std::chrono::steady_clock::time_point batch_start;
  std::vector<std::pair<std::size_t, ingest_outcome>> in_batch;  // stored, not yet committed
  std::size_t batch_files = 0;
  const auto commit = [&] {
    if (!batch) return;
    batch->commit();
    batch.reset();
    batch_files = 0;
    auto done = std::exchange(in_batch, {});
    for (const auto& [i, outcome] : done) stored(i, outcome);
  };
  const auto store_one = [&](std::size_t i, prepared_document&& d) {
    if (!batch) {
      batch.emplace(s);
      batch_start = std::chrono::steady_clock::now();
    }
    try {
      in_batch.emplace_back(i, ingest_prepared(s, d, options.ingest));
    } catch (const std::exception&) {
      failed(i, std::current_exception());
    }
    if (++batch_files == files_per_batch ||
        std::chrono::steady_clock::now() - batch_start >= options.batch_time)
      commit();
  };
  produce_in_parallel_consume_in_order<prepared_document>(files.size(), jobs, 16 * jobs, prepare,
                                                          store_one);
  commit();
}

}  // namespace chipgauge::history

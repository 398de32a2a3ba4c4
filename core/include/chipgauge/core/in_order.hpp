#pragma once

// Work on worker threads, results used in order on the calling thread: the shape of `history
// ingest FILE...`, where reading, hashing and parsing a file needs no store and may run
// anywhere, while the store is written by one thread in the order the files were given.

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace chipgauge {

/// Calls produce(i, worker) for every i in [0, n) on up to `jobs` worker threads (0: one per
/// hardware thread; `worker` in [0, jobs) is the calling worker's, so that each may own state such
/// as a connection) and consume(i, T&&) with each result on the calling thread, in order of i. At
/// most `window` results (at least 1) are produced and not yet consumed, so memory stays bounded
/// however large n is. An exception from produce(i) is rethrown on the calling thread when i's
/// turn comes, as it would be without threads; one from consume stops the workers (items already
/// being produced are finished, none is started) and is rethrown once they have joined. With one
/// job, or where no thread can be started, everything runs on the calling thread as worker 0.
template <class T, class Produce, class Consume>
void produce_in_parallel_consume_in_order(std::size_t n, unsigned jobs, std::size_t window,
                                          Produce produce, Consume consume) {
  if (jobs == 0) jobs = std::max(1U, std::thread::hardware_concurrency());
  window = std::max<std::size_t>(window, 1);
  const auto inline_all = [&] {
    for (std::size_t i = 0; i < n; ++i) consume(i, produce(i, 0U));
  };
  if (jobs == 1 || n <= 1) return inline_all();

  struct slot {
    std::optional<T> value;
    std::exception_ptr error;
    bool ready = false;
  };
  std::vector<slot> slots(window);
  std::mutex m;
  std::condition_variable space;  // a slot was consumed, or stop
  std::condition_variable ready;  // a slot was filled
  std::size_t claimed = 0;        // items handed to a worker; all below are claimed
  std::size_t consumed = 0;  // items consumed; item i may be claimed once i < consumed + window
  bool stop = false;

  const auto work = [&](unsigned worker) {
    std::unique_lock lock(m);
    for (;;) {
      space.wait(lock, [&] { return stop || claimed >= n || claimed < consumed + window; });
      if (stop || claimed >= n) return;
      const std::size_t i = claimed++;
      lock.unlock();
      slot s;
      try {
        s.value.emplace(produce(i, worker));
      } catch (...) {
        s.error = std::current_exception();
      }
      s.ready = true;
      lock.lock();
      slots[i % window] = std::move(s);
      ready.notify_all();
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(jobs);
  try {
    for (unsigned t = 0; t < jobs; ++t) threads.emplace_back(work, t);
  } catch (const std::system_error&) {
    // Fewer threads than asked; with none at all, the calling thread does everything.
    if (threads.empty()) return inline_all();
  }
  const auto finish = [&] {
    {
      const std::lock_guard lock(m);
      stop = true;
    }
    space.notify_all();
    for (auto& t : threads) t.join();
  };

  try {
    for (std::size_t i = 0; i < n; ++i) {
      slot s;
      {
        std::unique_lock lock(m);
        ready.wait(lock, [&] { return slots[i % window].ready; });
        s = std::move(slots[i % window]);
        slots[i % window] = slot{};
        ++consumed;
      }
      space.notify_all();
      if (s.error) std::rethrow_exception(s.error);
      consume(i, std::move(*s.value));
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
}

}  // namespace chipgauge

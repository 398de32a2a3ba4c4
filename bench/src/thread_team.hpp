#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chipgauge::bench {

/// A fixed team of threads, each pinned to one CPU, that runs one task on every member and waits
/// for all of them (a blocking fork-join without thread start-up in the timed region).
class thread_team {
 public:
  explicit thread_team(std::vector<int> cpus);
  ~thread_team();
  thread_team(const thread_team&) = delete;
  thread_team& operator=(const thread_team&) = delete;

  [[nodiscard]] int size() const noexcept { return static_cast<int>(threads_.size()); }
  /// Runs task(member index) on every member; returns when all have finished. Exceptions in a
  /// member are rethrown here (the first one).
  void run(const std::function<void(int)>& task);

 private:
  void loop(int index, int cpu);

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(int)>* task_ = nullptr;
  std::uint64_t generation_ = 0;
  int remaining_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

/// The CPUs this process may run on (sched_getaffinity), in ascending order.
std::vector<int> allowed_cpus();
/// One allowed CPU per physical core (the lowest-numbered SMT sibling): the team runs one
/// thread per core, and theoretical peaks count cores, not hardware threads.
std::vector<int> one_cpu_per_core();

}  // namespace chipgauge::bench

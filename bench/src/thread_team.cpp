#include "thread_team.hpp"

#include <pthread.h>
#include <sched.h>

#include <fstream>
#include <set>
#include <string>

namespace chipgauge::bench {

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(static_cast<std::size_t>(i), &set)) cpus.push_back(i);
    }
  }
  if (cpus.empty()) {
    const auto n = static_cast<int>(std::thread::hardware_concurrency());
    for (int i = 0; i < n; ++i) cpus.push_back(i);
  }
  return cpus;
}

std::vector<int> one_cpu_per_core() {
  std::vector<int> out;
  std::set<std::pair<std::string, std::string>> seen;  // (package, core)
  for (int cpu : allowed_cpus()) {
    const std::string topo = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::string package;
    std::string core;
    std::ifstream(topo + "physical_package_id") >> package;
    std::ifstream(topo + "core_id") >> core;
    if (core.empty() || seen.insert({package, core}).second)
      out.push_back(cpu);  // unknown topology: keep it
  }
  return out;
}

thread_team::thread_team(std::vector<int> cpus) {
  try {
    for (std::size_t i = 0; i < cpus.size(); ++i)
      threads_.emplace_back([this, i, cpu = cpus[i]] { loop(static_cast<int>(i), cpu); });
  } catch (...) {
    // A thread that cannot start: stop and join the ones that did before reporting it.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
    throw;
  }
}

thread_team::~thread_team() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : threads_) t.join();
}

void thread_team::run(const std::function<void(int)>& task) {
  std::unique_lock<std::mutex> lock(mutex_);
  task_ = &task;
  remaining_ = size();
  error_ = nullptr;
  ++generation_;
  start_.notify_all();
  done_.wait(lock, [this] { return remaining_ == 0; });
  task_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void thread_team::loop(int index, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  pthread_setaffinity_np(pthread_self(), sizeof set,
                         &set);  // best effort: a refusal leaves it unpinned
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)>* task = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      task = task_;
    }
    std::exception_ptr err;
    try {
      (*task)(index);
    } catch (...) {
      err = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (err && !error_) error_ = err;
      if (--remaining_ == 0) done_.notify_one();
    }
  }
}

}  // namespace chipgauge::bench

#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace chipgauge::serve {

struct dataset;

/// The server's Prometheus series (text exposition format 0.0.4, served at /metrics):
///   chipgauge_http_requests_total{route,method,status}            counter
///   chipgauge_http_request_duration_seconds{route,status}          histogram (seconds)
///   chipgauge_classifications_total{eccn}                          counter ("none": no ECCN)
///   chipgauge_dataset_reloads_total{result}                        counter (ok, failed)
///   chipgauge_history_ingests_total{kind,outcome}                  counter (report, certificate;
///                                                                  ingested, already_present,
///                                                                  refused)
///   chipgauge_dataset_info{version,specs_dir}                      gauge, 1
///   chipgauge_dataset_loaded_timestamp_seconds                     gauge
/// Thread-safe; `route` is the matched route pattern ("/v1/parts/{id}"), "unmatched" otherwise.
class metrics_registry {
 public:
  /// Histogram bucket upper bounds, seconds.
  static constexpr std::array<double, 12> buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   0.5,    1.0};

  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  void count_classification(std::string_view eccn);
  void count_reload(bool ok);
  /// One POST to an ingest route that reached its handler: `kind` is the route's ("report",
  /// "certificate"), `outcome` "ingested", "already_present" or "refused" (a body the store
  /// would not take).
  void count_ingest(std::string_view kind, std::string_view outcome);
  /// The exposition text, with the data set's series from `data` (null: none loaded).
  [[nodiscard]] std::string render(const dataset* data) const;

 private:
  struct histogram {
    std::array<std::uint64_t, buckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t, std::less<>> requests_;
  std::map<std::pair<std::string, int>, histogram, std::less<>> durations_;
  std::map<std::string, std::uint64_t, std::less<>> classifications_;
  std::map<std::pair<std::string, std::string>, std::uint64_t, std::less<>> ingests_;
  std::uint64_t reloads_ok_ = 0;
  std::uint64_t reloads_failed_ = 0;
};

}  // namespace chipgauge::serve

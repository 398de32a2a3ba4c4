#include "chipgauge/serve/metrics.hpp"

#include "chipgauge/serve/dataset.hpp"

#include <fmt/format.h>

namespace chipgauge::serve {

namespace {

// A label value escaped as the exposition format requires (backslash, double quote, newline).
std::string label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

void metrics_registry::observe_request(std::string_view route, std::string_view method, int status,
                                       double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[std::make_tuple(std::string(route), std::string(method), status)];
  auto& h = durations_[std::make_pair(std::string(route), status)];
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (seconds <= buckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void metrics_registry::count_classification(std::string_view eccn) {
  const std::lock_guard lock(mutex_);
  ++classifications_[std::string(eccn.empty() ? "none" : eccn)];
}

void metrics_registry::count_reload(bool ok) {
  const std::lock_guard lock(mutex_);
  ++(ok ? reloads_ok_ : reloads_failed_);
}

void metrics_registry::count_ingest(std::string_view kind, std::string_view outcome) {
  const std::lock_guard lock(mutex_);
  ++ingests_[std::make_pair(std::string(kind), std::string(outcome))];
}

std::string metrics_registry::render(const dataset* data) const {
  const std::lock_guard lock(mutex_);
  std::string out;
  out +=
      "# HELP chipgauge_http_requests_total HTTP requests answered, by route pattern, method "
      "and status.\n";
  out += "# TYPE chipgauge_http_requests_total counter\n";
  for (const auto& [k, n] : requests_)
    out += fmt::format(
        "chipgauge_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
        label(std::get<0>(k)), label(std::get<1>(k)), std::get<2>(k), n);
  out +=
      "# HELP chipgauge_http_request_duration_seconds Time from the request's first byte to its "
      "response, by route pattern and status.\n";
  out += "# TYPE chipgauge_http_request_duration_seconds histogram\n";
  for (const auto& [k, h] : durations_) {
    const auto route = label(k.first);
    for (std::size_t i = 0; i < buckets.size(); ++i)
      out += fmt::format(
          "chipgauge_http_request_duration_seconds_bucket{{route=\"{}\",status=\"{}\",le=\"{}\"}"
          "} {}\n",
          route, k.second, buckets[i], h.counts[i]);
    out += fmt::format(
        "chipgauge_http_request_duration_seconds_bucket{{route=\"{}\",status=\"{}\",le=\"+Inf\"}"
        "} {}\n",
        route, k.second, h.count);
    out += fmt::format(
        "chipgauge_http_request_duration_seconds_sum{{route=\"{}\",status=\"{}\"}} {}\n", route,
        k.second, h.sum);
    out += fmt::format(
        "chipgauge_http_request_duration_seconds_count{{route=\"{}\",status=\"{}\"}} {}\n", route,
        k.second, h.count);
  }
  out +=
      "# HELP chipgauge_classifications_total Parts classified through the API, by the ECCN "
      "answered (none: no ECCN).\n";
  out += "# TYPE chipgauge_classifications_total counter\n";
  for (const auto& [eccn, n] : classifications_)
    out += fmt::format("chipgauge_classifications_total{{eccn=\"{}\"}} {}\n", label(eccn), n);
  out += "# HELP chipgauge_dataset_reloads_total Reloads of the data set (SIGHUP), by result.\n";
  out += "# TYPE chipgauge_dataset_reloads_total counter\n";
  out += fmt::format("chipgauge_dataset_reloads_total{{result=\"ok\"}} {}\n", reloads_ok_);
  out += fmt::format("chipgauge_dataset_reloads_total{{result=\"failed\"}} {}\n", reloads_failed_);
  out +=
      "# HELP chipgauge_history_ingests_total Bodies POSTed to the ingest routes, by the "
      "route's kind and the outcome.\n";
  out += "# TYPE chipgauge_history_ingests_total counter\n";
  for (const auto& [k, n] : ingests_)
    out += fmt::format("chipgauge_history_ingests_total{{kind=\"{}\",outcome=\"{}\"}} {}\n",
                       label(k.first), label(k.second), n);
  if (data) {
    out +=
        "# HELP chipgauge_dataset_info The data set served: its version (a digest of specs/) "
        "and directory.\n";
    out += "# TYPE chipgauge_dataset_info gauge\n";
    out += fmt::format("chipgauge_dataset_info{{version=\"{}\",specs_dir=\"{}\"}} 1\n",
                       label(data->version), label(data->specs_dir));
    out +=
        "# HELP chipgauge_dataset_loaded_timestamp_seconds When the data set served was loaded, "
        "seconds since the epoch.\n";
    out += "# TYPE chipgauge_dataset_loaded_timestamp_seconds gauge\n";
    out += fmt::format("chipgauge_dataset_loaded_timestamp_seconds {:.3f}\n", data->loaded_at);
  }
  return out;
}

}  // namespace chipgauge::serve

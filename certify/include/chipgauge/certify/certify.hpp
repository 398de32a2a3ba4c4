#pragma once

// chipgauge certify: a measurement checked against the part's envelope, its own theoretical peaks
// and its same-SKU peers on the node, classified, and written up as one certificate body per
// device (`chipgauge.certificate/1`, specs/schema/certificate.schema.json) plus a node summary.
// The body is sealed (hash, optional signature) by the integrity layer as the last step.

#include "chipgauge/bench/report.hpp"
#include "chipgauge/certify/envelope.hpp"
#include "chipgauge/certify/identity.hpp"
#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/core/date.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace chipgauge::certify {

enum class outcome : unsigned char { pass, fail, inconclusive };
const char* to_string(outcome o) noexcept;

/// Who certifies, where and how: recorded in every certificate.
struct certify_context {
  std::string lab;
  std::string tester;
  std::string location;     ///< ISO 3166-1 alpha-2 country code (checked by the caller)
  date as_of;               ///< the date the classification is made on
  std::string spec;         ///< --spec: a sheet path or id; empty: match by identity
  std::string source;       ///< "measured by this run" or the report file certified
  std::string started_utc;  ///< ISO 8601, seconds, Z
  std::string ended_utc;
  double duration_s = 0;  ///< --duration soak length; 0: none
  int soak_rounds = 0;    ///< repeats of the compute and memory benchmarks the soak ran
  std::vector<std::string> argv;
};

/// One check and its outcome. `margin` is measured / limit - 1 (positive: clear of a floor; for a
/// ceiling or outlier the sign says which side).
struct check_outcome {
  std::string kind;  ///< "floor", "ceiling", "theoretical", "outlier", "telemetry", "verification",
                     ///< "coverage", "identity", "classification"
  std::string benchmark;  ///< empty for device-level checks
  std::string basis;  ///< where the limit comes from (envelope id and file, the node median, the
                      ///< device's own peak)
  std::string reference_url;
  std::string reference_title;
  std::string evidence;
  std::optional<double> measured;
  std::optional<double> limit;
  std::string unit;
  std::optional<double> margin;
  outcome result = outcome::inconclusive;
  std::string detail;
};

struct device_certificate {
  bench::device_info device;
  sheet_match match;
  std::vector<bench::measurement> results;
  std::vector<check_outcome> checks;
  outcome verdict = outcome::inconclusive;
  std::vector<std::string> reasons;  ///< why it did not pass (or "unknown part" notes)
  nlohmann::json body;               ///< the certificate body (chipgauge.certificate/1), unsealed
};

struct node_certification {
  std::vector<device_certificate> devices;
  outcome verdict = outcome::inconclusive;
  /// The process exit status: 0 every device passes, 4 any fails, 3 any inconclusive (and none
  /// fails).
  [[nodiscard]] int exit_status() const noexcept;
};

/// Fraction below the peers' median at which a device is an outlier (gpu-fryer's and SuperBench's
/// 10 % rule).
inline constexpr double outlier_fraction = 0.10;

/// Certifies every device of `report`. Throws usage_error for a --spec sheet that contradicts a
/// device, spec_error for bad data; everything the measurement cannot support is `inconclusive`.
node_certification certify_report(classifier::catalog& cat, const envelope_set& envelopes,
                                  const bench::measurement_report& report,
                                  const certify_context& ctx);

/// Merges a soak round into `base`: the samples of each benchmark present in both are appended,
/// the summaries recomputed from all of them (so the gate is the median over the whole soak), and
/// a round's invalid or suspect result makes the merged one so.
void merge_round(bench::measurement_report& base, const bench::measurement_report& round);

/// The node summary (`chipgauge.certificate-summary/1`): every device's verdict and certificate
/// file.
nlohmann::json node_summary(const node_certification& n, const certify_context& ctx,
                            const std::vector<std::string>& certificate_files);

/// certify --exit-on-fail's single line (with its newline), for a scheduler to record as a node's
/// drain reason: "chipgauge certify: pass (N devices)" or "chipgauge certify: VERDICT: DEVICE:
/// REASON" naming the first device that did not pass and its first reason (and "(+K more)" when
/// others did not).
std::string health_line(const node_certification& n);

/// Renderings of a sealed certificate (or a bare body): the verdict first, then the part, the three
/// TPPs and the ECCN, then the evidence. HTML is one self-contained printable page.
enum class render_format : unsigned char { text, md, html, json };
std::string render_certificate(const nlohmann::json& certificate, render_format format);
/// The node summary as text or Markdown (json: the summary itself).
std::string render_summary(const node_certification& n, render_format format);

}  // namespace chipgauge::certify

#pragma once

#include "chipgauge/serve/api.hpp"

#include <optional>
#include <string>

namespace chipgauge::serve {

/// Adds the history routes (docs/api.md#history) to `a`, over the history store at `path`:
///   POST /v1/reports, POST /v1/certificates     ingest (write routes: the bearer token)
///   GET  /v1/history/runs, /v1/history/runs/{id} `history list|show --format json`
///   GET  /v1/history/trend                       the series a dashboard trend page charts
///   GET  /v1/compare                             `compare SELECTOR SELECTOR --format json`
///   GET  /dashboard, /dashboard/{path}           the dashboard, built from the store as it is
/// Every answer is the history, bench or dashboard library's, as the CLI computes it. With an
/// empty `path` (no store configured) the routes exist and answer 503. Otherwise the store is
/// opened (created when missing, as `history ingest` does) once here, so that a file that is not
/// a history store stops the server at start: throws usage_error or chipgauge::error as
/// history::store::open does. `trusted_key`: the Ed25519 public key file (PEM, --pubkey) a
/// posted certificate must be signed by to be stored as verified, and that the dashboard's fleet
/// page counts certificates with (history ingest --pubkey, fleet collect --pubkey).
void add_history_routes(api& a, const std::string& path,
                        const std::optional<std::string>& trusted_key = std::nullopt);

}  // namespace chipgauge::serve

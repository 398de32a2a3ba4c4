// A build without the PostgreSQL backend (CHIPGAUGE_POSTGRESQL=OFF, as the portable binary is
// built): a postgresql:// store is refused with the reason.
#include "chipgauge/core/text.hpp"
#include "connection.hpp"

#include <fmt/format.h>

namespace chipgauge::history::detail {

std::unique_ptr<connection> open_postgresql(const std::string& url, const open_options&) {
  throw usage_error(
      fmt::format("history {}: this chipgauge was built without the PostgreSQL backend "
                  "(CHIPGAUGE_POSTGRESQL=OFF): use a SQLite file, or a build with libpqxx",
                  quote_input(redact_url(url))));
}

}  // namespace chipgauge::history::detail

#pragma once

// The site's own script and style sheet (Chart.js itself is copied from the system).

namespace chipgauge::dashboard::detail {
extern const char* const dashboard_js;
extern const char* const style_css;
}  // namespace chipgauge::dashboard::detail

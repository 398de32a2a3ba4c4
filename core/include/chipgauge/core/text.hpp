#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chipgauge {

/// `value` rounded to `decimals` places with thousands separators: 15831.5 -> "15,832" (0 places),
/// 19.45 -> "19.45" (2). Negative values keep their sign.
std::string group_thousands(double value, int decimals = 0);

/// A compact human form: up to 3 significant decimals for small numbers, grouped integers for
/// large ones, "80 billion" from 1e9, scientific from 1e12 (4.00e+20). Used in rationale text, never for data output.
std::string human_number(double value);

/// A plain-text table with a header row, columns padded to their widest cell; numbers are
/// right-aligned when `right_align[i]` is true.
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_align = {});

/// A GitHub-flavoured Markdown table; '|' in cells is escaped.
std::string render_markdown_table(const std::vector<std::string>& header,
                                  const std::vector<std::vector<std::string>>& rows);

/// RFC 4180 CSV: fields with comma, quote or newline are quoted, quotes doubled; "\n" line ends.
std::string render_csv(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace chipgauge

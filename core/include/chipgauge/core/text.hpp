#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chipgauge {

/// Input text made safe to quote in a message: control characters, DEL and bytes that are not
/// UTF-8 are written as escapes (\n, \t, \x1b, \xff), and text longer than `max_bytes` is cut
/// at a character boundary with "... (N bytes)" after it. Every error message that quotes input
/// (ids, names, keys, values) passes it through this, so a 100 MB id or a terminal escape
/// sequence never reaches the terminal raw.
std::string quote_input(std::string_view text, std::size_t max_bytes = 120);

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF). On failure `bad_offset`, when given, receives the offset of the first bad byte.
bool valid_utf8(std::string_view text, std::size_t* bad_offset = nullptr);

/// `value` rounded to `decimals` places with thousands separators: 15831.5 -> "15,832" (0 places),
/// 19.45 -> "19.45" (2). Negative values keep their sign.
std::string group_thousands(double value, int decimals = 0);

/// A compact human form: up to 3 significant decimals for small numbers, grouped integers for
/// large ones, "80 billion" from 1e9, scientific from 1e12 (4.00e+20). Used in rationale text,
/// never for data output.
std::string human_number(double value);

/// A plain-text table with a header row, columns padded to their widest cell; numbers are
/// right-aligned when `right_align[i]` is true.
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_align = {});

/// A GitHub-flavoured Markdown table; '|' in cells is escaped.
std::string render_markdown_table(const std::vector<std::string>& header,
                                  const std::vector<std::vector<std::string>>& rows);

/// RFC 4180 CSV: fields with comma, quote or newline are quoted, quotes doubled; "\n" line ends.
/// `s` escaped for HTML text and attribute values: & < > " ' become entities.
std::string html_escape(std::string_view s);

std::string render_csv(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows);

}  // namespace chipgauge

#pragma once

#include <optional>
#include <string_view>

namespace chipgauge::classifier {

/// How well a regulatory fact is established (docs/regulation.md#evidence-tags): V official
/// text, C arithmetic from given numbers, S secondary source, R recollection not found in text.
/// Ordered strongest first, so std::max gives the weaker of two tags.
enum class evidence_tag : unsigned char { V, C, S, R };

std::string_view to_string(evidence_tag t) noexcept;
std::optional<evidence_tag> parse_evidence_tag(std::string_view text) noexcept;
/// A one-line meaning for output ("official text", "secondary source", ...).
std::string_view describe(evidence_tag t) noexcept;

}  // namespace chipgauge::classifier

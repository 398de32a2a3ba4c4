#pragma once

// Readers for the field types the data files share (evidence tags, dates, statuses), each failing
// with the file and JSON path. Internal to the classifier's loaders.

#include "chipgauge/classifier/dated_document.hpp"
#include "chipgauge/classifier/evidence.hpp"
#include "chipgauge/classifier/rules.hpp"
#include "chipgauge/core/date.hpp"
#include "chipgauge/core/json_reader.hpp"

#include <string>
#include <string_view>

namespace chipgauge::classifier::json_fields {

evidence_tag evidence(const json_node& n);
date day(const json_node& n);
regime_status status(const json_node& n);
/// A named parameter of a rule or licensing file: `value` or increasing dated `values`, with unit,
/// evidence, source and note. Checks the name (lowercase identifier, not a word of the expression
/// language); each loader adds its own checks against the variables it defines.
parameter parameter_at(const std::string& name, const json_node& n);

/// Reads the header a dated document shares into `into`: `schema` (must equal `schema`), `id`
/// (lowercase letters, digits, '.', '_', '-'), `title`, `evidence`, `citations` (at least one) and
/// `timeline` (at least one entry, dates strictly increasing); `into.file` is the node's file. The
/// caller checks the keys of `root`, the id against the file name and other files, and the rest.
void read_document_header(const json_node& root, std::string_view schema, dated_document& into);

/// The string at `key`, or empty when absent.
std::string optional_string(const json_node& n, std::string_view key);

}  // namespace chipgauge::classifier::json_fields

#pragma once

#include "chipgauge/classifier/catalog.hpp"
#include "chipgauge/classifier/report.hpp"
#include "chipgauge/classifier/rules.hpp"
#include "chipgauge/core/date.hpp"

#include <string>

namespace chipgauge::classifier {

/// `rules list`: every regime with its role, status on `as_of`, first in-force date, evidence and
/// title, as a table (text, md), CSV or a JSON array of objects with those columns.
std::string render_rules_list(const rule_set& rules, date as_of, output_format format);

/// `rules show`: one regime as text: timeline, citations, parameters with their values on
/// `as_of`, clauses, exceptions and notes.
std::string render_regime(const regime& r, date as_of);

/// `specs list`: every part with vendor, name, kind, evidence, datacenter and TPP, as a table
/// (text, with a count line; md), CSV or a JSON array (with the sheet's file).
std::string render_parts_list(const catalog& cat, output_format format);

}  // namespace chipgauge::classifier

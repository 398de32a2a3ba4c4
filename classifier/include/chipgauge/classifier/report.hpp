#pragma once

#include "chipgauge/classifier/database.hpp"
#include "chipgauge/classifier/engine.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier {

/// The output formats of data-producing commands.
enum class output_format : unsigned char { text, json, md, csv };

/// The statement every classification output carries: chipgauge's output is not legal advice,
/// and says so (docs/regulation.md).
std::string_view disclaimer() noexcept;

/// One regime verdict as a sentence: the clause that fired and the margin to every threshold it
/// tested ("3A090.a.1: TPP 15,832 is 3.30 x the 4,800 line"), or why no clause fired.
std::string verdict_reason(const regime_verdict& v);

/// Notes a reader must see: defaulted datacenter flag, unknown PD, alternative readings that
/// change the ECCN, weak evidence.
std::vector<std::string> classification_notes(const classification& c);

/// The `chipgauge.classification/1` JSON object of one classification (docs/classify-output.md),
/// serialised with 2-space indentation.
std::string to_json(const classification& c, const evaluation_plan& plan);
/// A JSON array of classifications.
std::string to_json(const std::vector<classification>& cs, const evaluation_plan& plan);
/// The same array from each classification as to_json(c, plan) renders it alone (a server keeps
/// those): byte for byte what to_json(cs, plan) gives, each element indented one level.
std::string json_array_of(const std::vector<std::string_view>& rendered);

/// Renders classifications in `format`: text (a table plus each part's verdicts), md and csv
/// (one row per part, one column per regime evaluated), json (as above: an object for one
/// part, an array for several). `brief` text shows the table without each part's verdicts.
std::string render(const std::vector<classification>& cs, const evaluation_plan& plan,
                   output_format format, bool brief = false);

/// The database's coverage as a Markdown section: one row per vendor and kind, one column per
/// evidence level (the weakest source each sheet rests on), counting sheets, with a total row.
std::string coverage_markdown(const spec_database& db);

}  // namespace chipgauge::classifier

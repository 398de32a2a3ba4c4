#include "chipgauge/certify/certify.hpp"

#include "chipgauge/core/text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace chipgauge::certify {

namespace {

using json = nlohmann::json;

std::string str(const json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return j.get<std::string>();
  if (j.is_boolean()) return j.get<bool>() ? "yes" : "no";
  if (j.is_number()) {
    const double v = j.get<double>();
    if (std::abs(v) >= 1e6) return fmt::format("{:.4g}", v);
    if (v == std::floor(v)) return fmt::format("{:.0f}", v);
    return fmt::format("{:.4g}", v);
  }
  return j.dump();
}

std::string tpp_value(const json& j) {
  if (!j.is_number()) return "-";
  const double v = j.get<double>();
  return group_thousands(v, v < 100 ? 1 : 0);
}

std::string md_cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

// The rows every rendering shows, in order: verdict, part, TPPs, ECCN, then evidence.
struct view {
  std::string verdict;
  bool unknown = false;
  std::vector<std::string> reasons;
  std::vector<std::pair<std::string, std::string>> part;
  std::vector<std::pair<std::string, std::string>> headline;  // TPPs and ECCN
  std::vector<std::pair<std::string, std::string>> context;   // who, when, with what
  std::vector<std::vector<std::string>> results;
  std::vector<std::vector<std::string>> checks;
  std::vector<std::string> findings;
  std::vector<std::pair<std::string, std::string>> integrity;
};

view make_view(const json& cert) {
  const json& b = cert.contains("body") ? cert.at("body") : cert;
  view v;
  v.verdict = b.at("verdict").at("outcome").get<std::string>();
  v.unknown = b.at("verdict").at("unknown_part").get<bool>();
  for (const auto& r : b.at("verdict").at("reasons")) v.reasons.push_back(r.get<std::string>());
  const auto& d = b.at("device");
  const auto& s = b.at("sheet");
  v.part = {
      {"device", fmt::format("{} ({}, {} backend)", str(d.at("name")), str(d.at("id")),
                             str(d.at("backend")))},
      {"sheet", s.at("id").is_null() ? "none: unknown part"
                                     : fmt::format("{} ({})", str(s.at("id")), str(s.at("name")))},
      {"matched by", fmt::format("{}: {}", str(s.at("matched_by")), str(s.at("detail")))}};
  for (const auto& key : {"pci_id", "pci_subsystem_id", "uuid", "serial", "vbios", "family",
                          "model", "stepping", "microcode"}) {
    if (d.at("identity").contains(key)) v.part.emplace_back(key, str(d.at("identity").at(key)));
  }
  const auto& t = b.at("tpp");
  const auto& c = b.at("classification");
  v.headline = {
      {"TPP declared", tpp_value(t.at("declared"))},
      {"TPP derived", tpp_value(t.at("derived"))},
      {"TPP measured",
       tpp_value(t.at("measured")) + (t.at("measured").is_number() ? " (a lower bound)" : "")},
      {"ECCN", c.at("eccn").is_null() ? std::string("none fired (") + str(c.at("outcome")) + ")"
                                      : str(c.at("eccn"))},
      {"classified as of", str(c.at("as_of"))}};
  for (const auto& r : c.at("regimes"))
    v.headline.emplace_back("regime " + str(r.at("regime")),
                            fmt::format("{} {}", str(r.at("outcome")),
                                        r.at("eccn").is_null() ? "" : str(r.at("eccn"))));
  for (const auto& f : c.at("findings")) v.findings.push_back(f.get<std::string>());
  const auto& w = b.at("who");
  const auto& when = b.at("when");
  const auto& tool = b.at("tooling");
  v.context = {{"lab", str(w.at("lab"))},
               {"tester", str(w.at("tester"))},
               {"location", str(w.at("location"))},
               {"start (UTC)", str(when.at("start_utc"))},
               {"end (UTC)", str(when.at("end_utc"))},
               {"host", fmt::format("{} ({}, {})", str(b.at("host").at("hostname")),
                                    str(b.at("host").at("os")), str(b.at("host").at("kernel")))},
               {"tool", fmt::format("chipgauge {} ({}), {} build, {}", str(tool.at("tool_version")),
                                    str(tool.at("git_sha")), str(tool.at("build_type")),
                                    str(tool.at("compiler")))},
               {"mode", fmt::format("{}; soak {} s in {} round(s)", str(tool.at("mode")),
                                    str(tool.at("soak_s")), str(tool.at("soak_rounds")))},
               {"CUDA driver / runtime",
                fmt::format("{} / {}", str(tool.at("cuda_driver")), str(tool.at("cuda_runtime")))},
               {"CPU governor", str(tool.at("cpu_governor"))}};
  for (const auto& r : b.at("results")) {
    v.results.push_back(
        {str(r.at("benchmark")),
         str(r.at("status")) + (r.at("suspect").get<bool>() ? " (suspect)" : ""),
         str(r.at("median")), str(r.at("iqr")), str(r.at("min")), str(r.at("max")),
         str(r.at("samples")), str(r.at("unit")),
         r.at("fraction_of_theoretical").is_number()
             ? fmt::format("{:.1f} %", 100 * r.at("fraction_of_theoretical").get<double>())
             : "-",
         str(r.at("stop_reason"))});
  }
  for (const auto& k : b.at("checks")) {
    v.checks.push_back(
        {str(k.at("result")), str(k.at("kind")), str(k.at("benchmark")), str(k.at("measured")),
         str(k.at("limit")),
         k.at("margin").is_number() ? fmt::format("{:+.1f} %", 100 * k.at("margin").get<double>())
                                    : "-",
         k.at("reference").is_null()
             ? str(k.at("basis"))
             : str(k.at("reference").at("title")) + " <" + str(k.at("reference").at("url")) + ">",
         str(k.at("detail"))});
  }
  if (cert.contains("integrity")) {
    const auto& in = cert.at("integrity");
    for (const auto& [k, x] : in.items())
      v.integrity.emplace_back(k, x.is_object() ? x.dump() : str(x));
  } else {
    v.integrity.emplace_back("integrity", "not sealed: this is a bare body");
  }
  return v;
}

const std::vector<std::string> result_head = {"benchmark", "status",  "median", "IQR",     "min",
                                              "max",       "samples", "unit",   "of peak", "stop"};
const std::vector<std::string> check_head = {"result", "check",  "benchmark", "measured",
                                             "limit",  "margin", "reference", "detail"};

std::string verdict_line(const view& v) {
  std::string s = "VERDICT: " + v.verdict;
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s + (v.unknown ? " (unknown part)" : "");
}

std::string text(const view& v) {
  std::string out = verdict_line(v) + "\n";
  for (const auto& r : v.reasons) out += "  " + r + "\n";
  auto pairs = [&out](const std::string& title,
                      const std::vector<std::pair<std::string, std::string>>& rows) {
    out += "\n" + title + "\n";
    for (const auto& [k, x] : rows) out += fmt::format("  {:<24} {}\n", k, x);
  };
  pairs("Part", v.part);
  pairs("TPP and ECCN", v.headline);
  for (const auto& f : v.findings) out += "  finding: " + f + "\n";
  pairs("Who, when, with what", v.context);
  out += "\nResults (rates: the median of the timed samples gates; IQR, min and max beside it)\n";
  for (const auto& r : v.results)
    out += fmt::format("  {:<24} {:<16} median {} IQR {} min {} max {} n {} {} {} {}\n", r[0], r[1],
                       r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]);
  out += "\nChecks\n";
  for (const auto& c : v.checks)
    out += fmt::format("  {:<12} {:<14} {:<22} {} [{}]\n", c[0], c[1], c[2], c[7], c[6]);
  pairs("Integrity", v.integrity);
  return out;
}

std::string markdown(const view& v) {
  std::string out = "# Certificate: " + v.verdict + (v.unknown ? " (unknown part)" : "") + "\n\n";
  for (const auto& r : v.reasons) out += "- " + md_cell(r) + "\n";
  auto pairs = [&out](const std::string& title,
                      const std::vector<std::pair<std::string, std::string>>& rows) {
    out += "\n## " + title + "\n\n| | |\n|---|---|\n";
    for (const auto& [k, x] : rows) out += "| " + md_cell(k) + " | " + md_cell(x) + " |\n";
  };
  auto table = [&out](const std::string& title, const std::vector<std::string>& head,
                      const std::vector<std::vector<std::string>>& rows) {
    out += "\n## " + title + "\n\n|";
    for (const auto& h : head) out += " " + h + " |";
    out += "\n|";
    for (std::size_t i = 0; i < head.size(); ++i) out += "---|";
    out += "\n";
    for (const auto& r : rows) {
      out += "|";
      for (const auto& c : r) out += " " + md_cell(c) + " |";
      out += "\n";
    }
  };
  pairs("Part", v.part);
  pairs("TPP and ECCN", v.headline);
  if (!v.findings.empty()) {
    out += "\n";
    for (const auto& f : v.findings) out += "- finding: " + md_cell(f) + "\n";
  }
  pairs("Who, when, with what", v.context);
  table("Results", result_head, v.results);
  table("Checks", check_head, v.checks);
  pairs("Integrity", v.integrity);
  return out;
}

std::string html(const view& v) {
  const char* colour = v.verdict == "pass"   ? "#1b5e20"
                       : v.verdict == "fail" ? "#b71c1c"
                                             : "#8d6e00";
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
      "chipgauge certificate</title>\n<style>body{font-family:sans-serif;margin:2em;color:#111}t"
      "able{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}td,th{border:1px "
      "solid #999;padding:0.2em 0.5em;text-align:left;vertical-align:top}th{background:#eee}.ver"
      "dict{font-size:1.8em;font-weight:bold;padding:0.3em "
      "0.6em;color:#fff;display:inline-block}@media "
      "print{body{margin:1cm}.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
      "}</style></head><body>\n";
  out += fmt::format("<div class=\"verdict\" style=\"background:{}\">{}</div>\n<ul>\n", colour,
                     html_escape(verdict_line(v)));
  for (const auto& r : v.reasons) out += "<li>" + html_escape(r) + "</li>\n";
  out += "</ul>\n";
  auto pairs = [&out](const std::string& title,
                      const std::vector<std::pair<std::string, std::string>>& rows) {
    out += "<h2>" + html_escape(title) + "</h2>\n<table>\n";
    for (const auto& [k, x] : rows)
      out += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(x) + "</td></tr>\n";
    out += "</table>\n";
  };
  auto table = [&out](const std::string& title, const std::vector<std::string>& head,
                      const std::vector<std::vector<std::string>>& rows) {
    out += "<h2>" + html_escape(title) + "</h2>\n<table>\n<tr>";
    for (const auto& h : head) out += "<th>" + html_escape(h) + "</th>";
    out += "</tr>\n";
    for (const auto& r : rows) {
      out += "<tr>";
      for (const auto& c : r) out += "<td>" + html_escape(c) + "</td>";
      out += "</tr>\n";
    }
    out += "</table>\n";
  };
  pairs("Part", v.part);
  pairs("TPP and ECCN", v.headline);
  if (!v.findings.empty()) {
    out += "<ul>\n";
    for (const auto& f : v.findings) out += "<li>finding: " + html_escape(f) + "</li>\n";
    out += "</ul>\n";
  }
  pairs("Who, when, with what", v.context);
  table("Results", result_head, v.results);
  table("Checks", check_head, v.checks);
  pairs("Integrity", v.integrity);
  out += "</body></html>\n";
  return out;
}

}  // namespace

std::string render_certificate(const nlohmann::json& certificate, render_format format) {
  if (format == render_format::json) return certificate.dump(2) + "\n";
  const auto v = make_view(certificate);
  switch (format) {
    case render_format::md: return markdown(v);
    case render_format::html: return html(v);
    default: return text(v);
  }
}

std::string render_summary(const node_certification& n, render_format format) {
  std::string out;
  if (format == render_format::md) {
    out = "# Node certification: " + std::string(to_string(n.verdict)) +
          "\n\n| device | name | sheet | verdict |\n|---|---|---|---|\n";
    for (const auto& dc : n.devices)
      out +=
          fmt::format("| {} | {} | {} | {} |\n", dc.device.id, md_cell(dc.device.name),
                      dc.match.sheet ? dc.match.sheet->id : "unknown part", to_string(dc.verdict));
    return out;
  }
  out = fmt::format("node verdict: {}\n", to_string(n.verdict));
  for (const auto& dc : n.devices) {
    out += fmt::format("{} {} ({}): {}\n", dc.device.id, dc.device.name,
                       dc.match.sheet ? dc.match.sheet->id : "unknown part", to_string(dc.verdict));
    for (const auto& r : dc.reasons) out += "  " + r + "\n";
  }
  return out;
}

}  // namespace chipgauge::certify

// Reading `chipgauge.spec/1` sheets (docs/spec-format.md) with strict checking.
#include "chipgauge/classifier/spec.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "json_fields.hpp"
#include "spec_limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace chipgauge::classifier {

namespace {

using limits = spec_limits;

chip_spec parse_spec_node(const json_node& root);

data_evidence parse_evidence(const json_node& n) {
  const auto s = n.one_of({"vendor_datasheet", "vendor_whitepaper", "analyst", "estimate"});
  if (s == "vendor_datasheet") return data_evidence::vendor_datasheet;
  if (s == "vendor_whitepaper") return data_evidence::vendor_whitepaper;
  if (s == "analyst") return data_evidence::analyst;
  return data_evidence::estimate;
}

// A number or [min, max] within [lo, hi] (exclusive of zero when positive_only).
value_range parse_range(const json_node& n, double lo, double hi, std::string_view unit,
                        bool positive_only) {
  auto check = [&](const json_node& v) {
    const double x = v.number_in(lo, hi, unit);
    if (positive_only && x <= 0)
      v.fail(fmt::format("{} is not positive: expected {} > 0", x, unit));
    return x;
  };
  if (n.is_array()) {
    const auto elems = n.elements();
    if (elems.size() != 2)
      n.fail(fmt::format("a range is [min, max]: expected 2 numbers ({}), found {}", unit,
                         elems.size()));
    const double a = check(elems[0]);
    const double b = check(elems[1]);
    if (a > b)
      n.fail(fmt::format("a range is [min, max]: expected min <= max, found [{}, {}]", a, b));
    return {a, b};
  }
  if (!n.is_number()) n.fail(fmt::format("expected a number ({}) or a range [min, max]", unit));
  const double x = check(n);
  return {x, x};
}

per_precision<value_range> parse_rates(const json_node& n) {
  per_precision<value_range> out;
  for (const auto& [key, v] : n.members()) {
    const auto p = parse_precision(key);
    if (!p) {
      const auto& names = precision_names();
      std::string hint;
      if (auto near = closest_match(key, {names.begin(), names.end()}); !near.empty())
        hint = fmt::format(" (did you mean '{}'?)", near);
      std::string list;
      for (auto name : names) list += (list.empty() ? "" : ", ") + std::string(name);
      v.fail(fmt::format("unknown precision '{}'{}; expected one of: {}", key, hint, list));
    }
    out[index_of(*p)] = parse_range(v, 0, limits::max_tops, "10^12 ops/s", false);
  }
  return out;
}

processing_unit parse_unit(const json_node& n) {
  n.expect_keys({"name", "count", "clock_mhz", "dense_tops", "sparse_tops",
                 "ops_per_clock_per_unit", "note"});
  processing_unit u;
  u.name = n.at("name").string();
  if (auto c = n.find("count")) u.count = c->integer_in(1, limits::max_unit_count);
  if (auto c = n.find("clock_mhz"))
    u.clock_mhz = parse_range(*c, 0, limits::max_clock_mhz, "MHz", true);
  const auto dense = n.find("dense_tops");
  const auto sparse = n.find("sparse_tops");
  if (sparse && !dense)
    sparse->fail(
        "sparse_tops without dense_tops: sparse rates never count toward TPP; give the dense "
        "rates in 'dense_tops' (derive them with a documented ratio and say so in 'notes')");
  if (!dense) n.fail("missing required field 'dense_tops' (dense 10^12 ops/s per precision)");
  u.dense_tops = parse_rates(*dense);
  if (sparse) {
    u.sparse_tops = parse_rates(*sparse);
    for (auto p : all_precisions) {
      const auto& s = u.sparse_tops[index_of(p)];
      const auto& d = u.dense_tops[index_of(p)];
      if (s && d && s->hi < d->lo) {
        sparse->at(to_string(p))
            .fail(fmt::format(
                "sparse rate {} is below the dense rate {} for {}: sparse figures are at least "
                "the dense ones; are the two swapped?",
                s->hi, d->lo, to_string(p)));
      }
    }
  }
  if (auto o = n.find("ops_per_clock_per_unit")) {
    for (const auto& [key, v] : o->members()) {
      const auto p = parse_precision(key);
      if (!p) v.fail(fmt::format("unknown precision '{}'", key));
      u.ops_per_clock_per_unit[index_of(*p)] = v.number_in(0, 1e9, "ops/clock");
    }
  }
  if (auto note = n.find("note")) u.note = note->string();
  return u;
}

die parse_die(const json_node& n) {
  n.expect_keys({"name", "kind", "count", "area_mm2", "area_evidence", "process", "node_nm",
                 "non_planar", "transistors"});
  die d;
  d.name = n.at("name").string();
  const auto k = n.at("kind").one_of({"logic", "memory", "io", "other"});
  d.kind = k == "logic"    ? die_kind::logic
           : k == "memory" ? die_kind::memory
           : k == "io"     ? die_kind::io
                           : die_kind::other;
  if (auto c = n.find("count")) d.count = c->integer_in(1, limits::max_die_count);
  if (auto a = n.find("area_mm2"))
    d.area_mm2 = parse_range(*a, 0, limits::max_die_area_mm2, "mm^2", true);
  if (auto e = n.find("area_evidence")) d.area_evidence = parse_evidence(*e);
  if (auto p = n.find("process")) d.process = p->string();
  if (auto nm = n.find("node_nm")) d.node_nm = nm->number_in(0.1, 1000, "nm");
  d.non_planar = n.at("non_planar").boolean();
  if (auto t = n.find("transistors"))
    d.transistors = parse_range(*t, 0, limits::max_transistors, "transistors", true);
  return d;
}

component parse_component(const json_node& n) {
  n.expect_keys({"id", "spec", "count"});
  component c;
  c.json_path = n.path();
  c.count = n.at("count").integer_in(1, limits::max_component_count);
  const auto id = n.find("id");
  const auto spec = n.find("spec");
  if (id && spec)
    n.fail("give either 'id' (a part in the database) or 'spec' (an inline sheet), not both");
  if (!id && !spec) n.fail("missing 'id' (a part in the database) or 'spec' (an inline sheet)");
  if (id) {
    c.id = id->string();
  } else {
    // Inline sheets parse with the same rules; errors keep the outer file and the full path.
    c.inline_spec = std::make_shared<chip_spec>(parse_spec_node(*spec));
    c.id = c.inline_spec->id;
  }
  return c;
}

}  // namespace

chip_spec parse_spec(std::string_view json_text, const std::string& file) {
  const auto doc = parse_json_text(json_text, file);
  const json_node root(doc, file);
  return parse_spec_node(root);
}

chip_spec load_spec_file(const std::string& path) {
  const auto doc = read_json_file(path, file_limits::spec_sheet);
  const json_node root(doc, path);
  return parse_spec_node(root);
}

namespace {

/// A 4-digit lowercase hexadecimal PCI id ("10de").
std::uint16_t pci_hex(const json_node& n) {
  const auto text = n.string();
  static const std::regex hex_re("[0-9a-f]{4}");
  if (!std::regex_match(text, hex_re))
    n.fail(fmt::format(
        "invalid PCI id '{}': expected 4 lowercase hexadecimal digits, as lspci -n prints them",
        text));
  return static_cast<std::uint16_t>(std::stoul(text, nullptr, 16));
}

part_identity parse_identity(const json_node& n) {
  n.expect_keys({"pci", "names", "cpu"});
  part_identity id;
  if (auto pci = n.find("pci")) {
    for (const auto& e : pci->elements()) {
      e.expect_keys({"vendor", "device", "subsystem_vendor", "subsystem_device"});
      pci_id p;
      p.json_path = e.path();
      p.vendor = pci_hex(e.at("vendor"));
      p.device = pci_hex(e.at("device"));
      const auto sv = e.find("subsystem_vendor");
      const auto sd = e.find("subsystem_device");
      if (sv.has_value() != sd.has_value())
        e.fail("'subsystem_vendor' and 'subsystem_device' go together: expected both or neither");
      if (sv) {
        p.subsystem_vendor = pci_hex(*sv);
        p.subsystem_device = pci_hex(*sd);
      }
      id.pci.push_back(std::move(p));
    }
  }
  if (auto names = n.find("names")) {
    for (const auto& e : names->elements()) {
      auto name = e.string();
      if (name.empty() || name.size() > 96 || name.front() == ' ' || name.back() == ' ')
        e.fail(
            "a device name must be 1-96 characters without leading or trailing spaces, as the "
            "driver reports it");
      id.names.push_back(std::move(name));
    }
  }
  if (auto cpu = n.find("cpu")) {
    cpu->expect_keys({"vendor", "family", "models", "brands"});
    cpu_identity c;
    c.vendor = cpu->at("vendor").string();
    c.family = static_cast<int>(cpu->at("family").integer_in(0, 4095));
    for (const auto& m : cpu->at("models").elements())
      c.models.push_back(static_cast<int>(m.integer_in(0, 4095)));
    if (c.models.empty()) cpu->at("models").fail("expected at least one model number");
    if (auto brands = cpu->find("brands")) {
      for (const auto& b : brands->elements()) {
        auto text = b.string();
        if (text.size() < 3)
          b.fail("a brand fragment must have at least 3 characters, or it matches too much");
        c.brands.push_back(std::move(text));
      }
    }
    id.cpu = std::move(c);
  }
  if (id.pci.empty() && id.names.empty() && !id.cpu)
    n.fail("an empty identity matches nothing: expected 'pci', 'names' or 'cpu'");
  return id;
}

chip_spec parse_spec_node(const json_node& root) {
  root.expect_keys({"schema", "id", "vendor", "name", "kind", "evidence", "datacenter", "identity",
                    "us_commercial_availability", "processing_units", "dies", "memory",
                    "interconnect", "hbm_stack", "contains", "declared", "sources", "notes"});
  chip_spec s;
  s.file = root.file();
  const auto schema = root.at("schema");
  if (schema.string() != "chipgauge.spec/1")
    schema.fail(
        fmt::format("unsupported schema '{}': expected \"chipgauge.spec/1\"", schema.string()));
  const auto id = root.at("id");
  s.id = id.string();
  static const std::regex id_re("[a-z0-9][a-z0-9._-]{0,79}");
  if (!std::regex_match(s.id, id_re))
    id.fail(fmt::format(
        "invalid id '{}': expected lowercase letters, digits, '.', '_' or '-', at most 80", s.id));
  s.vendor = root.at("vendor").string();
  s.name = root.at("name").string();
  const auto kind = root.at("kind").one_of({"ic", "board", "system", "hbm"});
  s.kind = kind == "ic"       ? part_kind::ic
           : kind == "board"  ? part_kind::board
           : kind == "system" ? part_kind::system
                              : part_kind::hbm;
  if (auto e = root.find("evidence")) s.evidence = parse_evidence(*e);

  if (auto dc = root.find("datacenter")) {
    dc->expect_keys({"value", "evidence"});
    s.datacenter.value = dc->at("value").boolean();
    if (auto ev = dc->find("evidence")) s.datacenter.evidence = ev->string();
    s.datacenter.defaulted = false;
  }
  if (auto us = root.find("us_commercial_availability")) {
    us->expect_keys({"value", "as_of", "evidence"});
    const auto when = date::parse(us->at("as_of").string());
    if (!when) us->at("as_of").fail("expected a date YYYY-MM-DD");
    s.us_commercial_availability =
        us_availability_claim{us->at("value").boolean(), *when, us->at("evidence").string()};
  }

  if (auto ident = root.find("identity")) {
    if (s.kind == part_kind::system || s.kind == part_kind::hbm)
      ident->fail(fmt::format(
          "'identity' is for parts a device query reports (an ic or a board); this part is of "
          "kind '{}'",
          to_string(s.kind)));
    s.identity = parse_identity(*ident);
  }

  if (auto units = root.find("processing_units")) {
    for (const auto& u : units->elements()) s.units.push_back(parse_unit(u));
  } else if (s.kind == part_kind::ic) {
    root.fail(
        "missing required field 'processing_units' (an IC lists its processing units with dense "
        "rates)");
  }
  if (auto dies = root.find("dies")) {
    for (const auto& d : dies->elements()) s.dies.push_back(parse_die(d));
  }
  if (auto m = root.find("memory")) {
    m->expect_keys({"type", "capacity_gb", "bandwidth_gb_s"});
    memory_spec mem;
    if (auto t = m->find("type")) mem.type = t->string();
    if (auto c = m->find("capacity_gb"))
      mem.capacity_gb = c->number_in(0, limits::max_capacity_gb, "GB");
    if (auto b = m->find("bandwidth_gb_s"))
      mem.bandwidth_gb_s = parse_range(*b, 0, limits::max_bandwidth_gb_s, "GB/s", false);
    s.memory = mem;
  }
  if (auto io = root.find("interconnect")) {
    io->expect_keys({"bidirectional_gb_s", "kind", "links"});
    interconnect_spec ic;
    ic.bidirectional_gb_s =
        parse_range(io->at("bidirectional_gb_s"), 0, limits::max_bandwidth_gb_s, "GB/s", false);
    if (auto k = io->find("kind")) ic.kind = k->string();
    if (auto links = io->find("links")) {
      double sum = 0;
      for (const auto& l : links->elements()) {
        l.expect_keys({"kind", "bidirectional_gb_s"});
        io_link link{l.at("kind").string(),
                     l.at("bidirectional_gb_s").number_in(0, limits::max_bandwidth_gb_s, "GB/s")};
        sum += link.bidirectional_gb_s;
        ic.links.push_back(std::move(link));
      }
      const auto& total = ic.bidirectional_gb_s;
      if (sum < total.lo * 0.99 || sum > total.hi * 1.01) {
        io->at("bidirectional_gb_s")
            .fail(fmt::format(
                "{} GB/s disagrees with the sum of 'links', {} GB/s: expected them within 1 %",
                total.is_range() ? fmt::format("[{}, {}]", total.lo, total.hi)
                                 : fmt::format("{}", total.lo),
                sum));
      }
    }
    s.interconnect = ic;
  }
  if (auto h = root.find("hbm_stack")) {
    h->expect_keys({"bandwidth_gb_s", "area_mm2", "standard"});
    hbm_stack_spec hs;
    hs.bandwidth_gb_s = h->at("bandwidth_gb_s").number_in(0, limits::max_bandwidth_gb_s, "GB/s");
    hs.area_mm2 = parse_range(h->at("area_mm2"), 0, limits::max_die_area_mm2, "mm^2", true);
    if (auto st = h->find("standard")) hs.standard = st->string();
    s.hbm_stack = hs;
  } else if (s.kind == part_kind::hbm) {
    root.fail(
        "missing required field 'hbm_stack' (an HBM stack gives bandwidth_gb_s and area_mm2)");
  }
  if (auto c = root.find("contains")) {
    for (const auto& e : c->elements()) s.contains.push_back(parse_component(e));
    if (s.kind == part_kind::ic || s.kind == part_kind::hbm)
      c->fail(fmt::format("'contains' is for boards and systems; this part is of kind '{}'",
                          to_string(s.kind)));
  } else if (s.kind == part_kind::board || s.kind == part_kind::system) {
    root.fail(fmt::format("missing required field 'contains' (a {} lists the ICs it contains)",
                          to_string(s.kind)));
  }
  if (auto d = root.find("declared")) {
    d->expect_keys({"tpp", "eccn", "as_of", "by", "source"});
    declared_spec dec;
    if (auto t = d->find("tpp")) dec.tpp = t->number_in(0, limits::max_tpp, "TPP");
    if (auto e = d->find("eccn")) {
      dec.eccn = e->string();
      // An ECCN holds under one day's rules; without the day it cannot be checked.
      if (!d->find("as_of"))
        d->fail(
            "'eccn' needs 'as_of': the day (YYYY-MM-DD) whose rules the declared ECCN speaks for");
    }
    if (auto a = d->find("as_of")) dec.as_of = json_fields::day(*a);
    if (auto b = d->find("by")) dec.by = b->string();
    if (auto src = d->find("source")) dec.source = src->string();
    s.declared = dec;
  }
  if (auto src = root.find("sources")) {
    for (const auto& e : src->elements()) {
      e.expect_keys({"url", "title", "supports"});
      source_ref r;
      r.url = e.at("url").string();
      if (auto t = e.find("title")) r.title = t->string();
      if (auto sup = e.find("supports")) {
        for (const auto& x : sup->elements()) r.supports.push_back(x.string());
      }
      s.sources.push_back(std::move(r));
    }
  }
  if (s.identity) {
    const bool sourced = std::any_of(s.sources.begin(), s.sources.end(), [](const source_ref& r) {
      return std::find(r.supports.begin(), r.supports.end(), "identity") != r.supports.end();
    });
    if (!sourced)
      root.at("identity")
          .fail(
              "no source backs the identity: expected a source whose 'supports' lists "
              "\"identity\" (the PCI ID Repository, the vendor's driver or CPUID documentation)");
  }
  if (auto notes = root.find("notes")) {
    for (const auto& x : notes->elements()) s.notes.push_back(x.string());
  }
  return s;
}

}  // namespace

}  // namespace chipgauge::classifier

#include "chipgauge/certify/fleet.hpp"

#include "chipgauge/classifier/metrics.hpp"
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/signing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <system_error>
#include <thread>
#include <tuple>
#include <unordered_map>

using chipgauge::classifier::catalog;
using chipgauge::classifier::fleet_item;
using chipgauge::classifier::fleet_item_of;
using chipgauge::classifier::fleet_result;
using chipgauge::classifier::output_format;
using chipgauge::classifier::render_fleet;

namespace chipgauge::certify {

namespace {

using nlohmann::json;

std::string str_at(const json& j, const char* a, const char* b) {
  if (!j.contains(a) || !j.at(a).is_object() || !j.at(a).contains(b) || !j.at(a).at(b).is_string())
    return {};
  return j.at(a).at(b).get<std::string>();
}

double median_of(std::vector<double> v) {
  const auto n = v.size();
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2), v.end());
  const double hi = v[n / 2];
  if (n % 2 == 1) return hi;
  return (hi + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2))) / 2;
}

// The device as the collector sees it, from a verified body. Throws json::exception on a body
// without the fields every certificate has.
fleet_device device_of(const json& body, const std::string& file) {
  fleet_device d;
  d.file = file;
  d.node = body.at("host").at("hostname").get<std::string>();
  d.device = body.at("device").at("id").get<std::string>();
  const auto& identity = body.at("device").value("identity", json::object());
  for (const char* k : {"uuid", "serial"}) {
    if (identity.contains(k) && identity.at(k).is_string()) {
      d.serial = identity.at(k).get<std::string>();
      break;
    }
  }
  const auto& sheet = body.at("sheet");
  if (sheet.at("id").is_string()) d.sheet_id = sheet.at("id").get<std::string>();
  d.sku = d.sheet_id ? *d.sheet_id : "unknown: " + body.at("device").at("name").get<std::string>();
  d.driver = str_at(body, "tooling", "cuda_driver");
  if (d.driver.empty()) d.driver = "none";
  d.verdict = body.at("verdict").at("outcome").get<std::string>();
  d.reasons = body.at("verdict").at("reasons").get<std::vector<std::string>>();
  d.end_utc = str_at(body, "when", "end_utc");
  const auto& tpp = body.at("tpp").at("measured");
  d.tpp = tpp.is_number() ? tpp.get<double>() : 0;
  for (const auto& r : body.at("results")) {
    if (r.at("median").is_number() && r.value("gate_usable", true))
      d.medians[r.at("benchmark").get<std::string>()] = r.at("median").get<double>();
  }
  return d;
}

}  // namespace

long long fleet_collection::count(const std::string& verdict) const {
  return std::count_if(devices.begin(), devices.end(),
                       [&](const auto& d) { return d.verdict == verdict; });
}

fleet_collector::fleet_collector(fleet_collect_options options) : options_(std::move(options)) {
  c_.z_threshold = options_.z_threshold;
  // Read once: every certificate is checked against this key (a bad file is a usage error here).
  if (options_.trusted_key) trusted_key_ = load_ed25519_public_key(*options_.trusted_key);
}

void fleet_collector::add_unreadable(const std::string& file, const std::string& why) {
  ++c_.certificates_read;
  c_.unverified.push_back({file, "unreadable: " + why});
}

fleet_check fleet_collector::check(const std::string& file,
                                   const nlohmann::json& certificate) const {
  fleet_check r;
  r.file = file;
  try {
    const auto check = verify_certificate_against(certificate, trusted_key_, file);
    if (check.verdict() != "verified") {
      r.reason = check.verdict();
      for (const auto& f : check.findings) r.reason += "; " + f;
      return r;
    }
    r.device = device_of(certificate.at("body"), file);
  } catch (const error& e) {
    r.reason = std::string("malformed: ") + e.what();
  } catch (const nlohmann::json::exception& e) {
    r.reason = std::string("not a certificate body the collector can read: ") + e.what();
  }
  return r;
}

void fleet_collector::add(const std::string& file, const nlohmann::json& certificate) {
  add(check(file, certificate));
}

void fleet_collector::add(fleet_check checked) {
  ++c_.certificates_read;
  if (!checked.device) {
    c_.unverified.push_back({std::move(checked.file), std::move(checked.reason)});
    return;
  }
  auto& d = *checked.device;
  auto key = d.node;
  key += '\x1f';
  key += d.device;
  key += '\x1f';
  key += d.serial;
  const auto [it, fresh] = index_.emplace(std::move(key), c_.devices.size());
  if (fresh) {
    c_.devices.push_back(std::move(d));
    return;
  }
  ++c_.superseded;
  auto& kept = c_.devices[it->second];
  const int n = kept.certificates + 1;
  // Latest wins; equal end times: the later file name, so the answer does not depend on read order.
  if (d.end_utc > kept.end_utc || (d.end_utc == kept.end_utc && d.file > kept.file))
    kept = std::move(d);
  kept.certificates = n;
}

namespace {

// One file of the directory as a worker thread left it: skipped (JSON that is not a
// certificate), checked (a certificate, verified or not), unreadable, or an unexpected exception
// (std::bad_alloc, say) rethrown when the in-order pass reaches it, as the one-thread loop would.
struct dir_entry {
  enum class kind { skipped, checked, unreadable, failed } state = kind::skipped;
  fleet_check checked;
  std::string why;             // unreadable: read_json_file's message
  std::exception_ptr failure;  // failed
};

dir_entry read_and_check(const std::string& file, const fleet_collector& collector) {
  dir_entry e;
  try {
    nlohmann::json doc;
    try {
      doc = read_json_file(file);
    } catch (const error& x) {
      // A truncated or corrupt file that might have been a certificate: listed, never dropped.
      e.state = dir_entry::kind::unreadable;
      e.why = x.what();
      return e;
    }
    if (!doc.is_object() || !doc.contains("schema") ||
        doc.at("schema") != std::string(certificate_schema))
      return e;
    e.checked = collector.check(file, doc);
    e.state = dir_entry::kind::checked;
  } catch (...) {
    e.state = dir_entry::kind::failed;
    e.failure = std::current_exception();
  }
  return e;
}

}  // namespace

fleet_collection collect_fleet_dir(const std::string& dir, const fleet_collect_options& options) {
  if (!std::filesystem::is_directory(dir))
    throw usage_error(fmt::format("fleet collect: {} is not a directory of certificates", dir));
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  fleet_collector collector(options);

  // Reading, parsing and checking (about 1.3 ms of CPU per certificate: strict parse, RFC 8785
  // hash, Ed25519 signature) run on `jobs` threads; counting runs after, on this thread, in name
  // order. Shared between the threads: `files` and `collector`, only read (check() is const and
  // the trusted key is a loaded public_key_info, raw bytes compared, not an OpenSSL object:
  // ed25519_verify builds its own EVP_PKEY and EVP_MD_CTX per call from the certificate's key, so
  // no OpenSSL object is shared), `next` (atomic), and `entries`, whose element i is written by
  // the one thread that took index i and read only after every thread has joined.
  // Each entry keeps only the device (not the parsed document), as the collector would anyway.
  unsigned jobs = options.jobs != 0 ? options.jobs : std::thread::hardware_concurrency();
  jobs = static_cast<unsigned>(
      std::clamp<std::size_t>(jobs, 1, std::max<std::size_t>(files.size(), 1)));
  std::vector<dir_entry> entries(files.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++)
      entries[i] = read_and_check(files[i], collector);
  };
  {
    // This thread is one of the `jobs`. A thread that cannot be started (std::system_error) only
    // leaves its share to the others, which take whatever index comes next.
    std::vector<std::thread> threads;
    threads.reserve(jobs - 1);
    try {
      for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(work);
    } catch (const std::system_error&) {}
    work();
    for (auto& t : threads) t.join();
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto& e = entries[i];
    switch (e.state) {
      case dir_entry::kind::skipped: break;
      case dir_entry::kind::checked: collector.add(std::move(e.checked)); break;
      case dir_entry::kind::unreadable: collector.add_unreadable(files[i], e.why); break;
      case dir_entry::kind::failed: std::rethrow_exception(e.failure);
    }
  }
  return std::move(collector).finish();
}

fleet_collection fleet_collector::finish() && {
  auto c = std::move(c_);
  std::sort(c.devices.begin(), c.devices.end(), [](const auto& a, const auto& b) {
    return std::tie(a.node, a.device) < std::tie(b.node, b.device);
  });

  std::map<std::string, fleet_node> nodes;
  for (const auto& d : c.devices) {
    auto& n = nodes[d.node];
    n.node = d.node;
    ++n.devices;
    n.passed += d.verdict == "pass";
    n.failed += d.verdict == "fail";
    n.inconclusive += d.verdict != "pass" && d.verdict != "fail";
    ++c.sku_mix[d.sku];
    ++c.driver_mix[d.driver];
  }
  for (auto& [_, n] : nodes) {
    n.verdict = n.failed > 0 ? "fail" : n.inconclusive > 0 ? "inconclusive" : "pass";
    c.nodes.push_back(n);
  }

  // Outliers per (SKU, benchmark) over the fleet's medians.
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < c.devices.size(); ++i) {
    for (const auto& [bm, _] : c.devices[i].medians) groups[{c.devices[i].sku, bm}].push_back(i);
  }
  for (const auto& [key, members] : groups) {
    if (members.size() < options_.min_peers) continue;
    std::vector<double> x;
    x.reserve(members.size());
    for (auto i : members) x.push_back(c.devices[i].medians.at(key.second));
    const double med = median_of(x);
    std::vector<double> dev;
    dev.reserve(x.size());
    double mean_ad = 0;
    for (double v : x) {
      dev.push_back(std::fabs(v - med));
      mean_ad += std::fabs(v - med);
    }
    mean_ad /= static_cast<double>(x.size());
    const double mad = median_of(dev);
    const double scale = mad > 0 ? 1.4826 * mad : 1.253314 * mean_ad;
    if (!(scale > 0)) continue;  // every device equal: nothing stands out
    for (std::size_t k = 0; k < members.size(); ++k) {
      const double z = (x[k] - med) / scale;
      if (z < -options_.z_threshold) {
        const auto& d = c.devices[members[k]];
        c.outliers.push_back(
            {d.node, d.device, key.first, key.second, x[k], med, scale, z, members.size()});
      }
    }
  }
  std::sort(c.outliers.begin(), c.outliers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.node, a.device, a.benchmark) < std::tie(b.node, b.device, b.benchmark);
  });
  return c;
}

std::vector<fleet_item> fleet_items(const fleet_collection& c, catalog& cat) {
  std::map<std::string, std::vector<const fleet_device*>> by_sku;
  for (const auto& d : c.devices) by_sku[d.sku].push_back(&d);
  std::vector<fleet_item> items;
  for (const auto& [sku, devs] : by_sku) {
    const auto n = static_cast<long long>(devs.size());
    if (devs.front()->sheet_id) {
      items.push_back(
          fleet_item_of(cat.part(*devs.front()->sheet_id), cat.rules().definitions(), n));
      continue;
    }
    fleet_item it;
    it.label = sku;
    it.quantity = n;
    std::vector<double> tpps;
    for (const auto* d : devs) tpps.push_back(d->tpp);
    it.tpp_each = median_of(tpps);
    it.basis = "measured TPP median (lower bound); no sheet, so no dense OP/s";
    items.push_back(it);
  }
  return items;
}

std::string render_fleet_collection(const fleet_collection& c, const std::vector<fleet_item>& items,
                                    const fleet_result& totals, date as_of, output_format format) {
  if (format == output_format::json) {
    json j;
    j["schema"] = "chipgauge.fleet-collection/1";
    j["certificates_read"] = c.certificates_read;
    j["superseded"] = c.superseded;
    j["devices_counted"] = c.devices.size();
    j["passed"] = c.count("pass");
    j["failed"] = c.count("fail");
    j["inconclusive"] =
        static_cast<long long>(c.devices.size()) - c.count("pass") - c.count("fail");
    j["unverified"] = json::array();
    for (const auto& u : c.unverified)
      j["unverified"].push_back({{"file", u.file}, {"reason", u.reason}});
    j["nodes"] = json::array();
    for (const auto& n : c.nodes)
      j["nodes"].push_back({{"node", n.node},
                            {"verdict", n.verdict},
                            {"devices", n.devices},
                            {"passed", n.passed},
                            {"failed", n.failed},
                            {"inconclusive", n.inconclusive}});
    j["devices"] = json::array();
    for (const auto& d : c.devices)
      j["devices"].push_back({{"node", d.node},
                              {"device", d.device},
                              {"sku", d.sku},
                              {"driver", d.driver},
                              {"verdict", d.verdict},
                              {"reasons", d.reasons},
                              {"certificates", d.certificates},
                              {"file", d.file},
                              {"tpp_measured", d.tpp}});
    j["outlier_rule"] = {
        {"statistic", "modified z-score of the device's median among its SKU's medians"},
        {"scale", "1.4826 MAD (1.253314 mean absolute deviation when the MAD is 0)"},
        {"threshold", -c.z_threshold},
        {"side", "low"}};
    j["outliers"] = json::array();
    for (const auto& o : c.outliers)
      j["outliers"].push_back({{"node", o.node},
                               {"device", o.device},
                               {"sku", o.sku},
                               {"benchmark", o.benchmark},
                               {"median", o.value},
                               {"sku_median", o.median},
                               {"scale", o.scale},
                               {"z", o.z},
                               {"peers", o.peers}});
    j["sku_mix"] = c.sku_mix;
    j["driver_mix"] = c.driver_mix;
    j["totals"] = json::parse(render_fleet(items, totals, as_of, output_format::json));
    j["totals_cover"] =
        "verified certificates only: unverified ones are not counted, so with any listed the "
        "totals are a lower bound";
    return j.dump(2) + "\n";
  }
  const bool md = format == output_format::md;
  const std::string h = md ? "## " : "";
  std::string out;
  out += fmt::format(
      "{}fleet: {} device(s) on {} node(s): {} pass, {} fail, {} inconclusive; {} "
      "certificate(s) read, {} superseded, {} unverified\n",
      md ? "# " : "", c.devices.size(), c.nodes.size(), c.count("pass"), c.count("fail"),
      static_cast<long long>(c.devices.size()) - c.count("pass") - c.count("fail"),
      c.certificates_read, c.superseded, c.unverified.size());
  const std::string li = md ? "- " : "  ";
  if (!c.unverified.empty()) {
    out += "\n" + h + "unverified certificates (not counted)\n";
    for (const auto& u : c.unverified) out += li + u.file + ": " + u.reason + "\n";
  }
  out += "\n" + h + "nodes not passing\n";
  bool any = false;
  for (const auto& n : c.nodes) {
    if (n.verdict == "pass") continue;
    any = true;
    out += fmt::format("{}{}: {} ({} of {} devices pass)\n", li, n.node, n.verdict, n.passed,
                       n.devices);
    for (const auto& d : c.devices) {
      if (d.node != n.node || d.verdict == "pass") continue;
      out +=
          fmt::format("{}  {} {}: {}\n", li, d.device, d.verdict,
                      d.reasons.empty() ? std::string("(no reason recorded)") : d.reasons.front());
    }
  }
  if (!any) out += li + "none\n";
  out += fmt::format("\n{}outliers among their SKU (modified z-score < -{:g})\n", h, c.z_threshold);
  for (const auto& o : c.outliers)
    out += fmt::format(
        "{}{} {} [{}] {}: {:.4g} against the SKU median {:.4g}, z {:.1f} over {} devices\n", li,
        o.node, o.device, o.sku, o.benchmark, o.value, o.median, o.z, o.peers);
  if (c.outliers.empty()) out += li + "none\n";
  out += "\n" + h + "SKU mix\n";
  for (const auto& [k, v] : c.sku_mix) out += fmt::format("{}{}: {}\n", li, k, v);
  out += "\n" + h + "driver mix\n";
  for (const auto& [k, v] : c.driver_mix) out += fmt::format("{}{}: {}\n", li, k, v);
  out += "\n" + h + "totals (verified certificates only)\n" +
         render_fleet(items, totals, as_of, output_format::text);
  return out;
}

}  // namespace chipgauge::certify

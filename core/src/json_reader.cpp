#include "chipgauge/core/json_reader.hpp"

#include "chipgauge/core/error.hpp"
#include "chipgauge/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>

namespace chipgauge {

namespace {

std::string type_name(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0U : 1U);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Line and column of a byte offset, for syntax errors.
std::pair<std::size_t, std::size_t> line_col(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

}  // namespace

namespace {

// Builds the value from the parser's events (nlohmann's SAX interface) and refuses, as the text is
// read, nesting past max_json_depth and a key repeated within one object: the object being built
// is its own key index, and the JSON path text of an error is built only when there is one.
class strict_dom_builder {
 public:
  using json = nlohmann::json;

  strict_dom_builder(json& root, const std::string& file) : root_(root), file_(file) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t& v) { return put(json::binary(std::move(v))); }
  bool start_object(std::size_t /*size*/) { return open(json::value_t::object); }
  bool start_array(std::size_t /*size*/) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    auto& f = frames_.back();
    // try_emplace leaves `k` as it is when the key is there already.
    const auto [it, fresh] = f.value->get_ref<json::object_t&>().try_emplace(std::move(k));
    if (!fresh)
      throw spec_error(file_, fmt::format("{}.{}", path_of(frames_.size() - 1), quote_input(k)),
                       fmt::format("duplicate key '{}': a key may appear only once in an object",
                                   quote_input(k)));
    f.last_key = &it->first;
    slot_ = &it->second;
    return true;
  }

  template <class Exception>
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const Exception& e) {
    throw e;
  }

 private:
  struct frame {
    json* value = nullptr;  ///< the open object or array
    const std::string* last_key =
        nullptr;  ///< an object's member being read (keys stay put in the map)
  };

  // Places a value where the parser is: the root, the next array element, or the member whose key
  // was just read.
  json* place(json&& v) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    auto* top = frames_.back().value;
    if (top->is_array()) {
      auto& a = top->get_ref<json::array_t&>();
      a.push_back(std::move(v));
      return &a.back();
    }
    *slot_ = std::move(v);
    return slot_;
  }
  bool put(json&& v) {
    (void)place(std::move(v));
    return true;
  }
  bool open(json::value_t type) {
    auto* container = place(json(type));
    if (frames_.size() >= static_cast<std::size_t>(max_json_depth))
      throw spec_error(
          file_, path_of(frames_.size()),
          fmt::format("objects and arrays nest deeper than {} levels", max_json_depth));
    frames_.push_back(frame{container, nullptr});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }

  // The path of the value the first `depth` open containers lead to ("$" for none): in each, the
  // member being read or the last element.
  [[nodiscard]] std::string path_of(std::size_t depth) const {
    std::string path = "$";
    for (std::size_t i = 0; i < depth; ++i) {
      const auto& f = frames_[i];
      path = f.value->is_object()
                 ? fmt::format("{}.{}", path, quote_input(f.last_key ? *f.last_key : std::string()))
                 : fmt::format("{}[{}]", path, f.value->size() - 1);
    }
    return path;
  }

  json& root_;
  const std::string& file_;
  std::vector<frame> frames_;  ///< the open containers, outermost first
  json* slot_ = nullptr;       ///< the value of the member whose key was read last
};

}  // namespace

nlohmann::json parse_json_text(std::string_view text, const std::string& file) {
  try {
    nlohmann::json root;
    strict_dom_builder builder(root, file);
    (void)nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
    return root;
  } catch (const nlohmann::json::parse_error& e) {
    const auto [line, col] = line_col(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line L, column C: ".
    if (const auto pos = what.find("column"); pos != std::string::npos) {
      if (const auto colon = what.find(": ", pos); colon != std::string::npos)
        what = what.substr(colon + 2);
    }
    throw spec_error(
        file, "$",
        fmt::format("malformed JSON at line {}, column {}: {}", line, col, quote_input(what, 400)));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range (a number beyond a double, 1e400), invalid UTF-8 and the like.
    throw spec_error(file, "$", fmt::format("unreadable JSON: {}", quote_input(e.what(), 400)));
  }
}

nlohmann::json read_json_file(const std::string& path) {
  return read_json_file(path, file_limits::json_file);
}

nlohmann::json read_json_file(const std::string& path, const file_limit& limit) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw spec_error(path, "$", "is a directory: expected a JSON file");
  return parse_json_text(read_text_file(path, limit), path);
}

std::optional<double> parse_json_number(std::string_view text) {
  std::size_t i = 0;
  auto digits = [&] {
    const auto start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  const auto int_start = i;
  const auto n = digits();
  if (n == 0 || (n > 1 && text[int_start] == '0')) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return std::nullopt;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  double v = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

std::optional<long long> parse_json_integer(std::string_view text) {
  std::size_t i = text.size() > 0 && text[0] == '-' ? 1 : 0;
  if (i == text.size() || (text.size() > i + 1 && text[i] == '0')) return std::nullopt;
  for (std::size_t k = i; k < text.size(); ++k) {
    if (text[k] < '0' || text[k] > '9') return std::nullopt;
  }
  long long v = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  std::size_t best_d = std::string::npos;
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  for (auto c : candidates) {
    // The distance is at least the difference in length: skip hopeless candidates (and the
    // quadratic work on a huge word).
    const std::size_t diff =
        word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
    if (diff > limit) continue;
    const auto d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  if (best_d <= limit) return best;
  return {};
}

json_node::json_node(const nlohmann::json& value, const std::string& file, std::string path)
    : value_(&value), file_(&file), path_(std::move(path)) {}

void json_node::fail(const std::string& message) const { throw spec_error(*file_, path_, message); }

json_node json_node::at(std::string_view key) const {
  if (!value_->is_object()) fail(fmt::format("expected an object, found {}", type_name(*value_)));
  const auto it = value_->find(key);
  if (it == value_->end()) fail(fmt::format("missing required field '{}'", key));
  return json_node(*it, *file_, fmt::format("{}.{}", path_, key));
}

std::optional<json_node> json_node::find(std::string_view key) const {
  if (!value_->is_object()) fail(fmt::format("expected an object, found {}", type_name(*value_)));
  const auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return json_node(*it, *file_, fmt::format("{}.{}", path_, key));
}

json_node json_node::at(std::size_t index) const {
  if (!value_->is_array()) fail(fmt::format("expected an array, found {}", type_name(*value_)));
  if (index >= value_->size()) fail(fmt::format("expected at least {} elements", index + 1));
  return json_node((*value_)[index], *file_, fmt::format("{}[{}]", path_, index));
}

void json_node::expect_keys(std::initializer_list<std::string_view> allowed) const {
  expect_keys(std::vector<std::string_view>(allowed));
}

void json_node::expect_keys(const std::vector<std::string_view>& allowed) const {
  if (!value_->is_object()) fail(fmt::format("expected an object, found {}", type_name(*value_)));
  for (const auto& [key, unused] : value_->items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string at_key = fmt::format("{}.{}", path_, quote_input(key));
    // A value whose key lacks the unit suffix: "bandwidth" where "bandwidth_gb_s" is known.
    for (auto a : allowed) {
      if (a.size() > key.size() + 1 && a.substr(0, key.size()) == key && a[key.size()] == '_') {
        throw spec_error(
            *file_, at_key,
            fmt::format(
                "field '{}' has no unit; values carry their unit in the field name: expected '{}'",
                key, a));
      }
    }
    std::string hint;
    if (auto near = closest_match(key, allowed); !near.empty())
      hint = fmt::format(" (did you mean '{}'?)", near);
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    throw spec_error(
        *file_, at_key,
        fmt::format("unknown field '{}'{}; expected one of: {}", quote_input(key), hint, list));
  }
}

std::string json_node::string() const {
  if (!value_->is_string()) fail(fmt::format("expected a string, found {}", type_name(*value_)));
  return value_->get<std::string>();
}

std::string json_node::one_of(std::initializer_list<std::string_view> choices) const {
  auto s = string();
  for (auto c : choices) {
    if (c == s) return s;
  }
  std::string list;
  for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  std::string hint;
  if (auto near = closest_match(s, std::vector<std::string_view>(choices)); !near.empty())
    hint = fmt::format(" (did you mean '{}'?)", near);
  fail(fmt::format("unknown value '{}'{}; expected one of: {}", quote_input(s), hint, list));
}

bool json_node::boolean() const {
  if (!value_->is_boolean())
    fail(fmt::format("expected true or false, found {}", type_name(*value_)));
  return value_->get<bool>();
}

double json_node::number() const {
  if (!value_->is_number()) fail(fmt::format("expected a number, found {}", type_name(*value_)));
  const double v = value_->get<double>();
  if (!std::isfinite(v)) fail("expected a finite number");
  return v;
}

double json_node::number_in(double lo, double hi, std::string_view unit) const {
  const double v = number();
  if (v < lo || v > hi) {
    fail(fmt::format("{} is out of range: expected {} in [{}, {}]", v,
                     unit.empty() ? "a value" : unit, lo, hi));
  }
  return v;
}

long long json_node::integer_in(long long lo, long long hi) const {
  if (!value_->is_number_integer() && !value_->is_number_unsigned())
    fail(fmt::format("expected an integer, found {}", type_name(*value_)));
  if (value_->is_number_unsigned() &&
      value_->get<unsigned long long>() > static_cast<unsigned long long>(hi))
    fail(fmt::format("{} is out of range: expected an integer in [{}, {}]",
                     value_->get<unsigned long long>(), lo, hi));
  const auto v = value_->get<long long>();
  if (v < lo || v > hi)
    fail(fmt::format("{} is out of range: expected an integer in [{}, {}]", v, lo, hi));
  return v;
}

std::vector<json_node> json_node::elements() const {
  if (!value_->is_array()) fail(fmt::format("expected an array, found {}", type_name(*value_)));
  std::vector<json_node> out;
  out.reserve(value_->size());
  for (std::size_t i = 0; i < value_->size(); ++i)
    out.emplace_back((*value_)[i], *file_, fmt::format("{}[{}]", path_, i));
  return out;
}

std::vector<std::pair<std::string, json_node>> json_node::members() const {
  if (!value_->is_object()) fail(fmt::format("expected an object, found {}", type_name(*value_)));
  std::vector<std::pair<std::string, json_node>> out;
  for (const auto& [key, v] : value_->items())
    out.emplace_back(key, json_node(v, *file_, fmt::format("{}.{}", path_, quote_input(key))));
  return out;
}

}  // namespace chipgauge

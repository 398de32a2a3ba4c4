#pragma once
// A streaming JSON writer whose output is byte for byte what nlohmann::json::dump(2) gives for the
// same document built as a json value (2-space indentation, "key": value, empty containers as {}
// and [], strings escaped as nlohmann escapes them, doubles through nlohmann's own shortest
// round-trip formatting, non-finite doubles as null). The classification JSON is rendered with it:
// building the json value first cost most of `classify --format json`'s time per part.
//
// Types decide the number format as they do in nlohmann: a double always prints as a double
// ("10.0"), an integer as an integer.

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::detail {

class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  /// The next member's key (inside an object).
  void key(std::string_view k) {
    separate();
    string_value(k);
    out_ += ": ";
    after_key_ = true;
  }

  void value(std::string_view s) {
    separate();
    string_value(s);
  }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(const char* s) { value(std::string_view(s)); }
  void value(bool b) {
    separate();
    out_ += b ? "true" : "false";
  }
  void value(double d) {
    separate();
    if (!std::isfinite(d)) {
      out_ += "null";
      return;
    }
    std::array<char, 64> buf{};
    const char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), d);
    out_.append(buf.data(), static_cast<std::size_t>(end - buf.data()));
  }
  void value(long long i) {
    separate();
    out_ += std::to_string(i);
  }
  void value(int i) { value(static_cast<long long>(i)); }
  void null() {
    separate();
    out_ += "null";
  }
  /// A double, or null when absent.
  void value(const std::optional<double>& d) {
    if (d) value(*d);
    else null();
  }

  /// key + value in one call.
  template <class T>
  void member(std::string_view k, const T& v) {
    key(k);
    value(v);
  }
  void member_null(std::string_view k) {
    key(k);
    null();
  }
  /// An array of strings.
  void member(std::string_view k, const std::vector<std::string>& v) {
    key(k);
    begin_array();
    for (const auto& s : v) value(s);
    end_array();
  }

 private:
  struct level {
    bool empty = true;
  };

  void open(char c) {
    separate();
    out_ += c;
    stack_.push_back(level{});
  }
  void close(char c) {
    const bool empty = stack_.back().empty;
    stack_.pop_back();
    if (!empty) {
      out_ += '\n';
      indent();
    }
    out_ += c;
  }
  // Before a value or key: the comma and newline that separate it from the previous one.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (stack_.empty()) return;
    auto& l = stack_.back();
    out_ += l.empty ? "\n" : ",\n";
    l.empty = false;
    indent();
  }
  void indent() { out_.append(2 * stack_.size(), ' '); }

  void string_value(std::string_view s) {
    // Bytes outside ASCII go through nlohmann itself, which checks UTF-8 as dump() does.
    for (const char ch : s) {
      if (static_cast<unsigned char>(ch) >= 0x80) {
        out_ += nlohmann::json(std::string(s)).dump();
        return;
      }
    }
    out_ += '"';
    // Runs that need no escape are appended whole.
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto ch = static_cast<unsigned char>(s[i]);
      if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      switch (ch) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default: {
          static constexpr char hex[] = "0123456789abcdef";
          const char esc[] = {'\\', 'u', '0', '0', hex[(ch >> 4) & 0xf], hex[ch & 0xf]};
          out_.append(esc, sizeof(esc));
        }
      }
    }
    out_.append(s.data() + run, s.size() - run);
    out_ += '"';
  }

  std::string& out_;
  std::vector<level> stack_;
  bool after_key_ = false;
};

}  // namespace chipgauge::detail

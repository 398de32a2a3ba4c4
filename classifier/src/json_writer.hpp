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
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chipgauge::classifier::detail {

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
    after_key_ = true;
    if (k.size() <= 60 && next_special(k, 0) == k.size()) {
      // A plain key (every key the classification has): quotes, key and ": " in one append.
      std::array<char, 64> buf;  // written before it is read
      buf[0] = '"';
      std::memcpy(buf.data() + 1, k.data(), k.size());
      std::memcpy(buf.data() + 1 + k.size(), "\": ", 3);
      out_.append(buf.data(), k.size() + 4);
      return;
    }
    string_value(k);
    out_.append(": ", 2);
  }

  void value(std::string_view s) {
    separate();
    string_value(s);
  }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(const char* s) { value(std::string_view(s)); }
  void value(bool b) {
    separate();
    if (b) out_.append("true", 4);
    else out_.append("false", 5);
  }
  void value(double d) {
    separate();
    if (!std::isfinite(d)) {
      out_.append("null", 4);
      return;
    }
    // A whole number below 1e15 in magnitude (but 0, whose sign nlohmann keeps) prints as its
    // digits and ".0", as nlohmann's shortest round trip prints it: such a number is exact, and
    // no shorter decimal is within half a unit of it.
    if (d != 0 && std::fabs(d) < 1e15 && std::trunc(d) == d) {
      std::array<char, 24> buf{};
      const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<long long>(d));
      out_.append(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
      out_.append(".0", 2);
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
    out_.append("null", 4);
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
    if (!empty) newline_indent(false);
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
    newline_indent(!l.empty);
    l.empty = false;
  }
  // "\n" (after a comma when `comma`) and the current level's indentation, in one append.
  void newline_indent(bool comma) {
    static constexpr std::string_view pad = ",\n                                                                ";
    const std::size_t width = 2 * stack_.size();
    const std::string_view head = comma ? pad : pad.substr(1);
    if (width <= pad.size() - 2) {
      out_.append(head.data(), head.size() - (pad.size() - 2) + width);
    } else {
      out_.append(head.data(), head.size() - (pad.size() - 2));
      out_.append(width, ' ');
    }
  }

  // The first byte at or after `i` that a plain copy cannot take (a control byte, '"', '\\' or
  // a byte outside ASCII); s.size() when none. Eight bytes at a time while they are all plain
  // (the classification's texts are long runs of plain ASCII).
  static std::size_t next_special(std::string_view s, std::size_t i) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    // A byte's high bit set where that byte of v is zero (exact for the lowest such byte, and
    // nonzero exactly when some byte is zero).
    const auto zero_byte = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, sizeof(w));
      const std::uint64_t below_space = (w - 0x20 * ones) & ~w & highs;
      if (((w & highs) | below_space | zero_byte(w ^ (0x22 * ones)) | zero_byte(w ^ (0x5c * ones))) != 0) break;
    }
    for (; i < s.size(); ++i) {
      const auto ch = static_cast<unsigned char>(s[i]);
      if (ch < 0x20 || ch == '"' || ch == '\\' || ch >= 0x80) return i;
    }
    return s.size();
  }

  void string_value(std::string_view s) {
    const std::size_t start = out_.size();
    const std::size_t first = next_special(s, 0);
    if (first == s.size() && s.size() <= 126) {
      // Plain and short (most keys and values): the quotes and the text in one append.
      std::array<char, 128> buf;  // written before it is read
      buf[0] = '"';
      std::memcpy(buf.data() + 1, s.data(), s.size());
      buf[s.size() + 1] = '"';
      out_.append(buf.data(), s.size() + 2);
      return;
    }
    out_ += '"';
    // Runs that need no escape are appended whole.
    std::size_t run = 0;
    for (std::size_t i = first; i < s.size(); i = next_special(s, i + 1)) {
      const auto ch = static_cast<unsigned char>(s[i]);
      if (ch >= 0x80) {
        // Bytes outside ASCII go through nlohmann itself, which checks UTF-8 as dump() does.
        out_.resize(start);
        out_ += nlohmann::json(std::string(s)).dump();
        return;
      }
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

}  // namespace chipgauge::classifier::detail

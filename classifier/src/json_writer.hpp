#pragma once
// A streaming JSON writer into its own buffer, whose output is byte for byte what
// nlohmann::json::dump(2) gives for the same document built as a json value (2-space indentation,
// "key": value, empty containers as {} and [], strings escaped as nlohmann escapes them, doubles
// through nlohmann's own shortest round-trip formatting, non-finite doubles as null). The
// classification JSON is rendered with it: building the json value first cost most of `classify
// --format json`'s time per part.
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
  /// Starts an empty document; `capacity_hint` bytes are set aside (it grows past them as needed).
  explicit json_writer(std::size_t capacity_hint = 16384)
      : buf_(capacity_hint < 256 ? 256 : capacity_hint, '\0') {}

  /// The document written so far, with `tail` appended; the writer is empty afterwards.
  std::string take(std::string_view tail = {}) {
    if (!tail.empty()) put(tail.data(), tail.size());
    buf_.resize(pos_);
    pos_ = 0;
    return std::move(buf_);
  }

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  /// The next member's key (inside an object).
  void key(std::string_view k) {
    separate();
    after_key_ = true;
    if (next_special(k, 0) == k.size()) {
      // A plain key (every key the classification has): quotes, key and ": " straight in.
      char* p = room(k.size() + 4);
      p[0] = '"';
      std::memcpy(p + 1, k.data(), k.size());
      std::memcpy(p + 1 + k.size(), "\": ", 3);
      pos_ += k.size() + 4;
      return;
    }
    string_value(k);
    put(": ", 2);
  }

  void value(std::string_view s) {
    separate();
    string_value(s);
  }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(const char* s) { value(std::string_view(s)); }
  void value(bool b) {
    separate();
    if (b) put("true", 4);
    else put("false", 5);
  }
  void value(double d) {
    separate();
    if (!std::isfinite(d)) {
      put("null", 4);
      return;
    }
    char* p = room(64);
    // A whole number below 1e15 in magnitude (but 0, whose sign nlohmann keeps) prints as its
    // digits and ".0", as nlohmann's shortest round trip prints it: such a number is exact, and
    // no shorter decimal is within half a unit of it.
    if (d != 0 && std::fabs(d) < 1e15 && std::trunc(d) == d) {
      char* end = std::to_chars(p, p + 24, static_cast<long long>(d)).ptr;
      std::memcpy(end, ".0", 2);
      pos_ = static_cast<std::size_t>(end + 2 - buf_.data());
      return;
    }
    pos_ = static_cast<std::size_t>(nlohmann::detail::to_chars(p, p + 64, d) - buf_.data());
  }
  void value(long long i) {
    separate();
    char* p = room(24);
    pos_ = static_cast<std::size_t>(std::to_chars(p, p + 24, i).ptr - buf_.data());
  }
  void value(int i) { value(static_cast<long long>(i)); }
  void null() {
    separate();
    put("null", 4);
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
  // The document is buf_[0, pos_); the bytes after pos_ are scratch the writer may fill ahead of
  // time (room() keeps at least the asked-for bytes there).
  char* room(std::size_t n) {
    if (buf_.size() - pos_ < n) buf_.resize(2 * buf_.size() + n);
    return buf_.data() + pos_;
  }
  void put(const char* s, std::size_t n) {
    std::memcpy(room(n), s, n);
    pos_ += n;
  }
  void put(char c) {
    *room(1) = c;
    ++pos_;
  }

  void open(char c) {
    separate();
    put(c);
    empty_.push_back(1);
  }
  void close(char c) {
    const bool empty = empty_.back() != 0;
    empty_.pop_back();
    if (!empty) newline_indent(false);
    put(c);
  }
  // Before a value or key: the comma and newline that separate it from the previous one.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (empty_.empty()) return;
    newline_indent(!empty_.back());
    empty_.back() = 0;
  }
  // ",\n" or "\n" and the current level's indentation. Up to 31 levels the whole padding block is
  // copied at a fixed size (a few vector stores) and pos_ moves past only what belongs.
  void newline_indent(bool comma) {
    static constexpr char pad[kPad + 1] =
        ",\n                                                              ";
    static_assert(std::char_traits<char>::length(pad) == kPad, "a comma, a newline and 62 spaces");
    const std::size_t width = 2 * empty_.size();
    const std::size_t skip = comma ? 0 : 1;
    if (width <= kPad - 2) {
      std::memcpy(room(kPad), pad + skip, kPad);
      pos_ += 2 - skip + width;
      return;
    }
    put(pad + skip, 2 - skip);
    const std::size_t at = pos_;
    std::memset(room(width), ' ', width);
    pos_ = at + width;
  }
  static constexpr std::size_t kPad = 64;

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
      if (((w & highs) | below_space | zero_byte(w ^ (0x22 * ones)) |
           zero_byte(w ^ (0x5c * ones))) != 0)
        break;
    }
    for (; i < s.size(); ++i) {
      const auto ch = static_cast<unsigned char>(s[i]);
      if (ch < 0x20 || ch == '"' || ch == '\\' || ch >= 0x80) return i;
    }
    return s.size();
  }

  void string_value(std::string_view s) {
    const std::size_t start = pos_;
    const std::size_t first = next_special(s, 0);
    if (first == s.size()) {
      // Plain (most keys and values): the quotes and the text straight in.
      char* p = room(s.size() + 2);
      p[0] = '"';
      std::memcpy(p + 1, s.data(), s.size());
      p[s.size() + 1] = '"';
      pos_ += s.size() + 2;
      return;
    }
    put('"');
    // Runs that need no escape are copied whole.
    std::size_t run = 0;
    for (std::size_t i = first; i < s.size(); i = next_special(s, i + 1)) {
      const auto ch = static_cast<unsigned char>(s[i]);
      if (ch >= 0x80) {
        // Bytes outside ASCII go through nlohmann itself, which checks UTF-8 as dump() does.
        pos_ = start;
        const std::string text = nlohmann::json(std::string(s)).dump();
        put(text.data(), text.size());
        return;
      }
      put(s.data() + run, i - run);
      run = i + 1;
      switch (ch) {
        case '"': put("\\\"", 2); break;
        case '\\': put("\\\\", 2); break;
        case '\b': put("\\b", 2); break;
        case '\f': put("\\f", 2); break;
        case '\n': put("\\n", 2); break;
        case '\r': put("\\r", 2); break;
        case '\t': put("\\t", 2); break;
        default: {
          static constexpr char hex[] = "0123456789abcdef";
          const char esc[] = {'\\', 'u', '0', '0', hex[(ch >> 4) & 0xf], hex[ch & 0xf]};
          put(esc, sizeof(esc));
        }
      }
    }
    put(s.data() + run, s.size() - run);
    put('"');
  }

  std::string buf_;
  std::size_t pos_ = 0;
  std::vector<char> empty_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace chipgauge::classifier::detail

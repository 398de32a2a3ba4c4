// core/: the strict JSON reader (depth, duplicate keys, numbers), size limits, atomic writes
// through links with stale temporaries removed, and the escaping of quoted input.
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

namespace chipgauge {
namespace {

std::string spec_error_of(const std::string& text) {
  try {
    (void)parse_json_text(text, "f.json");
  } catch (const spec_error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonReader, NestingIsRefusedWhileParsingWithThePath) {
  EXPECT_EQ(spec_error_of(std::string(64, '[') + std::string(64, ']')), "");
  EXPECT_EQ(
      spec_error_of(std::string(65, '[') + std::string(65, ']')), "f.json: $" + [] {
        std::string p;
        for (int i = 0; i < 64; ++i) p += "[0]";
        return p;
      }() + ": objects and arrays nest deeper than 64 levels");
  // A million levels, unterminated: refused at level 65 without building anything deeper.
  const auto deep = spec_error_of(std::string(1000000, '['));
  EXPECT_NE(deep.find("nest deeper than 64 levels"), std::string::npos) << deep.substr(0, 300);
  const auto objects = spec_error_of(R"({"a": [1, {"b": )" + std::string(100, '[') + "]}]}");
  EXPECT_EQ(objects.rfind("f.json: $.a[1].b", 0), 0U) << objects.substr(0, 300);
}

TEST(JsonReader, DuplicateKeysAreRefusedWithThePath) {
  EXPECT_EQ(spec_error_of(R"({"a": 1, "a": 2})"),
            "f.json: $.a: duplicate key 'a': a key may appear only once in an object");
  EXPECT_EQ(spec_error_of(R"({"x": [{"a": 1}, {"b": {"c": 1, "c": 1}}]})"),
            "f.json: $.x[1].b.c: duplicate key 'c': a key may appear only once in an object");
  // The same key in sibling objects is fine.
  EXPECT_EQ(spec_error_of(R"([{"a": 1}, {"a": 2}, [[{"a": 3}]]])"), "");
  // An escaped spelling of the same key is the same key.
  EXPECT_NE(spec_error_of(R"({"a": 1, "\u0061": 2})").find("duplicate key 'a'"), std::string::npos);
}

TEST(JsonReader, NumbersInTextFollowJsonGrammar) {
  EXPECT_EQ(parse_json_number("1940"), 1940.0);
  EXPECT_EQ(parse_json_number("-0.5e3"), -500.0);
  EXPECT_EQ(parse_json_number("15831.2"), 15831.2);
  for (const char* bad : {"", "inf", "-inf", "nan", "1e400", "0x1p4", "0x10", "+1", " 1", "1 ",
                          "01", "1.", ".5", "1e", "1,5", "Infinity"})
    EXPECT_FALSE(parse_json_number(bad).has_value()) << bad;
  EXPECT_EQ(parse_json_integer("42"), 42);
  EXPECT_EQ(parse_json_integer("-7"), -7);
  for (const char* bad :
       {"", "1.0", "1e3", "9223372036854775808", "99999999999999999999", "0x10", "+3", "007", "-"})
    EXPECT_FALSE(parse_json_integer(bad).has_value()) << bad;
}

TEST(QuoteInput, EscapesControlBytesAndCapsLength) {
  EXPECT_EQ(quote_input("plain Zürich"), "plain Zürich");
  EXPECT_EQ(quote_input(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(quote_input("\x1b[31mred\n\t\x7f"), "\\x1b[31mred\\n\\t\\x7f");
  EXPECT_EQ(quote_input("bad \xff\xc3"), "bad \\xff\\xc3");
  EXPECT_EQ(quote_input(std::string(1000, 'x'), 10), "xxxxxxxxxx... (1000 bytes)");
  EXPECT_LT(quote_input(std::string(100000000, 'x')).size(), 200U);
  std::size_t at = 0;
  EXPECT_TRUE(valid_utf8("Zürich €"));
  EXPECT_FALSE(valid_utf8("Acme\xff", &at));
  EXPECT_EQ(at, 4U);
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST(Files, SizeLimitIsCheckedBeforeReading) {
  test::temp_dir dir;
  const auto f = dir.write("x.json", std::string(2000, ' ') + "{}");
  const file_limit small{"test file", 1000};
  try {
    (void)read_json_file(f, small);
    ADD_FAILURE() << "an oversized file was read";
  } catch (const spec_error& e) {
    EXPECT_EQ(e.file(), f);
    EXPECT_EQ(e.message(), "the file is 2002 bytes: a test file may be at most 1000 bytes");
  }
  EXPECT_TRUE(read_json_file(f, file_limit{"test file", 2002}).is_object());
}

TEST(Files, WritesGoThroughSymbolicLinks) {
  test::temp_dir dir;
  namespace fs = std::filesystem;
  fs::create_directory(dir.path() + "/real");
  fs::create_symlink("real/target.json", dir.path() + "/a.json");  // dangling
  fs::create_symlink("a.json", dir.path() + "/b.json");            // a chain
  const auto target = fs::weakly_canonical(dir.path() + "/real").string() + "/target.json";
  EXPECT_EQ(resolve_write_target(dir.path() + "/b.json"), target);
  EXPECT_EQ(resolve_write_target(dir.path() + "/real/../a.json"), target);
  write_file_atomically(dir.path() + "/b.json", "one");
  EXPECT_TRUE(fs::is_symlink(dir.path() + "/a.json"));
  EXPECT_TRUE(fs::is_symlink(dir.path() + "/b.json"));
  EXPECT_EQ(read_text_file(target), "one");
  fs::create_symlink("loop2", dir.path() + "/loop1");
  fs::create_symlink("loop1", dir.path() + "/loop2");
  EXPECT_THROW((void)resolve_write_target(dir.path() + "/loop1"), error);
}

TEST(Files, StaleTemporaryRule) {
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  std::string h(host);
  for (char& c : h) {
    if (c == '-') c = '_';
  }
  const std::string me = std::to_string(::getpid());
  const std::string parent = std::to_string(::getppid());
  // A pid far above pid_max: no such process.
  const std::string gone = "2147483646";
  EXPECT_TRUE(stale_temporary("l.json", ".l.json.tmp-" + h + "-" + gone + "-Ab12Cd", 1));
  EXPECT_FALSE(stale_temporary("l.json", ".l.json.tmp-" + h + "-" + parent + "-Ab12Cd", 1))
      << "its writer runs";
  EXPECT_FALSE(stale_temporary("l.json", ".l.json.tmp-" + h + "-" + me + "-Ab12Cd", 1)) << "ours";
  EXPECT_FALSE(stale_temporary("l.json", ".l.json.tmp-otherhost-" + gone + "-Ab12Cd", 1))
      << "another host's";
  EXPECT_TRUE(stale_temporary("l.json", ".l.json.tmp-otherhost-" + gone + "-Ab12Cd", 7200))
      << "an hour old";
  EXPECT_TRUE(stale_temporary("l.json", ".l.json.tmp-Ab12Cd", 7200));
  EXPECT_FALSE(stale_temporary("l.json", ".l.json.tmp-Ab12Cd", 60));
  EXPECT_FALSE(stale_temporary("l.json", ".m.json.tmp-" + h + "-" + gone + "-Ab12Cd", 7200))
      << "another file's";
  EXPECT_FALSE(stale_temporary("l.json", "l.json", 7200));
}

}  // namespace
}  // namespace chipgauge

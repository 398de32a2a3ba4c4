// core/: the strict JSON reader (depth, duplicate keys, numbers), size limits, atomic writes
// through links with stale temporaries removed, the escaping of quoted input, and work on threads
// used in order.
#include "chipgauge/core/error.hpp"
#include "chipgauge/core/files.hpp"
#include "chipgauge/core/in_order.hpp"
#include "chipgauge/core/json_reader.hpp"
#include "chipgauge/core/text.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace chipgauge {
namespace {

// Items recorded so far by the consumer of an InOrder test.
std::size_t seen_count(std::mutex& m, const std::vector<std::size_t>& seen) {
  const std::lock_guard lock(m);
  return seen.size();
}

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

// Every item is consumed once, in order, whatever the threads; never more than the window is
// produced ahead of the consumer; one job or one item runs on the calling thread.
TEST(InOrder, ConsumesEveryItemInOrderWithAtMostTheWindowAhead) {
  for (const unsigned jobs : {1U, 2U, 5U}) {
    for (const std::size_t window : {std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
      constexpr std::size_t n = 500;
      std::atomic<std::size_t> produced{0};
      std::atomic<std::size_t> most_ahead{0};
      std::vector<std::size_t> seen;
      std::vector<std::thread::id> producers;
      std::map<unsigned, std::thread::id> owners;
      std::mutex m;
      produce_in_parallel_consume_in_order<std::string>(
          n, jobs, window,
          [&](std::size_t i, unsigned worker) {
            EXPECT_LT(worker, jobs);
            const std::size_t ahead = ++produced - seen_count(m, seen);
            std::size_t prev = most_ahead.load();
            while (ahead > prev && !most_ahead.compare_exchange_weak(prev, ahead)) {}
            const std::lock_guard lock(m);
            producers.push_back(std::this_thread::get_id());
            // A worker index belongs to one thread: state it owns is never shared.
            EXPECT_EQ(owners.emplace(worker, producers.back()).first->second, producers.back());
            return std::to_string(i);
          },
          [&](std::size_t i, std::string&& v) {
            EXPECT_EQ(v, std::to_string(i));
            const std::lock_guard lock(m);
            seen.push_back(i);
          });
      ASSERT_EQ(seen.size(), n) << jobs << " jobs, window " << window;
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], i);
      // Produced and not yet consumed, counted as a producer starts: the window, plus the item
      // the consumer has taken from its slot but not yet recorded.
      EXPECT_LE(most_ahead.load(), window + 1) << jobs << " jobs, window " << window;
      const bool all_here = std::all_of(producers.begin(), producers.end(),
                                        [](auto id) { return id == std::this_thread::get_id(); });
      EXPECT_EQ(all_here, jobs == 1) << jobs << " jobs, window " << window;
    }
  }
  std::size_t calls = 0;
  produce_in_parallel_consume_in_order<int>(
      0, 4, 8,
      [&](std::size_t, unsigned) {
        ++calls;
        return 0;
      },
      [&](std::size_t, int&&) { ++calls; });
  EXPECT_EQ(calls, 0U);
}

// A producer's exception surfaces when its item's turn comes, after every item before it was
// consumed; a consumer's stops the workers (they join) and is rethrown.
TEST(InOrder, ExceptionsSurfaceInOrderAndStopTheWork) {
  for (const unsigned jobs : {1U, 3U}) {
    std::vector<std::size_t> seen;
    try {
      produce_in_parallel_consume_in_order<std::size_t>(
          100, jobs, 4,
          [](std::size_t i, unsigned) {
            if (i == 37) throw std::runtime_error("item 37");
            return i;
          },
          [&](std::size_t, std::size_t&& v) { seen.push_back(v); });
      ADD_FAILURE() << "no exception with " << jobs << " jobs";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "item 37");
    }
    ASSERT_EQ(seen.size(), 37U) << jobs << " jobs";
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);

    std::atomic<std::size_t> produced{0};
    EXPECT_THROW(produce_in_parallel_consume_in_order<std::size_t>(
                     10000, jobs, 4,
                     [&](std::size_t i, unsigned) {
                       ++produced;
                       return i;
                     },
                     [](std::size_t i, std::size_t&&) {
                       if (i == 5) throw std::logic_error("consumer");
                     }),
                 std::logic_error);
    // Item 5 consumed; at most the window (4) and one per job being produced after it.
    EXPECT_LE(produced.load(), 6 + 4 + jobs) << jobs << " jobs";
  }
}

}  // namespace
}  // namespace chipgauge

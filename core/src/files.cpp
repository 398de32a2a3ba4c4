#include "chipgauge/core/files.hpp"

#include "chipgauge/core/error.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace chipgauge {

namespace {

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
  throw error(what + " " + path + ": " + std::strerror(errno));
}

// This machine's name as it appears in temporary file names ('-' and '/' replaced).
std::string host_tag() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  std::string h(buf);
  for (char& c : h) {
    if (c == '-' || c == '/' || static_cast<unsigned char>(c) < 0x21 ||
        static_cast<unsigned char>(c) > 0x7e)
      c = '_';
  }
  return h.empty() ? "unknown" : h;
}

std::string temporary_prefix(const std::string& target_filename) {
  return "." + target_filename + ".tmp-";
}

// Removes the stale temporaries of `target` in `dir` (best effort: a failure to remove one is
// not the write's failure).
void remove_stale_temporaries(const std::filesystem::path& dir,
                              const std::string& target_filename) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  const std::string prefix = temporary_prefix(target_filename);
  const std::time_t now = std::time(nullptr);
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string full = (dir / name).string();
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (stale_temporary(target_filename, name, std::difftime(now, st.st_mtime)))
      ::unlink(full.c_str());
  }
  ::closedir(d);
}

}  // namespace

bool stale_temporary(const std::string& target_filename, const std::string& name, double age_s) {
  constexpr double max_age_s = 3600;
  const std::string prefix = temporary_prefix(target_filename);
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  if (age_s > max_age_s) return true;
  // HOST-PID-XXXXXX after the prefix; anything else (an older naming) waits for the age rule.
  const std::string rest = name.substr(prefix.size());
  const auto last = rest.rfind('-');
  if (last == std::string::npos || last == 0) return false;
  const auto mid = rest.rfind('-', last - 1);
  if (mid == std::string::npos) return false;
  if (rest.substr(0, mid) != host_tag()) return false;
  const std::string pid_text = rest.substr(mid + 1, last - mid - 1);
  long pid = 0;
  const auto res = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  if (res.ec != std::errc() || res.ptr != pid_text.data() + pid_text.size() || pid <= 0)
    return false;
  if (pid == static_cast<long>(::getpid())) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

std::string resolve_write_target(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p = fs::absolute(fs::path(path));
  // Follow the final component's links ourselves: weakly_canonical leaves a dangling one as is.
  for (int hops = 0;; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) break;
    if (hops >= 40)
      throw error(fmt::format("cannot resolve {}: too many levels of symbolic links", path));
    const fs::path link = fs::read_symlink(p, ec);
    if (ec)
      throw error(fmt::format("cannot read the symbolic link {}: {}", p.string(), ec.message()));
    p = link.is_absolute() ? link : p.parent_path() / link;
  }
  std::error_code ec;
  // The directories above may hold links too; canonical form of the existing part.
  const fs::path dir = fs::weakly_canonical(p.parent_path(), ec);
  return ((ec ? p.parent_path() : dir) / p.filename()).string();
}

void write_file_atomically(const std::string& requested_path, std::string_view content) {
  namespace fs = std::filesystem;
  const std::string path = resolve_write_target(requested_path);
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  remove_stale_temporaries(dir, target.filename().string());
  std::string tmpl =
      (dir / fmt::format("{}{}-{}-XXXXXX", temporary_prefix(target.filename().string()), host_tag(),
                         ::getpid()))
          .string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) fail_errno("cannot create a temporary file next to", path);
  // mkstemp creates 0600; give the result the mode the file had, or a new file's usual mode.
  struct stat st {};
  mode_t mode = 0;
  if (::stat(path.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  ::fchmod(fd, mode);
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      ::unlink(tmpl.c_str());
      errno = saved;
      fail_errno("cannot write", path);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int saved = errno;
    ::unlink(tmpl.c_str());
    errno = saved;
    fail_errno("cannot flush", path);
  }
  if (std::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmpl.c_str());
    errno = saved;
    fail_errno("cannot rename the temporary file onto", path);
  }
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error("cannot open " + path + " for reading");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string read_text_file(const std::string& path, const file_limit& limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw spec_error(path, "$",
                     fmt::format("cannot open the file for reading: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int saved = errno;
    ::close(fd);
    throw spec_error(path, "$", fmt::format("cannot read the file: {}", std::strerror(saved)));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw spec_error(path, "$", "is a directory: expected a file");
  }
  auto too_large = [&](std::uintmax_t size, bool at_least) {
    return spec_error(path, "$",
                      fmt::format("the file is {}{} bytes: a {} may be at most {} bytes",
                                  at_least ? "more than " : "", size, limit.kind, limit.max_bytes));
  };
  if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > limit.max_bytes) {
    ::close(fd);
    throw too_large(static_cast<std::uintmax_t>(st.st_size), false);
  }
  // Read at most one byte past the limit: a pipe or a file that grows is cut off too.
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      throw spec_error(path, "$",
                       fmt::format("error while reading the file: {}", std::strerror(saved)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit.max_bytes) {
      ::close(fd);
      throw too_large(limit.max_bytes, true);
    }
  }
  ::close(fd);
  return out;
}

}  // namespace chipgauge

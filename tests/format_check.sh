#!/bin/sh
# Fails when a C++ or CUDA source of the repository is not laid out as .clang-format says.
#   tests/format_check.sh SOURCE_DIR
# The layout is clang-format 14's (Debian 12's package): another major version formats some
# constructs differently, so with another version, or none, the check is skipped (exit 77) and says
# why. The files checked are those git tracks; outside a git checkout, every source under
# SOURCE_DIR except build*/ and node_modules/. To fix: clang-format -i FILE...
set -eu
src=$1
fmt=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$fmt" ]; then
  echo "format_check: skipped: clang-format is not installed (scripts/install-deps.sh --test installs it)"
  exit 77
fi
version=$("$fmt" --version | sed -n 's/.*version \([0-9][0-9]*\)\..*/\1/p')
if [ "$version" != 14 ]; then
  echo "format_check: skipped: $fmt is version ${version:-unknown}; the layout is clang-format 14's"
  exit 77
fi
cd "$src"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z -- '*.cpp' '*.hpp' '*.h' '*.cu' '*.cuh' >"$list"
else
  find . \( -name .git -o -name 'build*' -o -name node_modules \) -prune -o -type f \
    \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) -print0 >"$list"
fi
if ! xargs -0 "$fmt" --dry-run --Werror -- <"$list"; then
  echo "format_check: the files above differ from .clang-format's layout; run: clang-format -i FILE..." >&2
  exit 1
fi
echo "format_check: $(tr -cd '\0' <"$list" | wc -c) sources laid out as .clang-format says"

#!/bin/sh
# Fails when a file of the repository refers to a document outside it or to the project tracker:
# comments, docs and data notes point to docs/ or to the data file that holds the fact instead.
#   tests/no_outside_references.sh SOURCE_DIR
# The files checked are those git tracks (so build trees and node_modules are never read); outside
# a git checkout, every file under SOURCE_DIR except .git, build*/ and node_modules/.
set -eu
src=$1
# Split so that this file does not match itself.
pattern='(REGULATION|PRODUCT|BENCHMARKING|STYLE)[.]md|issue'' #|the [A-Za-z-]+ issue\b'
cd "$src"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z >"$list"
else
  find . \( -name .git -o -name 'build*' -o -name node_modules \) -prune -o -type f -print0 >"$list"
fi
# Binary files are skipped (-I); a file that is listed but deleted in the work tree is skipped (-s).
# grep's exit status is not used: xargs reports 123 whenever one batch of files has no match.
hits=$(xargs -0 grep -snIE "$pattern" -- <"$list" || true)
if [ -n "$hits" ]; then
  printf '%s\n' "$hits"
  echo "no_outside_references: the lines above refer to a document outside the repository or to the" \
       "tracker; point them to docs/ or to the data file that holds the fact" >&2
  exit 1
fi
echo "no_outside_references: no references outside the repository"

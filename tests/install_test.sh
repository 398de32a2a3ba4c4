#!/bin/sh
# `cmake --install` lays out a chipgauge that runs from its prefix with no --specs-dir and no
# $CHIPGAUGE_SPECS_DIR: <prefix>/bin/chipgauge reads <prefix>/share/chipgauge/specs.
#   tests/install_test.sh CMAKE BUILD_DIR SOURCE_SPECS_DIR
set -eu
cmake=$1
build=$2
source_specs=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install failed"; }
bin="$tmp/prefix/bin/chipgauge"
data="$tmp/prefix/share/chipgauge/specs"
[ -x "$bin" ] || fail "no executable $bin"
for d in chips rules licensing countries arch schema; do
  [ -d "$data/$d" ] || fail "no $data/$d"
done

# From another directory, with nothing pointing at the data.
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
unset CHIPGAUGE_SPECS_DIR || true
"$bin" specs list >specs.txt || fail "chipgauge specs list failed"
grep -q '^nvidia-h100-sxm5-80gb' specs.txt || fail "specs list does not name nvidia-h100-sxm5-80gb"

# It reads the installed copy, not the source tree it was built from: a regime removed from the
# installed copy disappears from the listing.
regime=us-2025-01-15-foundry-presumption
"$bin" rules list >rules-before.txt || fail "chipgauge rules list failed"
grep -q "$regime" rules-before.txt || fail "rules list does not name $regime"
rm "$data/rules/$regime.json"
"$bin" rules list >rules-after.txt || fail "chipgauge rules list failed after removing $regime"
if grep -q "$regime" rules-after.txt; then fail "rules list still names $regime: the installed data was not used"; fi

# $CHIPGAUGE_SPECS_DIR still comes first.
CHIPGAUGE_SPECS_DIR="$source_specs" "$bin" rules list >rules-env.txt || fail "rules list with CHIPGAUGE_SPECS_DIR failed"
grep -q "$regime" rules-env.txt || fail "CHIPGAUGE_SPECS_DIR did not take precedence over the installed data"
echo "install_test: $bin reads $data"

#!/usr/bin/env bash
# Builds the libFuzzer seed corpora and dictionaries from the repository's own files:
#   tests/fuzz/make-corpus.sh OUT_DIR
# writes OUT_DIR/<target>/ (seed inputs, one file each) and OUT_DIR/<target>.dict for every target
# of tests/fuzz/CMakeLists.txt. Nothing it writes is committed: the seeds are the bundled data
# (specs/), the test data and goldens (tests/), the expressions of the rule and licensing files
# and the few hand-made seeds of tests/fuzz/seeds/; the dictionaries are the JSON keys found in
# those files and the expression language's tokens and names. Rerun it when the data changes.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:?usage: make-corpus.sh OUT_DIR}"
targets=(json spec expr rules licensing report ledger certificate)
for t in "${targets[@]}"; do
  rm -rf "${out:?}/$t"
  mkdir -p "$out/$t"
done

# seed DIR FILE...: copies each file into the target's corpus under a unique name.
seed() {
  local t="$1"
  shift
  local f
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    cp "$f" "$out/$t/$(basename "$(dirname "$f")")-$(basename "$f")"
  done
}

seed json "$root"/specs/*/*.json "$root"/tests/golden/*.json "$root"/tests/data/*.json "$root"/tests/fuzz/seeds/ledger/*.json
seed spec "$root"/specs/chips/*.json
seed rules "$root"/specs/rules/*.json
seed licensing "$root"/specs/licensing/*.json
seed report "$root"/tests/data/measurement-sample.json
seed ledger "$root"/tests/fuzz/seeds/ledger/*
seed expr "$root"/tests/fuzz/seeds/expr/*
seed certificate "$root"/tests/data/certificate-*.json
# Every condition of the bundled rule and licensing files, one per seed.
n=0
while IFS= read -r when; do
  n=$((n + 1))
  printf '%s' "$when" > "$out/expr/when-$n.txt"
done < <(grep -ho '"\(when\|applies_when\)": *"[^"]*"' "$root"/specs/rules/*.json "$root"/specs/licensing/*.json |
           sed 's/^"[a-z_]*": *"//; s/"$//' | sort -u)
# A regression input of a target is a seed too: the fuzzer starts from what once broke.
for t in "${targets[@]}"; do
  if [[ -d "$root/tests/fuzz/regressions/$t" ]]; then seed "$t" "$root/tests/fuzz/regressions/$t"/*; fi
done

# Dictionaries (libFuzzer -dict): JSON punctuation and literals, the keys the formats use.
json_tokens() {
  printf '%s\n' 'brace_open="{"' 'brace_close="}"' 'bracket_open="["' 'bracket_close="]"' 'colon=":"' \
    'comma=","' 'quote="\""' 'true="true"' 'false="false"' 'null="null"' 'exp="e+308"' 'neg="-0.0"' \
    'escape="\\u0000"' 'surrogate="\\ud800"'
}
json_keys() {  # the keys of the given files, as "key":
  grep -ho '"[A-Za-z_][A-Za-z0-9_]*":' "$@" | sort -u | sed 's/"\(.*\)":/key_\1="\\"\1\\":"/'
}
expr_tokens() {
  printf '%s\n' 'and=" and "' 'or=" or "' 'not="not "' 'true="true"' 'false="false"' 'lt="<"' 'le="<="' \
    'gt=">"' 'ge=">="' 'eq="=="' 'ne="!="' 'plus="+"' 'minus="-"' 'times="*"' 'div="/"' 'open="("' \
    'close=")"' 'exp="1e308"' 'dot="0.5"'
  # identifiers the bundled conditions use (metrics, parameters, flags)
  grep -ho '"\(when\|applies_when\)": *"[^"]*"' "$root"/specs/rules/*.json "$root"/specs/licensing/*.json |
    sed 's/^"[a-z_]*": *"//; s/"$//' | tr -c 'a-z0-9_\n' ' ' | tr ' ' '\n' |
    grep -E '^[a-z_][a-z0-9_]*$' | grep -vxE 'and|or|not|true|false' | sort -u | sed 's/.*/name_&="&"/'
}
{ json_tokens; json_keys "$root"/specs/*/*.json "$root"/tests/golden/*.json "$root"/tests/data/*.json; } > "$out/json.dict"
{ json_tokens; json_keys "$root"/specs/chips/*.json; } > "$out/spec.dict"
{ json_tokens; json_keys "$root"/specs/rules/*.json; expr_tokens | sed 's/^/e_/'; } > "$out/rules.dict"
{ json_tokens; json_keys "$root"/specs/licensing/*.json; expr_tokens | sed 's/^/e_/'; } > "$out/licensing.dict"
{ json_tokens; json_keys "$root"/tests/data/measurement-sample.json; } > "$out/report.dict"
{ json_tokens; json_keys "$root"/tests/fuzz/seeds/ledger/*.json; printf '%s\n' 'csv_header="date,part,tpp_each,quantity,consignee,country,quota,eccn\x0A"' 'csv_quote="\"\""' 'csv_newline="\x0D\x0A"'; } > "$out/ledger.dict"
expr_tokens > "$out/expr.dict"
{ json_tokens; json_keys "$root"/tests/data/certificate-*.json; } > "$out/certificate.dict"
# One name once per dictionary (libFuzzer ignores the names, but duplicates are noise).
for d in "$out"/*.dict; do awk -F= '!seen[$1]++' "$d" > "$d.tmp" && mv "$d.tmp" "$d"; done
for t in "${targets[@]}"; do
  echo "$t: $(find "$out/$t" -type f | wc -l) seeds, $(wc -l < "$out/$t.dict") dictionary entries"
done

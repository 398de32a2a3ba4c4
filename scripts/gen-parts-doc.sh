#!/usr/bin/env bash
# Regenerates docs/parts.md from specs/ (as of today, or the date given): run after changing a
# sheet or a rule file; the test CliDocs.PartsDocIsCurrent fails until you do.
#   scripts/gen-parts-doc.sh [YYYY-MM-DD] [path/to/chipgauge]
set -euo pipefail
cd "$(dirname "$0")/.."
as_of="${1:-$(date -u +%F)}"
bin="${2:-build/apps/chipgauge}"
"$bin" --specs-dir specs specs table --format md --as-of "$as_of" > docs/parts.md.tmp
mv docs/parts.md.tmp docs/parts.md
echo "docs/parts.md regenerated as of $as_of"

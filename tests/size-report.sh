#!/usr/bin/env bash
# Builds the release bundle with trunk and prints the raw, gzip -9 and
# brotli -q 11 bytes of each file and the total, against a regression guard
# of 250 KB gzip for the whole page (html + js + wasm + css). Over it, it
# says so loudly; with LSH_SIZE_ENFORCE=1 it also fails (the README's
# "Measured" section says where the bundle stands and what costs what).
# The guard catches a dependency or a pattern that adds tens of kilobytes;
# below it, the code is shaped for readers, not bytes.
# The <live-stream-health> element's script (embed.js, served next to the
# page for host pages, never loaded by the widget itself) is not part of
# the page: it is reported on its own line against its own guard of 3 KB
# gzip (3,000 B), enforced the same way.
# Usage: bash tests/size-report.sh [dist-dir]

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. tests/setup.sh
if ! command -v brotli >/dev/null; then
  apt_install brotli
fi

DIST="${1:-dist}"
BUDGET_GZIP=$((250 * 1000))
EMBED=embed.js
BUDGET_EMBED_GZIP=$((3 * 1000))

say "building the release bundle into $DIST (trunk build --release)"
trunk build --release --dist "$DIST" >&2

printf '\n%-44s %10s %10s %10s\n' "file" "raw" "gzip -9" "brotli"
total_raw=0 total_gz=0 total_br=0
while IFS= read -r file; do
  raw=$(wc -c <"$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  br=$(brotli -q 11 -c "$file" | wc -c)
  total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
  printf '%-44s %10d %10d %10d\n' "${file#"$DIST"/}" "$raw" "$gz" "$br"
done < <(find "$DIST" -type f \( -name '*.html' -o -name '*.js' -o -name '*.wasm' -o -name '*.css' \) \
  ! -path "$DIST/$EMBED" | sort)
printf '%-44s %10d %10d %10d\n' "TOTAL" "$total_raw" "$total_gz" "$total_br"

over=0
if [ ! -f "$DIST/$EMBED" ]; then
  echo "NO $EMBED in $DIST: index.html must copy src/embed/embed.js (rel=copy-file)" >&2
  over=1
else
  embed_raw=$(wc -c <"$DIST/$EMBED")
  embed_gz=$(gzip -9 -c "$DIST/$EMBED" | wc -c)
  embed_br=$(brotli -q 11 -c "$DIST/$EMBED" | wc -c)
  printf '%-44s %10d %10d %10d\n' "$EMBED (the element, not in TOTAL)" "$embed_raw" "$embed_gz" "$embed_br"
  if [ "$embed_gz" -gt "$BUDGET_EMBED_GZIP" ]; then
    echo "OVER THE ELEMENT'S SIZE GUARD: $EMBED is $embed_gz bytes gzip, $((embed_gz - BUDGET_EMBED_GZIP)) over $BUDGET_EMBED_GZIP" >&2
    over=1
  else
    echo "$EMBED within its size guard: $embed_gz of $BUDGET_EMBED_GZIP bytes gzip"
  fi
fi

if [ "$total_gz" -gt "$BUDGET_GZIP" ]; then
  echo "OVER THE SIZE GUARD: $total_gz bytes gzip, $((total_gz - BUDGET_GZIP)) over $BUDGET_GZIP" >&2
  over=1
else
  echo "within the size guard: $total_gz of $BUDGET_GZIP bytes gzip (brotli: $total_br)"
fi
if [ "$over" = 1 ] && [ "${LSH_SIZE_ENFORCE:-0}" = 1 ]; then
  exit 1
fi

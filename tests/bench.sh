#!/usr/bin/env bash
# Benchmarks of the widget, printed as one block of figures:
#   - time to first status, cold and warm, for the widget and for the
#     hand-written reference page (tests/reference/index.html), with where
#     the widget's time goes (tests/bench.rs);
#   - the main-thread cost of one poll at 1, 6 and 24 hours of history,
#     both layouts, in interleaved rounds (tests/bench_update.rs, in
#     Chromium, release build), and the cost of the periodic save;
#   - time to first status on emulated networks (4G, slow 4G, loopback),
#     with the widget served precompressed and immutable-cached, the
#     endpoint on another origin, and a third page: the minimal Leptos page
#     of tests/floor (tests/bench.rs, part `net`);
#   - a memory soak of thousands of poll cycles (tests/bench.rs);
#   - the wall: 16 streams at a 5 s interval with 24 h of history each, the
#     cost of one stream's poll and the memory after 2,000 polls per stream
#     (tests/bench_update.rs, part `wall`, Chromium with precise memory
#     figures and a forced collection before each reading);
#   - requests per minute to the endpoint with 1, 3 and 10 tabs sharing one
#     poller, and the gap when the polling tab closes (tests/e2e_share.rs,
#     60 s per tab count).
# Installs what is missing first (tests/setup.sh), builds the release bundle,
# starts everything it needs on loopback and stops it again. Exits non-zero
# only if the harness breaks, never because of a figure.
#
# Usage: bash tests/bench.sh
# Counts: LSH_BENCH_LOADS (20 cold and 20 warm loads per page),
#   LSH_SOAK_CYCLES (20000), LSH_SOAK_EVERY (1000), LSH_SOAK_INTERVAL (0.02 s),
#   LSH_SOAK_HISTORY (1 min), LSH_UPDATE_ITERATIONS (200 per configuration),
#   LSH_UPDATE_ROUNDS (5), LSH_UPDATE_HOURS (1,6,24), LSH_SHARE_WINDOW_S (60),
#   LSH_WALL_STREAMS (16), LSH_WALL_POLLS (2000 per stream), LSH_WALL_HOURS (24);
#   LSH_BENCH_PARTS=load,net,update,soak,share,wall picks parts.
# Figures also go to tests/out/bench.json and tests/out/bench-*.log.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
# shellcheck source=tests/setup.sh
. tests/setup.sh

started=$SECONDS

export LSH_BENCH_LOADS="${LSH_BENCH_LOADS:-20}"
export LSH_SOAK_CYCLES="${LSH_SOAK_CYCLES:-20000}"
export LSH_SOAK_EVERY="${LSH_SOAK_EVERY:-1000}"
export LSH_UPDATE_ITERATIONS="${LSH_UPDATE_ITERATIONS:-200}"
export LSH_UPDATE_ROUNDS="${LSH_UPDATE_ROUNDS:-5}"
export LSH_UPDATE_HOURS="${LSH_UPDATE_HOURS:-1,6,24}"
export LSH_WALL_STREAMS="${LSH_WALL_STREAMS:-16}"
export LSH_WALL_POLLS="${LSH_WALL_POLLS:-2000}"
export LSH_WALL_HOURS="${LSH_WALL_HOURS:-24}"
parts="${LSH_BENCH_PARTS:-load,net,update,soak,share,wall}"
has_part() { [[ ",$parts," == *",$1,"* ]]; }
mkdir -p tests/out

step "release bundle (trunk build --release)"
trunk build --release
if has_part net; then
  step "minimal Leptos page (tests/floor, same profile and Trunk.toml)"
  trunk build tests/floor/index.html --release --dist target/floor-dist
fi

update_log="tests/out/bench-update.log"
: >"$update_log"
if has_part update; then
  step "update cost at 1, 6 and 24 h of history: tests/bench_update.rs in Chromium (release wasm)"
  CHROMEDRIVER="$(command -v chromedriver)" \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/webdriver.json" \
    WASM_BINDGEN_TEST_TIMEOUT=600 \
    cargo test --release --target wasm32-unknown-unknown --features csr \
    --test bench_update -- --nocapture one_update 2>&1 | tee "$update_log"
fi

wall_log="tests/out/bench-wall.log"
: >"$wall_log"
if has_part wall; then
  step "the wall: $LSH_WALL_STREAMS streams, $LSH_WALL_HOURS h of history, $LSH_WALL_POLLS polls each (tests/bench_update.rs in Chromium, release wasm)"
  # Chromium's memory figures are rounded unless asked for precise ones;
  # --expose-gc lets the page collect before each reading.
  sed 's|"--window-size=1024,768"|"--window-size=1024,768", "--enable-precise-memory-info", "--js-flags=--expose-gc"|' \
    tests/webdriver.json >tests/out/webdriver-wall.json
  CHROMEDRIVER="$(command -v chromedriver)" \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/out/webdriver-wall.json" \
    WASM_BINDGEN_TEST_TIMEOUT=1800 \
    cargo test --release --target wasm32-unknown-unknown --features csr \
    --test bench_update -- --nocapture a_wall 2>&1 | tee "$wall_log"
fi

native_log="tests/out/bench-load-soak.log"
: >"$native_log"
native_parts=""
has_part load && native_parts="load"
has_part net && native_parts="${native_parts:+$native_parts,}net"
has_part soak && native_parts="${native_parts:+$native_parts,}soak"
if [ -n "$native_parts" ]; then
  step "time to first status and memory soak: tests/bench.rs ($native_parts)"
  LSH_DIST="$ROOT/dist" LSH_BENCH_PARTS="$native_parts" \
    LSH_BENCH_JSON="$ROOT/tests/out/bench.json" \
    cargo test --features e2e --test bench 2>&1 | tee "$native_log"
fi

share_log="tests/out/bench-share.log"
: >"$share_log"
if has_part share; then
  step "shared polling across tabs: tests/e2e_share.rs (${LSH_SHARE_WINDOW_S:-60} s per tab count)"
  LSH_DIST="$ROOT/dist" LSH_SHARE_WINDOW_S="${LSH_SHARE_WINDOW_S:-60}" \
    cargo test --features e2e --test e2e_share -- --nocapture 2>&1 | tee "$share_log"
fi

step "benchmark figures"
{
  echo "live-stream-health benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)')," \
    "$(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(chromium --version 2>/dev/null | head -1)"
  echo "bundle: $(for f in dist/*.wasm dist/*.js; do printf '%s %s B  ' "$(basename "$f")" "$(wc -c <"$f")"; done)"
  if [ -s "$update_log" ]; then
    echo
    echo "Cost of one update (main thread: parse, state update, render flush):"
    sed -n '/LSH-BENCH/,/^test /p' "$update_log" | grep -v '^test ' | sed 's/^LSH-BENCH update: /  /'
    echo "  targets: median under 1.5 ms at 24 h and within 1.3x of 1 h, no long task over 50 ms"
  fi
  if [ -s "$wall_log" ]; then
    echo
    echo "The wall (one stream's poll: parse, state update, render flush; memory after a forced collection):"
    sed -n '/LSH-BENCH wall/,/^test /p' "$wall_log" | grep -v '^test ' | sed 's/^LSH-BENCH wall: /  /'
  fi
  if [ -s "$native_log" ]; then
    echo
    sed -n '/^Time to first status/,$p;' "$native_log" | grep -v '^figures written' || true
    if ! grep -q '^Time to first status' "$native_log"; then
      sed -n '/^Memory soak/,$p' "$native_log"
    fi
  fi
  if [ -s "$share_log" ]; then
    echo
    echo "Shared polling across tabs (requests reaching the endpoint, interval=1):"
    sed -n '/^| tabs open/,/^gap between/p' "$share_log" | sed 's/^/  /'
  fi
  echo
  echo "(whole run: $((SECONDS - started)) s)"
} | tee tests/out/bench-report.txt

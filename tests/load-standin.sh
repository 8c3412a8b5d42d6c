#!/usr/bin/env bash
# The stand-in under load: `GET /live-stream-health?token=JWT` (every request
# verifies the RS256 token) hammered with wrk on 127.0.0.1, with 1 and with
# 64 connections for $LSH_LOAD_SECONDS (default 10) each, then a table of
# requests/s and p50/p99 latency. Target on a 2-core machine: >= 5,000 req/s
# with p99 < 20 ms at 64 connections (wrk shares the two cores with the server).
#
# Installs wrk from Debian when it is missing (apt-get; a no-op otherwise),
# builds the stand-in in release, starts it on a free loopback port with a
# throwaway data directory, and takes a real token from a monitor link that
# `demo-backend` prints. Everything it starts is stopped on exit.
# Usage: bash tests/load-standin.sh   (exit 1 if the target is missed and
# LSH_LOAD_ENFORCE=1)

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1;34m==> %s\033[0m\n' "$*" >&2; }
SECONDS_EACH="${LSH_LOAD_SECONDS:-10}"
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/release/live-stream-health"

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk from Debian (apt-get install -y wrk)"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y wrk >/dev/null 2>&1 || {
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y wrk >/dev/null
  }
else
  say "wrk is installed ($(command -v wrk))"
fi

say "building the stand-in (cargo build --release --features server)"
cargo build --release --features server --bin live-stream-health >&2

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
data_dir="$(mktemp -d "${TMPDIR:-/tmp}/lsh-load.XXXXXX")"
out="$data_dir/demo.out"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT INT TERM

say "starting the stand-in on 127.0.0.1:$port (data in $data_dir, one steady stream, RTMP off)"
"$BIN" demo-backend --listen "127.0.0.1:$port" --data-dir "$data_dir/state" \
  --scenarios steady --rtmp-listen off --widget-base "http://127.0.0.1/" \
  >"$out" 2>"$data_dir/demo.err" &
server_pid=$!

token=""
for _ in $(seq 1 100); do
  token="$(sed -n 's/.*#token=\([^&[:space:]]*\).*/\1/p' "$out" | head -n 1)"
  [ -n "$token" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$data_dir/demo.err" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$token" ] || { say "no monitor link printed within 10 s"; cat "$data_dir/demo.err" >&2; exit 1; }
url="http://127.0.0.1:$port/live-stream-health?token=$token"

say "checking one request answers 200"
code="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
[ "$code" = 200 ] || { say "expected 200, got $code"; exit 1; }

# Runs wrk and prints one table row: connections | req/s | p50 | p99 | errors.
measure() {
  local connections="$1" threads="$2" report
  say "wrk: $connections connection(s), $threads thread(s), ${SECONDS_EACH} s"
  report="$(timeout $((SECONDS_EACH + 20)) wrk -t"$threads" -c"$connections" \
    -d"${SECONDS_EACH}s" --timeout 5s --latency "$url")"
  printf '%s\n' "$report" >&2
  local rps p50 p99 non2xx errors
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$report")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$report")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$report")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$report")"
  errors="$(awk '/Socket errors:/ {print $0}' <<<"$report" | sed 's/.*Socket errors: //')"
  ROWS+=("| $connections | $rps | $p50 | $p99 | ${non2xx:-0} non-2xx${errors:+; $errors} |")
  LAST_RPS="$rps"
  LAST_P99="$p99"
}

declare -a ROWS=()
measure 1 1
measure 64 2

# p99 in ms from wrk's unit-suffixed figure (us, ms, s).
p99_ms="$(python3 -c '
import re, sys
m = re.fullmatch(r"([0-9.]+)(us|ms|s)", sys.argv[1])
print(float(m[1]) * {"us": 0.001, "ms": 1, "s": 1000}[m[2]] if m else "nan")
' "$LAST_P99")"

printf '\n| connections | requests/s | p50 | p99 | errors |\n|---|---|---|---|---|\n'
printf '%s\n' "${ROWS[@]}"
verdict="$(python3 -c '
import sys
rps, p99 = float(sys.argv[1]), float(sys.argv[2])
print("met" if rps >= 5000 and p99 < 20 else "missed")
' "$LAST_RPS" "$p99_ms")"
printf '\ntarget at 64 connections (>= 5000 req/s, p99 < 20 ms): %s (%s req/s, p99 %s ms)\n' \
  "$verdict" "$LAST_RPS" "$p99_ms"
if [ "$verdict" != met ] && [ "${LSH_LOAD_ENFORCE:-0}" = 1 ]; then
  exit 1
fi

#!/usr/bin/env bash
# The demo: builds the widget, starts the local stand-in of the stats
# endpoint with one simulated stream per scenario, serves the widget on a
# second port (so CORS is real) and prints a monitor link per stream.
# Installs what is missing first. Ctrl-C stops everything.
# Usage: bash tests/demo.sh   (ports: LSH_STANDIN_PORT=8787 LSH_WIDGET_PORT=8080)

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. tests/setup.sh

STANDIN_PORT="${LSH_STANDIN_PORT:-8787}"
WIDGET_PORT="${LSH_WIDGET_PORT:-8080}"
DATA_DIR="${LSH_DEMO_DATA:-target/demo-data}"
# Simulated time runs this many times faster than real time (1 = real time).
TIME_SCALE="${LSH_TIME_SCALE:-1}"

say "building the widget (trunk build --release)"
trunk build --release --dist target/demo-dist >&2
say "building the stand-in (cargo build --release --features server)"
cargo build --release --features server --bin live-stream-health >&2

say "starting the stand-in on 127.0.0.1:$STANDIN_PORT and the widget on 127.0.0.1:$WIDGET_PORT"
say "state is kept in $DATA_DIR: links stay valid across restarts (24 h)"
say "open a link below in a browser (or an OBS browser dock); Ctrl-C stops the demo"
exec target/release/live-stream-health demo-backend \
  --listen "127.0.0.1:$STANDIN_PORT" \
  --data-dir "$DATA_DIR" \
  --time-scale "$TIME_SCALE" \
  --serve-dir target/demo-dist \
  --widget-listen "127.0.0.1:$WIDGET_PORT"

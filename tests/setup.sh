#!/usr/bin/env bash
# Installs what building and testing the widget needs, when it is missing.
# Idempotent: every step checks first and says what it does. Source it
# (`. tests/setup.sh`) to also get the PATH it sets up.
#
# Versions are the ones measured to work on these machines (see the README,
# "Toolchain"): trunk 0.21.14 (0.22 needs a newer rustc), wasm-bindgen-cli
# equal to the wasm-bindgen crate in Cargo.lock, wasm-opt from binaryen 132
# (Debian's binaryen 108 produces a module that does not run), Chromium with
# chromedriver for the browser tests, ffmpeg as a real encoder, Firefox ESR
# with geckodriver for the end-to-end tests in a second engine, axe-core
# for the accessibility audit, and OBS Studio with Xvfb for the tests
# against a real OBS.

set -euo pipefail

LSH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132"
GECKODRIVER_VERSION="0.37.1"
AXE_CORE_VERSION="4.14.1"
# axe-core lives outside the repository (it is never committed).
AXE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/live-stream-health/axe"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
# A heading for each stage of the scripts that source this file.
step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*" >&2; }

export PATH="$HOME/.cargo/bin:$PATH"

need_apt_update=1
apt_install() {
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
    say "cannot install $* (not root and no sudo): please install them" && return 1
  fi
  local sudo=""
  [ "$(id -u)" != 0 ] && sudo="sudo"
  if [ "$need_apt_update" = 1 ]; then
    say "refreshing Debian package lists"
    $sudo apt-get update -qq >/dev/null
    need_apt_update=0
  fi
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# 1. The Rust toolchain from rust-toolchain.toml, with the wasm target.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  (cd "$LSH_ROOT" && rustup target add wasm32-unknown-unknown)
else
  say "wasm32-unknown-unknown target: present"
fi

# 2. trunk, the bundler.
if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (cargo install, about 7 minutes the first time)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
else
  say "trunk $TRUNK_VERSION: present"
fi

# 3. wasm-bindgen CLI, exactly the version of the crate in Cargo.lock.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$LSH_ROOT/Cargo.lock")"
if [ -z "$WASM_BINDGEN_VERSION" ]; then
  say "cannot read the wasm-bindgen version from Cargo.lock" && exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes the first time)"
  # Not --locked: its lockfile pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
else
  say "wasm-bindgen-cli $WASM_BINDGEN_VERSION: present"
fi

# 4. wasm-opt from binaryen 132, ahead of any other wasm-opt on PATH.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
NPM_BIN="$(npm prefix -g)/bin"
export PATH="$NPM_BIN:$PATH"
if ! "$NPM_BIN/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
  npm install -g --silent "binaryen@$BINARYEN_VERSION" >/dev/null
else
  say "wasm-opt $BINARYEN_VERSION: present"
fi
if ! wasm-opt --version | grep -q "version $BINARYEN_VERSION"; then
  say "wasm-opt on PATH is $(command -v wasm-opt) ($(wasm-opt --version)), not $BINARYEN_VERSION" && exit 1
fi

# 5. Chromium and its driver for the browser tests and screenshots.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt_install chromium chromium-driver
else
  say "chromium and chromedriver: present ($(chromium --version 2>/dev/null | head -1))"
fi

# 6. ffmpeg: a real encoder for the RTMP ingest tests and for trying the demo.
if ! command -v ffmpeg >/dev/null; then
  apt_install ffmpeg
else
  say "ffmpeg: present"
fi

# 7. Firefox ESR and geckodriver: the end-to-end tests in a second engine
#    (LSH_BROWSER=firefox). geckodriver is not a Debian package.
if ! command -v firefox-esr >/dev/null; then
  apt_install firefox-esr
else
  say "firefox-esr: present ($(firefox-esr --version 2>/dev/null | head -1))"
fi
if ! geckodriver --version 2>/dev/null | head -1 | grep -q "^geckodriver $GECKODRIVER_VERSION\b"; then
  say "installing geckodriver $GECKODRIVER_VERSION (cargo install, about 5 minutes the first time)"
  cargo install --locked geckodriver --version "$GECKODRIVER_VERSION"
else
  say "geckodriver $GECKODRIVER_VERSION: present"
fi

# 8. axe-core for the accessibility audit (tests/e2e_a11y.rs), into a cache
#    outside the repository; LSH_AXE tells the test where it is.
export LSH_AXE="$AXE_DIR/node_modules/axe-core/axe.min.js"
if [ "$(node -p "require('$AXE_DIR/node_modules/axe-core/package.json').version" 2>/dev/null || true)" != "$AXE_CORE_VERSION" ]; then
  say "installing axe-core $AXE_CORE_VERSION (npm) into $AXE_DIR"
  mkdir -p "$AXE_DIR"
  npm install --prefix "$AXE_DIR" --no-save --no-audit --no-fund --silent "axe-core@$AXE_CORE_VERSION" >/dev/null
else
  say "axe-core $AXE_CORE_VERSION: present"
fi

# 9. OBS Studio under a virtual X server, for the real-OBS tests
# (tests/obs_studio.rs, and tests/obs_widget.rs with the widget in
# Chromium; see tests/support/obs.rs). Debian's obs-studio 29
# already carries obs-websocket, x264 and the RTMP output; without
# recommends it is about 25 MB. mesa-utils gives glxinfo to check the
# software OpenGL it renders with.
if ! command -v obs >/dev/null || ! command -v Xvfb >/dev/null || ! command -v glxinfo >/dev/null; then
  apt_install --no-install-recommends obs-studio xvfb mesa-utils
else
  say "obs-studio and Xvfb: present ($(dpkg-query -W -f='${Version}' obs-studio 2>/dev/null || echo '?'))"
fi

say "toolchain ready"

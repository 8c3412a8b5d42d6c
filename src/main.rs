//! Bootstrap only. In the browser (feature `csr`, wasm32) it mounts the widget;
//! natively (feature `server`) it runs the command-line tool: the stand-in
//! endpoint, the token tool and the demo.

#[cfg(all(target_arch = "wasm32", feature = "csr"))]
fn main() {
    live_stream_health::app::start();
}

// The stand-in must survive a panic in one connection (see
// `.cargo/config.toml`): never ship a native tool that aborts instead.
#[cfg(all(not(target_arch = "wasm32"), feature = "server", panic = "abort"))]
compile_error!(
    "the native tool must be built with `-C panic=unwind`: .cargo/config.toml sets it for \
     native targets, and RUSTFLAGS in the environment replaces it"
);

#[cfg(all(not(target_arch = "wasm32"), feature = "server"))]
fn main() -> std::process::ExitCode {
    live_stream_health::server::cli::main()
}

#[cfg(not(any(
    all(target_arch = "wasm32", feature = "csr"),
    all(not(target_arch = "wasm32"), feature = "server")
)))]
fn main() {
    eprintln!(
        "live-stream-health: build with `--features server` for the native tool, \
         or with trunk (feature `csr`) for the widget"
    );
    std::process::exit(2);
}

//! Bootstrap only. In the browser (feature `csr`, wasm32) it mounts the widget;
//! natively (feature `server`) it runs the command-line tool: the stand-in
//! endpoint, the token tool and the demo.

#[cfg(all(target_arch = "wasm32", feature = "csr"))]
fn main() {
    live_stream_health::app::start();
}

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

//! The pure core: everything that can be plain Rust. No leptos, web-sys or gloo
//! imports here, so every rule is tested natively with `cargo test`.

pub mod api;
pub mod chart;
pub mod format;
pub mod history;
pub mod monitor;
pub mod params;
pub mod poll;
pub mod status;
pub mod time;
pub mod token;

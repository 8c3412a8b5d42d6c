//! The pure core: everything that can be plain Rust. No leptos, web-sys or gloo
//! imports here, so every rule is tested natively with `cargo test`.

pub mod advice;
pub mod alerts;
pub mod api;
pub mod chart;
pub mod chart_range;
pub mod chart_svg;
pub mod counts;
pub mod csp;
pub mod format;
pub mod history;
pub mod lenient;
pub mod markup;
pub mod monitor;
pub mod num;
pub mod obs;
pub mod params;
pub mod poll;
pub mod protocol;
pub mod share;
pub mod status;
pub mod storage;
pub mod summary;
pub mod time;
pub mod token;
pub mod token_gate;
pub mod trend;
pub mod url;
pub mod wall;

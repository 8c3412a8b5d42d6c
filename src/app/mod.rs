//! The Leptos shell: components and browser glue. It reads signals and calls
//! the core; every timer, request and listener created here is released by
//! the owner that created it (see [`driver`]).

pub mod driver;
pub mod history_chart;
pub mod location;
pub mod widget;

use leptos::prelude::*;

use crate::core::params;
pub use widget::Widget;

/// Reads the configuration from the page's URL.
pub fn config_from_location() -> (params::Config, Vec<params::Notice>) {
    let location = window().location();
    let query = location.search().unwrap_or_default();
    let fragment = location.hash().unwrap_or_default();
    params::parse(
        query.strip_prefix('?').unwrap_or(&query),
        fragment.strip_prefix('#').unwrap_or(&fragment),
    )
}

/// Mounts the widget on the page body. The mount lives as long as the page.
pub fn start() {
    console_error_panic_hook::set_once();
    let (config, notices) = config_from_location();
    leptos::mount::mount_to_body(
        move || view! { <Widget config=config notices=notices follow_location=true /> },
    );
}

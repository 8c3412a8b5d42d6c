//! The framework's floor for the time-to-first-status benchmark
//! (`tests/bench.rs`, part `net`): the least a Leptos 0.8 page can do to
//! show a stream's health. Like the hand-written `tests/reference/index.html`
//! it reads `token`, `endpoint` and `interval` from the URL fragment, makes
//! one request at a time to `{endpoint}/live-stream-health?token=...` and
//! colours one div (`data-state="live"`, `data-status`) when a report
//! arrives; unlike it, it pays for the framework: a wasm module, the
//! wasm-bindgen glue, a reactive runtime and a mount. Built by trunk with the
//! widget's release profile and `Trunk.toml` (`tests/floor/index.html`); a
//! binary of this package only when the `csr` feature is on, so neither the
//! widget's build nor `cargo test` compiles it.
//!
//! Benchmark scaffolding, not product code: nothing here is validated beyond
//! what a yardstick needs.

#[cfg(target_arch = "wasm32")]
fn main() {
    floor::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("lsh-floor is a browser page: build it with trunk (tests/floor/index.html)");
}

#[cfg(target_arch = "wasm32")]
mod floor {
    use gloo_net::http::Request;
    use gloo_timers::future::TimeoutFuture;
    use leptos::prelude::*;
    use web_sys::{ReferrerPolicy, RequestCache, RequestCredentials, RequestMode};

    /// `name`'s value in a `#a=1&b=2` fragment, percent-decoded.
    fn param(fragment: &str, name: &str) -> Option<String> {
        fragment
            .trim_start_matches('#')
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| js_sys::decode_uri_component(value).ok())
            .map(String::from)
    }

    /// The status of the first report, or `unknown`.
    async fn poll_once(url: &str) -> Result<String, String> {
        let response = Request::get(url)
            .mode(RequestMode::Cors)
            .credentials(RequestCredentials::Omit)
            .cache(RequestCache::NoStore)
            .referrer_policy(ReferrerPolicy::NoReferrer)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.ok() {
            return Err(format!("HTTP {}", response.status()));
        }
        let text = response.text().await.map_err(|e| e.to_string())?;
        let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let status = body["data"][0]["ingest_health"]["status"]
            .as_str()
            .filter(|s| ["excellent", "good", "poor"].contains(s))
            .unwrap_or("unknown");
        Ok(status.to_owned())
    }

    fn colour(status: &str) -> &'static str {
        match status {
            "excellent" => "#15803d",
            "good" => "#a16207",
            "poor" => "#b91c1c",
            _ => "#6b7280",
        }
    }

    pub fn start() {
        leptos::mount::mount_to_body(Floor);
    }

    /// One div, polled into: the request leaves during the mount, as the
    /// widget's first request does (the task executor exists from then on).
    #[component]
    fn Floor() -> impl IntoView {
        let fragment = window().location().hash().unwrap_or_default();
        let token = param(&fragment, "token");
        let endpoint = param(&fragment, "endpoint")
            .unwrap_or_else(|| "https://stats.mux.com".into())
            .trim_end_matches('/')
            .to_owned();
        let every = param(&fragment, "interval")
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(5000, |s| (s * 1000.0).max(10.0) as u32);
        let state = RwSignal::new("connecting".to_owned());
        let status = RwSignal::new("unknown".to_owned());
        if let Some(token) = token {
            let url = format!(
                "{endpoint}/live-stream-health?token={}",
                String::from(js_sys::encode_uri_component(&token))
            );
            leptos::task::spawn_local(async move {
                loop {
                    match poll_once(&url).await {
                        Ok(found) => {
                            status.set(found);
                            state.set("live".into());
                        }
                        Err(_) => state.set("retrying".into()),
                    }
                    TimeoutFuture::new(every).await;
                }
            });
        } else {
            state.set("waiting-token".into());
        }
        view! {
            <div
                id="health"
                data-state=move || state.get()
                data-status=move || status.get()
                style="font: 16px system-ui, sans-serif; padding: 12px; color: #fff"
                style:background=move || colour(&status.get())
            >
                {move || format!("{} ({})", status.get(), state.get())}
            </div>
        }
    }
}

//! The page's Content-Security-Policy, built in one place.
//!
//! The token is in the page (in the URL fragment and in memory), so the
//! page must not be able to send anything anywhere but the stats endpoint.
//! The policy starts from `default-src 'none'` and allows only what the
//! widget uses:
//! - `script-src 'self' 'wasm-unsafe-eval'`: the bundle's own glue and the
//!   compilation of its WebAssembly;
//! - `style-src 'self' 'unsafe-inline'`: the bundle's style sheets and the
//!   style attributes the framework sets. Inline style opens no channel:
//!   what a style could load is governed by `img-src`, `font-src` (`'none'`
//!   by default) and `style-src` itself for `@import` (`'self'` only);
//! - `img-src 'self' data:`: the status favicon and notification icons are
//!   `data:` URLs;
//! - `connect-src`: the endpoint's origin, plus any extra source a feature
//!   needs, and nothing else: with `obs=PORT` in the link, the one
//!   `ws://127.0.0.1:PORT` of OBS's WebSocket server ([`page_policy`]).
//!   The policy is written once, before anything connects, and a page can
//!   only tighten its own policy later, never widen it: so OBS's port is
//!   fixed by the link, and a host's `lsh:obs` may bring the password but
//!   not another port;
//! - `base-uri 'none'` and `form-action 'none'`, which `default-src` does
//!   not cover.
//!
//! So `<script src>`, style sheets, prefetch, fonts, media, frames, workers,
//! images elsewhere, `fetch`, `WebSocket`, forms and `<base>` towards any
//! other origin are all refused by the browser. The shell writes the
//! policy as a `<meta>` element once the app runs: trunk's inline loader
//! and the bundle have loaded by then, and the app loads nothing later
//! that the policy does not allow. A `<meta>` policy cannot carry
//! `frame-ancestors`, `sandbox` or reporting; those take a header from
//! whoever hosts the bundle (README, "Security").

use crate::core::obs::ObsSettings;
use crate::core::params::Config;

/// The page's policy for a configuration: the endpoint's origin and, when
/// the link reads OBS, its loopback WebSocket address.
pub fn page_policy(config: &Config) -> String {
    let obs = config.obs.as_ref().map(ObsSettings::url);
    let extra: Vec<&str> = obs.as_deref().into_iter().collect();
    content_security_policy(config.endpoint.origin(), &extra)
}

/// The page's policy, for the stats endpoint's origin
/// (`https://stats.mux.com`) and any extra `connect-src` sources.
///
/// Sources that could widen the policy (empty, or carrying a space, a `;`
/// or a `,`, which would start another source or directive) are left out.
pub fn content_security_policy(endpoint_origin: &str, extra_connect: &[&str]) -> String {
    let mut connect = String::new();
    for source in std::iter::once(endpoint_origin).chain(extra_connect.iter().copied()) {
        if is_single_source(source) {
            connect.push(' ');
            connect.push_str(source);
        }
    }
    if connect.is_empty() {
        connect.push_str(" 'none'");
    }
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src{connect}; base-uri 'none'; form-action 'none'"
    )
}

/// One source expression, which cannot spill into another.
fn is_single_source(source: &str) -> bool {
    !source.is_empty()
        && !source
            .chars()
            .any(|c| c.is_whitespace() || c == ';' || c == ',' || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::params;

    /// The directives of a policy, by name.
    fn directive<'a>(policy: &'a str, name: &str) -> Option<&'a str> {
        policy
            .split(';')
            .map(str::trim)
            .find(|d| d.split_whitespace().next() == Some(name))
    }

    #[test]
    fn connect_src_is_the_endpoint_and_the_extra_sources_only() {
        let cases: [(&str, &[&str], &str); 5] = [
            (
                "https://stats.mux.com",
                &[],
                "connect-src https://stats.mux.com",
            ),
            (
                "http://127.0.0.1:8787",
                &["ws://127.0.0.1:4455"],
                "connect-src http://127.0.0.1:8787 ws://127.0.0.1:4455",
            ),
            (
                "https://stats.mux.com",
                &[
                    "ws://127.0.0.1:4455 https://evil.example",
                    "",
                    "a;script-src *",
                ],
                "connect-src https://stats.mux.com",
            ),
            ("", &[], "connect-src 'none'"),
            ("https://a.example; img-src *", &[], "connect-src 'none'"),
        ];
        for (endpoint, extra, expected) in cases {
            let policy = content_security_policy(endpoint, extra);
            assert_eq!(
                directive(&policy, "connect-src"),
                Some(expected),
                "{policy}"
            );
            assert_eq!(policy.matches(';').count(), 6, "{policy}");
        }
    }

    #[test]
    fn the_link_s_obs_port_is_the_one_websocket_address_allowed() {
        let cases = [
            ("", "connect-src https://stats.mux.com"),
            (
                "obs=4455",
                "connect-src https://stats.mux.com ws://127.0.0.1:4455",
            ),
            (
                "obs=4456&obspw=secret&endpoint=http%3A%2F%2F127.0.0.1%3A8787",
                "connect-src http://127.0.0.1:8787 ws://127.0.0.1:4456",
            ),
            ("obs=localhost%3A4455", "connect-src https://stats.mux.com"),
            (
                "obs=4455%20ws%3A%2F%2Fevil",
                "connect-src https://stats.mux.com",
            ),
        ];
        for (fragment, expected) in cases {
            let (config, _) = params::parse("", fragment);
            let policy = page_policy(&config);
            assert_eq!(
                directive(&policy, "connect-src"),
                Some(expected),
                "{fragment}"
            );
            assert!(!policy.contains("secret"), "{policy}");
        }
    }

    #[test]
    fn everything_else_is_closed_by_default() {
        let policy = content_security_policy("https://stats.mux.com", &[]);
        let expected = [
            ("default-src", "default-src 'none'"),
            ("script-src", "script-src 'self' 'wasm-unsafe-eval'"),
            ("style-src", "style-src 'self' 'unsafe-inline'"),
            ("img-src", "img-src 'self' data:"),
            ("base-uri", "base-uri 'none'"),
            ("form-action", "form-action 'none'"),
        ];
        for (name, value) in expected {
            assert_eq!(directive(&policy, name), Some(value), "{policy}");
        }
        // Channels with no directive of their own fall back to default-src.
        for name in [
            "font-src",
            "media-src",
            "frame-src",
            "child-src",
            "worker-src",
            "object-src",
            "manifest-src",
        ] {
            assert_eq!(directive(&policy, name), None, "{name} in {policy}");
        }
        assert!(!policy.contains('*'), "{policy}");
    }
}

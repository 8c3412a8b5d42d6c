//! The URL contract: how a host page or a monitor link configures the widget.
//!
//! Parameters come from the fragment (preferred: it never reaches a server,
//! a log or a Referer header, which matters for the token) or the query;
//! when both carry a key, the fragment wins. Every invalid value falls back
//! to its default and produces a [`Notice`] the widget shows without
//! blocking, so a typo never leaves a streamer with a dead page.
//!
//! `endpoint` and `origin` are normalised the way browsers serialise them
//! (see [`crate::core::url`]): the endpoint's origin goes into the page's
//! `connect-src` and `origin` is compared with `event.origin`, so a form a
//! browser would write differently is refused with a notice rather than
//! accepted to fail silently. IPv6 endpoints are refused too: Chromium
//! does not accept an IPv6 address as a `connect-src` source, so the
//! page's own policy would block every request.
//!
//! `interval` is whole seconds in 1..=300, except for a loopback endpoint
//! (`127.0.0.0/8`, `localhost`: a local stand-in or test server),
//! where it may go down to [`LOOPBACK_MIN_INTERVAL_MS`] and keeps its
//! milliseconds (`interval=0.02` polls every 20 ms). That is a test aid for
//! soak and benchmark runs, which need thousands of poll cycles in minutes;
//! a real stats service never sees more than one request a second.
//!
//! `viewers` is `on`, `off` or the seconds between viewer-count polls:
//! 15..=300, 20 by default (Mux's own player element polls every 20 s and
//! never faster than 15 s, and the endpoint documents no refresh rate),
//! with the same loopback exception as `interval`. `off` means no counts
//! request at all.
//! `proof` (whole seconds, 1..=300) is a test aid of the same kind, read
//! only with a loopback endpoint: how often a tab that follows another
//! tab's polling proves its own token again (five minutes otherwise, see
//! [`crate::core::poll`]), so a browser test of a revoked key takes
//! seconds. Against any other endpoint it is ignored with a notice.
//!
//! `obs=PORT` opts in to reading OBS Studio through obs-websocket, always
//! at `ws://127.0.0.1:PORT` (the monitor never reaches an OBS on another
//! machine, and the page's policy allows that one address). `obspw` is
//! OBS's WebSocket password, a credential like the token: it is read from
//! the fragment only, because a query reaches servers and their logs. One
//! in the query is ignored with a notice saying where it belongs (a
//! password that has already travelled is not used, so the mistake is seen
//! and the password changed). No notice ever repeats it. `obspw` without
//! `obs` is ignored with a notice.

use std::fmt;

use crate::core::alerts::AlertChannels;
use crate::core::obs::ObsSettings;
use crate::core::poll::TOKEN_PROOF_MS;
use crate::core::url::{parse_origin, split_scheme, Authority, Host};

/// Where the widget polls when no `endpoint` is given.
pub const DEFAULT_ENDPOINT: &str = "https://stats.mux.com";
/// Seconds between polls by default, and the allowed range.
pub const DEFAULT_INTERVAL_S: u32 = 5;
const INTERVAL_RANGE_S: (u32, u32) = (1, 300);
/// Seconds between viewer-count polls by default, and the allowed range.
pub const DEFAULT_VIEWERS_INTERVAL_S: u32 = 20;
const VIEWERS_INTERVAL_RANGE_S: (u32, u32) = (15, 300);
/// The shortest interval accepted for a loopback endpoint, milliseconds.
pub const LOOPBACK_MIN_INTERVAL_MS: f64 = 10.0;
/// Minutes of history by default, and the allowed range.
pub const DEFAULT_HISTORY_MIN: u32 = 60;
const HISTORY_RANGE_MIN: (u32, u32) = (1, 1440);
/// The range of the loopback-only `proof` test aid, seconds.
const PROOF_RANGE_S: (u32, u32) = (1, 300);

/// Page arrangement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Layout {
    /// Everything: a monitor tab.
    #[default]
    Full,
    /// Status, word, deviation and a sparkline: a control panel or an OBS dock.
    Compact,
}

impl Layout {
    /// The parameter value and `data-layout` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Full => "full",
            Layout::Compact => "compact",
        }
    }
}

/// Colour scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    #[default]
    Auto,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

impl Theme {
    /// The parameter value and `data-theme` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// The stats service's base URL, validated: `https:` anywhere, `http:` only
/// on a loopback host (a local stand-in); not an IPv6 address; no
/// credentials, query or fragment; no trailing slash. Its origin is written
/// the way browsers serialise it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    base: String,
    loopback: bool,
}

impl Endpoint {
    /// Validates a base URL.
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let text = text.trim();
        let (scheme, rest) =
            split_scheme(text).ok_or_else(|| "it is not an absolute URL".to_string())?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err("only https (or http on a loopback host) is allowed".into()),
        };
        if rest.contains(['?', '#', '\\', ' ']) || rest.chars().any(char::is_control) {
            return Err("it must not carry a query, fragment or spaces".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at_checked(slash).unwrap_or((rest, "")),
            None => (rest, ""),
        };
        if authority.starts_with('[') {
            return Err(ipv6_refusal(https, authority));
        }
        let authority = Authority::parse(https, authority)?;
        let loopback = authority.is_loopback();
        if !https && !loopback {
            return Err("plain http is only allowed for a loopback host".into());
        }
        let path = path.trim_end_matches('/');
        Ok(Endpoint {
            base: format!("{}{path}", authority.origin()),
            loopback,
        })
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The origin (scheme, host, port), for the Content-Security-Policy.
    pub fn origin(&self) -> &str {
        let Some((scheme, rest)) = split_scheme(&self.base) else {
            return &self.base;
        };
        match rest.find('/') {
            Some(slash) => self
                .base
                .get(..scheme.len() + 3 + slash)
                .unwrap_or(&self.base),
            None => &self.base,
        }
    }

    /// True for a loopback host (a local stand-in).
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The request URL for a token.
    pub fn health_url(&self, token: &str) -> String {
        format!(
            "{}/live-stream-health?token={}",
            self.base,
            percent_encode(token)
        )
    }
}

impl Default for Endpoint {
    fn default() -> Endpoint {
        Endpoint {
            base: DEFAULT_ENDPOINT.into(),
            loopback: false,
        }
    }
}

/// Why an IPv6 endpoint is refused, with what to use instead.
fn ipv6_refusal(https: bool, authority: &str) -> String {
    let Ok(loopback) = Authority::parse(https, authority) else {
        return "IPv6 address endpoints are not supported (browsers refuse them in the \
                page's connection policy); use a host name"
            .into();
    };
    let mut instead = Authority {
        host: Host::V4([127, 0, 0, 1]),
        ..loopback
    }
    .origin();
    instead.insert_str(0, "IPv6 loopback endpoints are not supported; use ");
    instead
}

/// The widget's configuration from its URL.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The monitor token, if any.
    pub token: Option<String>,
    /// Where to poll.
    pub endpoint: Endpoint,
    /// Milliseconds between polls.
    pub interval_ms: f64,
    /// Minutes of history kept and drawn.
    pub history_minutes: u32,
    /// Page arrangement.
    pub layout: Layout,
    /// Colour scheme.
    pub theme: Theme,
    /// The embedding page's origin: messages go only there and are accepted
    /// only from there. `None`: no messages at all.
    pub origin: Option<String>,
    /// Opt-in alerts.
    pub alerts: AlertChannels,
    /// Milliseconds between viewer-count polls; `None` when `viewers=off`.
    pub viewers_interval_ms: Option<f64>,
    /// How long a follower's proof of its own token holds, milliseconds.
    pub token_proof_ms: f64,
    /// Where to read OBS (`obs`, `obspw`); `None`: OBS is not read.
    pub obs: Option<ObsSettings>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            token: None,
            endpoint: Endpoint::default(),
            interval_ms: f64::from(DEFAULT_INTERVAL_S) * 1000.0,
            history_minutes: DEFAULT_HISTORY_MIN,
            layout: Layout::Full,
            theme: Theme::Auto,
            origin: None,
            alerts: AlertChannels::default(),
            viewers_interval_ms: Some(f64::from(DEFAULT_VIEWERS_INTERVAL_S) * 1000.0),
            token_proof_ms: TOKEN_PROOF_MS,
            obs: None,
        }
    }
}

/// A non-blocking note about a parameter that was ignored or adjusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The parameter's name.
    pub param: String,
    /// What happened, for people.
    pub message: String,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn notice(param: &str, message: String) -> Notice {
    Notice {
        param: param.into(),
        message,
    }
}

/// Reads the configuration from a URL's query and fragment (each without
/// its leading `?` or `#`).
pub fn parse(query: &str, fragment: &str) -> (Config, Vec<Notice>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    // Query first, fragment second: a later pair replaces an earlier one.
    for source in [query, fragment] {
        for (key, value) in form_pairs(source) {
            if let Some(existing) = pairs.iter_mut().find(|(k, _)| *k == key) {
                existing.1 = value;
            } else {
                pairs.push((key, value));
            }
        }
    }
    let mut config = Config::default();
    let mut notices = Vec::new();
    let obs_password = obs_password(query, fragment, &mut notices);
    let mut obs_port = None;
    let mut interval = None;
    let mut viewers = None;
    let mut proof = None;
    for (key, value) in pairs {
        match key.as_str() {
            "token" => {
                let token = value.trim();
                config.token = (!token.is_empty()).then(|| token.to_string());
            }
            "endpoint" => match Endpoint::parse(&value) {
                Ok(endpoint) => config.endpoint = endpoint,
                Err(why) => notices.push(notice(
                    "endpoint",
                    format!("Ignored endpoint: {why}. Using {DEFAULT_ENDPOINT}."),
                )),
            },
            // Read once the endpoint is known: its host sets the range.
            "interval" => interval = Some(value),
            "viewers" => viewers = Some(value),
            "proof" => proof = Some(value),
            "obs" => match ObsSettings::parse_port(&value) {
                Some(port) => obs_port = Some(port),
                None => notices.push(notice(
                    "obs",
                    "Ignored obs: use the port of OBS's WebSocket server (1 to 65535, \
                     4455 by default). OBS is not read."
                        .into(),
                )),
            },
            "history" => {
                config.history_minutes = clamped_number(
                    "history",
                    &value,
                    DEFAULT_HISTORY_MIN,
                    HISTORY_RANGE_MIN,
                    "min",
                    &mut notices,
                );
            }
            "layout" => match value.as_str() {
                "full" => config.layout = Layout::Full,
                "compact" => config.layout = Layout::Compact,
                _ => notices.push(notice(
                    "layout",
                    "Ignored layout: use full or compact. Using full.".into(),
                )),
            },
            "theme" => match value.as_str() {
                "auto" => config.theme = Theme::Auto,
                "light" => config.theme = Theme::Light,
                "dark" => config.theme = Theme::Dark,
                _ => notices.push(notice(
                    "theme",
                    "Ignored theme: use auto, light or dark. Using auto.".into(),
                )),
            },
            "origin" => match parse_origin(&value) {
                Ok(origin) => config.origin = Some(origin),
                Err(why) => notices.push(notice(
                    "origin",
                    format!("Ignored origin: {why}. The widget will not talk to its host page."),
                )),
            },
            "alerts" => {
                let mut alerts = AlertChannels::default();
                let mut unknown = Vec::new();
                for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    match item {
                        "sound" => alerts.sound = true,
                        "notify" => alerts.notify = true,
                        "title" => alerts.title = true,
                        other => unknown.push(other.chars().take(20).collect::<String>()),
                    }
                }
                if !unknown.is_empty() {
                    notices.push(notice(
                        "alerts",
                        format!(
                            "Ignored alerts {}: use sound, notify or title.",
                            unknown.join(", ")
                        ),
                    ));
                }
                config.alerts = alerts;
            }
            _ => {}
        }
    }
    let loopback = config.endpoint.is_loopback();
    if let Some(value) = interval {
        config.interval_ms = interval_ms(
            "interval",
            &value,
            (DEFAULT_INTERVAL_S, INTERVAL_RANGE_S),
            loopback,
            &mut notices,
        );
    }
    if let Some(value) = viewers {
        config.viewers_interval_ms = match value.trim() {
            "off" => None,
            "on" => Config::default().viewers_interval_ms,
            seconds => Some(interval_ms(
                "viewers",
                seconds,
                (DEFAULT_VIEWERS_INTERVAL_S, VIEWERS_INTERVAL_RANGE_S),
                loopback,
                &mut notices,
            )),
        };
    }
    if let Some(value) = proof {
        if config.endpoint.is_loopback() {
            let seconds = clamped_number("proof", &value, 300, PROOF_RANGE_S, "s", &mut notices);
            config.token_proof_ms = f64::from(seconds) * 1000.0;
        } else {
            notices.push(notice(
                "proof",
                "Ignored proof: a test aid for a loopback endpoint only.".into(),
            ));
        }
    }
    match (obs_port, obs_password) {
        (Some(port), password) => config.obs = Some(ObsSettings::new(port, password.as_deref())),
        (None, Some(_)) => notices.push(notice(
            "obspw",
            "Ignored obspw: it goes with obs=PORT.".into(),
        )),
        (None, None) => {}
    }
    (config, notices)
}

/// The `obspw` password, from the fragment only: one in the query has
/// reached a server already, so it is refused with a notice (which never
/// repeats it). The fragment's last `obspw` wins, like any parameter.
fn obs_password(query: &str, fragment: &str, notices: &mut Vec<Notice>) -> Option<String> {
    if form_pairs(query).any(|(key, _)| key == "obspw") {
        notices.push(notice(
            "obspw",
            "Ignored obspw in the query: a password goes after # in the link, where it \
             never reaches a server. Change OBS's WebSocket password, it has been sent."
                .into(),
        ));
    }
    form_pairs(fragment)
        .filter(|(key, _)| key == "obspw")
        .last()
        .map(|(_, value)| value)
}

/// An interval parameter (`interval`, `viewers`) in milliseconds: whole
/// seconds in its range (else its default), or for a loopback endpoint
/// milliseconds from [`LOOPBACK_MIN_INTERVAL_MS`].
fn interval_ms(
    param: &str,
    value: &str,
    (default_s, range_s): (u32, (u32, u32)),
    loopback: bool,
    notices: &mut Vec<Notice>,
) -> f64 {
    let seconds = decimal_number(value.trim()).filter(|v| v.is_finite());
    match seconds {
        Some(s) if loopback && s < f64::from(range_s.1) => {
            let ms = (s * 1000.0).round();
            if ms < LOOPBACK_MIN_INTERVAL_MS {
                // A literal: formatting an f64 would bring float printing into
                // the WebAssembly.
                notices.push(notice(
                    param,
                    format!("{param} raised to the minimum, 0.01 s."),
                ));
                return LOOPBACK_MIN_INTERVAL_MS;
            }
            ms
        }
        _ => {
            let seconds = clamped_number(param, value, default_s, range_s, "s", notices);
            f64::from(seconds) * 1000.0
        }
    }
}

fn clamped_number(
    param: &str,
    value: &str,
    default: u32,
    (min, max): (u32, u32),
    unit: &str,
    notices: &mut Vec<Notice>,
) -> u32 {
    let parsed = decimal_number(value.trim()).filter(|v| v.is_finite());
    match parsed {
        None => {
            notices.push(notice(
                param,
                format!("Ignored {param}: not a number. Using {default} {unit}."),
            ));
            default
        }
        Some(v) if v < f64::from(min) => {
            notices.push(notice(
                param,
                format!("{param} raised to the minimum, {min} {unit}."),
            ));
            min
        }
        Some(v) if v > f64::from(max) => {
            notices.push(notice(
                param,
                format!("{param} lowered to the maximum, {max} {unit}."),
            ));
            max
        }
        Some(v) => v.round() as u32,
    }
}

/// Reads a decimal number as people type it in a URL (`5`, `2.5`, `+1`,
/// `.5`, `1e2`): the syntax `str::parse::<f64>` accepts, except that `inf`
/// and `NaN` are not numbers here. Written by hand because Rust's float
/// parser, with its tables, is about 15 KB of WebAssembly; exact for the
/// short numbers this is for (up to 17 significant digits; further digits
/// are dropped, which only matters beyond any range used here).
fn decimal_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, mut i) = match bytes.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut mantissa: u64 = 0;
    let mut exponent: i32 = 0;
    let mut digits = 0;
    let mut after_point = false;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'0'..=b'9' => {
                digits += 1;
                if mantissa < 10_000_000_000_000_000 {
                    mantissa = mantissa * 10 + u64::from(byte - b'0');
                    exponent -= i32::from(after_point);
                } else {
                    exponent += i32::from(!after_point);
                }
            }
            b'.' if !after_point => after_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if let Some(&marker) = bytes.get(i) {
        if marker != b'e' && marker != b'E' {
            return None;
        }
        i += 1;
        let sign = match bytes.get(i) {
            Some(b'-') => {
                i += 1;
                -1
            }
            Some(b'+') => {
                i += 1;
                1
            }
            _ => 1,
        };
        let start = i;
        let mut written: i32 = 0;
        while let Some(&byte) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            written = (written * 10 + i32::from(byte - b'0')).min(100_000);
            i += 1;
        }
        if i == start || i != bytes.len() {
            return None;
        }
        exponent += sign * written;
    }
    let magnitude = if mantissa == 0 {
        0.0
    } else {
        // 10^400 is infinite: the caller's finiteness check catches it.
        let scale = 10f64.powi(exponent.abs().min(400));
        if exponent < 0 {
            mantissa as f64 / scale
        } else {
            mantissa as f64 * scale
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Splits `a=1&b=2` into decoded pairs (`+` is a space, as in forms).
fn form_pairs(source: &str) -> impl Iterator<Item = (String, String)> + '_ {
    source.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key), percent_decode(value))
    })
}

/// Decodes `%XX` escapes and `+`; invalid escapes are kept as written and
/// invalid UTF-8 is replaced, so no input can fail. Like browsers' form
/// decoding, an escape is `%` and exactly two hex digits (`%+1` is kept).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        i += 1;
        let decoded = match byte {
            b'+' => b' ',
            b'%' => match (hex(i), hex(i + 1)) {
                (Some(high), Some(low)) => {
                    i += 2;
                    (high * 16 + low) as u8
                }
                _ => b'%',
            },
            other => other,
        };
        out.push(decoded);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes everything but unreserved characters, for query values.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            // By hand: `format!("{:02X}")` is the only hex formatting the
            // widget would link.
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str, fragment: &str) -> (Config, Vec<String>) {
        let (config, notices) = parse(query, fragment);
        (config, notices.into_iter().map(|n| n.param).collect())
    }

    #[test]
    fn defaults_without_parameters() {
        let (config, notices) = parsed("", "");
        assert_eq!(config, Config::default());
        assert_eq!(config.endpoint.base(), "https://stats.mux.com");
        assert_eq!(config.interval_ms, 5000.0);
        assert_eq!(config.history_minutes, 60);
        assert!(notices.is_empty());
    }

    #[test]
    fn fragment_wins_over_query() {
        let (config, _) = parsed("token=fromquery&interval=10", "token=fromfragment");
        assert_eq!(config.token.as_deref(), Some("fromfragment"));
        assert_eq!(config.interval_ms, 10_000.0);
    }

    #[test]
    fn every_parameter_is_read() {
        let (config, notices) = parsed(
            "",
            "token=a.b.c&endpoint=http%3A%2F%2F127.0.0.1%3A8787%2F&interval=2&history=1440&layout=compact&theme=dark",
        );
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(config.token.as_deref(), Some("a.b.c"));
        assert_eq!(config.endpoint.base(), "http://127.0.0.1:8787");
        assert_eq!(config.interval_ms, 2000.0);
        assert_eq!(config.history_minutes, 1440);
        assert_eq!(config.layout, Layout::Compact);
        assert_eq!(config.theme, Theme::Dark);
    }

    #[test]
    fn numbers_are_clamped_with_a_notice() {
        let cases = [
            ("interval=0", 1000.0, 60, "interval"),
            ("interval=301", 300_000.0, 60, "interval"),
            ("interval=abc", 5000.0, 60, "interval"),
            ("interval=NaN", 5000.0, 60, "interval"),
            ("history=0", 5000.0, 1, "history"),
            ("history=99999", 5000.0, 1440, "history"),
            ("history=-5", 5000.0, 1, "history"),
        ];
        for (fragment, interval_ms, history, param) in cases {
            let (config, notices) = parsed("", fragment);
            assert_eq!(config.interval_ms, interval_ms, "{fragment}");
            assert_eq!(config.history_minutes, history, "{fragment}");
            assert_eq!(notices, vec![param.to_string()], "{fragment}");
        }
    }

    #[test]
    fn sub_second_intervals_only_for_loopback_endpoints() {
        let loopback = [
            "http%3A%2F%2F127.0.0.1%3A8787",
            "http%3A%2F%2Flocalhost%3A3000",
        ];
        for endpoint in loopback {
            // The endpoint may come before or after the interval.
            for fragment in [
                format!("interval=0.02&endpoint={endpoint}"),
                format!("endpoint={endpoint}&interval=0.02"),
            ] {
                let (config, notices) = parsed("", &fragment);
                assert_eq!(config.interval_ms, 20.0, "{fragment}");
                assert!(notices.is_empty(), "{fragment}: {notices:?}");
            }
        }
        let cases = [
            ("interval=2.5", 2500.0, false),
            ("interval=0.0001", LOOPBACK_MIN_INTERVAL_MS, true),
            ("interval=0", LOOPBACK_MIN_INTERVAL_MS, true),
            ("interval=-1", LOOPBACK_MIN_INTERVAL_MS, true),
            ("interval=301", 300_000.0, true),
            ("interval=abc", 5000.0, true),
        ];
        for (interval, ms, notice) in cases {
            let fragment = format!("endpoint=http%3A%2F%2F127.0.0.1%3A8787&{interval}");
            let (config, notices) = parsed("", &fragment);
            assert_eq!(config.interval_ms, ms, "{fragment}");
            assert_eq!(
                notices.len(),
                usize::from(notice),
                "{fragment}: {notices:?}"
            );
        }
        // Anywhere else it stays whole seconds, at least one.
        for endpoint in ["", "endpoint=https%3A%2F%2Fstats.example.com&"] {
            let fragment = format!("{endpoint}interval=0.02");
            let (config, notices) = parsed("", &fragment);
            assert_eq!(config.interval_ms, 1000.0, "{fragment}");
            assert_eq!(notices, vec!["interval".to_string()], "{fragment}");
        }
        // A refused loopback-looking endpoint gives no exception either.
        let (config, _) = parsed("", "endpoint=http%3A%2F%2F127.0.0.1.evil.com&interval=0.02");
        assert_eq!(config.interval_ms, 1000.0);
    }

    #[test]
    fn viewers_is_on_off_or_seconds_of_at_least_fifteen() {
        let loopback = "endpoint=http%3A%2F%2F127.0.0.1%3A8787&";
        let cases = [
            ("", Some(20_000.0), false),
            ("viewers=on", Some(20_000.0), false),
            ("viewers=off", None, false),
            ("viewers=30", Some(30_000.0), false),
            ("viewers=5", Some(15_000.0), true),
            ("viewers=9999", Some(300_000.0), true),
            ("viewers=sometimes", Some(20_000.0), true),
            // A local stand-in may be asked faster, as with `interval`.
            ("{loopback}viewers=0.5", Some(500.0), false),
            ("{loopback}viewers=0", Some(LOOPBACK_MIN_INTERVAL_MS), true),
            ("{loopback}viewers=off", None, false),
        ];
        for (fragment, expected, noticed) in cases {
            let fragment = fragment.replace("{loopback}", loopback);
            let (config, notices) = parsed("", &fragment);
            assert_eq!(config.viewers_interval_ms, expected, "{fragment}");
            let viewers_notices = notices.iter().filter(|n| *n == "viewers").count();
            assert_eq!(viewers_notices, usize::from(noticed), "{fragment}");
        }
        let (config, _) = parsed("viewers=off", "viewers=on");
        assert_eq!(
            config.viewers_interval_ms,
            Some(20_000.0),
            "the fragment wins"
        );
    }

    #[test]
    fn the_token_proof_period_is_a_loopback_test_aid() {
        let loopback = "endpoint=http%3A%2F%2F127.0.0.1%3A8787";
        let cases = [
            (format!("proof=3&{loopback}"), 3_000.0, 0),
            (format!("{loopback}&proof=0"), 1_000.0, 1),
            (format!("{loopback}&proof=900"), 300_000.0, 1),
            (format!("{loopback}&proof=soon"), TOKEN_PROOF_MS, 1),
            ("proof=3".to_string(), TOKEN_PROOF_MS, 1),
            (
                "endpoint=https%3A%2F%2Fstats.example.com&proof=3".to_string(),
                TOKEN_PROOF_MS,
                1,
            ),
            (String::new(), TOKEN_PROOF_MS, 0),
        ];
        for (fragment, ms, notices) in cases {
            let (config, seen) = parsed("", &fragment);
            assert_eq!(config.token_proof_ms, ms, "{fragment}");
            assert_eq!(seen.len(), notices, "{fragment}: {seen:?}");
            assert!(seen.iter().all(|p| p == "proof"), "{fragment}: {seen:?}");
        }
    }

    #[test]
    fn decimal_numbers_read_like_rust_floats() {
        let texts = [
            "5",
            "2.5",
            "+1",
            "-1",
            ".5",
            "5.",
            "0",
            "-0",
            "1e2",
            "1E+2",
            "25e-1",
            "0.000001",
            "300",
            "1440.49",
            "007",
            "123456789012345678901234",
            "1e400",
            "0e999",
        ];
        for text in texts {
            assert_eq!(decimal_number(text), text.parse::<f64>().ok(), "{text}");
        }
        for text in [
            "", "+", "-", ".", "e5", "1e", "1e+", "1.2.3", "5 s", "0x10", "inf", "NaN", "1_000",
        ] {
            assert_eq!(decimal_number(text), None, "{text}");
        }
        let (config, notices) = parsed("", "interval=2.5&history=1e2");
        assert_eq!((config.interval_ms, config.history_minutes), (3000.0, 100));
        assert!(notices.is_empty());
    }

    #[test]
    fn endpoint_origin_leaves_out_the_path() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8787/base/");
        assert_eq!(
            endpoint.map(|e| e.origin().to_owned()).as_deref(),
            Ok("http://127.0.0.1:8787")
        );
        assert_eq!(Endpoint::default().origin(), DEFAULT_ENDPOINT);
    }

    #[test]
    fn bad_enums_fall_back_with_a_notice() {
        let (config, notices) = parsed("layout=tiny&theme=neon", "");
        assert_eq!(config.layout, Layout::Full);
        assert_eq!(config.theme, Theme::Auto);
        assert_eq!(notices, vec!["layout".to_string(), "theme".to_string()]);
    }

    #[test]
    fn origin_and_alerts_are_read() {
        let (config, notices) = parsed(
            "",
            "origin=https%3A%2F%2Fpanel.example.com%2F&alerts=sound,title",
        );
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(config.origin.as_deref(), Some("https://panel.example.com"));
        assert_eq!(
            config.alerts,
            AlertChannels {
                sound: true,
                notify: false,
                title: true
            }
        );
        let (config, notices) = parsed("", "origin=*&alerts=sound,siren");
        assert_eq!(config.origin, None);
        assert!(config.alerts.sound);
        assert_eq!(notices, vec!["origin".to_string(), "alerts".to_string()]);
    }

    #[test]
    fn obs_is_a_loopback_port_and_its_password_comes_from_the_fragment_only() {
        let secret = "s3cr%C3%A9t%20pw";
        /// Query, fragment, port, password, the notices' parameters.
        type Case<'a> = (&'a str, String, Option<u16>, Option<&'a str>, &'a [&'a str]);
        let cases: [Case; 12] = [
            ("", String::new(), None, None, &[]),
            ("", "obs=4455".into(), Some(4455), None, &[]),
            ("obs=4455", String::new(), Some(4455), None, &[]),
            (
                "",
                format!("obs=4455&obspw={secret}"),
                Some(4455),
                Some("s3crét pw"),
                &[],
            ),
            (
                "",
                format!("obspw={secret}&obs=1"),
                Some(1),
                Some("s3crét pw"),
                &[],
            ),
            ("", "obs=65535&obspw=".into(), Some(65535), None, &[]),
            ("", "obs=0".into(), None, None, &["obs"]),
            ("", "obs=65536".into(), None, None, &["obs"]),
            ("", "obs=127.0.0.1%3A4455".into(), None, None, &["obs"]),
            ("", "obs=%2B4455".into(), None, None, &["obs"]),
            ("", format!("obspw={secret}"), None, None, &["obspw"]),
            (
                &format!("obspw={secret}"),
                "obs=4455".to_string(),
                Some(4455),
                None,
                &["obspw"],
            ),
        ];
        for (query, fragment, port, password, expected) in cases {
            let (config, notices) = parse(query, &fragment);
            let case = format!("?{query}#{fragment}");
            assert_eq!(config.obs.as_ref().map(ObsSettings::port), port, "{case}");
            assert_eq!(
                config.obs,
                port.map(|p| ObsSettings::new(p, password)),
                "{case}"
            );
            let params: Vec<&str> = notices.iter().map(|n| n.param.as_str()).collect();
            assert_eq!(params, expected, "{case}");
            for notice in &notices {
                assert!(!notice.message.contains("s3cr"), "{case}: {notice}");
            }
            // The password shows in no debug output of the configuration.
            assert!(!format!("{config:?}").contains("s3cr"), "{case}");
        }
    }

    #[test]
    fn empty_token_is_no_token() {
        assert_eq!(parsed("", "token=").0.token, None);
        assert_eq!(parsed("", "token=%20").0.token, None);
    }

    #[test]
    fn endpoints_must_be_https_or_loopback_http() {
        let accepted = [
            ("https://stats.mux.com", "https://stats.mux.com"),
            ("https://stats.example.com/", "https://stats.example.com"),
            (
                "HTTPS://Stats.Example.com:8443/base//",
                "https://stats.example.com:8443/base",
            ),
            ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),
            ("http://127.8.9.10", "http://127.8.9.10"),
            ("http://localhost:3000/", "http://localhost:3000"),
        ];
        for (text, base) in accepted {
            assert_eq!(
                Endpoint::parse(text).map(|e| e.base().to_string()),
                Ok(base.to_string()),
                "{text}"
            );
        }
        let refused = [
            "http://stats.mux.com",
            "http://10.0.0.1:8787",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "ftp://127.0.0.1",
            "javascript:alert(1)",
            "//stats.mux.com",
            "https://user:pass@stats.mux.com",
            "https://stats.mux.com?x=1",
            "https://stats.mux.com#x",
            "https://",
            "https://stats.mux.com:99999",
            "https://stats mux.com",
            "https://[nothex]:80",
        ];
        for text in refused {
            assert!(Endpoint::parse(text).is_err(), "{text}");
        }
        let (config, notices) = parsed("", "endpoint=http%3A%2F%2Fevil.example");
        assert_eq!(config.endpoint, Endpoint::default());
        assert_eq!(notices, vec!["endpoint".to_string()]);
    }

    #[test]
    fn ipv6_endpoints_are_refused_with_what_to_use_instead() {
        let cases = [
            (
                "http%3A%2F%2F%5B%3A%3A1%5D%3A8787",
                "Ignored endpoint: IPv6 loopback endpoints are not supported; use \
                 http://127.0.0.1:8787. Using https://stats.mux.com.",
            ),
            (
                "http%3A%2F%2F%5B%3A%3A1%5D",
                "Ignored endpoint: IPv6 loopback endpoints are not supported; use \
                 http://127.0.0.1. Using https://stats.mux.com.",
            ),
            (
                "http%3A%2F%2F%5B0%3A0%3A0%3A0%3A0%3A0%3A0%3A1%5D",
                "Ignored endpoint: IPv6 address endpoints are not supported (browsers \
                 refuse them in the page's connection policy); use a host name. Using \
                 https://stats.mux.com.",
            ),
            (
                "https%3A%2F%2F%5B%3A%3A1%5D%3A8443%2Fbase",
                "Ignored endpoint: IPv6 loopback endpoints are not supported; use \
                 https://127.0.0.1:8443. Using https://stats.mux.com.",
            ),
            (
                "https%3A%2F%2F%5B2001%3Adb8%3A%3A1%5D",
                "Ignored endpoint: IPv6 address endpoints are not supported (browsers \
                 refuse them in the page's connection policy); use a host name. Using \
                 https://stats.mux.com.",
            ),
        ];
        for (endpoint, message) in cases {
            let (config, notices) = parse("", &format!("endpoint={endpoint}&interval=0.02"));
            assert_eq!(config.endpoint, Endpoint::default(), "{endpoint}");
            // Refused like any invalid endpoint: no loopback interval either.
            assert_eq!(config.interval_ms, 1000.0, "{endpoint}");
            let endpoint_notices: Vec<&str> = notices
                .iter()
                .filter(|n| n.param == "endpoint")
                .map(|n| n.message.as_str())
                .collect();
            assert_eq!(endpoint_notices, [message], "{endpoint}");
        }
    }

    #[test]
    fn endpoints_are_normalised_as_browsers_serialise_their_origin() {
        let accepted = [
            (
                "http://127.0.0.1:018787",
                "http://127.0.0.1:18787",
                "http://127.0.0.1:18787",
            ),
            (
                "HTTP://LocalHost:80/s/",
                "http://localhost/s",
                "http://localhost",
            ),
            (
                "https://Stats.Example.com:0443/base",
                "https://stats.example.com/base",
                "https://stats.example.com",
            ),
            (
                "https://stats.example.com:/",
                "https://stats.example.com",
                "https://stats.example.com",
            ),
            (
                "https://stats.example.com:80",
                "https://stats.example.com:80",
                "https://stats.example.com:80",
            ),
        ];
        for (text, base, origin) in accepted {
            let endpoint = Endpoint::parse(text);
            assert_eq!(endpoint.as_ref().map(Endpoint::base), Ok(base), "{text}");
            assert_eq!(
                endpoint.as_ref().map(Endpoint::origin),
                Ok(origin),
                "{text}"
            );
        }
        let refused = [
            (
                "http://127.1:8787",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            (
                "http://2130706433",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            ("https://stats.example.com:65536", "its port is not valid"),
            ("https://stats.example.com:0", "its port is not valid"),
            ("https://stats.exämple.com", "its host is not valid"),
        ];
        for (text, why) in refused {
            assert_eq!(Endpoint::parse(text), Err(why.to_string()), "{text}");
        }
    }

    #[test]
    fn origins_are_normalised_or_refused_with_a_notice() {
        let cases = [
            ("http%3A%2F%2F127.0.0.1%3A018904", Some("http://127.0.0.1:18904"), None),
            ("HTTPS%3A%2F%2FPanel.Example.com%3A443%2F", Some("https://panel.example.com"), None),
            ("http%3A%2F%2F%5B%3A%3A1%5D%3A3000", Some("http://[::1]:3000"), None),
            (
                "http%3A%2F%2F%5B0%3A0%3A0%3A0%3A0%3A0%3A0%3A1%5D%3A3000",
                None,
                Some(
                    "Ignored origin: IPv6 addresses other than [::1] are not supported. \
                     The widget will not talk to its host page.",
                ),
            ),
            (
                "http%3A%2F%2F127.1%3A8080",
                None,
                Some(
                    "Ignored origin: its IPv4 address must be four numbers from 0 to 255, \
                     like 127.0.0.1. The widget will not talk to its host page.",
                ),
            ),
            (
                "https%3A%2F%2Fpanel.example.com%3A70000",
                None,
                Some("Ignored origin: its port is not valid. The widget will not talk to its host page."),
            ),
        ];
        for (origin, expected, notice) in cases {
            let (config, notices) = parse("", &format!("origin={origin}"));
            assert_eq!(config.origin.as_deref(), expected, "{origin}");
            let messages: Vec<&str> = notices.iter().map(|n| n.message.as_str()).collect();
            assert_eq!(messages, notice.into_iter().collect::<Vec<_>>(), "{origin}");
        }
    }

    #[test]
    fn endpoint_origin_and_health_url() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8787/s/run/excellent").unwrap_or_default();
        assert_eq!(endpoint.origin(), "http://127.0.0.1:8787");
        assert_eq!(
            endpoint.health_url("a.b+c"),
            "http://127.0.0.1:8787/s/run/excellent/live-stream-health?token=a.b%2Bc"
        );
        assert_eq!(Endpoint::default().origin(), "https://stats.mux.com");
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(percent_encode("a.b+c/d é"), "a.b%2Bc%2Fd%20%C3%A9");
        assert_eq!(percent_decode(&percent_encode("a+b=c&d%e")), "a+b=c&d%e");
    }

    #[test]
    fn percent_decoding_never_fails() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
        assert_eq!(percent_decode("%E2%88%92"), "\u{2212}");
        // A sign is not a hex digit: kept, and `+` read as a space.
        assert_eq!(percent_decode("%+1%-1"), "% 1%-1");
    }
}

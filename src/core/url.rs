//! Origins and endpoint URLs, written the way browsers serialise them.
//!
//! Two URL parameters only work when their text is exactly what the
//! browser itself would write: `origin` is compared with `event.origin`
//! character for character, and the endpoint's origin goes into the page's
//! `connect-src`. So both are normalised like `new URL(text).origin`:
//! scheme and host in lower case, the scheme's default port dropped (`:443`
//! for https, `:80` for http), the port without leading zeros
//! (`:018904` is `:18904`) and at most 65535. What cannot be written that
//! way is refused with a reason, never passed on to fail silently:
//! - a user name or password (`user@host`), or a port that is not a
//!   number from 1 to 65535;
//! - an IPv6 address other than the loopback written `[::1]`: an embedding
//!   page on an IPv6 literal is a rarity, and writing every IPv6 form the
//!   way browsers do (`[0:0:0:0:0:0:0:1]` is `[::1]`) measured 0.45 KB of
//!   gzipped WebAssembly;
//! - a host with characters outside `a-z 0-9 - .` (international names go
//!   in their `xn--` form);
//! - a host that ends in a number but is not four decimal numbers from 0
//!   to 255 (`127.1`, `0x7f.0.0.1`, `2130706433`): browsers read those as
//!   IPv4 addresses in shorthand, and a widget that rewrote them would
//!   surprise more than it helps.
//!
//! `core::params` reads the `endpoint` and `origin` parameters with it.
//! It depends on nothing but `core::format`: the origin check used to live
//! in `core::protocol` and the scheme split in `core::params`, and the two
//! modules imported each other for them.

use crate::core::format::push_integer;

/// Splits `scheme://rest` at the first `://`, like `split_once("://")`.
/// Searches for a `char`, not a `&str`: the substring searcher keeps a
/// panicking string slice alive in the WebAssembly, and with it the `char`
/// `Debug` and Unicode tables of its message (about 3.7 KB gzip).
pub fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    while let Some(found) = text.get(from..)?.find(':') {
        let colon = from + found;
        if let Some(rest) = text.get(colon + 1..)?.strip_prefix("//") {
            return Some((text.get(..colon)?, rest));
        }
        from = colon + 1;
    }
    None
}

/// Validates an `origin` parameter: `scheme://host[:port]`, nothing else
/// (a trailing `/` is allowed). Returns the origin as browsers serialise
/// it, for exact comparison with `event.origin`.
pub fn parse_origin(text: &str) -> Result<String, &'static str> {
    let text = text.trim().trim_end_matches('/');
    let (scheme, rest) = split_scheme(text).ok_or("it is not an origin")?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return Err("only http and https origins can embed the widget"),
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '\\']) {
        return Err("it must be scheme://host[:port] with no path");
    }
    Authority::parse(https, rest).map(|authority| authority.origin())
}

/// The host part of a URL, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// A name, in lower case.
    Name(String),
    /// An IPv4 address.
    V4([u8; 4]),
    /// The IPv6 loopback `[::1]`, the one IPv6 address read.
    V6Loopback,
}

impl Host {
    /// `localhost`, `127.0.0.0/8` or `::1`.
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Name(name) => name == "localhost",
            Host::V4([first, ..]) => *first == 127,
            Host::V6Loopback => true,
        }
    }
}

/// The scheme, host and port of an http or https URL: what its origin is
/// made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    /// `https`, else `http`.
    pub https: bool,
    /// The host.
    pub host: Host,
    /// The port; `None` for the scheme's default.
    pub port: Option<u16>,
}

impl Authority {
    /// Reads the authority of an http(s) URL (`host[:port]`, between `//`
    /// and the path).
    pub fn parse(https: bool, authority: &str) -> Result<Authority, &'static str> {
        if authority.contains('@') {
            return Err("it must not carry a user name or password");
        }
        if authority.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err("it must not contain spaces");
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(bracketed) => {
                let (inside, after) = bracketed.split_once(']').ok_or("its host is not valid")?;
                if inside != "::1" {
                    return Err("IPv6 addresses other than [::1] are not supported");
                }
                (Host::V6Loopback, after)
            }
            None => {
                // Byte searches and checked splits: a `str` slice that can
                // panic brings the `char` formatting tables into the
                // WebAssembly (see `split_scheme`).
                let colon = authority.bytes().rposition(|b| b == b':');
                let (name, after) = authority
                    .split_at_checked(colon.unwrap_or(authority.len()))
                    .unwrap_or((authority, ""));
                (parse_host(name)?, after)
            }
        };
        let port = match port.strip_prefix(':') {
            Some(digits) => parse_port(digits)?,
            None if port.is_empty() => None,
            None => return Err("its host is not valid"),
        };
        let default = if https { 443 } else { 80 };
        Ok(Authority {
            https,
            host,
            port: port.filter(|port| *port != default),
        })
    }

    /// True for a loopback host.
    pub fn is_loopback(&self) -> bool {
        self.host.is_loopback()
    }

    /// The origin as browsers serialise it: `https://host[:port]`.
    pub fn origin(&self) -> String {
        let mut out = String::from(if self.https { "https://" } else { "http://" });
        match &self.host {
            Host::Name(name) => out.push_str(name),
            Host::V4(octets) => {
                for (n, octet) in octets.iter().enumerate() {
                    if n > 0 {
                        out.push('.');
                    }
                    push_integer(&mut out, i64::from(*octet));
                }
            }
            Host::V6Loopback => out.push_str("[::1]"),
        }
        if let Some(port) = self.port {
            out.push(':');
            push_integer(&mut out, i64::from(port));
        }
        out
    }
}

/// A port: digits only, leading zeros allowed, 1 to 65535. Empty means the
/// scheme's default, as in browsers.
fn parse_port(digits: &str) -> Result<Option<u16>, &'static str> {
    let mut port: u32 = 0;
    for byte in digits.bytes() {
        if !byte.is_ascii_digit() {
            return Err("its port is not valid");
        }
        port = (port * 10 + u32::from(byte - b'0')).min(1 << 20);
    }
    if digits.is_empty() {
        return Ok(None);
    }
    match u16::try_from(port) {
        Ok(port) if port > 0 => Ok(Some(port)),
        _ => Err("its port is not valid"),
    }
}

/// A host name or an IPv4 address (not bracketed).
fn parse_host(text: &str) -> Result<Host, &'static str> {
    let name = text.to_ascii_lowercase();
    let valid = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
    if name.is_empty() || !name.bytes().all(valid) {
        return Err("its host is not valid");
    }
    // Like browsers: a host whose last label is a number is an IPv4 address.
    let labels = name.strip_suffix('.').unwrap_or(&name).as_bytes();
    let dot = labels.iter().rposition(|b| *b == b'.');
    let last = labels.get(dot.map_or(0, |dot| dot + 1)..).unwrap_or(labels);
    let numeric =
        !last.is_empty() && last.iter().all(u8::is_ascii_digit) || last.starts_with(b"0x");
    if !numeric {
        return Ok(Host::Name(name));
    }
    parse_ipv4(&name)
        .map(Host::V4)
        .ok_or("its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1")
}

/// Four decimal numbers from 0 to 255 without leading zeros: the only
/// IPv4 form that browsers serialise as written.
fn parse_ipv4(text: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut count = 0;
    for part in text.as_bytes().split(|b| *b == b'.') {
        let canonical = (1..=3).contains(&part.len())
            && part.iter().all(u8::is_ascii_digit)
            && (part.len() == 1 || part.first() != Some(&b'0'));
        if !canonical || count == 4 {
            return None;
        }
        let value = part.iter().fold(0u32, |v, b| v * 10 + u32::from(b - b'0'));
        octets[count] = u8::try_from(value).ok()?;
        count += 1;
    }
    (count == 4).then_some(octets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_scheme_is_split_once_on_the_first_separator() {
        for text in [
            "https://a.b/c",
            "HTTP://127.0.0.1:8/x",
            "a:b://c",
            "x:y:z",
            "://",
            "no scheme",
            "",
            "é://ü",
        ] {
            assert_eq!(split_scheme(text), text.split_once("://"), "{text}");
        }
    }

    #[test]
    fn origins_are_normalised_and_validated() {
        let accepted = [
            ("https://panel.example.com", "https://panel.example.com"),
            ("https://Panel.Example.com/", "https://panel.example.com"),
            ("https://panel.example.com:443", "https://panel.example.com"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:80", "http://localhost"),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ];
        for (text, origin) in accepted {
            assert_eq!(parse_origin(text).as_deref(), Ok(origin), "{text}");
        }
        let refused = [
            "*",
            "null",
            "panel.example.com",
            "https://panel.example.com/path",
            "https://user@panel.example.com",
            "javascript://x",
            "file://x",
            "https://",
            "https://panel.example.com:0",
            "https://panel.example.com:99999",
            "https://*.example.com",
        ];
        for text in refused {
            assert!(parse_origin(text).is_err(), "{text}");
        }
    }

    /// What `new URL(text).origin` gives in Chromium, for every case a
    /// browser normalises: the widget must write the same.
    #[test]
    fn origins_read_as_browsers_serialise_them() {
        let cases = [
            ("http://127.0.0.1:018904", "http://127.0.0.1:18904"),
            (
                "HTTP://Panel.Example.COM:0443",
                "http://panel.example.com:443",
            ),
            (
                "https://panel.example.com:0443",
                "https://panel.example.com",
            ),
            (
                "https://panel.example.com:00000000080",
                "https://panel.example.com:80",
            ),
            ("https://panel.example.com:", "https://panel.example.com"),
            (
                "https://panel.example.com:65535",
                "https://panel.example.com:65535",
            ),
            (
                "https://panel.example.com.:8443",
                "https://panel.example.com.:8443",
            ),
            (
                "https://xn--bcher-kva.example",
                "https://xn--bcher-kva.example",
            ),
            ("http://0.0.0.0", "http://0.0.0.0"),
            ("http://[::1]:80", "http://[::1]"),
            ("https://[::1]:0443/", "https://[::1]"),
        ];
        for (text, origin) in cases {
            assert_eq!(parse_origin(text).as_deref(), Ok(origin), "{text}");
        }
    }

    /// Inputs a browser rejects or rewrites in ways the widget does not
    /// follow: each is refused with a reason.
    #[test]
    fn origins_that_cannot_be_written_as_given_are_refused() {
        let cases = [
            ("https://panel.example.com:65536", "its port is not valid"),
            ("https://panel.example.com:+80", "its port is not valid"),
            ("https://panel.example.com:80a", "its port is not valid"),
            ("https://panel.example.com:0", "its port is not valid"),
            ("https://BÜCHER.example", "its host is not valid"),
            ("https://pan el.example.com", "it must not contain spaces"),
            ("http://pan\tel.example.com", "it must not contain spaces"),
            (
                "https://user:pw@panel.example.com",
                "it must not carry a user name or password",
            ),
            (
                "http://127.1:8080",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            (
                "http://0x7f.0.0.1",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            (
                "http://127.000.000.001",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            (
                "http://2130706433",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            (
                "http://1.2.3",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            (
                "http://127.0.0.256",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            (
                "http://example.123",
                "its IPv4 address must be four numbers from 0 to 255, like 127.0.0.1",
            ),
            ("http://[::1", "its host is not valid"),
            ("http://[::1]x", "its host is not valid"),
            // Browsers write these `[::1]:3000`, `[::ffff:102:304]`, ...
            (
                "http://[0:0:0:0:0:0:0:1]:3000",
                "IPv6 addresses other than [::1] are not supported",
            ),
            (
                "http://[::FFFF:1.2.3.4]",
                "IPv6 addresses other than [::1] are not supported",
            ),
            (
                "http://[2001:db8::1]",
                "IPv6 addresses other than [::1] are not supported",
            ),
            (
                "http://[]",
                "IPv6 addresses other than [::1] are not supported",
            ),
        ];
        for (text, why) in cases {
            assert_eq!(parse_origin(text), Err(why), "{text}");
        }
    }

    #[test]
    fn loopback_hosts() {
        let loopback = |text: &str| {
            let (_, rest) = split_scheme(text).unwrap_or(("", ""));
            Authority::parse(false, rest).map(|a| a.is_loopback())
        };
        for text in [
            "http://localhost",
            "http://127.0.0.1",
            "http://127.8.9.10:1",
            "http://[::1]",
        ] {
            assert_eq!(loopback(text), Ok(true), "{text}");
        }
        for text in [
            "http://localhost.evil.com",
            "http://10.0.0.1",
            "http://128.0.0.1",
        ] {
            assert_eq!(loopback(text), Ok(false), "{text}");
        }
    }
}

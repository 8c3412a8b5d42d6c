//! Origins and URLs as the widget reads them from its parameters.
//!
//! Both `core::params` (the endpoint, the `origin` parameter) and
//! `core::protocol` (which talks to that origin) need them; keeping them
//! here, using neither, keeps the core's module graph free of cycles.

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

/// Validates the `origin` parameter: `scheme://host[:port]`, nothing else.
/// Returns the origin as browsers serialise it (lower case, no default
/// port, no trailing slash), for exact comparison with `event.origin`.
pub fn parse_origin(text: &str) -> Result<String, &'static str> {
    let text = text.trim().trim_end_matches('/');
    let (scheme, rest) = split_scheme(text).ok_or("it is not an origin")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err("only http and https origins can embed the widget");
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ', '\\', '*']) {
        return Err("it must be scheme://host[:port] with no path");
    }
    let rest = rest.to_ascii_lowercase();
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, _)) if !host.ends_with(']') && host.contains(':') => (rest.as_str(), None),
        Some((host, port)) => (host, Some(port)),
        None => (rest.as_str(), None),
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    if !host_ok {
        return Err("its host is not valid");
    }
    let default_port = if scheme == "https" { "443" } else { "80" };
    match port {
        None => Ok(format!("{scheme}://{host}")),
        Some(p) if p == default_port => Ok(format!("{scheme}://{host}")),
        Some(p) if p.parse::<u16>().is_ok_and(|n| n > 0) => Ok(format!("{scheme}://{host}:{p}")),
        Some(_) => Err("its port is not valid"),
    }
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
}

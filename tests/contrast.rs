//! WCAG AA contrast of the widget's colours, read from `style/main.css`.
//!
//! The status badge draws `--lsh-on-status` text on each status colour, the
//! page draws `--lsh-fg` and `--lsh-muted` on `--lsh-bg` and `--lsh-panel`.
//! Each pair must reach 4.5:1 in the light and the dark theme, so a colour
//! tweak that breaks readability fails here rather than in a streamer's dock.

use std::collections::HashMap;

const CSS: &str = include_str!("../style/main.css");

/// The custom properties set in the first rule whose selector starts with
/// `selector`.
fn theme(selector: &str) -> HashMap<String, String> {
    let start = CSS
        .find(&format!("{selector} {{"))
        .unwrap_or_else(|| panic!("no rule for {selector}"));
    let body = &CSS[start..];
    let body = &body[body.find('{').unwrap_or(0) + 1..body.find('}').unwrap_or(body.len())];
    body.split(';')
        .filter_map(|declaration| declaration.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .filter(|(name, _)| name.starts_with("--lsh-"))
        .collect()
}

fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    assert_eq!(hex.len(), 6, "colour {hex} is not #rrggbb");
    let channel = |i: usize| {
        let value = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if value <= 0.039_28 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn check(name: &str, colours: &HashMap<String, String>) {
    let get = |key: &str| {
        colours
            .get(key)
            .unwrap_or_else(|| panic!("{name} theme lacks {key}"))
            .as_str()
    };
    let mut pairs = vec![
        ("--lsh-fg", "--lsh-bg"),
        ("--lsh-fg", "--lsh-panel"),
        ("--lsh-muted", "--lsh-bg"),
        ("--lsh-muted", "--lsh-panel"),
    ];
    for status in [
        "--lsh-excellent",
        "--lsh-good",
        "--lsh-poor",
        "--lsh-unknown",
    ] {
        pairs.push(("--lsh-on-status", status));
        pairs.push((status, "--lsh-bg"));
    }
    for (text, background) in pairs {
        let ratio = contrast(get(text), get(background));
        assert!(
            ratio >= 4.5,
            "{name}: {text} on {background} is {ratio:.2}:1, below WCAG AA 4.5:1"
        );
    }
}

#[test]
fn light_theme_meets_wcag_aa() {
    check("light", &theme(".lsh"));
}

#[test]
fn dark_theme_meets_wcag_aa() {
    check("dark", &theme(".lsh[data-theme=\"dark\"]"));
}

#[test]
fn auto_dark_theme_matches_the_dark_theme() {
    let auto = theme("  .lsh[data-theme=\"auto\"]");
    assert_eq!(auto, theme(".lsh[data-theme=\"dark\"]"));
}

#[test]
fn contrast_arithmetic_matches_known_values() {
    assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    assert!((contrast("#777777", "#ffffff") - 4.48).abs() < 0.01);
}

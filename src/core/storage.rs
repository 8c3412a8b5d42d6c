//! Keeping the history across a reload, in `sessionStorage`.
//!
//! The key is namespaced by this app and the stream (`sub`), because OBS
//! shares storage between all its browser docks and one dock may watch
//! another stream. The value is a small line format of integers (no floats,
//! no JSON: quick to write on `pagehide`, and cheap in the WebAssembly
//! bundle): a header line, then one line per entry, newest last. Only the
//! newest [`MAX_STORED_ENTRIES`] entries are kept, so several docks fit in
//! the storage quota. Anything unreadable restores nothing, never an error.

use crate::core::format::push_integer;
use crate::core::history::{Entry, History, Sample};
use crate::core::status::Status;

/// Prefix of every key this app writes.
pub const KEY_PREFIX: &str = "live-stream-health:v1:history:";
/// First line of a stored history.
const HEADER: &str = "lsh-history 1";
/// Most entries stored (about 40 bytes each).
pub const MAX_STORED_ENTRIES: usize = 20_000;
/// Longest stream id used in a key.
const MAX_ID_CHARS: usize = 128;

/// The storage key for a stream's history.
pub fn history_key(stream_id: &str) -> String {
    let id: String = stream_id.chars().take(MAX_ID_CHARS).collect();
    format!("{KEY_PREFIX}{id}")
}

fn status_code(status: Status) -> char {
    match status {
        Status::Excellent => 'e',
        Status::Good => 'g',
        Status::Poor => 'p',
        Status::Unknown => 'u',
    }
}

fn status_from(code: &str) -> Option<Status> {
    match code {
        "e" => Some(Status::Excellent),
        "g" => Some(Status::Good),
        "p" => Some(Status::Poor),
        "u" => Some(Status::Unknown),
        _ => None,
    }
}

fn push_optional(out: &mut String, value: Option<i64>) {
    match value {
        Some(value) => push_integer(out, value),
        None => out.push('-'),
    }
}

fn whole(value: Option<f64>) -> Option<i64> {
    value.map(|v| v.round() as i64)
}

/// Encodes the newest entries of a history. Written with [`push_integer`]
/// (no `format!` per line): at 20,000 entries it runs every 30 s, on the
/// main thread.
pub fn encode(history: &History) -> String {
    let entries = history.entries();
    let skip = entries.len().saturating_sub(MAX_STORED_ENTRIES);
    let mut out = String::with_capacity(32 + (entries.len() - skip) * 40);
    out.push_str(HEADER);
    out.push('\n');
    for entry in entries.iter().skip(skip) {
        match entry {
            Entry::Sample(s) => {
                out.push_str("s,");
                push_integer(&mut out, s.received_ms.round() as i64);
                out.push(',');
                push_optional(&mut out, s.updated_at_ms);
                out.push(',');
                push_optional(&mut out, whole(s.session_avg_ms));
                out.push(',');
                push_optional(&mut out, whole(s.deviation_ms));
                out.push(',');
                out.push(status_code(s.status));
                out.push('\n');
            }
            Entry::Gap { at_ms } => {
                out.push_str("g,");
                push_integer(&mut out, at_ms.round() as i64);
                out.push('\n');
            }
        }
    }
    out
}

fn optional(field: &str) -> Result<Option<i64>, ()> {
    if field == "-" {
        Ok(None)
    } else {
        field.parse::<i64>().map(Some).map_err(|_| ())
    }
}

/// Restores stored entries into `history` (which keeps its own window and
/// prunes at `now_ms`). Returns how many samples were restored; unreadable
/// text restores nothing.
pub fn restore(text: &str, history: &mut History, now_ms: f64) -> usize {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return 0;
    }
    let mut entries = Vec::new();
    for line in lines.take(MAX_STORED_ENTRIES) {
        let fields: Vec<&str> = line.split(',').collect();
        let entry = match fields.as_slice() {
            ["s", received, updated, session, deviation, status] => {
                let (Ok(received), Ok(updated), Ok(session), Ok(deviation), Some(status)) = (
                    received.parse::<i64>(),
                    optional(updated),
                    optional(session),
                    optional(deviation),
                    status_from(status),
                ) else {
                    return 0;
                };
                Entry::Sample(Sample {
                    received_ms: received as f64,
                    updated_at_ms: updated,
                    session_avg_ms: session.map(|v| v as f64),
                    deviation_ms: deviation.map(|v| v as f64),
                    status,
                })
            }
            ["g", at] => match at.parse::<i64>() {
                Ok(at) => Entry::Gap { at_ms: at as f64 },
                Err(_) => return 0,
            },
            _ => return 0,
        };
        entries.push(entry);
    }
    // Entries must be in time order and not from the future.
    let ordered = entries.windows(2).all(|w| w[0].at_ms() <= w[1].at_ms());
    if !ordered
        || entries
            .last()
            .is_some_and(|e| e.at_ms() > now_ms + 60_000.0)
    {
        return 0;
    }
    history.clear();
    let mut restored = 0;
    for entry in entries {
        match entry {
            Entry::Sample(sample) => {
                history.push(sample);
                restored += 1;
            }
            Entry::Gap { at_ms } => history.mark_gap(at_ms),
        }
    }
    history.prune(now_ms);
    // Whatever happened while the page was away is an outage on the chart.
    history.mark_gap(now_ms);
    restored.min(history.sample_count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_s: i64, status: Status) -> Sample {
        Sample {
            received_ms: (at_s * 1000) as f64,
            updated_at_ms: Some(at_s * 1000 - 300),
            session_avg_ms: Some(384.0),
            deviation_ms: if status == Status::Unknown {
                None
            } else {
                Some(-12.0)
            },
            status,
        }
    }

    #[test]
    fn keys_are_namespaced_by_stream() {
        assert_eq!(history_key("abc"), "live-stream-health:v1:history:abc");
        assert_eq!(history_key(&"x".repeat(500)).len(), KEY_PREFIX.len() + 128);
    }

    #[test]
    fn a_history_round_trips() {
        let mut history = History::new(60);
        history.push(sample(1, Status::Excellent));
        history.push(sample(6, Status::Unknown));
        history.mark_gap(11_000.0);
        history.push(sample(16, Status::Poor));
        let text = encode(&history);
        let mut restored = History::new(60);
        assert_eq!(restore(&text, &mut restored, 20_000.0), 3);
        let original: Vec<Entry> = history.entries().iter().copied().collect();
        let back: Vec<Entry> = restored.entries().iter().copied().take(4).collect();
        assert_eq!(back, original);
        assert!(
            matches!(restored.entries().back(), Some(Entry::Gap { at_ms }) if *at_ms == 20_000.0)
        );
    }

    #[test]
    fn restoring_respects_the_window() {
        let mut history = History::new(60);
        for minute in 0..120 {
            history.push(sample(minute * 60, Status::Good));
        }
        let mut small = History::new(10);
        restore(&encode(&history), &mut small, 119.0 * 60_000.0);
        assert_eq!(small.sample_count(), 11);
    }

    #[test]
    fn only_the_newest_entries_are_stored() {
        let mut history = History::new(1440);
        for second in 0..(MAX_STORED_ENTRIES as i64 + 50) {
            history.push(sample(second, Status::Excellent));
        }
        let text = encode(&history);
        assert_eq!(text.lines().count(), MAX_STORED_ENTRIES + 1);
        assert!(text.len() < MAX_STORED_ENTRIES * 45);
    }

    #[test]
    fn unreadable_text_restores_nothing() {
        let cases = [
            "",
            "garbage",
            "lsh-history 2\ns,1,2,3,4,e",
            "lsh-history 1\ns,1,2,3,4,x",
            "lsh-history 1\ns,1,2,3,e",
            "lsh-history 1\ns,abc,2,3,4,e",
            "lsh-history 1\ns,2000,-,-,-,e\ns,1000,-,-,-,e",
            "lsh-history 1\ns,999999999999999,-,-,-,e",
            "lsh-history 1\ng,1.5",
        ];
        for text in cases {
            let mut history = History::new(60);
            history.push(sample(1, Status::Good));
            assert_eq!(restore(text, &mut history, 10_000.0), 0, "{text:?}");
            assert_eq!(
                history.sample_count(),
                1,
                "{text:?} must leave the history alone"
            );
        }
    }
}

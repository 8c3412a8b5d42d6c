//! The wall: many streams on one screen, as plain data.
//!
//! A wall link is the monitor link with `wall` in its fragment and one
//! `token=` per stream, each optionally followed by its `label=`:
//! `#wall&token=A&label=Camera%201&token=B&sort=name`. The other parameters
//! (`endpoint`, `interval`, `history`, `theme`, `alerts`, `viewers`) are the
//! monitor's and apply to every stream; [`crate::core::params::parse`]
//! reads them as usual (its single `token` is ignored on a wall).
//!
//! This module owns what a wall decides without a browser:
//! - reading the streams from the fragment ([`parse`]), with a notice for
//!   more than [`MAX_STREAMS`], an empty token, or the same token twice
//!   (a duplicate would poll the same stream twice for nothing);
//! - the tile's name ([`tile_label`]): the label, else the token's `sub`;
//! - the severity order ([`rank`], [`order`]): poor first, then streams we
//!   cannot see (stale, rejected, expired), good, unknown, excellent last,
//!   with `sort=name` keeping the given order. A re-sort never moves the
//!   tile under the pointer or the keyboard focus: it keeps its place and
//!   the others flow around it, so a click never lands on another stream;
//! - the summary line's counts ([`Summary`]);
//! - when each stream should start polling ([`start_offset_ms`]): stream
//!   `i` of `n` starts `i * interval / n` after the first, so sixteen
//!   streams do not fire sixteen requests at once every interval. The
//!   shell gives it to each stream's poller as a start delay; the poll
//!   grid, which runs from when a request was due, keeps that phase;
//! - arrow-key moves between tiles laid out in a grid ([`next_index`]);
//! - the host's `lsh:streams` message ([`parse_streams_message`]): the
//!   whole set of streams, `{"type":"lsh:streams","v":1,"streams":[{"token":
//!   "..","label":"Camera 2"}]}`, read with the rules of
//!   [`crate::core::protocol`] (`v` absent, null or 1, at most
//!   [`MAX_MESSAGE_BYTES`]) and
//!   refused as a whole, with a message that never quotes a token, when
//!   any entry is unusable: a host replacing the set must not get half of it.
//!   It is read with [`crate::core::lenient`] like every other document the
//!   widget reads: a `serde_json::Value` tree would instantiate serde_json's
//!   parser a second time and link its map type (2.5 KB gzip, measured).

use std::collections::HashSet;

use serde::Deserialize;

use crate::core::lenient::{self, Lenient};
use crate::core::params::{percent_decode, Notice};
use crate::core::poll::ConnState;
use crate::core::protocol::{MAX_MESSAGE_BYTES, PROTOCOL_VERSION};
use crate::core::status::Status;
use crate::core::token::read_claims;

/// The most streams one wall shows.
pub const MAX_STREAMS: usize = 16;

/// One stream on the wall: its token and the name the producer gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WallStream {
    /// The monitor token (a credential: never formatted into messages).
    pub token: String,
    /// The producer's name for it (`Camera 2`), if any.
    pub label: Option<String>,
}

/// How tiles are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Worst first (the default): the stream in trouble is top left.
    #[default]
    Severity,
    /// The order the streams were given (`sort=name`).
    Given,
}

/// What a wall link asks for.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WallLink {
    /// The streams, in the given order, at most [`MAX_STREAMS`].
    pub streams: Vec<WallStream>,
    /// The tile order.
    pub sort: SortOrder,
}

/// Whether a fragment (without its `#`) asks for the wall: a bare `wall`
/// key among its pairs.
pub fn is_wall(fragment: &str) -> bool {
    fragment
        .split('&')
        .any(|pair| percent_decode(pair.split_once('=').map_or(pair, |(key, _)| key)) == "wall")
}

fn notice(param: &str, message: String) -> Notice {
    Notice {
        param: param.into(),
        message,
    }
}

/// Reads the streams and the order from a wall fragment (without its
/// `#`). A `label` names the token before it; a label before any token is
/// ignored with a notice. Each problem is one notice; the streams that can
/// be used are used.
pub fn parse(fragment: &str) -> (WallLink, Vec<Notice>) {
    let mut link = WallLink::default();
    let mut notices = Vec::new();
    let mut seen = HashSet::new();
    let mut extra = 0usize;
    let mut empty = 0usize;
    let mut duplicate = 0usize;
    // Whether any token came yet, and whether the last one was kept: a
    // label names the token just before it, kept or not.
    let mut any_token = false;
    let mut last_kept = false;
    for pair in fragment.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match percent_decode(key).as_str() {
            "token" => {
                let token = percent_decode(value).trim().to_string();
                any_token = true;
                last_kept = false;
                if token.is_empty() {
                    empty += 1;
                } else if !seen.insert(token.clone()) {
                    duplicate += 1;
                } else if link.streams.len() == MAX_STREAMS {
                    extra += 1;
                } else {
                    link.streams.push(WallStream { token, label: None });
                    last_kept = true;
                }
            }
            "label" => {
                let label = percent_decode(value).trim().to_string();
                match link.streams.last_mut() {
                    Some(stream) if last_kept => {
                        stream.label = (!label.is_empty()).then_some(label);
                    }
                    _ if any_token => {}
                    _ => notices.push(notice(
                        "label",
                        "Ignored a label given before any token: put each label after its token."
                            .into(),
                    )),
                }
            }
            "sort" => match percent_decode(value).as_str() {
                "name" => link.sort = SortOrder::Given,
                "severity" => link.sort = SortOrder::Severity,
                _ => notices.push(notice(
                    "sort",
                    "Ignored sort: use severity or name. Sorting by severity.".into(),
                )),
            },
            _ => {}
        }
    }
    if empty > 0 {
        notices.push(notice(
            "token",
            format!("Ignored {} empty token{}.", empty, plural(empty)),
        ));
    }
    if duplicate > 0 {
        notices.push(notice(
            "token",
            format!(
                "Ignored {} repeated token{}: each stream is shown once.",
                duplicate,
                plural(duplicate)
            ),
        ));
    }
    if extra > 0 {
        notices.push(notice(
            "token",
            format!(
                "A wall shows at most {MAX_STREAMS} streams: ignored the last {} token{}.",
                extra,
                plural(extra)
            ),
        ));
    }
    (link, notices)
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// The tile's name: the producer's label, else the stream id from the
/// token's `sub`, else "Stream N" (1-based position) for a token that
/// cannot be read.
pub fn tile_label(stream: &WallStream, position: usize) -> String {
    if let Some(label) = &stream.label {
        return label.clone();
    }
    read_claims(&stream.token)
        .ok()
        .and_then(|claims| claims.stream_id)
        .unwrap_or_else(|| format!("Stream {}", position + 1))
}

/// What the order and the summary need to know about one tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileStatus {
    /// `data-status`.
    pub status: Status,
    /// `data-state`.
    pub state: ConnState,
    /// `data-stale`.
    pub stale: bool,
}

impl TileStatus {
    /// Whether the wall cannot see this stream: its figures are stale, or
    /// its token was rejected or has expired.
    pub fn unseen(&self) -> bool {
        self.stale
            || matches!(
                self.state,
                ConnState::TokenRejected | ConnState::TokenExpired
            )
    }
}

/// Where a tile goes in the severity order, lower first: poor, then
/// streams the wall cannot see, good, unknown (including streams still
/// connecting), excellent.
pub fn rank(tile: &TileStatus) -> u8 {
    if tile.status == Status::Poor {
        0
    } else if tile.unseen() {
        1
    } else {
        match tile.status {
            Status::Poor => 0,
            Status::Good => 2,
            Status::Unknown => 3,
            Status::Excellent => 4,
        }
    }
}

/// The tiles' order, as positions into `tiles` (which is in the given
/// order). `current` is the order shown now (positions, as returned
/// before); `pinned`, the position of a tile under the pointer or holding
/// the keyboard focus, which keeps its place in `current` while the
/// others are sorted around it. Ties keep the given order, so a wall of
/// healthy streams reads as it was written.
pub fn order(
    tiles: &[TileStatus],
    sort: SortOrder,
    current: &[usize],
    pinned: Option<usize>,
) -> Vec<usize> {
    let mut sorted: Vec<usize> = (0..tiles.len()).collect();
    if sort == SortOrder::Severity {
        sorted.sort_by_key(|&i| (rank(&tiles[i]), i));
    }
    let Some(pinned) = pinned.filter(|&p| p < tiles.len()) else {
        return sorted;
    };
    let Some(place) = current.iter().position(|&i| i == pinned) else {
        return sorted;
    };
    sorted.retain(|&i| i != pinned);
    sorted.insert(place.min(sorted.len()), pinned);
    sorted
}

/// How many streams are in each status, for the summary line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Summary {
    /// Streams whose status is excellent.
    pub excellent: usize,
    /// Good.
    pub good: usize,
    /// Poor.
    pub poor: usize,
    /// Unknown.
    pub unknown: usize,
    /// Streams the wall cannot see (stale, rejected, expired) and whose
    /// last status was not poor.
    pub unseen: usize,
}

impl Summary {
    /// The counts over `tiles`. Each stream is counted once, in the group
    /// [`rank`] sorts it into, so the counts add up to the number of
    /// streams: a stale stream whose last status was excellent is "not
    /// seen", not also "excellent".
    pub fn of(tiles: &[TileStatus]) -> Summary {
        let mut summary = Summary::default();
        for tile in tiles {
            match rank(tile) {
                0 => summary.poor += 1,
                1 => summary.unseen += 1,
                2 => summary.good += 1,
                3 => summary.unknown += 1,
                _ => summary.excellent += 1,
            }
        }
        summary
    }

    /// The line shown above the tiles: "2 poor · 1 good · 5 excellent",
    /// worst first, statuses with no stream left out.
    pub fn line(&self) -> String {
        let parts = [
            (self.poor, "poor"),
            (self.unseen, "not seen"),
            (self.good, "good"),
            (self.unknown, "unknown"),
            (self.excellent, "excellent"),
        ];
        let line: Vec<String> = parts
            .iter()
            .filter(|(count, _)| *count > 0)
            .map(|(count, word)| format!("{count} {word}"))
            .collect();
        if line.is_empty() {
            "No streams".into()
        } else {
            line.join(" · ")
        }
    }
}

/// When stream `index` of `count` makes its first request, after the
/// first stream's: spread evenly over one interval.
pub fn start_offset_ms(index: usize, count: usize, interval_ms: f64) -> f64 {
    if count == 0 || index == 0 {
        return 0.0;
    }
    (index.min(count) as f64) * interval_ms / count as f64
}

/// An arrow key (or Home/End) pressed on a tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// ←
    Left,
    /// →
    Right,
    /// ↑
    Up,
    /// ↓
    Down,
    /// Home: the first tile.
    First,
    /// End: the last tile.
    Last,
}

impl Move {
    /// The move for a `KeyboardEvent.key`, if it is one.
    pub fn from_key(key: &str) -> Option<Move> {
        Some(match key {
            "ArrowLeft" => Move::Left,
            "ArrowRight" => Move::Right,
            "ArrowUp" => Move::Up,
            "ArrowDown" => Move::Down,
            "Home" => Move::First,
            "End" => Move::Last,
            _ => return None,
        })
    }
}

/// The place (in the shown order) the focus moves to from `current` in a
/// grid of `columns` columns holding `count` tiles. Moves stop at the
/// edges rather than wrap: a producer counting tiles by key presses must
/// not land back at the start.
pub fn next_index(current: usize, step: Move, columns: usize, count: usize) -> usize {
    if count == 0 {
        return 0;
    }
    let columns = columns.max(1);
    let last = count - 1;
    let current = current.min(last);
    match step {
        Move::Left => current.saturating_sub(1),
        Move::Right => (current + 1).min(last),
        Move::Up => current.checked_sub(columns).unwrap_or(current),
        Move::Down => {
            let below = current + columns;
            if below <= last {
                below
            } else {
                current
            }
        }
        Move::First => 0,
        Move::Last => last,
    }
}

/// The fields of an `lsh:streams` message, read leniently (see
/// [`crate::core::lenient`]): one entry per stream.
#[derive(Deserialize)]
struct StreamsFields {
    #[serde(rename = "type")]
    kind: Lenient<String>,
    v: Lenient<f64>,
    streams: Lenient<Vec<Lenient<EntryFields>>>,
}

/// One stream of an `lsh:streams` message.
#[derive(Deserialize)]
struct EntryFields {
    token: Lenient<String>,
    label: Lenient<String>,
}

/// Reads a host's `lsh:streams` message (already checked for origin):
/// the streams the wall should show now, in order. `Err` says why the
/// message was not used.
pub fn parse_streams_message(text: &str) -> Result<Vec<WallStream>, String> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "lsh:streams: the message is over {MAX_MESSAGE_BYTES} bytes"
        ));
    }
    let message: Option<StreamsFields> =
        lenient::from_str(text).map_err(|_| "lsh:streams: not JSON".to_owned())?;
    let message = message.ok_or("lsh:streams: not a JSON object")?;
    if message.kind.value().as_deref() != Some("lsh:streams") {
        return Err("not an lsh:streams message".into());
    }
    match message.v {
        Lenient::Absent => {}
        Lenient::Value(v) if v == f64::from(PROTOCOL_VERSION) => {}
        Lenient::Value(_) | Lenient::Unreadable => {
            return Err("lsh:streams: unknown protocol version".into())
        }
    }
    let entries = message
        .streams
        .value()
        .ok_or("lsh:streams: `streams` must be an array")?;
    if entries.len() > MAX_STREAMS {
        return Err(format!(
            "lsh:streams: at most {MAX_STREAMS} streams, got {}",
            entries.len()
        ));
    }
    let mut streams: Vec<WallStream> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let n = index + 1;
        // An entry that is not an object has no token either.
        let entry = entry.value().unwrap_or(EntryFields {
            token: Lenient::Absent,
            label: Lenient::Absent,
        });
        let token = entry
            .token
            .value()
            .map(|token| token.trim().to_owned())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| format!("lsh:streams: stream {n} has no token"))?;
        if streams.iter().any(|stream| stream.token == token) {
            return Err(format!(
                "lsh:streams: stream {n} repeats the token of an earlier one"
            ));
        }
        let label = match entry.label {
            Lenient::Absent => None,
            Lenient::Value(label) => Some(label.trim().to_owned()).filter(|l| !l.is_empty()),
            Lenient::Unreadable => {
                return Err(format!("lsh:streams: stream {n}'s label is not text"))
            }
        };
        streams.push(WallStream { token, label });
    }
    Ok(streams)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_for(sub: &str) -> String {
        crate::core::token::tests::token_with(&format!(
            r#"{{"sub":"{sub}","aud":"live_stream_id","exp":4102444800}}"#
        ))
    }

    fn tile(status: Status, state: ConnState, stale: bool) -> TileStatus {
        TileStatus {
            status,
            state,
            stale,
        }
    }

    fn live(status: Status) -> TileStatus {
        tile(status, ConnState::Live, false)
    }

    #[test]
    fn wall_is_a_bare_key_anywhere_in_the_fragment() {
        assert!(is_wall("wall"));
        assert!(is_wall("token=a&wall&token=b"));
        assert!(is_wall("wall=&token=a"));
        assert!(!is_wall("token=a&label=wall"));
        assert!(!is_wall("walls&token=a"));
        assert!(!is_wall(""));
    }

    #[test]
    fn tokens_and_their_labels_are_read_in_order() {
        let (link, notices) =
            parse("wall&token=A&label=Camera%202&token=B&token=C&label=Stage+left");
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(
            link.streams,
            vec![
                WallStream {
                    token: "A".into(),
                    label: Some("Camera 2".into())
                },
                WallStream {
                    token: "B".into(),
                    label: None
                },
                WallStream {
                    token: "C".into(),
                    label: Some("Stage left".into())
                },
            ]
        );
        assert_eq!(link.sort, SortOrder::Severity);
    }

    #[test]
    fn sort_name_keeps_the_given_order_and_a_bad_sort_is_a_notice() {
        assert_eq!(parse("wall&token=A&sort=name").0.sort, SortOrder::Given);
        let (link, notices) = parse("wall&token=A&sort=loudest");
        assert_eq!(link.sort, SortOrder::Severity);
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].param, "sort");
    }

    #[test]
    fn more_than_sixteen_streams_keep_the_first_sixteen_with_a_notice() {
        let fragment: String = (0..20).map(|i| format!("&token=T{i}")).collect();
        let (link, notices) = parse(&format!("wall{fragment}"));
        assert_eq!(link.streams.len(), MAX_STREAMS);
        assert_eq!(link.streams[15].token, "T15");
        assert_eq!(notices.len(), 1);
        assert!(notices[0].message.contains("at most 16"), "{}", notices[0]);
        assert!(
            notices[0].message.contains("last 4 tokens"),
            "{}",
            notices[0]
        );
    }

    #[test]
    fn empty_and_repeated_tokens_are_dropped_with_notices_and_never_named() {
        let (link, notices) =
            parse("wall&token=&label=Nobody&token=SECRET&token=%20SECRET%20&label=Twice&token=B");
        let tokens: Vec<&str> = link.streams.iter().map(|s| s.token.as_str()).collect();
        assert_eq!(tokens, ["SECRET", "B"]);
        // A label after a dropped token does not rename the stream before.
        assert_eq!(link.streams[0].label, None);
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(notices.iter().all(|n| n.param == "token"));
        assert!(notices.iter().all(|n| !n.message.contains("SECRET")));
    }

    #[test]
    fn a_label_before_any_token_is_a_notice() {
        let (link, notices) = parse("wall&label=Lost&token=A");
        assert_eq!(link.streams[0].label, None);
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].param, "label");
    }

    #[test]
    fn the_tile_is_named_by_label_then_sub_then_position() {
        let token = token_for("cam-7");
        let named = WallStream {
            token: token.clone(),
            label: Some("Main".into()),
        };
        assert_eq!(tile_label(&named, 0), "Main");
        let unnamed = WallStream { token, label: None };
        assert_eq!(tile_label(&unnamed, 0), "cam-7");
        let unreadable = WallStream {
            token: "not-a-jwt".into(),
            label: None,
        };
        assert_eq!(tile_label(&unreadable, 2), "Stream 3");
    }

    #[test]
    fn severity_puts_poor_first_then_unseen_good_unknown_excellent() {
        let cases = [
            (live(Status::Poor), 0),
            (tile(Status::Poor, ConnState::Retrying, true), 0),
            (tile(Status::Excellent, ConnState::Retrying, true), 1),
            (tile(Status::Unknown, ConnState::TokenRejected, false), 1),
            (tile(Status::Unknown, ConnState::TokenExpired, false), 1),
            (live(Status::Good), 2),
            (live(Status::Unknown), 3),
            (tile(Status::Unknown, ConnState::Connecting, false), 3),
            (live(Status::Excellent), 4),
        ];
        for (tile, expected) in cases {
            assert_eq!(rank(&tile), expected, "{tile:?}");
        }
    }

    #[test]
    fn severity_order_is_stable_and_sort_name_keeps_the_given_order() {
        let tiles = [
            live(Status::Excellent),
            live(Status::Poor),
            live(Status::Good),
            tile(Status::Unknown, ConnState::TokenRejected, false),
            live(Status::Excellent),
            live(Status::Unknown),
        ];
        assert_eq!(
            order(&tiles, SortOrder::Severity, &[], None),
            [1, 3, 2, 5, 0, 4]
        );
        assert_eq!(
            order(&tiles, SortOrder::Given, &[], None),
            [0, 1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn a_pinned_tile_keeps_its_place_while_the_others_sort_around_it() {
        // Shown: 0 1 2 3, all excellent; the pointer is on tile 2 (third
        // place) when tile 3 turns poor.
        let tiles = [
            live(Status::Excellent),
            live(Status::Excellent),
            live(Status::Excellent),
            live(Status::Poor),
        ];
        let shown = [0, 1, 2, 3];
        assert_eq!(
            order(&tiles, SortOrder::Severity, &shown, Some(2)),
            [3, 0, 2, 1]
        );
        // Unpinned, it moves.
        assert_eq!(
            order(&tiles, SortOrder::Severity, &shown, None),
            [3, 0, 1, 2]
        );
        // A pin that is not shown (or out of range) changes nothing.
        assert_eq!(
            order(&tiles, SortOrder::Severity, &[], Some(2)),
            [3, 0, 1, 2]
        );
        assert_eq!(
            order(&tiles, SortOrder::Severity, &shown, Some(9)),
            [3, 0, 1, 2]
        );
    }

    #[test]
    fn the_summary_counts_each_status_and_the_unseen() {
        let tiles = [
            live(Status::Excellent),
            live(Status::Excellent),
            live(Status::Poor),
            tile(Status::Good, ConnState::Retrying, true),
            tile(Status::Unknown, ConnState::TokenRejected, false),
        ];
        let summary = Summary::of(&tiles);
        // Each stream once: the retrying good one and the rejected one are
        // not seen, and the counts add up to the five streams.
        assert_eq!(
            summary,
            Summary {
                excellent: 2,
                good: 0,
                poor: 1,
                unknown: 0,
                unseen: 2
            }
        );
        assert_eq!(summary.line(), "1 poor · 2 not seen · 2 excellent");
        // A stale poor stream is still counted poor, as it sorts.
        let stale_poor = [tile(Status::Poor, ConnState::Retrying, true)];
        assert_eq!(Summary::of(&stale_poor).poor, 1);
        assert_eq!(Summary::of(&stale_poor).unseen, 0);
        assert_eq!(Summary::default().line(), "No streams");
    }

    #[test]
    fn streams_start_spread_over_one_interval() {
        let offsets: Vec<f64> = (0..4).map(|i| start_offset_ms(i, 4, 5000.0)).collect();
        assert_eq!(offsets, [0.0, 1250.0, 2500.0, 3750.0]);
        assert_eq!(start_offset_ms(0, 0, 5000.0), 0.0);
        assert_eq!(start_offset_ms(15, 16, 5000.0), 4687.5);
    }

    #[test]
    fn arrows_move_in_the_grid_and_stop_at_its_edges() {
        // 7 tiles in 3 columns:
        // 0 1 2
        // 3 4 5
        // 6
        let cases = [
            (4, Move::Left, 3),
            (3, Move::Left, 2),
            (0, Move::Left, 0),
            (4, Move::Right, 5),
            (6, Move::Right, 6),
            (4, Move::Up, 1),
            (1, Move::Up, 1),
            (1, Move::Down, 4),
            (4, Move::Down, 4),
            (3, Move::Down, 6),
            (5, Move::First, 0),
            (1, Move::Last, 6),
        ];
        for (from, step, to) in cases {
            assert_eq!(next_index(from, step, 3, 7), to, "{from} {step:?}");
        }
        assert_eq!(
            next_index(0, Move::Down, 0, 2),
            1,
            "no columns reads as one"
        );
        assert_eq!(next_index(3, Move::Right, 4, 0), 0, "an empty wall");
        assert_eq!(Move::from_key("ArrowUp"), Some(Move::Up));
        assert_eq!(Move::from_key("Enter"), None);
    }

    #[test]
    fn lsh_streams_replaces_the_set_in_order() {
        let streams = parse_streams_message(
            r#"{"type":"lsh:streams","v":1,"streams":[{"token":"A","label":"Cam 1"},{"token":" B ","label":""},{"token":"C","label":null}]}"#,
        );
        assert_eq!(
            streams,
            Ok(vec![
                WallStream {
                    token: "A".into(),
                    label: Some("Cam 1".into())
                },
                WallStream {
                    token: "B".into(),
                    label: None
                },
                WallStream {
                    token: "C".into(),
                    label: None
                },
            ])
        );
        // Without `v` (hosts written before the field) and with no streams.
        assert_eq!(
            parse_streams_message(r#"{"type":"lsh:streams","streams":[]}"#),
            Ok(vec![])
        );
    }

    #[test]
    fn lsh_streams_reads_the_version_like_the_other_host_messages() {
        // As for `lsh:token` and `lsh:config`: `v` absent, null or 1 is read.
        for v in ["", r#""v":1,"#, r#""v":1.0,"#, r#""v":null,"#] {
            let text = format!(r#"{{"type":"lsh:streams",{v}"streams":[{{"token":"A"}}]}}"#);
            assert_eq!(
                parse_streams_message(&text).map(|streams| streams.len()),
                Ok(1),
                "{text}"
            );
        }
        for v in ["2", "0", "1.5", r#""1""#, "[1]", "true", "{}"] {
            let text = format!(r#"{{"type":"lsh:streams","v":{v},"streams":[]}}"#);
            let error = parse_streams_message(&text).expect_err(&text);
            assert!(error.contains("version"), "{text}: {error}");
        }
    }

    #[test]
    fn an_unusable_lsh_streams_is_refused_whole_without_quoting_a_token() {
        let seventeen: Vec<String> = (0..17).map(|i| format!(r#"{{"token":"T{i}"}}"#)).collect();
        let too_many = format!(
            r#"{{"type":"lsh:streams","streams":[{}]}}"#,
            seventeen.join(",")
        );
        let cases = [
            ("not json", "not JSON"),
            ("[1]", "not a JSON object"),
            (
                r#"{"type":"lsh:token","token":"SECRET"}"#,
                "not an lsh:streams",
            ),
            (r#"{"type":"lsh:streams","v":2,"streams":[]}"#, "version"),
            (r#"{"type":"lsh:streams","streams":{}}"#, "must be an array"),
            (
                r#"{"type":"lsh:streams","streams":[{"label":"x"}]}"#,
                "stream 1 has no token",
            ),
            (
                r#"{"type":"lsh:streams","streams":[{"token":"  "}]}"#,
                "stream 1 has no token",
            ),
            (
                r#"{"type":"lsh:streams","streams":[{"token":"SECRET"},{"token":"SECRET"}]}"#,
                "stream 2 repeats",
            ),
            (
                r#"{"type":"lsh:streams","streams":[{"token":"SECRET","label":7}]}"#,
                "label is not text",
            ),
            (too_many.as_str(), "at most 16 streams, got 17"),
        ];
        for (text, why) in cases {
            let error = parse_streams_message(text).expect_err(text);
            assert!(error.contains(why), "{text}: {error}");
            assert!(!error.contains("SECRET"), "{error}");
        }
        let huge = format!(
            r#"{{"type":"lsh:streams","streams":[{{"token":"{}"}}]}}"#,
            "x".repeat(MAX_MESSAGE_BYTES)
        );
        assert!(parse_streams_message(&huge).is_err());
    }
}

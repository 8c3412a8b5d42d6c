//! Series reduction: one series of samples turned into SVG path data with
//! O(width) points, whatever the number of samples.
//!
//! - **Reduce to the pixels we have.** Points are bucketed per pixel column;
//!   a column keeps the first, lowest, highest and last point of each
//!   continuous piece, in time order, so a one-sample spike survives any
//!   zoom. If several pieces start and end inside one column (outages shorter
//!   than a pixel), the ones in the middle collapse into a vertical min–max
//!   mark at that column.
//! - **A lone point is a dot.** A piece of exactly one sample cannot be a
//!   line; it is reported in [`SeriesGeometry::dots`] for the shell to draw
//!   as a circle.
//! - **Breaks are the caller's.** [`SeriesBuilder::brk`] ends a run; the
//!   geometry decides where (outages, missing values, long silences), this
//!   builder only makes sure nothing is joined across one.
//!
//! Numbers in the path have at most one decimal and never an exponent
//! ([`push_number`]).

use crate::core::format::push_number;

/// A point in plot coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Horizontal position, 0 at the left edge.
    pub x: f64,
    /// Vertical position, 0 at the top.
    pub y: f64,
}

/// One drawn series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesGeometry {
    /// SVG path data (`M`/`L` commands); empty when there is nothing to join.
    pub path: String,
    /// Lone samples that have no neighbour to join: draw them as circles.
    pub dots: Vec<Point>,
}

/// A point with its position in the ring, to restore time order.
#[derive(Clone, Copy, Debug)]
struct Ranked {
    index: u64,
    x: f64,
    y: f64,
}

/// One continuous run of a series inside one pixel column.
#[derive(Clone, Copy, Debug)]
struct Piece {
    first: Ranked,
    low: Ranked,
    high: Ranked,
    last: Ranked,
    count: usize,
    /// Continues a run from the column before (drawn with `L`, not `M`).
    joined_left: bool,
}

impl Piece {
    fn new(point: Ranked, joined_left: bool) -> Piece {
        Piece {
            first: point,
            low: point,
            high: point,
            last: point,
            count: 1,
            joined_left,
        }
    }

    fn add(&mut self, point: Ranked) {
        // y grows downwards: the visually lowest point has the largest y.
        if point.y > self.low.y {
            self.low = point;
        }
        if point.y < self.high.y {
            self.high = point;
        }
        self.last = point;
        self.count += 1;
    }

    /// The kept points in time order, without repeats.
    fn ordered(&self) -> impl Iterator<Item = Ranked> {
        let mut points = [self.first, self.low, self.high, self.last];
        points.sort_by_key(|p| p.index);
        let mut previous = None;
        points.into_iter().filter(move |p| {
            let fresh = previous != Some(p.index);
            previous = Some(p.index);
            fresh
        })
    }
}

/// Pieces that started and ended inside one column, between the first and
/// the last piece: drawn as one vertical mark.
#[derive(Clone, Copy, Debug)]
struct Envelope {
    x: f64,
    top: f64,
    bottom: f64,
}

/// Builds one series' path, one pixel column at a time.
#[derive(Default)]
pub(super) struct SeriesBuilder {
    path: String,
    dots: Vec<Point>,
    column: Option<usize>,
    head: Option<Piece>,
    middle: Option<Envelope>,
    tail: Option<Piece>,
    /// The newest piece still accepts points (no break since).
    open: bool,
}

impl SeriesBuilder {
    /// Ends the current run: the next point starts a new subpath.
    pub(super) fn brk(&mut self) {
        self.open = false;
    }

    pub(super) fn push(&mut self, column: usize, index: u64, x: f64, y: f64) {
        let point = Ranked { index, x, y };
        if self.column != Some(column) {
            let joined = self.open && self.column.is_some();
            self.flush(joined);
            self.column = Some(column);
            self.head = Some(Piece::new(point, joined));
        } else if self.open {
            if let Some(piece) = self.tail.as_mut().or(self.head.as_mut()) {
                piece.add(point);
            }
        } else {
            self.start_piece(point);
        }
        self.open = true;
    }

    /// A new run inside the current column.
    fn start_piece(&mut self, point: Ranked) {
        let piece = Piece::new(point, false);
        if self.head.is_none() {
            self.head = Some(piece);
            return;
        }
        if let Some(previous) = self.tail.replace(piece) {
            let envelope = self.middle.get_or_insert(Envelope {
                x: previous.first.x,
                top: previous.high.y,
                bottom: previous.low.y,
            });
            envelope.top = envelope.top.min(previous.high.y);
            envelope.bottom = envelope.bottom.max(previous.low.y);
        }
    }

    /// Writes out the current column; `continues` says whether its last
    /// piece joins the first point of the next column.
    fn flush(&mut self, continues: bool) {
        let head = self.head.take();
        let middle = self.middle.take();
        let tail = self.tail.take();
        let only_head = middle.is_none() && tail.is_none();
        if let Some(head) = head {
            self.emit_piece(&head, only_head && continues);
        }
        if let Some(envelope) = middle {
            if envelope.bottom - envelope.top < 0.05 {
                self.dots.push(Point {
                    x: envelope.x,
                    y: envelope.top,
                });
            } else {
                self.command('M', envelope.x, envelope.top);
                self.command('L', envelope.x, envelope.bottom);
            }
        }
        if let Some(tail) = tail {
            self.emit_piece(&tail, continues);
        }
    }

    fn emit_piece(&mut self, piece: &Piece, joined_right: bool) {
        if piece.count == 1 && !piece.joined_left && !joined_right {
            self.dots.push(Point {
                x: piece.first.x,
                y: piece.first.y,
            });
            return;
        }
        for (n, point) in piece.ordered().enumerate() {
            let command = if n == 0 && !piece.joined_left {
                'M'
            } else {
                'L'
            };
            self.command(command, point.x, point.y);
        }
    }

    fn command(&mut self, command: char, x: f64, y: f64) {
        self.path.push(command);
        push_number(&mut self.path, x);
        self.path.push(' ');
        push_number(&mut self.path, y);
    }

    pub(super) fn finish(mut self) -> SeriesGeometry {
        self.flush(false);
        SeriesGeometry {
            path: self.path,
            dots: self.dots,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::core::chart::chart_geometry;
    use crate::core::chart::testing::*;
    use crate::core::history::History;
    use crate::core::status::Status;

    #[test]
    fn a_day_at_one_sample_per_second_reduces_to_the_pixels() {
        let spike_at = 50_000;
        let history = history_of(86_400, 1_000.0, |i| {
            if i == spike_at {
                5_000.0
            } else {
                ((i % 97) as f64 - 48.0) * 5.0
            }
        });
        let geometry = chart_geometry(&history, &frame(24.0 * HOUR, 1_000.0));
        assert_eq!(geometry.samples_shown, 86_400);
        let drawn = points(&geometry.deviation.path) + geometry.deviation.dots.len();
        assert!(drawn <= 4 * W as usize, "{drawn} points for {W} px");
        assert_eq!(subpaths(&geometry.deviation.path), 1);
        // The one-second spike sets the axis and reaches the top edge.
        assert_eq!(geometry.deviation_extent_ms, 5_000.0);
        assert!(coordinates(&geometry.deviation.path)
            .iter()
            .any(|p| p.1 == 0.0));
        assert!(geometry.timeline.iter().any(|s| s.status == Status::Poor));
        assert_inside(&geometry);
    }

    #[test]
    fn sub_pixel_outages_stay_bounded_and_never_join_across() {
        // Every other poll fails for a day: 43,200 outages on 600 px.
        let mut history = History::with_capacity(48.0 * HOUR, 200_000);
        for i in 0..86_400_u32 {
            let t = NOW - f64::from(86_399 - i) * 1_000.0;
            if i % 2 == 0 {
                history.push(sample(t, Some(f64::from(i % 50)), Some(400.0)));
            } else {
                history.mark_gap(t);
            }
        }
        let geometry = chart_geometry(&history, &frame(24.0 * HOUR, 1_000.0));
        let drawn = points(&geometry.deviation.path) + geometry.deviation.dots.len();
        assert!(drawn <= 10 * W as usize, "{drawn} points");
        assert!(
            geometry.gaps.len() <= 2 * W as usize,
            "{} gaps",
            geometry.gaps.len()
        );
        assert!(geometry.timeline.len() <= W as usize);
        // Every sample stands alone between two failures, so no subpath may
        // leave its pixel column: nothing is joined across an outage.
        let runs: Vec<&str> = geometry
            .deviation
            .path
            .split('M')
            .filter(|s| !s.is_empty())
            .collect();
        assert!(!runs.is_empty());
        for run in runs {
            let xs: Vec<f64> = coordinates(&format!("M{run}"))
                .iter()
                .map(|p| p.0)
                .collect();
            assert!(
                xs.iter().all(|x| x.floor() == xs[0].floor()),
                "run spans columns: {xs:?}"
            );
        }
        assert_inside(&geometry);
    }
}

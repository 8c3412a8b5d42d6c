//! The status strip under the plot and the gap rectangles over it.
//!
//! - **Status strip, step-before.** A sample's status describes the period
//!   since the previous poll, so it covers `[previous sample, sample]` (or
//!   one interval before it after a break). Equal neighbours merge; if the
//!   strip would still hold more segments than pixel columns, it is
//!   rasterised per column keeping the worst status (by
//!   [`Status::severity`]), so a poor blip is never averaged away.
//! - **Gaps say why.** A stretch with no line is an [`GapKind::Outage`] (no
//!   report arrived) or [`GapKind::NoData`] (reports without a deviation).
//!   Touching gaps merge, and a gap too thin to see merges into its
//!   neighbour whatever its kind, so the list stays O(width) even when the
//!   two alternate; the survivors are at least one unit wide.

use crate::core::status::Status;

/// One stretch of the status strip under the plot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimelineSegment {
    /// Left edge.
    pub x: f64,
    /// Width (never negative).
    pub width: f64,
    /// The status over this stretch.
    pub status: Status,
}

/// Why nothing is drawn over a stretch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GapKind {
    /// No report arrived: polling failed or stopped, or came too late.
    Outage,
    /// Reports arrived but carried no deviation (the stream was not measurable).
    NoData,
}

impl GapKind {
    /// The word used in CSS class names and `data-gap`.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::Outage => "outage",
            GapKind::NoData => "no-data",
        }
    }
}

/// A stretch to shade because there is no line over it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GapRect {
    /// Left edge.
    pub x: f64,
    /// Width; at least one unit so a short outage stays visible.
    pub width: f64,
    /// Why there is no data.
    pub kind: GapKind,
}

/// Builds the status strip: exact merged segments while they fit in the
/// pixel columns, the worst status per column once they do not.
pub(super) struct StripBuilder {
    exact: Option<Vec<TimelineSegment>>,
    raster: Vec<Option<Status>>,
    width: f64,
}

impl StripBuilder {
    pub(super) fn new(columns: usize, width: f64) -> StripBuilder {
        StripBuilder {
            exact: Some(Vec::new()),
            raster: vec![None; columns],
            width,
        }
    }

    pub(super) fn add(&mut self, x0: f64, x1: f64, status: Status) {
        if x1 <= x0 {
            return;
        }
        let Some(exact) = self.exact.as_mut() else {
            self.paint(x0, x1, status);
            return;
        };
        match exact.last_mut() {
            Some(last) if last.status == status && (x0 - (last.x + last.width)).abs() < 1e-6 => {
                last.width = x1 - last.x;
            }
            _ => exact.push(TimelineSegment {
                x: x0,
                width: x1 - x0,
                status,
            }),
        }
        if exact.len() > self.raster.len() {
            let segments = std::mem::take(exact);
            self.exact = None;
            for segment in segments {
                self.paint(segment.x, segment.x + segment.width, segment.status);
            }
        }
    }

    /// Marks every column the stretch overlaps with the worse status.
    fn paint(&mut self, x0: f64, x1: f64, status: Status) {
        let columns = self.raster.len();
        let first = (x0.floor().max(0.0) as usize).min(columns);
        let end = (x1.ceil().max(0.0) as usize).min(columns);
        for cell in &mut self.raster[first..end] {
            if cell.is_none_or(|current| status.severity() > current.severity()) {
                *cell = Some(status);
            }
        }
    }

    pub(super) fn finish(self) -> Vec<TimelineSegment> {
        if let Some(exact) = self.exact {
            return exact;
        }
        let mut segments: Vec<TimelineSegment> = Vec::new();
        for (column, cell) in self.raster.iter().enumerate() {
            let Some(status) = *cell else { continue };
            let x = column as f64;
            let right = (x + 1.0).min(self.width);
            match segments.last_mut() {
                Some(last) if last.status == status && (last.x + last.width - x).abs() < 1e-9 => {
                    last.width = right - last.x;
                }
                _ => segments.push(TimelineSegment {
                    x,
                    width: right - x,
                    status,
                }),
            }
        }
        segments
    }
}

/// Collects gap stretches, merging those that touch.
#[derive(Default)]
pub(super) struct GapBuilder {
    gaps: Vec<GapRect>,
}

impl GapBuilder {
    pub(super) fn add(&mut self, x0: f64, x1: f64, kind: GapKind) {
        if x1 < x0 {
            return;
        }
        if let Some(last) = self.gaps.last_mut() {
            let right = last.x + last.width;
            let touches = x0 - right <= 0.5;
            // Different kinds stay apart unless one is too thin to see, which
            // keeps the list O(width) even when the two alternate.
            let thin = last.width < 1.0 || x1 - x0 < 1.0;
            if touches && (last.kind == kind || thin) {
                if kind == GapKind::Outage {
                    last.kind = GapKind::Outage;
                }
                last.width = x1.max(right) - last.x;
                return;
            }
        }
        self.gaps.push(GapRect {
            x: x0,
            width: x1 - x0,
            kind,
        });
    }

    /// Widens thin gaps to one unit, kept inside the plot.
    pub(super) fn finish(self, width: f64) -> Vec<GapRect> {
        let mut gaps = self.gaps;
        for gap in &mut gaps {
            if gap.width < 1.0 {
                gap.width = 1.0_f64.min(width);
                gap.x = gap.x.min(width - gap.width).max(0.0);
            }
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use crate::core::chart::chart_geometry;
    use crate::core::chart::testing::*;
    use crate::core::status::Status;

    #[test]
    fn timeline_merges_neighbouring_equal_statuses() {
        let history = history_of(20, 5_000.0, |i| if i < 10 { 100.0 } else { 1_500.0 });
        let geometry = chart_geometry(&history, &frame(HOUR, 5_000.0));
        let statuses: Vec<Status> = geometry.timeline.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [Status::Excellent, Status::Poor]);
        let (first, second) = (geometry.timeline[0], geometry.timeline[1]);
        assert!(
            (first.x + first.width - second.x).abs() < 1e-9,
            "contiguous"
        );
        assert!((second.x + second.width - W).abs() < 1e-9, "ends at now");
    }

    #[test]
    fn flapping_status_is_rasterised_and_keeps_the_worst() {
        // 1 s polls for an hour, alternating excellent/poor: 3,600 changes on 600 px.
        let history = history_of(3_600, 1_000.0, |i| if i % 2 == 0 { 0.0 } else { 2_000.0 });
        let geometry = chart_geometry(&history, &frame(HOUR, 1_000.0));
        assert!(geometry.timeline.len() <= W as usize);
        assert!(geometry.timeline.iter().all(|s| s.status == Status::Poor));
        for segment in &geometry.timeline {
            assert!(segment.width > 0.0 && segment.x >= 0.0 && segment.x + segment.width <= W);
        }
    }
}

//! Per-column aggregates: the history reduced, one pixel column of time at a
//! time, to what the chart can draw, and kept across updates.
//!
//! **Columns on absolute time.** A column spans `window / width` of time and
//! column boundaries sit at multiples of that span since the epoch, not at
//! offsets from "now". A window that moves on by a second then drops whole
//! columns at the left and opens one at the right, instead of re-binning
//! every sample. A [`Block`] is a run of consecutive ring entries in one
//! column (one block per column while the clock runs forward; a clock jump
//! back makes more).
//!
//! **What a block keeps** is the outcome of the chart's one pass over its
//! entries, in time and value (not in plot units, which move with "now" and
//! the axes): for each series the runs it draws, each reduced to its first,
//! lowest, highest and last point (so a one-sample spike is never lost) and
//! the breaks between them; the status strip as stretches of time merged
//! while exactly contiguous and of one status; outage and no-data stretches;
//! the counts and extremes the axes need; and the pass's state (the last
//! joinable sample, an open outage) at the block's start. Drawing
//! ([`super::render`]) replays blocks through the series, strip and gap
//! builders, O(columns), and places them on the axes of the moment.
//!
//! **Where the state lives.** [`ChartCache`] is owned by the component that
//! draws (the full chart and the sparkline have one each, at their own
//! widths), keyed by the history's identity, the column span and the poll
//! interval; a change of width or range rebuilds it once. It follows the
//! history by sequence numbers, as the summary's cache does: a new entry
//! touches only the newest block, entries that leave drop blocks at the
//! front. The window's left edge cuts through a column, so what lies before
//! the first whole cached block is reduced from the history again each time
//! (about one column of samples). The from-scratch [`super::chart_geometry`]
//! is the same reduction over the window's entries, and a property test
//! checks the cached result equals it after every step of random
//! histories. When an entry out of time order (after a clock jump back) is
//! still held and lies left of the window, the window's entries are no
//! longer one stretch of the ring: the cache steps aside and the chart is
//! reduced from scratch until that entry leaves.

use std::collections::VecDeque;

use crate::core::history::{Entry, History};
use crate::core::num::finite;
use crate::core::status::Status;

use super::scale::{sanitize_interval, TimeScale, MAX_SESSION_AVG_MS};
use super::strip::GapKind;
use super::{ChartFrame, ChartGeometry, BREAK_INTERVALS, MIN_BREAK_MS};

/// A point a series keeps: its sequence number (for time order), time and
/// value, both in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Kept {
    pub(super) seq: u64,
    pub(super) t: f64,
    pub(super) value: f64,
}

/// A continuous run of one series inside one block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Run {
    pub(super) first: Kept,
    /// Smallest value, the earliest of equals.
    pub(super) low: Kept,
    /// Largest value, the earliest of equals.
    pub(super) high: Kept,
    pub(super) last: Kept,
}

impl Run {
    fn new(point: Kept) -> Run {
        Run {
            first: point,
            low: point,
            high: point,
            last: point,
        }
    }

    fn add(&mut self, point: Kept) {
        if point.value < self.low.value {
            self.low = point;
        }
        if point.value > self.high.value {
            self.high = point;
        }
        self.last = point;
    }

    /// The kept points in time order, without repeats.
    pub(super) fn points(&self) -> impl Iterator<Item = Kept> {
        let mut points = [self.first, self.low, self.high, self.last];
        points.sort_by_key(|p| p.seq);
        let mut previous = None;
        points.into_iter().filter(move |p| {
            let fresh = previous != Some(p.seq);
            previous = Some(p.seq);
            fresh
        })
    }
}

/// One step of a series inside a block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Step {
    /// The line breaks here.
    Break,
    /// A run of joined points.
    Run(Run),
}

/// What one series does inside one block.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Steps {
    pub(super) steps: Vec<Step>,
    /// The last step is a run that still takes points.
    open: bool,
}

impl Steps {
    fn brk(&mut self) {
        if !matches!(self.steps.last(), Some(Step::Break)) {
            self.steps.push(Step::Break);
        }
        self.open = false;
    }

    fn push(&mut self, point: Kept) {
        if self.open {
            if let Some(Step::Run(run)) = self.steps.last_mut() {
                run.add(point);
                return;
            }
        }
        self.steps.push(Step::Run(Run::new(point)));
        self.open = true;
    }
}

/// The state of the pass between two entries.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct PassState {
    /// The newest sample still joinable to the next one.
    pub(super) previous: Option<f64>,
    /// Start of an outage not yet closed by a sample.
    pub(super) outage_since: Option<f64>,
    /// The newest entry was a gap.
    pub(super) ended_with_gap: bool,
}

/// The axes' needs of a block.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct BlockExtents {
    pub(super) samples: usize,
    pub(super) max_abs_deviation: f64,
    pub(super) session_min: Option<f64>,
    pub(super) session_max: Option<f64>,
}

/// A run of consecutive entries in one column, reduced.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Block {
    column: i64,
    pub(super) first_seq: u64,
    last_seq: u64,
    min_at: f64,
    max_at: f64,
    /// The pass's state before the block's first entry.
    incoming: PassState,
    pub(super) deviation: Steps,
    pub(super) session_avg: Steps,
    /// Status strip stretches `(from, to, status)`, ms.
    pub(super) strip: Vec<(f64, f64, Status)>,
    /// Outage and no-data stretches `(from, to, kind)`, ms.
    pub(super) gaps: Vec<(f64, f64, GapKind)>,
    pub(super) extents: BlockExtents,
}

/// The chart's pass over entries, in time order of the ring, building blocks.
#[derive(Clone, Debug)]
pub(super) struct Reducer {
    column_ms: f64,
    interval: f64,
    break_ms: f64,
    pub(super) state: PassState,
    pub(super) blocks: VecDeque<Block>,
}

/// The column span and poll interval a frame reduces with.
pub(super) fn reduction_of(scale: &TimeScale, frame: &ChartFrame) -> (f64, f64) {
    let column_ms = scale.column_ms();
    (column_ms, sanitize_interval(frame.interval_ms))
}

impl Reducer {
    pub(super) fn new(column_ms: f64, interval: f64) -> Reducer {
        Reducer {
            column_ms,
            interval,
            break_ms: (BREAK_INTERVALS * interval).max(MIN_BREAK_MS),
            state: PassState::default(),
            blocks: VecDeque::new(),
        }
    }

    fn column(&self, t: f64) -> i64 {
        // Saturating: a time beyond i64 columns lands in the last one.
        (t / self.column_ms).floor() as i64
    }

    /// Takes in the entry with sequence number `seq`; entries with a
    /// non-finite time are left out, as the chart leaves them out.
    pub(super) fn entry(&mut self, seq: u64, entry: &Entry) {
        let t = entry.at_ms();
        if !t.is_finite() {
            return;
        }
        let column = self.column(t);
        let state = self.state;
        let block = match self.blocks.back_mut() {
            Some(block) if block.column == column => block,
            _ => {
                self.blocks.push_back(Block {
                    column,
                    first_seq: seq,
                    last_seq: seq,
                    min_at: t,
                    max_at: t,
                    incoming: state,
                    deviation: Steps::default(),
                    session_avg: Steps::default(),
                    strip: Vec::new(),
                    gaps: Vec::new(),
                    extents: BlockExtents::default(),
                });
                match self.blocks.back_mut() {
                    Some(block) => block,
                    None => return,
                }
            }
        };
        block.last_seq = seq;
        block.min_at = block.min_at.min(t);
        block.max_at = block.max_at.max(t);
        let state = &mut self.state;
        match entry {
            Entry::Gap { .. } => {
                block.deviation.brk();
                block.session_avg.brk();
                if let Some(last) = state.previous.take() {
                    state.outage_since = Some(last);
                } else if state.outage_since.is_none() {
                    state.outage_since = Some(t);
                }
                state.ended_with_gap = true;
            }
            Entry::Sample(sample) => {
                state.ended_with_gap = false;
                let continuous = state
                    .previous
                    .is_some_and(|p| t >= p && t - p <= self.break_ms);
                let start = match (continuous, state.previous) {
                    (true, Some(previous)) => previous,
                    _ => {
                        block.deviation.brk();
                        block.session_avg.brk();
                        let since = state.outage_since.take().or(state.previous);
                        let start = match since {
                            Some(since) if since <= t => (t - self.interval).max(since),
                            _ => t - self.interval,
                        };
                        if let Some(since) = since {
                            if start > since {
                                block.gaps.push((since, start, GapKind::Outage));
                            }
                        }
                        start
                    }
                };
                state.outage_since = None;

                let extents = &mut block.extents;
                extents.samples += 1;
                match finite(sample.deviation_ms) {
                    Some(value) => {
                        extents.max_abs_deviation = extents.max_abs_deviation.max(value.abs());
                        match block.strip.last_mut() {
                            Some(last) if last.2 == sample.status && last.1 == start => {
                                last.1 = t;
                            }
                            _ => block.strip.push((start, t, sample.status)),
                        }
                        block.deviation.push(Kept { seq, t, value });
                    }
                    None => {
                        block.gaps.push((start, t, GapKind::NoData));
                        block.deviation.brk();
                    }
                }
                match finite(sample.session_avg_ms) {
                    Some(value) => {
                        let clamped = value.clamp(-MAX_SESSION_AVG_MS, MAX_SESSION_AVG_MS);
                        extents.session_min =
                            Some(extents.session_min.map_or(clamped, |m| m.min(clamped)));
                        extents.session_max =
                            Some(extents.session_max.map_or(clamped, |m| m.max(clamped)));
                        block.session_avg.push(Kept { seq, t, value });
                    }
                    None => block.session_avg.brk(),
                }
                state.previous = Some(t);
            }
        }
    }
}

/// The reduction of a history kept across updates for one chart; see the
/// module documentation.
#[derive(Clone, Debug, Default)]
pub struct ChartCache {
    /// History identity and the bits of the column span and interval.
    key: Option<(u64, u64, u64)>,
    reducer: Option<Reducer>,
    /// Sequence number of the next entry to take in.
    end_seq: u64,
    /// Time of the newest entry taken in, to tell it is still the same.
    newest_at: Option<f64>,
    /// Sequence numbers and times of held entries older than the entry
    /// before them (or without a usable time). While every such entry is
    /// inside the window, the entries left of the window are a prefix of
    /// the ring and the window's a suffix.
    descents: VecDeque<(u64, f64)>,
    /// How many draws fell back to a reduction from scratch.
    #[cfg(test)]
    from_scratch: usize,
}

impl ChartCache {
    /// The same as [`super::chart_geometry`]`(history, frame)`, at a cost
    /// that does not grow with the history.
    pub fn geometry(&mut self, history: &History, frame: &ChartFrame) -> ChartGeometry {
        let scale = TimeScale::new(frame.now_ms, frame.window_ms, frame.width, history);
        let (column_ms, interval) = reduction_of(&scale, frame);
        self.sync(history, column_ms, interval, scale.left());
        let left = scale.left();
        let suffix = self.descents.iter().all(|(_, at)| *at >= left);
        let (Some(reducer), true) = (self.reducer.as_ref(), suffix) else {
            return self.reduce_from_scratch(history, frame);
        };
        let first = history.first_seq();
        // The first block from which every block is whole inside the window
        // (and, so that the state check below rarely fails, the entry just
        // before it too).
        let blocks = &reducer.blocks;
        let mut split = blocks.len();
        while split > 0 {
            let block = &blocks[split - 1];
            if block.first_seq < first || block.min_at < left {
                break;
            }
            split -= 1;
        }
        while split < blocks.len() {
            let before = blocks[split]
                .first_seq
                .checked_sub(1)
                .and_then(|seq| history.entry_at_seq(seq));
            if before.is_some_and(|entry| entry.at_ms() >= left) {
                break;
            }
            split += 1;
        }
        // What lies before: reduced again from the history; the window's
        // entries are a suffix of it (see `descents`).
        let entries = history.entries();
        let start = entries.partition_point(|e| e.at_ms() < left);
        let mut prefix = Reducer::new(column_ms, interval);
        let mut next = start;
        let mut feed = |prefix: &mut Reducer, until_seq: u64| {
            let stop = usize::try_from(until_seq.saturating_sub(first))
                .unwrap_or(usize::MAX)
                .min(entries.len());
            while next < stop {
                if let Some(entry) = entries.get(next) {
                    prefix.entry(first + next as u64, entry);
                }
                next += 1;
            }
        };
        // The pass must reach the first kept block in the state it was
        // kept in. It may not when the window cuts an outage (the outage
        // starts at the edge, not at the sample before it): a few more
        // blocks are then reduced again before the kept ones take over.
        let mut retries = 0;
        loop {
            let Some(block) = blocks.get(split) else {
                feed(&mut prefix, history.end_seq());
                let drawn: Vec<&Block> = prefix.blocks.iter().collect();
                return super::render(&scale, frame, &drawn, &prefix.state);
            };
            feed(&mut prefix, block.first_seq);
            if block.incoming == prefix.state {
                let drawn: Vec<&Block> =
                    prefix.blocks.iter().chain(blocks.range(split..)).collect();
                return super::render(&scale, frame, &drawn, &reducer.state);
            }
            retries += 1;
            if retries > 4 {
                return self.reduce_from_scratch(history, frame);
            }
            split += 1;
        }
    }

    fn reduce_from_scratch(&mut self, history: &History, frame: &ChartFrame) -> ChartGeometry {
        #[cfg(test)]
        {
            self.from_scratch += 1;
        }
        super::chart_geometry(history, frame)
    }

    fn sync(&mut self, history: &History, column_ms: f64, interval: f64, left: f64) {
        let key = (history.id(), column_ms.to_bits(), interval.to_bits());
        let first = history.first_seq();
        let same_newest = match (self.end_seq.checked_sub(1), self.newest_at) {
            (Some(seq), Some(at)) => history
                .entry_at_seq(seq)
                .is_none_or(|e| e.at_ms().to_bits() == at.to_bits()),
            _ => true,
        };
        let in_step = self.key == Some(key)
            && self.reducer.is_some()
            && self.end_seq >= first
            && self.end_seq <= history.end_seq()
            && same_newest;
        if !in_step {
            *self = ChartCache {
                key: Some(key),
                reducer: Some(Reducer::new(column_ms, interval)),
                end_seq: first,
                newest_at: None,
                descents: VecDeque::new(),
                #[cfg(test)]
                from_scratch: self.from_scratch,
            };
        }
        let Some(reducer) = self.reducer.as_mut() else {
            return;
        };
        for seq in self.end_seq..history.end_seq() {
            let Some(entry) = history.entry_at_seq(seq) else {
                break;
            };
            let at = entry.at_ms();
            let in_order = at.is_finite() && self.newest_at.is_none_or(|newest| at >= newest);
            if !in_order {
                self.descents.push_back((seq, at));
            }
            if at.is_finite() {
                self.newest_at = Some(at);
            }
            reducer.entry(seq, entry);
        }
        self.end_seq = history.end_seq();
        // A descent at the oldest entry held no longer matters.
        while self.descents.front().is_some_and(|(seq, _)| *seq <= first) {
            self.descents.pop_front();
        }
        // Blocks wholly gone from the history or left of the window.
        while reducer
            .blocks
            .front()
            .is_some_and(|b| b.last_seq < first || b.max_at < left)
        {
            reducer.blocks.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::chart_geometry;
    use super::*;
    use crate::core::history::Sample;

    /// A small seeded generator (xorshift): every run replays the same
    /// histories and a failure names its seed.
    struct Draw(u64);

    impl Draw {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    const SEEDS: u64 = 150;
    const STEPS: usize = 300;

    fn value(draw: &mut Draw, spread: f64) -> Option<f64> {
        match draw.below(20) {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(spread * 40.0),
            3 => Some(-spread * 40.0),
            _ => Some(((draw.unit() - 0.5) * spread).round()),
        }
    }

    /// After every step of a random history (polls about a second apart,
    /// spikes, missing and non-finite values, outages, silences, clock jumps
    /// both ways, pruning, clears, window and width changes, several steps
    /// between two looks, "now" ahead of or behind the newest sample), the
    /// kept reduction draws exactly what a reduction from scratch draws.
    #[test]
    fn the_kept_reduction_equals_a_reduction_from_scratch_after_every_step() {
        let (mut looks, mut fallbacks) = (0, 0);
        for seed in 1..=SEEDS {
            let mut draw = Draw(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let capacity = [40, 400, 2_000][draw.below(3) as usize];
            let mut history = History::with_capacity(600_000.0, capacity);
            let mut cache = ChartCache::default();
            let mut now = 1_700_000_000_000.0 + draw.below(1_000) as f64 * 0.37;
            let mut window_ms = [60_000.0, 300_000.0, 600_000.0][draw.below(3) as usize];
            let mut width = [37.0, 120.0, 600.0][draw.below(3) as usize];
            let mut interval = 1_000.0;
            for step in 0..STEPS {
                match draw.below(100) {
                    0..=71 => {
                        now += 1_000.0 + (draw.unit() - 0.5) * 200.0;
                        let deviation = value(&mut draw, 3_000.0);
                        history.push(Sample {
                            received_ms: now,
                            updated_at_ms: None,
                            session_avg_ms: value(&mut draw, 800.0).map(|v| v + 400.0),
                            deviation_ms: deviation,
                            status: Status::ALL[draw.below(4) as usize],
                        });
                    }
                    72..=79 => {
                        now += 1_000.0 + draw.unit() * 40_000.0;
                        history.mark_gap(now);
                    }
                    80..=83 => now += draw.unit() * 90_000.0,
                    84..=85 => now -= draw.unit() * 60_000.0,
                    86..=87 => history.prune(now + draw.unit() * 30_000.0),
                    88 if draw.below(5) == 0 => history.clear(),
                    89 => window_ms = [60_000.0, 300_000.0, 600_000.0][draw.below(3) as usize],
                    90 => width = [37.0, 120.0, 600.0, 0.0][draw.below(4) as usize],
                    91 => interval = [1_000.0, 5_000.0][draw.below(2) as usize],
                    _ => {}
                }
                if draw.below(3) == 0 {
                    continue;
                }
                let frame = ChartFrame {
                    now_ms: now + (draw.unit() - 0.3) * 3_000.0,
                    window_ms,
                    width,
                    height: 160.0,
                    interval_ms: interval,
                };
                let expected = chart_geometry(&history, &frame);
                let kept = cache.geometry(&history, &frame);
                assert_eq!(kept, expected, "seed {seed}, step {step}");
                looks += 1;
            }
            fallbacks += cache.from_scratch;
        }
        // Most draws must come from the kept blocks, or nothing was tested.
        assert!(fallbacks * 4 < looks, "{fallbacks} of {looks} from scratch");
    }

    /// The kept reduction is used, not bypassed: a window that moved on by
    /// a second is drawn from kept blocks and about one column of samples.
    #[test]
    fn a_moving_window_keeps_its_blocks() {
        let mut history = History::new(60);
        let start = 1_700_000_000_000.0;
        let mut cache = ChartCache::default();
        for i in 0..7_200u32 {
            let at = start + f64::from(i) * 1_000.0;
            history.push(Sample {
                received_ms: at,
                updated_at_ms: None,
                session_avg_ms: Some(400.0),
                deviation_ms: Some(f64::from(i % 50)),
                status: Status::Excellent,
            });
            let frame = ChartFrame {
                now_ms: at,
                window_ms: 3_600_000.0,
                width: 600.0,
                height: 160.0,
                interval_ms: 1_000.0,
            };
            assert_eq!(
                cache.geometry(&history, &frame),
                chart_geometry(&history, &frame)
            );
        }
        let blocks = cache.reducer.as_ref().map_or(0, |r| r.blocks.len());
        assert!((600..=602).contains(&blocks), "{blocks} blocks kept");
        assert_eq!(cache.end_seq, history.end_seq());
        assert_eq!(cache.from_scratch, 0, "every draw used the kept blocks");
    }

    /// An outage shorter than a pixel column still splits the status strip:
    /// stretches of one status merge inside a column only where they touch.
    #[test]
    fn an_outage_inside_one_column_is_not_painted_over() {
        let now = 1_700_000_000_000.0;
        let column_start = now - 600_000.0;
        let mut history = History::new(60);
        let excellent = |at: f64| Sample {
            received_ms: at,
            updated_at_ms: None,
            session_avg_ms: Some(400.0),
            deviation_ms: Some(10.0),
            status: Status::Excellent,
        };
        for second in 0..4 {
            history.push(excellent(column_start + f64::from(second) * 1_000.0));
        }
        history.mark_gap(column_start + 3_500.0);
        history.push(excellent(column_start + 8_000.0));
        history.push(excellent(column_start + 9_000.0));
        // Ten seconds per column: everything above lies in one column.
        let frame = ChartFrame {
            now_ms: now,
            window_ms: 600_000.0,
            width: 60.0,
            height: 160.0,
            interval_ms: 1_000.0,
        };
        let geometry = chart_geometry(&history, &frame);
        assert_eq!(geometry.timeline.len(), 2, "{:?}", geometry.timeline);
        let outage = geometry.gaps.first().copied();
        assert!(
            outage.is_some_and(|g| g.kind == GapKind::Outage),
            "{:?}",
            geometry.gaps
        );
        assert_eq!(ChartCache::default().geometry(&history, &frame), geometry);
    }
}

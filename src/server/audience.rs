//! Simulated audiences: how many people watch a stream, for the stand-in's
//! `GET /counts`. Pure like the drift engine: time comes in as
//! milliseconds, and the same encoder timeline always gives the same
//! counts.
//!
//! An [`Audience`] is stepped once per second of stream time with what the
//! encoder did in that second: publishing with some health, or not
//! publishing. From that it keeps a viewer count and a view count:
//! - **ramp**: while the encoder publishes, viewers move towards the
//!   stream's plateau by a thirtieth of the distance each second (two
//!   thirds of the way in 30 s, 95 % in 90 s);
//! - **plateau**: a stream's plateau is between 40 and 200 viewers, fixed
//!   by its seed, with a slow ±5 % swell so the figure never freezes;
//!   viewers of a stream that turns `good` drift down to 90 % of it, of a
//!   `poor` one to 60 % (buffering sends people away), and come back when
//!   it recovers;
//! - **drop after an outage**: while the encoder is gone, an eighth of the
//!   viewers leave every second: half are gone in about 5 s, all of them
//!   within a minute; when it publishes again, they ramp back up;
//! - **views** count every arrival: each viewer who joins, and the one in
//!   120 per second who leaves and is replaced while the stream plays, is a
//!   new view (so views ≥ viewers, and views never go down).
//!
//! Simulated encoders step their audience on their own sample ticks
//! ([`super::simulate`]); streams fed by real encoders step theirs on the
//! stand-in's scaled clock with whether a publish is live
//! ([`Audience::advance_to`]).

use super::drift::{Status, SAMPLE_INTERVAL_MS};

/// Share of the way to the target a ramping audience covers each second.
const RAMP_PER_SECOND: f64 = 1.0 / 30.0;
/// Share of the viewers that leave each second while the encoder is gone.
const LEAVE_PER_SECOND: f64 = 1.0 / 8.0;
/// Share of the viewers replaced by newcomers each second while it plays.
const CHURN_PER_SECOND: f64 = 1.0 / 120.0;
/// Period of the plateau's swell, in seconds.
const SWELL_PERIOD_S: f64 = 97.0;

/// What the counts endpoint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Unique viewers now.
    pub viewers: u64,
    /// Views so far.
    pub views: u64,
    /// Time of the last step (caller's clock, ms), or of the audience's
    /// start before the first one.
    pub updated_at_ms: i64,
}

/// The audience of one stream.
#[derive(Debug, Clone)]
pub struct Audience {
    plateau: f64,
    viewers: f64,
    /// Arrivals not yet counted as a whole view.
    pending_views: f64,
    views: u64,
    started_at_ms: i64,
    /// Index of the next step (step k happens at start + k seconds).
    next_step: i64,
    updated_at_ms: i64,
}

impl Audience {
    /// An empty audience whose plateau `seed` picks, stepped from
    /// `started_at_ms` on.
    pub fn new(seed: u64, started_at_ms: i64) -> Self {
        Self {
            plateau: 40.0 + (seed.rotate_left(17) % 161) as f64,
            viewers: 0.0,
            pending_views: 0.0,
            views: 0,
            started_at_ms,
            next_step: 0,
            updated_at_ms: started_at_ms,
        }
    }

    /// The viewers a stream settles at while it plays well.
    pub fn plateau(&self) -> f64 {
        self.plateau
    }

    /// One second of stream time ending at `at_ms`: `playing` is the
    /// stream's health while the encoder publishes, `None` while it does
    /// not.
    pub fn step(&mut self, at_ms: i64, playing: Option<Status>) {
        let before = self.viewers;
        let seconds = (at_ms - self.started_at_ms) as f64 / 1000.0;
        let swell = 1.0 + 0.05 * (seconds * std::f64::consts::TAU / SWELL_PERIOD_S).sin();
        let churn = match playing {
            Some(status) => {
                let share = match status {
                    Status::Excellent | Status::Unknown => 1.0,
                    Status::Good => 0.9,
                    Status::Poor => 0.6,
                };
                let target = self.plateau * share * swell;
                self.viewers += (target - self.viewers) * RAMP_PER_SECOND;
                self.viewers * CHURN_PER_SECOND
            }
            None => {
                self.viewers *= 1.0 - LEAVE_PER_SECOND;
                if self.viewers < 0.5 {
                    self.viewers = 0.0;
                }
                0.0
            }
        };
        self.pending_views += (self.viewers - before).max(0.0) + churn;
        let whole = self.pending_views.floor();
        self.views += whole as u64;
        self.pending_views -= whole;
        self.updated_at_ms = at_ms;
    }

    /// Steps every second up to and including `now_ms` with the same
    /// `playing` (a real encoder's publish state, read at `now_ms`).
    pub fn advance_to(&mut self, now_ms: i64, playing: Option<Status>) {
        loop {
            let at = self.started_at_ms + self.next_step * SAMPLE_INTERVAL_MS;
            if at > now_ms {
                return;
            }
            self.step(at, playing);
            self.next_step += 1;
        }
    }

    /// What the counts endpoint reports now.
    pub fn counts(&self) -> Counts {
        Counts {
            viewers: self.viewers.round() as u64,
            views: self.views.max(self.viewers.round() as u64),
            updated_at_ms: self.updated_at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    /// Viewers each second over a timeline of (seconds, health or off).
    fn run(seed: u64, timeline: &[(i64, Option<Status>)]) -> (Audience, Vec<Counts>) {
        let mut audience = Audience::new(seed, T0);
        let mut seen = Vec::new();
        let mut second = 0;
        for &(length, playing) in timeline {
            for _ in 0..length {
                audience.step(T0 + second * 1000, playing);
                seen.push(audience.counts());
                second += 1;
            }
        }
        (audience, seen)
    }

    fn viewers(seen: &[Counts]) -> Vec<u64> {
        seen.iter().map(|c| c.viewers).collect()
    }

    #[test]
    fn a_new_stream_ramps_up_to_its_plateau() {
        let (audience, seen) = run(7, &[(300, Some(Status::Excellent))]);
        let plateau = audience.plateau();
        assert!((40.0..=200.0).contains(&plateau), "{plateau}");
        let v = viewers(&seen);
        assert!(v[0] <= 7, "{v:?}");
        // Rising through the first minute.
        assert!(v[..60].windows(10).all(|w| w[9] > w[0]), "{v:?}");
        assert!(v[30] as f64 > 0.55 * plateau, "{v:?}");
        // Then within the swell of the plateau.
        for &count in &v[150..] {
            let ratio = count as f64 / plateau;
            assert!(
                (0.93..=1.07).contains(&ratio),
                "{count} against {plateau}: {v:?}"
            );
        }
    }

    #[test]
    fn viewers_drop_after_an_outage_and_come_back() {
        let timeline = [
            (180, Some(Status::Excellent)),
            (60, None),
            (180, Some(Status::Excellent)),
        ];
        let (audience, seen) = run(11, &timeline);
        let v = viewers(&seen);
        let before = v[179];
        assert!(
            v[185] * 2 < before,
            "half gone in 6 s: {before} → {}",
            v[185]
        );
        assert_eq!(v[239], 0, "all gone within a minute: {v:?}");
        assert!(
            v[300] as f64 > 0.8 * audience.plateau(),
            "back after a minute: {v:?}"
        );
    }

    #[test]
    fn a_poor_stream_loses_viewers_until_it_recovers() {
        let timeline = [
            (200, Some(Status::Excellent)),
            (200, Some(Status::Poor)),
            (200, Some(Status::Excellent)),
        ];
        let (audience, seen) = run(3, &timeline);
        let v = viewers(&seen);
        let plateau = audience.plateau();
        assert!((v[399] as f64) < 0.7 * plateau, "{v:?}");
        assert!(v[399] as f64 > 0.5 * plateau, "{v:?}");
        assert!(v[599] as f64 > 0.9 * plateau, "{v:?}");
    }

    #[test]
    fn views_count_every_arrival_and_never_go_down() {
        let timeline = [
            (120, Some(Status::Excellent)),
            (40, None),
            (120, Some(Status::Excellent)),
        ];
        let (_, seen) = run(5, &timeline);
        assert!(seen.windows(2).all(|w| w[1].views >= w[0].views));
        assert!(seen.iter().all(|c| c.views >= c.viewers));
        // Those who come back after the outage are new views.
        let last = seen[seen.len() - 1];
        assert!(
            last.views > seen[119].viewers + last.viewers / 2,
            "{last:?}"
        );
    }

    #[test]
    fn the_same_timeline_gives_the_same_counts() {
        let timeline = [
            (90, Some(Status::Good)),
            (30, None),
            (90, Some(Status::Excellent)),
        ];
        assert_eq!(run(9, &timeline).1, run(9, &timeline).1);
        assert_ne!(
            run(9, &timeline).0.plateau(),
            run(10, &timeline).0.plateau(),
            "streams differ"
        );
    }

    #[test]
    fn advancing_steps_once_per_second_and_dates_the_counts() {
        let mut stepped = Audience::new(2, T0);
        let mut advanced = Audience::new(2, T0);
        for second in 0..50 {
            stepped.step(T0 + second * 1000, Some(Status::Excellent));
        }
        advanced.advance_to(T0 + 49_500, Some(Status::Excellent));
        assert_eq!(stepped.counts(), advanced.counts());
        assert_eq!(advanced.counts().updated_at_ms, T0 + 49_000);
        let idle = Audience::new(2, T0);
        assert_eq!(
            idle.counts(),
            Counts {
                viewers: 0,
                views: 0,
                updated_at_ms: T0
            }
        );
    }
}

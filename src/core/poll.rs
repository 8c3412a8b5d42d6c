//! The polling engine as a pure state machine.
//!
//! The shell owns exactly one timer and at most one request; this module
//! decides what they do. After every settled request it returns the delay
//! before the next one ([`Next`]), so requests never pile up the way a
//! `setInterval` does when the network is slower than the interval.
//!
//! Rules (each has a test below):
//! - a token starts polling at once (no initial wait); a token that cannot
//!   be read, or whose `exp` has passed, stops before any request;
//! - success returns to the normal interval and clears the failure count;
//!   the next request is due one interval after the last one was due (a
//!   fixed grid, which keeps Firefox's background tabs at the interval),
//!   and at least half an interval after the answer;
//! - a network error, a timeout, a 5xx or an unusable body keeps the last
//!   values (the view marks them stale) and retries with exponential backoff
//!   and "equal jitter": the n-th consecutive failure waits between half and
//!   all of `min(60 s, 2 s × 2^(n-1))`;
//! - 429 waits for `Retry-After` when given (at least 1 s, at most an hour),
//!   else backs off like a failure;
//! - 401, 403 and every other 4xx stop polling until a new token arrives:
//!   asking again with the same token cannot succeed and only burns quota;
//! - `exp` stops polling at expiry: every wait is cut short at `exp`, and a
//!   wake-up at or after it reports the link as expired;
//! - every token gets a new generation; an outcome from an older generation
//!   (a request that settled after the token was replaced) is ignored;
//! - a tab that follows another's polling (see [`crate::core::share`])
//!   shows the leader's results only once its own token has been proven:
//!   its own request answered 2xx. It proves it again every
//!   [`TOKEN_PROOF_MS`]; a 4xx on a proof stops it as it would alone, and
//!   a failure that says nothing about the token (network, 5xx) is retried
//!   on the usual backoff while the leader's results go on showing.
//!
//! Why prove at all: the leader's samples say nothing about a follower's
//! token. Without a proof a forged token showed a sample before its own
//! 401, and a tab whose signing key had been deleted stayed live as long
//! as another tab polled. Why five minutes: it bounds how long a revoked
//! token goes on showing data to the time a streamer would take to notice
//! and act, at the cost of one request per follower per five minutes (a
//! tenth of a percent of a one-second poller's requests, well inside the
//! "requests of one tab" budget of shared polling). Tokens live for hours;
//! checking them more often buys little.
//!
//! Hidden tabs are not special-cased: a monitor must keep watching.

use crate::core::api::{HealthReport, ResponseError};
use crate::core::token::{TokenClaims, TokenError};

/// How long one request may take before it is aborted.
pub const REQUEST_TIMEOUT_MS: f64 = 10_000.0;
/// The longest backoff between retries.
pub const MAX_BACKOFF_MS: f64 = 60_000.0;
/// The first backoff step (before jitter).
pub const FIRST_BACKOFF_MS: f64 = 2_000.0;
/// How long a follower's own proof of its token holds (module doc).
pub const TOKEN_PROOF_MS: f64 = 300_000.0;
/// Bounds on a server's `Retry-After`.
pub const RETRY_AFTER_BOUNDS_MS: (f64, f64) = (1_000.0, 3_600_000.0);

/// The connection state shown in `data-state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConnState {
    /// No token yet; nothing is polled.
    #[default]
    WaitingToken,
    /// A token arrived; the first answer is on its way.
    Connecting,
    /// The last request succeeded.
    Live,
    /// The last request failed; another is scheduled.
    Retrying,
    /// The service refused the token, or it could not be read.
    TokenRejected,
    /// The token's `exp` has passed.
    TokenExpired,
}

impl ConnState {
    /// The `data-state` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::WaitingToken => "waiting-token",
            ConnState::Connecting => "connecting",
            ConnState::Live => "live",
            ConnState::Retrying => "retrying",
            ConnState::TokenRejected => "token-rejected",
            ConnState::TokenExpired => "token-expired",
        }
    }

    /// True while requests are being made.
    pub fn is_polling(self) -> bool {
        matches!(
            self,
            ConnState::Connecting | ConnState::Live | ConnState::Retrying
        )
    }
}

/// How a request settled, as the shell saw it. `R` is what a usable body
/// holds: a health report, or viewer counts (see [`crate::core::counts`]),
/// which are polled by the same rules on their own schedule.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<R = HealthReport> {
    /// 2xx with a usable body.
    Report(R),
    /// 2xx with a body we could not use.
    BadBody(ResponseError),
    /// A non-2xx status.
    Http {
        /// The status code.
        status: u16,
        /// `Retry-After`, already converted to milliseconds.
        retry_after_ms: Option<f64>,
    },
    /// The request failed before a response (DNS, connection, CORS).
    Network,
    /// No response within [`REQUEST_TIMEOUT_MS`].
    Timeout,
}

/// Why polling stopped for the current token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The token could not be read in the browser.
    Malformed(TokenError),
    /// The service answered with this 4xx status.
    Http(u16),
}

/// What the shell does next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// Set the single timer to fire after this many milliseconds, then call
    /// [`Poller::on_timer`].
    Wake(f64),
    /// Clear the timer; nothing more happens until a new token.
    Idle,
}

/// What a follower does when its timer fires.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Following {
    /// Send one request of its own, tagged with this generation, to prove
    /// the token (a request already in flight proves it just as well).
    Prove(u64),
    /// Nothing to send: set the timer as said.
    Wait(Next),
}

/// What to do when the timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send one request tagged with this generation.
    Fetch(u64),
    /// Nothing: the token expired or polling stopped.
    Stop,
}

/// A failure kind, for the view's message.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Network error.
    Network,
    /// Timeout.
    Timeout,
    /// 5xx or 429 (or another retryable status).
    Http(u16),
    /// Unusable body.
    BadBody(ResponseError),
}

/// The polling state machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Poller {
    interval_ms: f64,
    state: ConnState,
    generation: u64,
    consecutive_failures: u32,
    expires_at_ms: Option<f64>,
    next_at_ms: Option<f64>,
    last_success_ms: Option<f64>,
    rejection: Option<Rejection>,
    last_failure: Option<Failure>,
    proof_period_ms: f64,
    /// This tab's own request got a 2xx for the current token.
    proven: bool,
    /// When the token is next to be proven by a request of this tab's own.
    prove_at_ms: Option<f64>,
    /// When the request in flight was due (it went out then, or as soon
    /// after as the browser ran the timer).
    sent_due_ms: Option<f64>,
}

impl Poller {
    /// A poller waiting for a token.
    pub fn new(interval_ms: f64) -> Poller {
        Poller {
            interval_ms: interval_ms.max(1.0),
            state: ConnState::WaitingToken,
            generation: 0,
            consecutive_failures: 0,
            expires_at_ms: None,
            next_at_ms: None,
            last_success_ms: None,
            rejection: None,
            last_failure: None,
            proof_period_ms: TOKEN_PROOF_MS,
            proven: false,
            prove_at_ms: None,
            sent_due_ms: None,
        }
    }

    /// Changes how long a proof of the token holds (a test aid; the
    /// product uses [`TOKEN_PROOF_MS`]).
    pub fn set_proof_period_ms(&mut self, period_ms: f64) {
        self.proof_period_ms = period_ms.max(1.0);
    }

    /// The current token is proven by another poller of this tab that uses
    /// the same token (the viewer counts ride on health's proof): this one
    /// takes shared results at once and never asks to prove it. Holds until
    /// the next [`Poller::set_token`].
    pub fn trust_proof_elsewhere(&mut self) {
        self.proven = true;
        self.prove_at_ms = None;
    }

    /// This tab's own request got a 2xx for the current token: a follower
    /// may show the leader's results.
    pub fn is_proven(&self) -> bool {
        self.proven
    }

    /// The connection state.
    pub fn state(&self) -> ConnState {
        self.state
    }
    /// The generation of the current token.
    pub fn generation(&self) -> u64 {
        self.generation
    }
    /// The normal interval.
    pub fn interval_ms(&self) -> f64 {
        self.interval_ms
    }
    /// When the next request is due (browser time), while polling.
    pub fn next_at_ms(&self) -> Option<f64> {
        self.next_at_ms
    }
    /// When the current token expires.
    pub fn expires_at_ms(&self) -> Option<f64> {
        self.expires_at_ms
    }
    /// When the last request succeeded.
    pub fn last_success_ms(&self) -> Option<f64> {
        self.last_success_ms
    }
    /// Why polling stopped, when it did because of the token.
    pub fn rejection(&self) -> Option<Rejection> {
        self.rejection
    }
    /// The latest failure while retrying.
    pub fn last_failure(&self) -> Option<&Failure> {
        self.last_failure.as_ref()
    }
    /// Consecutive failed requests.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Changes the interval; takes effect from the next scheduled poll.
    pub fn set_interval_ms(&mut self, interval_ms: f64) {
        self.interval_ms = interval_ms.max(1.0);
    }

    /// A new token (already read with [`crate::core::token::read_claims`]),
    /// or `None` to stop and wait for one.
    pub fn set_token(
        &mut self,
        claims: Option<Result<TokenClaims, TokenError>>,
        now_ms: f64,
    ) -> Next {
        self.generation += 1;
        self.consecutive_failures = 0;
        self.rejection = None;
        self.last_failure = None;
        self.next_at_ms = None;
        self.expires_at_ms = None;
        self.proven = false;
        self.prove_at_ms = Some(now_ms);
        match claims {
            None => {
                self.state = ConnState::WaitingToken;
                Next::Idle
            }
            Some(Err(error)) => {
                self.state = ConnState::TokenRejected;
                self.rejection = Some(Rejection::Malformed(error));
                Next::Idle
            }
            Some(Ok(claims)) => {
                self.expires_at_ms = claims.expires_at_ms;
                if self.expire_if_due(now_ms) {
                    return Next::Idle;
                }
                self.state = ConnState::Connecting;
                self.schedule(0.0, now_ms)
            }
        }
    }

    /// Puts the token's first request `delay_ms` later than it was due
    /// (a wall spreads its streams' first requests over the interval).
    /// Only while that first request is still to go out (with none out, it
    /// returns [`Next::Idle`]: the answer schedules); later polls keep the phase
    /// it sets, as the grid runs from when a request was due. Returns when
    /// to wake, as [`Poller::set_token`] did.
    pub fn delay_start(&mut self, delay_ms: f64, now_ms: f64) -> Next {
        let Some(due) = self.next_at_ms else {
            return Next::Idle;
        };
        if self.state != ConnState::Connecting {
            return Next::Wake((due - now_ms).max(0.0));
        }
        let delay = if delay_ms.is_finite() {
            delay_ms.max(0.0)
        } else {
            0.0
        };
        self.schedule((due - now_ms).max(0.0) + delay, now_ms)
    }

    /// Once the token's `exp` has passed: `TokenExpired`, nothing
    /// scheduled, and true.
    fn expire_if_due(&mut self, now_ms: f64) -> bool {
        if !self.expires_at_ms.is_some_and(|exp| now_ms >= exp) {
            return false;
        }
        self.state = ConnState::TokenExpired;
        self.next_at_ms = None;
        true
    }

    fn schedule(&mut self, delay_ms: f64, now_ms: f64) -> Next {
        let until_expiry = self.expires_at_ms.map_or(f64::INFINITY, |exp| exp - now_ms);
        let delay = delay_ms.min(until_expiry).max(0.0);
        self.next_at_ms = Some(now_ms + delay);
        Next::Wake(delay)
    }

    /// The timer fired.
    pub fn on_timer(&mut self, now_ms: f64) -> Step {
        if !self.state.is_polling() {
            return Step::Stop;
        }
        if self.expire_if_due(now_ms) {
            return Step::Stop;
        }
        self.sent_due_ms = Some(self.next_at_ms.unwrap_or(now_ms));
        self.next_at_ms = None;
        // This request is the token's proof: no other until it settles.
        self.prove_at_ms = Some(now_ms + REQUEST_TIMEOUT_MS);
        Step::Fetch(self.generation)
    }

    /// This tab's own request settled. `jitter` is a random number in
    /// `[0, 1)`.
    pub fn on_outcome<R>(
        &mut self,
        generation: u64,
        outcome: &Outcome<R>,
        now_ms: f64,
        jitter: f64,
    ) -> Next {
        let current = generation == self.generation && self.state.is_polling();
        let next = self.take_outcome(generation, outcome, now_ms, jitter);
        if current && self.state.is_polling() {
            self.prove_at_ms = match outcome {
                Outcome::Report(_) | Outcome::BadBody(_) => {
                    self.proven = true;
                    Some(now_ms + self.proof_period_ms)
                }
                // Nothing said about the token: try again when the
                // backoff says.
                _ => self.next_at_ms,
            };
        }
        next
    }

    /// A request's outcome, this tab's or the leader's.
    fn take_outcome<R>(
        &mut self,
        generation: u64,
        outcome: &Outcome<R>,
        now_ms: f64,
        jitter: f64,
    ) -> Next {
        if generation != self.generation || !self.state.is_polling() {
            return match self.next_at_ms {
                Some(at) => Next::Wake((at - now_ms).max(0.0)),
                None => Next::Idle,
            };
        }
        if self.expire_if_due(now_ms) {
            return Next::Idle;
        }
        match outcome {
            Outcome::Report(_) => {
                self.state = ConnState::Live;
                self.consecutive_failures = 0;
                self.last_failure = None;
                self.last_success_ms = Some(now_ms);
                self.schedule(self.next_interval_ms(now_ms), now_ms)
            }
            Outcome::Http {
                status: 429,
                retry_after_ms,
            } => {
                let delay = match retry_after_ms {
                    Some(wait) if wait.is_finite() => {
                        self.consecutive_failures += 1;
                        wait.clamp(RETRY_AFTER_BOUNDS_MS.0, RETRY_AFTER_BOUNDS_MS.1)
                    }
                    _ => self.backoff(jitter),
                };
                self.fail(Failure::Http(429), delay, now_ms)
            }
            Outcome::Http { status, .. } if (400..500).contains(status) => {
                self.state = ConnState::TokenRejected;
                self.rejection = Some(Rejection::Http(*status));
                self.next_at_ms = None;
                Next::Idle
            }
            Outcome::Http { status, .. } => {
                let delay = self.backoff(jitter);
                self.fail(Failure::Http(*status), delay, now_ms)
            }
            Outcome::BadBody(error) => {
                let delay = self.backoff(jitter);
                self.fail(Failure::BadBody(error.clone()), delay, now_ms)
            }
            Outcome::Network => {
                let delay = self.backoff(jitter);
                self.fail(Failure::Network, delay, now_ms)
            }
            Outcome::Timeout => {
                let delay = self.backoff(jitter);
                self.fail(Failure::Timeout, delay, now_ms)
            }
        }
    }

    /// A result another tab's request brought (shared polling, see
    /// [`crate::core::share`]): once this tab's token is proven, the state
    /// follows it as if this tab had made the request. Either way the next
    /// request is due when the leader said, and the timer wakes no later
    /// than the next proof is due.
    pub fn on_shared<R>(&mut self, outcome: &Outcome<R>, next_in_ms: f64, now_ms: f64) -> Next {
        if !self.state.is_polling() {
            return Next::Idle;
        }
        if self.proven {
            // The jitter is irrelevant: the leader's delay replaces the backoff.
            let next = self.take_outcome(self.generation, outcome, now_ms, 0.5);
            if !self.state.is_polling() {
                return next;
            }
        } else if self.expire_if_due(now_ms) {
            return Next::Idle;
        }
        match self.schedule(next_in_ms, now_ms) {
            Next::Wake(delay) => Next::Wake(delay.min(self.proof_due_in(now_ms))),
            Next::Idle => Next::Idle,
        }
    }

    /// The wait after a success: the next request is due one interval
    /// after the last one was *due*, a fixed grid whatever the request's
    /// latency and however late the browser ran the timer; but at least
    /// half an interval after this answer, so a slow service is never asked
    /// back to back.
    ///
    /// Measuring from the answer instead drifts by the latency every time,
    /// and in a background tab that costs a whole second: Firefox runs a
    /// background tab's timers in one batch at most once a second, and a
    /// timer due a few milliseconds after a batch waits for the next one.
    /// A due time on the grid is never later than the batch that follows.
    fn next_interval_ms(&self, now_ms: f64) -> f64 {
        let since_due = self.sent_due_ms.map_or(0.0, |due| (now_ms - due).max(0.0));
        (self.interval_ms - since_due).max(self.interval_ms / 2.0)
    }

    /// How long until this tab's next proof is due.
    fn proof_due_in(&self, now_ms: f64) -> f64 {
        self.prove_at_ms
            .map_or(f64::INFINITY, |at| (at - now_ms).max(0.0))
    }

    /// The timer fired while another tab polls. Only this tab's token
    /// matters then: its expiry, and its proof when due; the time the next
    /// request is due stays, for the moment this tab takes over. Wakes
    /// again at the expiry or the next proof, whichever comes first.
    pub fn on_timer_following(&mut self, now_ms: f64) -> Following {
        if !self.state.is_polling() {
            return Following::Wait(Next::Idle);
        }
        if self.expire_if_due(now_ms) {
            return Following::Wait(Next::Idle);
        }
        if self.prove_at_ms.is_some_and(|at| now_ms >= at) {
            self.prove_at_ms = Some(now_ms + REQUEST_TIMEOUT_MS);
            return Following::Prove(self.generation);
        }
        let until_expiry = self.expires_at_ms.map_or(f64::INFINITY, |exp| exp - now_ms);
        let wait = until_expiry.min(self.proof_due_in(now_ms));
        if wait.is_finite() {
            Following::Wait(Next::Wake(wait.max(0.0)))
        } else {
            Following::Wait(Next::Idle)
        }
    }

    /// The wait until the next request is due, for a tab that takes over
    /// the polling: at once if nothing was scheduled.
    pub fn due_in_ms(&self, now_ms: f64) -> Option<f64> {
        if !self.state.is_polling() {
            return None;
        }
        Some(self.next_at_ms.map_or(0.0, |at| (at - now_ms).max(0.0)))
    }

    fn fail(&mut self, failure: Failure, delay_ms: f64, now_ms: f64) -> Next {
        self.state = ConnState::Retrying;
        self.last_failure = Some(failure);
        self.schedule(delay_ms, now_ms)
    }

    /// Counts a failure and returns its jittered backoff.
    fn backoff(&mut self, jitter: f64) -> f64 {
        self.consecutive_failures += 1;
        backoff_ms(self.consecutive_failures, jitter)
    }
}

/// The wait after the n-th consecutive failure (n >= 1), with "equal
/// jitter": uniformly between half and all of `min(60 s, 2 s × 2^(n-1))`.
pub fn backoff_ms(failures: u32, jitter: f64) -> f64 {
    let exponent = failures.saturating_sub(1).min(16);
    let ceiling = (FIRST_BACKOFF_MS * f64::from(1u32 << exponent)).min(MAX_BACKOFF_MS);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    ceiling / 2.0 + ceiling / 2.0 * jitter
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::status::Status;

    fn claims(exp_ms: Option<f64>) -> Option<Result<TokenClaims, TokenError>> {
        Some(Ok(TokenClaims {
            stream_id: Some("stream".into()),
            expires_at_ms: exp_ms,
        }))
    }

    fn report() -> Outcome {
        Outcome::Report(HealthReport {
            updated_at_ms: Some(1),
            session_avg_ms: Some(384.0),
            deviation_ms: Some(12.0),
            status: Status::Excellent,
        })
    }

    fn http(status: u16) -> Outcome {
        Outcome::Http {
            status,
            retry_after_ms: None,
        }
    }

    #[test]
    fn a_delayed_start_keeps_its_phase_on_the_grid() {
        let mut poller = Poller::new(2000.0);
        assert_eq!(poller.set_token(claims(None), 100.0), Next::Wake(0.0));
        assert_eq!(poller.delay_start(1500.0, 100.0), Next::Wake(1500.0));
        assert_eq!(poller.next_at_ms(), Some(1600.0));
        assert_eq!(poller.state(), ConnState::Connecting);
        // The timer ran 30 ms late and the answer took 200 ms: the next
        // request is due one interval after the delayed start, not after
        // the token was set.
        let generation = match poller.on_timer(1630.0) {
            Step::Fetch(generation) => generation,
            Step::Stop => panic!("the delayed first request must go out"),
        };
        let next = poller.on_outcome(generation, &report(), 1830.0, 0.5);
        assert_eq!(next, Next::Wake(1770.0));
        assert_eq!(poller.next_at_ms(), Some(3600.0));
        // Once the first request is out, or with no token, nothing moves.
        assert_eq!(poller.delay_start(1000.0, 1830.0), Next::Wake(1770.0));
        let mut idle = Poller::new(2000.0);
        assert_eq!(idle.delay_start(1000.0, 0.0), Next::Idle);
    }

    #[test]
    fn a_delayed_start_never_passes_the_expiry_nor_takes_odd_delays() {
        let mut poller = Poller::new(2000.0);
        poller.set_token(claims(Some(1000.0)), 0.0);
        assert_eq!(poller.delay_start(1500.0, 0.0), Next::Wake(1000.0));
        let mut poller = Poller::new(2000.0);
        poller.set_token(claims(None), 0.0);
        assert_eq!(poller.delay_start(f64::NAN, 0.0), Next::Wake(0.0));
        assert_eq!(poller.delay_start(-5.0, 0.0), Next::Wake(0.0));
    }

    fn live_poller() -> Poller {
        let mut poller = Poller::new(5000.0);
        poller.set_token(claims(None), 0.0);
        poller.on_timer(0.0);
        poller
    }

    #[test]
    fn no_token_means_no_polling() {
        let mut poller = Poller::new(5000.0);
        assert_eq!(poller.set_token(None, 0.0), Next::Idle);
        assert_eq!(poller.state(), ConnState::WaitingToken);
        assert_eq!(poller.on_timer(10.0), Step::Stop);
    }

    #[test]
    fn first_poll_goes_out_at_once() {
        let mut poller = Poller::new(5000.0);
        assert_eq!(poller.set_token(claims(None), 100.0), Next::Wake(0.0));
        assert_eq!(poller.state(), ConnState::Connecting);
        assert_eq!(poller.on_timer(100.0), Step::Fetch(1));
    }

    #[test]
    fn success_schedules_the_next_request_one_interval_after_the_last_was_due() {
        let mut poller = live_poller();
        // Sent at 0, answered at 700: the next is due at 5000, not 5700.
        assert_eq!(
            poller.on_outcome(1, &report(), 700.0, 0.5),
            Next::Wake(4300.0)
        );
        assert_eq!(poller.state(), ConnState::Live);
        assert_eq!(poller.next_at_ms(), Some(5000.0));
        assert_eq!(poller.last_success_ms(), Some(700.0));
        // The timer ran 40 ms late (a background tab's batch): the grid
        // stays, the next request is due at 10 000.
        assert_eq!(poller.on_timer(5040.0), Step::Fetch(1));
        assert_eq!(
            poller.on_outcome(1, &report(), 5060.0, 0.5),
            Next::Wake(4940.0)
        );
        assert_eq!(poller.next_at_ms(), Some(10_000.0));
    }

    #[test]
    fn a_slow_answer_still_waits_half_an_interval() {
        let mut poller = live_poller();
        // Sent at 0, answered after 4.5 s of a 5 s interval.
        assert_eq!(
            poller.on_outcome(1, &report(), 4500.0, 0.5),
            Next::Wake(2500.0)
        );
        assert_eq!(poller.on_timer(7000.0), Step::Fetch(1));
        // Answered after 12 s (the request's own timeout is 10 s, but a
        // settled answer may come late): still half an interval.
        assert_eq!(
            poller.on_outcome(1, &report(), 19_000.0, 0.5),
            Next::Wake(2500.0)
        );
    }

    #[test]
    fn a_follower_takes_the_leaders_result_and_pace() {
        let mut poller = Poller::new(5000.0);
        poller.set_token(claims(None), 0.0);
        prove(&mut poller, 50.0);
        // The leader's request succeeded; its next one is in 3 s.
        assert_eq!(
            poller.on_shared(&report(), 3000.0, 100.0),
            Next::Wake(3000.0)
        );
        assert_eq!(poller.state(), ConnState::Live);
        assert_eq!(poller.last_success_ms(), Some(100.0));
        // A failure shared by the leader: retrying, at the leader's pace,
        // not at a backoff of this tab's own.
        assert_eq!(
            poller.on_shared(&http(503), 8000.0, 3100.0),
            Next::Wake(8000.0)
        );
        assert_eq!(poller.state(), ConnState::Retrying);
        assert_eq!(poller.last_failure(), Some(&Failure::Http(503)));
        assert_eq!(poller.due_in_ms(5100.0), Some(6000.0));
        // The follower's timer leaves the due time for a take-over, and
        // wakes next for the token's next proof.
        assert_eq!(
            poller.on_timer_following(11_200.0),
            Following::Wait(Next::Wake(50.0 + TOKEN_PROOF_MS - 11_200.0))
        );
        assert_eq!(poller.due_in_ms(11_200.0), Some(0.0));
        assert_eq!(poller.state(), ConnState::Retrying);
    }

    #[test]
    fn a_follower_still_expires_on_its_own_token() {
        let mut poller = Poller::new(5000.0);
        poller.set_token(claims(Some(10_000.0)), 0.0);
        prove(&mut poller, 50.0);
        assert_eq!(
            poller.on_shared(&report(), 5000.0, 1000.0),
            Next::Wake(5000.0)
        );
        // Between leader messages the follower wakes for its expiry.
        assert_eq!(
            poller.on_timer_following(6000.0),
            Following::Wait(Next::Wake(4000.0))
        );
        assert_eq!(
            poller.on_timer_following(10_000.0),
            Following::Wait(Next::Idle)
        );
        assert_eq!(poller.state(), ConnState::TokenExpired);
        assert_eq!(poller.due_in_ms(10_000.0), None);
        // Results from the leader no longer move it.
        assert_eq!(poller.on_shared(&report(), 5000.0, 10_500.0), Next::Idle);
        assert_eq!(poller.state(), ConnState::TokenExpired);
    }

    /// This tab's own first request answered 2xx at `at`.
    fn prove(poller: &mut Poller, at: f64) {
        assert_eq!(poller.on_timer(0.0), Step::Fetch(poller.generation()));
        poller.on_outcome(poller.generation(), &report(), at, 0.5);
        assert!(poller.is_proven());
    }

    #[test]
    fn a_follower_takes_shared_results_only_once_its_token_is_proven() {
        let mut poller = Poller::new(1000.0);
        poller.set_token(claims(None), 0.0);
        assert!(!poller.is_proven());
        assert_eq!(poller.on_timer(0.0), Step::Fetch(1));
        // The leader's result comes first: not taken, and the timer
        // wakes no later than the proof (its own request) is due.
        assert_eq!(
            poller.on_shared(&report(), 1000.0, 100.0),
            Next::Wake(1000.0)
        );
        assert_eq!(poller.state(), ConnState::Connecting);
        assert_eq!(poller.last_success_ms(), None);
        // While its own request is out, the follower's timer sends no other.
        assert_eq!(
            poller.on_timer_following(1100.0),
            Following::Wait(Next::Wake(REQUEST_TIMEOUT_MS - 1100.0))
        );
        poller.on_outcome(1, &report(), 1200.0, 0.5);
        assert!(poller.is_proven());
        assert_eq!(
            poller.on_shared(&report(), 800.0, 1300.0),
            Next::Wake(800.0)
        );
        assert_eq!(poller.last_success_ms(), Some(1300.0));
    }

    #[test]
    fn a_rejection_on_a_proof_stops_the_follower() {
        for status in [401, 403, 404] {
            let mut poller = Poller::new(1000.0);
            poller.set_token(claims(None), 0.0);
            assert_eq!(poller.on_timer(0.0), Step::Fetch(1));
            poller.on_shared(&report(), 1000.0, 50.0);
            assert_eq!(poller.on_outcome(1, &http(status), 100.0, 0.5), Next::Idle);
            assert_eq!(poller.state(), ConnState::TokenRejected);
            assert_eq!(poller.rejection(), Some(Rejection::Http(status)));
            assert_eq!(poller.on_shared(&report(), 1000.0, 200.0), Next::Idle);
            assert_eq!(poller.state(), ConnState::TokenRejected);
        }
    }

    #[test]
    fn a_follower_proves_its_token_again_every_period() {
        let mut poller = Poller::new(1000.0);
        poller.set_token(claims(None), 0.0);
        prove(&mut poller, 100.0);
        let due = 100.0 + TOKEN_PROOF_MS;
        assert_eq!(
            poller.on_shared(&report(), 1000.0, due - 10.0),
            Next::Wake(10.0)
        );
        assert_eq!(
            poller.on_timer_following(due - 1.0),
            Following::Wait(Next::Wake(1.0))
        );
        assert_eq!(poller.on_timer_following(due), Following::Prove(1));
        // One proof at a time.
        assert!(matches!(
            poller.on_timer_following(due + 500.0),
            Following::Wait(Next::Wake(_))
        ));
        // The signing key was deleted meanwhile.
        assert_eq!(
            poller.on_outcome(1, &http(401), due + 600.0, 0.5),
            Next::Idle
        );
        assert_eq!(poller.state(), ConnState::TokenRejected);
    }

    #[test]
    fn a_failed_proof_that_says_nothing_of_the_token_retries_and_keeps_following() {
        let mut poller = Poller::new(1000.0);
        poller.set_token(claims(None), 0.0);
        prove(&mut poller, 100.0);
        let due = 100.0 + TOKEN_PROOF_MS;
        assert_eq!(poller.on_timer_following(due), Following::Prove(1));
        // jitter 0: half of the first 2 s backoff step.
        poller.on_outcome(1, &Outcome::<HealthReport>::Network, due + 100.0, 0.0);
        assert!(poller.is_proven());
        assert_eq!(
            poller.on_shared(&report(), 1000.0, due + 200.0),
            Next::Wake(900.0)
        );
        assert_eq!(poller.state(), ConnState::Live);
        assert_eq!(poller.on_timer_following(due + 1200.0), Following::Prove(1));
    }

    #[test]
    fn a_new_token_is_proven_before_shared_results_show_again() {
        let mut poller = Poller::new(1000.0);
        poller.set_token(claims(None), 0.0);
        prove(&mut poller, 100.0);
        assert_eq!(poller.set_token(claims(None), 500.0), Next::Wake(0.0));
        assert!(!poller.is_proven());
        // Following, the timer sends the new token's proof.
        assert_eq!(poller.on_timer_following(500.0), Following::Prove(2));
        poller.on_shared(&report(), 1000.0, 600.0);
        assert_eq!(poller.state(), ConnState::Connecting);
    }

    #[test]
    fn without_a_token_shared_results_are_ignored() {
        let mut poller = Poller::new(5000.0);
        assert_eq!(poller.on_shared(&report(), 5000.0, 0.0), Next::Idle);
        assert_eq!(poller.state(), ConnState::WaitingToken);
        assert_eq!(poller.due_in_ms(0.0), None);
    }

    #[test]
    fn backoff_sequence_doubles_to_a_60_second_cap() {
        let ceilings: Vec<f64> = (1..=9).map(|n| backoff_ms(n, 1.0)).collect();
        assert_eq!(
            ceilings,
            vec![
                2000.0, 4000.0, 8000.0, 16_000.0, 32_000.0, 60_000.0, 60_000.0, 60_000.0, 60_000.0
            ]
        );
        assert_eq!(backoff_ms(1, 0.0), 1000.0);
        assert_eq!(backoff_ms(6, 0.0), 30_000.0);
        assert_eq!(backoff_ms(u32::MAX, 0.5), 45_000.0);
        assert_eq!(backoff_ms(3, f64::NAN), 6000.0);
    }

    #[test]
    fn retryable_failures_back_off_then_success_resets() {
        let mut poller = live_poller();
        let failures = [
            Outcome::Network,
            Outcome::Timeout,
            http(500),
            http(502),
            http(503),
            Outcome::BadBody(ResponseError::NotJson),
        ];
        let mut expected = Vec::new();
        let mut got = Vec::new();
        for (i, failure) in failures.iter().enumerate() {
            got.push(poller.on_outcome(1, failure, 0.0, 1.0));
            expected.push(Next::Wake(backoff_ms(i as u32 + 1, 1.0)));
            assert_eq!(poller.state(), ConnState::Retrying);
            assert_eq!(poller.on_timer(0.0), Step::Fetch(1));
        }
        assert_eq!(got, expected);
        assert_eq!(
            poller.on_outcome(1, &report(), 0.0, 1.0),
            Next::Wake(5000.0)
        );
        assert_eq!(poller.consecutive_failures(), 0);
        assert_eq!(
            poller.on_outcome(1, &Outcome::<HealthReport>::Network, 0.0, 1.0),
            Next::Wake(2000.0)
        );
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let mut poller = live_poller();
        let outcome: Outcome = Outcome::Http {
            status: 429,
            retry_after_ms: Some(3000.0),
        };
        assert_eq!(poller.on_outcome(1, &outcome, 0.0, 0.0), Next::Wake(3000.0));
        assert_eq!(poller.state(), ConnState::Retrying);
        let tiny: Outcome = Outcome::Http {
            status: 429,
            retry_after_ms: Some(0.0),
        };
        assert_eq!(poller.on_outcome(1, &tiny, 0.0, 0.0), Next::Wake(1000.0));
        let huge: Outcome = Outcome::Http {
            status: 429,
            retry_after_ms: Some(1e12),
        };
        assert_eq!(
            poller.on_outcome(1, &huge, 0.0, 0.0),
            Next::Wake(3_600_000.0)
        );
    }

    #[test]
    fn too_many_requests_without_retry_after_backs_off() {
        let mut poller = live_poller();
        assert_eq!(
            poller.on_outcome(1, &http(429), 0.0, 1.0),
            Next::Wake(2000.0)
        );
        assert_eq!(
            poller.on_outcome(1, &http(429), 0.0, 1.0),
            Next::Wake(4000.0)
        );
    }

    #[test]
    fn client_errors_stop_until_a_new_token() {
        for status in [400, 401, 403, 404, 410, 418] {
            let mut poller = live_poller();
            assert_eq!(
                poller.on_outcome(1, &http(status), 0.0, 0.5),
                Next::Idle,
                "{status}"
            );
            assert_eq!(poller.state(), ConnState::TokenRejected);
            assert_eq!(poller.rejection(), Some(Rejection::Http(status)));
            assert_eq!(poller.on_timer(10_000.0), Step::Stop);
            assert_eq!(poller.set_token(claims(None), 20_000.0), Next::Wake(0.0));
            assert_eq!(poller.state(), ConnState::Connecting);
            assert_eq!(poller.rejection(), None);
        }
    }

    #[test]
    fn malformed_token_is_rejected_without_a_request() {
        let mut poller = Poller::new(5000.0);
        let next = poller.set_token(Some(Err(TokenError::NotAJwt)), 0.0);
        assert_eq!(next, Next::Idle);
        assert_eq!(poller.state(), ConnState::TokenRejected);
        assert_eq!(
            poller.rejection(),
            Some(Rejection::Malformed(TokenError::NotAJwt))
        );
    }

    #[test]
    fn expired_token_never_polls() {
        let mut poller = Poller::new(5000.0);
        assert_eq!(poller.set_token(claims(Some(1000.0)), 1000.0), Next::Idle);
        assert_eq!(poller.state(), ConnState::TokenExpired);
    }

    #[test]
    fn waits_are_cut_short_at_expiry_and_expiry_stops() {
        let mut poller = Poller::new(5000.0);
        poller.set_token(claims(Some(3000.0)), 0.0);
        assert_eq!(poller.on_timer(0.0), Step::Fetch(1));
        assert_eq!(
            poller.on_outcome(1, &report(), 500.0, 0.5),
            Next::Wake(2500.0)
        );
        assert_eq!(poller.on_timer(3000.0), Step::Stop);
        assert_eq!(poller.state(), ConnState::TokenExpired);
    }

    #[test]
    fn an_answer_arriving_after_expiry_does_not_revive_polling() {
        let mut poller = Poller::new(5000.0);
        poller.set_token(claims(Some(3000.0)), 0.0);
        poller.on_timer(2900.0);
        assert_eq!(poller.on_outcome(1, &report(), 3100.0, 0.5), Next::Idle);
        assert_eq!(poller.state(), ConnState::TokenExpired);
    }

    #[test]
    fn outcomes_of_a_replaced_token_are_ignored() {
        let mut poller = live_poller();
        assert_eq!(poller.set_token(claims(None), 100.0), Next::Wake(0.0));
        let next = poller.on_outcome(1, &http(401), 100.0, 0.5);
        assert_eq!(next, Next::Wake(0.0));
        assert_eq!(poller.state(), ConnState::Connecting);
        assert_eq!(poller.on_timer(100.0), Step::Fetch(2));
    }

    #[test]
    fn interval_change_applies_to_the_next_schedule() {
        let mut poller = live_poller();
        poller.set_interval_ms(30_000.0);
        assert_eq!(
            poller.on_outcome(1, &report(), 0.0, 0.5),
            Next::Wake(30_000.0)
        );
    }
}

//! The widget's model: configuration, the poller, the latest report and the
//! stream being watched, plus [`Monitor::view`], which turns them into what
//! the page shows. The Leptos shell holds a `Monitor` in one signal and the
//! [`History`] in another (the ring can hold a day of samples, so it is
//! borrowed, never cloned), feeds events in and renders the [`View`].

use crate::core::advice;
use crate::core::api::HealthReport;
use crate::core::format::{format_duration, format_ms};
use crate::core::history::{History, Sample};
use crate::core::params::{Config, Notice};
use crate::core::poll::{
    ConnState, Failure, Following, Next, Outcome, Poller, Rejection, Step, REQUEST_TIMEOUT_MS,
};
use crate::core::share::share_key;
use crate::core::status::Status;
use crate::core::token::read_claims;

/// Data older than this (or three intervals, if longer) is marked stale.
pub const STALE_DATA_MS: f64 = 60_000.0;
/// The expiry countdown shows when less than this is left.
pub const EXPIRY_WARNING_MS: f64 = 3_600_000.0;

/// Everything the widget knows, in plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct Monitor {
    config: Config,
    notices: Vec<Notice>,
    poller: Poller,
    token: Option<String>,
    stream_id: Option<String>,
    latest: Option<HealthReport>,
    role: Role,
}

/// Who makes the requests for this tab (see [`crate::core::share`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Role {
    /// This tab polls for itself: sharing is unavailable or not wanted.
    #[default]
    Solo,
    /// This tab polls, and shares the results with other tabs.
    Leader,
    /// Another tab polls and this one renders its results.
    Follower,
}

impl Role {
    /// The `data-poller` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Solo => "solo",
            Role::Leader => "leader",
            Role::Follower => "follower",
        }
    }
}

/// What the page shows, derived from a [`Monitor`] at a given time.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// `data-status`.
    pub status: Status,
    /// `data-state`.
    pub state: ConnState,
    /// Session average drift, ms.
    pub session_avg_ms: Option<f64>,
    /// Deviation from the rolling average, ms.
    pub deviation_ms: Option<f64>,
    /// Formatted session average (an em dash when unknown).
    pub session_avg_text: String,
    /// Formatted deviation (an em dash when unknown).
    pub deviation_text: String,
    /// "Updated 4 s ago", when there is data.
    pub updated_text: Option<String>,
    /// The values shown are old or the last poll failed.
    pub stale: bool,
    /// A short state label: "Live", "Retrying in 8 s", …
    pub state_text: String,
    /// A sentence for the streamer, when there is something to say.
    pub message: Option<String>,
    /// "Link expires in 42 min", in the last hour.
    pub expiry_text: Option<String>,
    /// What the status or state means for the streamer and what to do.
    pub advice: &'static str,
    /// Who polls for this tab.
    pub role: Role,
}

impl Monitor {
    /// A monitor for a configuration; call [`Monitor::start`] next.
    pub fn new(config: Config, notices: Vec<Notice>) -> Monitor {
        Monitor {
            poller: {
                let mut poller = Poller::new(config.interval_ms);
                poller.set_proof_period_ms(config.token_proof_ms);
                poller
            },
            config,
            notices,
            token: None,
            stream_id: None,
            latest: None,
            role: Role::Solo,
        }
    }

    /// Starts with the URL's token, if any.
    pub fn start(&mut self, history: &mut History, now_ms: f64) -> Next {
        let token = self.config.token.clone();
        self.set_token(token, history, now_ms)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// Parameter notices.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }
    /// The poller.
    pub fn poller(&self) -> &Poller {
        &self.poller
    }
    /// The latest usable report.
    pub fn latest(&self) -> Option<&HealthReport> {
        self.latest.as_ref()
    }
    /// The token in use. A credential: compared, never logged or posted.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
    /// The stream watched (`sub` of the token), when known.
    pub fn stream_id(&self) -> Option<&str> {
        self.stream_id.as_deref()
    }

    /// Sets or replaces the token. History and the latest values are kept
    /// when the new token is for the same stream, and dropped otherwise.
    pub fn set_token(&mut self, token: Option<String>, history: &mut History, now_ms: f64) -> Next {
        let token = token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let claims = token.as_deref().map(read_claims);
        let stream_id = claims
            .as_ref()
            .and_then(|c| c.as_ref().ok())
            .and_then(|c| c.stream_id.clone());
        let same_stream = stream_id.is_some() && stream_id == self.stream_id;
        if !same_stream {
            history.clear();
            self.latest = None;
        }
        self.stream_id = stream_id;
        self.token = token;
        self.poller.set_token(claims, now_ms)
    }

    /// Changes the poll interval (milliseconds).
    pub fn set_interval_ms(&mut self, interval_ms: f64) {
        self.config.interval_ms = interval_ms;
        self.poller.set_interval_ms(interval_ms);
    }

    /// Puts the token's first request `delay_ms` later (see
    /// [`crate::core::poll::Poller::delay_start`]).
    pub fn delay_start(&mut self, delay_ms: f64, now_ms: f64) -> Next {
        self.poller.delay_start(delay_ms, now_ms)
    }

    /// The timer fired.
    pub fn on_timer(&mut self, now_ms: f64) -> Step {
        self.poller.on_timer(now_ms)
    }

    /// The URL for the next request, while there is a token.
    pub fn request_url(&self) -> Option<String> {
        self.token
            .as_deref()
            .map(|token| self.config.endpoint.health_url(token))
    }

    /// A request settled: updates the poller, the latest values and history.
    pub fn on_outcome(
        &mut self,
        generation: u64,
        outcome: &Outcome,
        history: &mut History,
        now_ms: f64,
        jitter: f64,
    ) -> Next {
        let current = generation == self.poller.generation() && self.poller.state().is_polling();
        let next = self.poller.on_outcome(generation, outcome, now_ms, jitter);
        if current {
            self.record(outcome, history, now_ms);
        }
        next
    }

    /// Another tab's request settled (shared polling): the same as this
    /// tab's own, with the leader's time for the next request, once this
    /// tab's own token is proven (see [`crate::core::poll`]); before that
    /// it is not shown and leaves no sample.
    pub fn on_shared(
        &mut self,
        outcome: &Outcome,
        next_in_ms: f64,
        history: &mut History,
        now_ms: f64,
    ) -> Next {
        if !self.poller.state().is_polling() {
            return Next::Idle;
        }
        let proven = self.poller.is_proven();
        let next = self.poller.on_shared(outcome, next_in_ms, now_ms);
        if proven {
            self.record(outcome, history, now_ms);
        }
        next
    }

    /// The timer fired while another tab polls for this one.
    pub fn on_timer_following(&mut self, now_ms: f64) -> Following {
        self.poller.on_timer_following(now_ms)
    }

    /// Who polls for this tab.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Records who polls for this tab.
    pub fn set_role(&mut self, role: Role) {
        self.role = role;
    }

    /// The shared-polling key for what this tab watches, while it polls:
    /// tabs with the same key share one poller.
    pub fn share_key(&self) -> Option<String> {
        if !self.poller.state().is_polling() {
            return None;
        }
        let stream_id = self.stream_id.as_deref()?;
        Some(share_key(self.config.endpoint.base(), stream_id))
    }

    fn record(&mut self, outcome: &Outcome, history: &mut History, now_ms: f64) {
        match outcome {
            Outcome::Report(report) if self.poller.state() == ConnState::Live => {
                history.push(Sample {
                    received_ms: now_ms,
                    updated_at_ms: report.updated_at_ms,
                    session_avg_ms: report.session_avg_ms,
                    deviation_ms: report.deviation_ms,
                    status: report.status,
                });
                self.latest = Some(report.clone());
            }
            _ if self.poller.state() == ConnState::Retrying => history.mark_gap(now_ms),
            _ => {}
        }
        history.prune(now_ms);
    }

    /// What to show at `now_ms`.
    pub fn view(&self, now_ms: f64) -> View {
        let state = self.poller.state();
        let shows_data = matches!(
            state,
            ConnState::Live | ConnState::Retrying | ConnState::Connecting
        );
        let latest = self.latest.as_ref().filter(|_| shows_data);
        let status = latest.map_or(Status::Unknown, |r| r.status);
        let session_avg_ms = latest.and_then(|r| r.session_avg_ms);
        let deviation_ms = latest.and_then(|r| r.deviation_ms);
        let interval = self.poller.interval_ms();

        let data_age_ms = latest
            .and_then(|r| r.updated_at_ms)
            .map(|at| (now_ms - at as f64).max(0.0));
        let since_success_ms = self
            .poller
            .last_success_ms()
            .map(|at| (now_ms - at).max(0.0));
        let stale = latest.is_some()
            && (state == ConnState::Retrying
                || data_age_ms.is_some_and(|age| age > STALE_DATA_MS.max(3.0 * interval))
                || since_success_ms
                    .is_some_and(|age| age > interval + REQUEST_TIMEOUT_MS + 2_000.0));
        let updated_text = latest.map(|_| match data_age_ms.or(since_success_ms) {
            Some(age) => format!("Updated {} ago", format_duration(age / 1000.0)),
            None => "Updated just now".to_string(),
        });

        let seconds_to_next = self
            .poller
            .next_at_ms()
            .map(|at| ((at - now_ms) / 1000.0).ceil().max(0.0));
        let state_text = match state {
            ConnState::WaitingToken => "Waiting for a token".to_string(),
            ConnState::Connecting => "Connecting".to_string(),
            ConnState::Live => "Live".to_string(),
            ConnState::Retrying => match seconds_to_next {
                Some(s) if s > 0.0 => format!("Retrying in {}", format_duration(s)),
                _ => "Retrying now".to_string(),
            },
            ConnState::TokenRejected => "Token rejected".to_string(),
            ConnState::TokenExpired => "Link expired".to_string(),
        };

        let message = match state {
            ConnState::WaitingToken => Some(
                "Waiting for a token. Open this monitor with a link that carries #token=…, \
                 or let the host page send one."
                    .to_string(),
            ),
            ConnState::Connecting => None,
            ConnState::Live if status == Status::Unknown => Some(
                "No recent data for this stream: it looks inactive. If you are live, check that \
                 your encoder is connected."
                    .to_string(),
            ),
            ConnState::Live => None,
            ConnState::Retrying => {
                Some(retry_message(self.poller.last_failure(), latest.is_some()))
            }
            ConnState::TokenRejected => Some(rejection_message(self.poller.rejection())),
            ConnState::TokenExpired => Some(
                "This monitor link has expired. Ask your platform (or the page that embeds this \
                 monitor) for a new link."
                    .to_string(),
            ),
        };

        let expiry_text = match (state.is_polling(), self.poller.expires_at_ms()) {
            (true, Some(exp)) if exp - now_ms < EXPIRY_WARNING_MS => Some(format!(
                "Link expires in {}",
                format_duration(((exp - now_ms) / 1000.0).max(0.0))
            )),
            _ => None,
        };

        let advice = match advice::for_state(state) {
            Some(advice) if state != ConnState::Connecting => advice,
            _ => advice::for_status(status),
        };
        View {
            role: self.role,
            advice,
            status,
            state,
            session_avg_ms,
            deviation_ms,
            session_avg_text: session_avg_ms.map_or("\u{2014}".into(), format_ms),
            deviation_text: deviation_ms.map_or("\u{2014}".into(), format_ms),
            updated_text,
            stale,
            state_text,
            message,
            expiry_text,
        }
    }
}

fn retry_message(failure: Option<&Failure>, has_values: bool) -> String {
    let what = match failure {
        Some(Failure::Network) | None => "Cannot reach the stats service".to_string(),
        Some(Failure::Timeout) => "The stats service did not answer in time".to_string(),
        Some(Failure::Http(429)) => "The stats service asked us to slow down".to_string(),
        Some(Failure::Http(status)) => format!("The stats service had an error (HTTP {status})"),
        Some(Failure::BadBody(error)) => error.describe().trim_end_matches('.').to_string(),
    };
    if has_values {
        format!("{what}. Showing the last values we had; retrying automatically.")
    } else {
        format!("{what}. Retrying automatically.")
    }
}

fn rejection_message(rejection: Option<Rejection>) -> String {
    const ASK: &str =
        "Ask your platform (or the page that embeds this monitor) for a new monitor link.";
    match rejection {
        Some(Rejection::Malformed(error)) => format!("{} {ASK}", error.describe()),
        Some(Rejection::Http(401)) => format!(
            "The stats service rejected this token (HTTP 401): it may be revoked, signed with a \
             deleted key, or meant for another environment. {ASK}"
        ),
        Some(Rejection::Http(403)) => format!(
            "The stats service does not allow this token to read this stream (HTTP 403). {ASK}"
        ),
        Some(Rejection::Http(404)) => format!(
            "The stats service does not know this live stream (HTTP 404). Check that the link \
             is for the right stream. {ASK}"
        ),
        Some(Rejection::Http(status)) => {
            format!("The stats service refused the request (HTTP {status}). {ASK}")
        }
        None => format!("This token cannot be used. {ASK}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::api::ResponseError;
    use crate::core::params::parse;
    use crate::core::token::tests::token_with;

    fn monitor_with(token_payload: Option<&str>) -> (Monitor, History) {
        let (config, notices) = parse("", "interval=5");
        let mut monitor = Monitor::new(config, notices);
        let mut history = History::new(60);
        let token = token_payload.map(token_with);
        monitor.set_token(token, &mut history, 0.0);
        (monitor, history)
    }

    fn report(status: Status, deviation: f64, updated_at_ms: i64) -> Outcome {
        Outcome::Report(HealthReport {
            updated_at_ms: Some(updated_at_ms),
            session_avg_ms: Some(384.0),
            deviation_ms: Some(deviation),
            status,
        })
    }

    #[test]
    fn each_state_has_its_data_state_and_message() {
        let (monitor, _) = monitor_with(None);
        let view = monitor.view(0.0);
        assert_eq!(
            (view.state, view.status),
            (ConnState::WaitingToken, Status::Unknown)
        );
        assert!(view
            .message
            .is_some_and(|m| m.contains("Waiting for a token")));

        let (monitor, _) = monitor_with(Some("not json"));
        let view = monitor.view(0.0);
        assert_eq!(view.state, ConnState::TokenRejected);
        assert!(view.message.is_some_and(|m| m.contains("malformed")));

        let (monitor, _) = monitor_with(Some(r#"{"sub":"s","exp":0}"#));
        let view = monitor.view(0.0);
        assert_eq!(view.state, ConnState::TokenExpired);
        assert!(view.message.is_some_and(|m| m.contains("has expired")));
    }

    #[test]
    fn a_follower_records_shared_results_like_its_own() {
        let (mut monitor, mut history) = monitor_with(Some(r#"{"sub":"s"}"#));
        assert_eq!(
            monitor.share_key().as_deref(),
            Some("live-stream-health:v1:poll:https://stats.mux.com:s")
        );
        monitor.set_role(Role::Follower);
        // Its own first request proves the token.
        assert_eq!(monitor.on_timer(0.0), Step::Fetch(1));
        let own = report(Status::Excellent, 12.0, 500);
        monitor.on_outcome(1, &own, &mut history, 500.0, 0.5);
        let next = monitor.on_shared(
            &report(Status::Poor, 1500.0, 1000),
            4000.0,
            &mut history,
            1000.0,
        );
        assert_eq!(next, Next::Wake(4000.0));
        let view = monitor.view(1000.0);
        assert_eq!((view.state, view.status), (ConnState::Live, Status::Poor));
        assert_eq!(view.role, Role::Follower);
        assert_eq!(history.sample_count(), 2);
        // A shared failure breaks the line, as this tab's own would.
        monitor.on_shared(&Outcome::Network, 8000.0, &mut history, 5000.0);
        assert_eq!(monitor.view(5000.0).state, ConnState::Retrying);
        assert!(history.entries().iter().any(|e| e.sample().is_none()));
        // Another token for another stream: another key.
        monitor.set_token(Some(token_with(r#"{"sub":"t"}"#)), &mut history, 6000.0);
        assert!(monitor.share_key().is_some_and(|k| k.ends_with(":t")));
        // Nothing to share without a stream, or once polling stopped.
        let (monitor, _) = monitor_with(Some(r#"{"exp":1}"#));
        assert_eq!(monitor.share_key(), None);
        let (monitor, _) = monitor_with(None);
        assert_eq!(monitor.share_key(), None);
    }

    #[test]
    fn a_follower_shows_nothing_shared_before_its_own_token_is_proven() {
        let (mut monitor, mut history) = monitor_with(Some(r#"{"sub":"s"}"#));
        monitor.set_role(Role::Follower);
        assert_eq!(monitor.on_timer(0.0), Step::Fetch(1));
        // The leader's result arrives before this tab's own answer.
        monitor.on_shared(
            &report(Status::Excellent, 12.0, 100),
            1000.0,
            &mut history,
            100.0,
        );
        assert_eq!(monitor.view(100.0).state, ConnState::Connecting);
        assert_eq!(history.sample_count(), 0);
        assert_eq!(monitor.latest(), None);
        // Its own answer: the token is forged.
        let forged = Outcome::Http {
            status: 401,
            retry_after_ms: None,
        };
        monitor.on_outcome(1, &forged, &mut history, 200.0, 0.5);
        assert_eq!(monitor.view(200.0).state, ConnState::TokenRejected);
        assert_eq!(monitor.share_key(), None);
        monitor.on_shared(
            &report(Status::Excellent, 12.0, 1000),
            1000.0,
            &mut history,
            1000.0,
        );
        assert_eq!(monitor.view(1000.0).state, ConnState::TokenRejected);
        assert_eq!(history.sample_count(), 0);
    }

    #[test]
    fn live_report_shows_metrics_and_enters_history() {
        let (mut monitor, mut history) = monitor_with(Some(r#"{"sub":"s"}"#));
        assert_eq!(monitor.view(0.0).state, ConnState::Connecting);
        assert_eq!(monitor.on_timer(0.0), Step::Fetch(1));
        monitor.on_outcome(
            1,
            &report(Status::Good, -800.0, 1000),
            &mut history,
            1000.0,
            0.5,
        );
        let view = monitor.view(5000.0);
        assert_eq!((view.state, view.status), (ConnState::Live, Status::Good));
        assert_eq!(view.deviation_ms, Some(-800.0));
        assert_eq!(view.deviation_text, "\u{2212}800 ms");
        assert_eq!(view.session_avg_text, "384 ms");
        assert_eq!(view.updated_text.as_deref(), Some("Updated 4 s ago"));
        assert!(!view.stale);
        assert_eq!(history.sample_count(), 1);
        assert!(view.advice.contains("slightly uneven"));
    }

    #[test]
    fn failures_keep_last_values_marked_stale_and_draw_a_gap() {
        let (mut monitor, mut history) = monitor_with(Some(r#"{"sub":"s"}"#));
        monitor.on_timer(0.0);
        monitor.on_outcome(
            1,
            &report(Status::Excellent, 12.0, 0),
            &mut history,
            0.0,
            0.5,
        );
        monitor.on_timer(5000.0);
        monitor.on_outcome(
            1,
            &Outcome::BadBody(ResponseError::NotJson),
            &mut history,
            5000.0,
            1.0,
        );
        let view = monitor.view(5000.0);
        assert_eq!(
            (view.state, view.status),
            (ConnState::Retrying, Status::Excellent)
        );
        assert!(view.stale);
        assert_eq!(view.deviation_ms, Some(12.0));
        assert_eq!(view.state_text, "Retrying in 2 s");
        assert!(view
            .message
            .is_some_and(|m| m.contains("not JSON") && m.contains("last values")));
        assert_eq!(history.entries().len(), 2);
    }

    #[test]
    fn old_data_is_stale_even_while_live() {
        let (mut monitor, mut history) = monitor_with(Some(r#"{"sub":"s"}"#));
        monitor.on_timer(0.0);
        monitor.on_outcome(
            1,
            &report(Status::Excellent, 12.0, 0),
            &mut history,
            120_000.0,
            0.5,
        );
        assert!(monitor.view(120_000.0).stale);
    }

    #[test]
    fn rejection_clears_values_and_says_what_to_do() {
        let (mut monitor, mut history) = monitor_with(Some(r#"{"sub":"s"}"#));
        monitor.on_timer(0.0);
        monitor.on_outcome(1, &report(Status::Poor, 1500.0, 0), &mut history, 0.0, 0.5);
        monitor.on_timer(5000.0);
        let rejected = Outcome::Http {
            status: 401,
            retry_after_ms: None,
        };
        monitor.on_outcome(1, &rejected, &mut history, 5000.0, 0.5);
        let view = monitor.view(5000.0);
        assert_eq!(
            (view.state, view.status),
            (ConnState::TokenRejected, Status::Unknown)
        );
        assert_eq!(view.deviation_ms, None);
        assert!(view
            .message
            .is_some_and(|m| m.contains("HTTP 401") && m.contains("new monitor link")));
    }

    #[test]
    fn token_swap_keeps_history_for_the_same_stream_only() {
        let (mut monitor, mut history) = monitor_with(Some(r#"{"sub":"s1"}"#));
        monitor.on_timer(0.0);
        monitor.on_outcome(
            1,
            &report(Status::Excellent, 1.0, 0),
            &mut history,
            0.0,
            0.5,
        );
        monitor.set_token(
            Some(token_with(r#"{"sub":"s1","exp":9999999999}"#)),
            &mut history,
            10.0,
        );
        assert_eq!(history.sample_count(), 1);
        assert_eq!(monitor.view(10.0).status, Status::Excellent);
        monitor.set_token(Some(token_with(r#"{"sub":"s2"}"#)), &mut history, 20.0);
        assert_eq!(history.sample_count(), 0);
        assert_eq!(monitor.view(20.0).deviation_ms, None);
    }

    #[test]
    fn expiry_countdown_shows_in_the_last_hour() {
        let (monitor, _) = monitor_with(Some(r#"{"sub":"s","exp":7200}"#));
        assert_eq!(monitor.view(0.0).expiry_text, None);
        assert_eq!(
            monitor
                .view(7_200_000.0 - 42.0 * 60_000.0)
                .expiry_text
                .as_deref(),
            Some("Link expires in 42 min")
        );
    }

    #[test]
    fn request_url_carries_the_token_to_the_endpoint_only() {
        let (config, notices) = parse("", "endpoint=http://127.0.0.1:9/base&token=a.b.c");
        let mut monitor = Monitor::new(config, notices);
        let mut history = History::new(60);
        monitor.start(&mut history, 0.0);
        assert_eq!(
            monitor.request_url().as_deref(),
            Some("http://127.0.0.1:9/base/live-stream-health?token=a.b.c")
        );
    }

    #[test]
    fn unknown_status_while_live_explains_itself() {
        let (mut monitor, mut history) = monitor_with(Some(r#"{"sub":"s"}"#));
        monitor.on_timer(0.0);
        monitor.on_outcome(
            1,
            &Outcome::Report(HealthReport::no_data()),
            &mut history,
            0.0,
            0.5,
        );
        let view = monitor.view(0.0);
        assert_eq!(
            (view.state, view.status),
            (ConnState::Live, Status::Unknown)
        );
        assert!(view.message.is_some_and(|m| m.contains("inactive")));
    }
}

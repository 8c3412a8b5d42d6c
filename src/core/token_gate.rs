//! How tokens from the host page (`lsh:token`) reach the poller: a repeated
//! token changes nothing, and changes are rate-limited.
//!
//! Every token change cancels the request in flight and sends a new one at
//! once (the first status must not wait). A host page that posts tokens in
//! a loop, by bug or by malice, would turn that into a request storm against
//! the streamer's quota: two thousand messages made hundreds of requests in
//! a few seconds. So:
//! - a token equal to the one in use is a no-op: no cancel, no request (and
//!   it drops a change still waiting, since the token in use is then the
//!   last one the host sent);
//! - at most one change per [`TOKEN_CHANGE_GAP_MS`]; a token arriving
//!   sooner waits, and a later one replaces it (the last token wins). The
//!   waiting token is applied when the gap has passed.
//!
//! One second is far below any real refresh cadence (hosts refresh tokens
//! minutes before expiry), so a well-behaved host never waits; a flood
//! costs at most one request a second. The shell owns the single timer
//! this asks for ([`Admit::Hold`]).

/// The shortest time between two token changes from the host.
pub const TOKEN_CHANGE_GAP_MS: f64 = 1_000.0;

/// What to do with a token from the host.
#[derive(Clone, Debug, PartialEq)]
pub enum Admit {
    /// Nothing: the token is in use or already waiting.
    Ignore,
    /// Use this token now.
    Apply(String),
    /// The token waits: (re)set the single timer to call
    /// [`TokenGate::on_timer`] after this many milliseconds.
    Hold {
        /// Milliseconds until the change is allowed.
        wake_in_ms: f64,
    },
}

/// The rate limit on host token changes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenGate {
    /// The token waiting for its turn (the latest one offered).
    pending: Option<String>,
    /// When the last change was applied (browser time).
    last_change_ms: Option<f64>,
}

impl TokenGate {
    /// A gate that has applied nothing yet.
    pub fn new() -> TokenGate {
        TokenGate::default()
    }

    /// The host sent `token`; `current` is the token in use.
    pub fn offer(&mut self, token: &str, current: Option<&str>, now_ms: f64) -> Admit {
        let token = token.trim();
        if Some(token) == current.map(str::trim) {
            self.pending = None;
            return Admit::Ignore;
        }
        if self.pending.as_deref() == Some(token) {
            return Admit::Ignore;
        }
        match self.wait_ms(now_ms) {
            Some(wake_in_ms) => {
                let was_waiting = self.pending.replace(token.to_string()).is_some();
                if was_waiting {
                    // The timer already set fires at the same moment.
                    Admit::Ignore
                } else {
                    Admit::Hold { wake_in_ms }
                }
            }
            None => {
                self.pending = None;
                self.last_change_ms = Some(now_ms);
                Admit::Apply(token.to_string())
            }
        }
    }

    /// The timer asked for by [`Admit::Hold`] fired.
    pub fn on_timer(&mut self, current: Option<&str>, now_ms: f64) -> Admit {
        let Some(token) = self.pending.take() else {
            return Admit::Ignore;
        };
        if Some(token.as_str()) == current.map(str::trim) {
            return Admit::Ignore;
        }
        if let Some(wake_in_ms) = self.wait_ms(now_ms) {
            // A timer that fired early (clock granularity): wait the rest.
            self.pending = Some(token);
            return Admit::Hold { wake_in_ms };
        }
        self.last_change_ms = Some(now_ms);
        Admit::Apply(token)
    }

    /// A token waits for its turn.
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// How long until a change is allowed, if it is not yet.
    fn wait_ms(&self, now_ms: f64) -> Option<f64> {
        let last = self.last_change_ms?;
        let wait = last + TOKEN_CHANGE_GAP_MS - now_ms;
        (wait > 0.0).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_token_applies_at_once() {
        let mut gate = TokenGate::new();
        assert_eq!(gate.offer(" a ", None, 0.0), Admit::Apply("a".into()));
    }

    #[test]
    fn the_token_in_use_is_a_no_op() {
        let mut gate = TokenGate::new();
        for now in [0.0, 10.0, 5_000.0] {
            assert_eq!(gate.offer("a", Some("a"), now), Admit::Ignore);
            assert_eq!(gate.offer(" a", Some("a"), now), Admit::Ignore);
        }
        assert!(!gate.is_waiting());
    }

    #[test]
    fn changes_are_one_per_gap_and_the_last_token_wins() {
        let mut gate = TokenGate::new();
        assert_eq!(gate.offer("a", None, 1_000.0), Admit::Apply("a".into()));
        assert_eq!(
            gate.offer("b", Some("a"), 1_200.0),
            Admit::Hold { wake_in_ms: 800.0 }
        );
        // A flood while waiting: no timer, no request; the last one is kept.
        for (i, now) in (1_201..1_999).enumerate() {
            let token = format!("t{i}");
            assert_eq!(gate.offer(&token, Some("a"), f64::from(now)), Admit::Ignore);
        }
        assert_eq!(gate.offer("c", Some("a"), 1_999.0), Admit::Ignore);
        assert_eq!(gate.offer("c", Some("a"), 1_999.5), Admit::Ignore);
        assert_eq!(gate.on_timer(Some("a"), 2_000.0), Admit::Apply("c".into()));
        assert!(!gate.is_waiting());
        // The next change is again a gap later.
        assert_eq!(
            gate.offer("d", Some("c"), 2_500.0),
            Admit::Hold { wake_in_ms: 500.0 }
        );
    }

    #[test]
    fn a_change_after_the_gap_applies_at_once() {
        let mut gate = TokenGate::new();
        assert_eq!(gate.offer("a", None, 0.0), Admit::Apply("a".into()));
        assert_eq!(
            gate.offer("b", Some("a"), 1_000.0),
            Admit::Apply("b".into())
        );
        assert_eq!(
            gate.offer("c", Some("b"), 5_000.0),
            Admit::Apply("c".into())
        );
    }

    #[test]
    fn going_back_to_the_token_in_use_drops_the_waiting_change() {
        let mut gate = TokenGate::new();
        gate.offer("a", None, 0.0);
        assert_eq!(
            gate.offer("b", Some("a"), 100.0),
            Admit::Hold { wake_in_ms: 900.0 }
        );
        assert_eq!(gate.offer("a", Some("a"), 200.0), Admit::Ignore);
        assert!(!gate.is_waiting());
        // A new change after that asks for a timer again.
        assert_eq!(
            gate.offer("b", Some("a"), 300.0),
            Admit::Hold { wake_in_ms: 700.0 }
        );
        assert_eq!(gate.on_timer(Some("a"), 1_000.0), Admit::Apply("b".into()));
    }

    #[test]
    fn a_timer_firing_early_waits_the_rest() {
        let mut gate = TokenGate::new();
        gate.offer("a", None, 0.0);
        gate.offer("b", Some("a"), 10.0);
        assert_eq!(
            gate.on_timer(Some("a"), 996.0),
            Admit::Hold { wake_in_ms: 4.0 }
        );
        assert_eq!(gate.on_timer(Some("a"), 1_000.0), Admit::Apply("b".into()));
    }

    #[test]
    fn a_waiting_token_already_in_use_is_not_applied_twice() {
        let mut gate = TokenGate::new();
        gate.offer("a", None, 0.0);
        gate.offer("b", Some("a"), 10.0);
        // Another path (a new link in the same tab) switched to "b" meanwhile.
        assert_eq!(gate.on_timer(Some("b"), 1_000.0), Admit::Ignore);
    }
}

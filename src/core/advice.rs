//! Plain-language advice: what a status or connection state means for the
//! streamer and what to do about it, in one or two sentences.
//!
//! Written for the person in front of the encoder in the middle of a show,
//! not for engineers: no jargon beyond "encoder", "bitrate" and "upload".

use crate::core::poll::ConnState;
use crate::core::status::Status;

/// What a status means and what to do, for the status shown while live.
pub fn for_status(status: Status) -> &'static str {
    match status {
        Status::Excellent => "Your encoder is keeping up with real time. Nothing to do.",
        Status::Good => {
            "Your encoder is slightly uneven but keeping up. Keep an eye on it; if it gets \
             worse, lower the bitrate or close other uploads."
        }
        Status::Poor => {
            "Your encoder is falling behind real time, so viewers may see buffering. Check \
             your upload bandwidth, lower the bitrate or resolution, and close other uploads \
             or downloads."
        }
        Status::Unknown => {
            "No health data: the stream looks offline. If you think you are live, check that \
             your encoder is connected and streaming."
        }
    }
}

/// What a connection state means for the streamer, when it is not simply
/// "live" (then the status advice applies).
pub fn for_state(state: ConnState) -> Option<&'static str> {
    match state {
        ConnState::Live => None,
        ConnState::Connecting => Some("Fetching the first health report."),
        ConnState::WaitingToken => {
            Some("This monitor has no token yet. Open it with the monitor link from your platform.")
        }
        ConnState::Retrying => Some(
            "The monitor cannot reach the stats service right now; your stream itself may be \
             fine. The last values stay on screen, marked stale, until it reconnects.",
        ),
        ConnState::TokenRejected => {
            Some("This monitor link is not accepted. Ask your platform for a new monitor link.")
        }
        ConnState::TokenExpired => {
            Some("This monitor link has expired. Ask your platform for a new monitor link.")
        }
    }
}

/// Advice for a stream whose drift keeps growing although its status looks
/// fine (see [`crate::core::trend`]).
pub const SLOW_DRIFT: &str = "Your stream is slowly falling behind real time, even though the \
    status looks fine. If it keeps growing, lower the bitrate or encoder preset, or check for \
    a busy CPU or a slow upload.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_non_live_state_has_advice() {
        for status in Status::ALL {
            assert!(!for_status(status).is_empty());
        }
        for state in [
            ConnState::Connecting,
            ConnState::WaitingToken,
            ConnState::Retrying,
            ConnState::TokenRejected,
            ConnState::TokenExpired,
        ] {
            assert!(for_state(state).is_some_and(|a| !a.is_empty()));
        }
        assert_eq!(for_state(ConnState::Live), None);
    }

    #[test]
    fn poor_advice_says_what_to_do() {
        let advice = for_status(Status::Poor);
        assert!(advice.contains("bitrate") && advice.contains("upload"));
    }
}

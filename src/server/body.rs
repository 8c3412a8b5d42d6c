//! The JSON bodies both servers send, serialised in the contract's field order.
//!
//! `serde_json::json!` sorts keys; these structs keep `updated_at`,
//! `stream_drift_session_avg`, `stream_drift_deviation_from_rolling_avg`,
//! `status` in the documented order so responses read like the API's.

use serde::Serialize;

/// `{"data":[{"ingest_health":{...}}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthResponse {
    /// One entry per ingest; the stand-in always sends exactly one.
    pub data: Vec<HealthEntry>,
}

/// One element of `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthEntry {
    /// The health of the stream's ingest.
    pub ingest_health: IngestHealth,
}

/// The health of one ingest. Numbers are `null` when there is no data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestHealth {
    /// `YYYY-MM-DDTHH:MM:SS`, UTC, no zone designator.
    pub updated_at: String,
    /// Average stream drift over the encoder connection, in milliseconds.
    pub stream_drift_session_avg: Option<i64>,
    /// Current drift minus the drift's rolling average, in milliseconds.
    pub stream_drift_deviation_from_rolling_avg: Option<i64>,
    /// `excellent`, `good`, `poor` or `unknown`.
    pub status: String,
}

impl HealthResponse {
    /// A response with one ingest.
    pub fn single(ingest_health: IngestHealth) -> Self {
        Self {
            data: vec![HealthEntry { ingest_health }],
        }
    }

    /// Serialises to compact JSON.
    pub fn to_json(&self) -> String {
        // Plain strings and integers cannot fail to serialise.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Builds the one-ingest body as JSON text.
pub fn health_json(
    updated_at: &str,
    session_avg: Option<i64>,
    deviation: Option<i64>,
    status: &str,
) -> String {
    HealthResponse::single(IngestHealth {
        updated_at: updated_at.to_owned(),
        stream_drift_session_avg: session_avg,
        stream_drift_deviation_from_rolling_avg: deviation,
        status: status.to_owned(),
    })
    .to_json()
}

/// The API's error shape: `{"error":{"type":"...","messages":["..."]}}`.
pub fn error_json(kind: &str, message: &str) -> String {
    serde_json::json!({"error": {"type": kind, "messages": [message]}}).to_string()
}

/// `{"data":[{"views":..,"viewers":..,"updated_at":..}]}`: the viewer counts
/// endpoint's body, in its documented field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountsResponse {
    /// One entry; the stand-in always sends exactly one.
    pub data: Vec<CountsEntry>,
}

/// One element of the counts body's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountsEntry {
    /// Views, which one viewer may count several times.
    pub views: u64,
    /// Unique viewers now.
    pub viewers: u64,
    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC (this endpoint's times carry the `Z`).
    pub updated_at: String,
}

/// Builds the counts body as JSON text; `updated_at` as given.
pub fn counts_json(updated_at: &str, views: u64, viewers: u64) -> String {
    let body = CountsResponse {
        data: vec![CountsEntry {
            views,
            viewers,
            updated_at: updated_at.to_owned(),
        }],
    };
    // Plain strings and integers cannot fail to serialise.
    serde_json::to_string(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counts_body_reads_like_the_documented_one() {
        assert_eq!(
            counts_json("2021-09-28T18:21:19Z", 95, 94),
            r#"{"data":[{"views":95,"viewers":94,"updated_at":"2021-09-28T18:21:19Z"}]}"#
        );
    }
}

//! [`use_diagnosis_log`]: writes down when the diagnosis from both sides
//! changed, for the CSV.
//!
//! Why an effect and not a memo: the log is a record of what the page
//! showed over time, not a value computed from the current state. A memo
//! recomputes from its inputs only when read, and nothing reads the log
//! until the streamer downloads the CSV, so every change in between would
//! be lost. The effect watches the one diagnosis memo (which changes far
//! less often than the figures it is judged from), appends to the log,
//! and reads nothing else reactively; nothing reads the log reactively
//! either. It is disposed with its owner like any effect.

use leptos::prelude::*;

use crate::app::use_clock::now_ms;
use crate::core::history::History;
use crate::core::obs::{Diagnosis, DiagnosisLog};

/// Appends each new value of `diagnosis` to `log`, with the browser's time.
///
/// ```ignore
/// use_diagnosis_log(live.diagnosis, state.history, state.obs_diagnoses);
/// ```
///
/// The log keeps what the history's window (read from `history`) still
/// shows: a status change on the chart can always be matched with the
/// diagnosis in effect then.
pub fn use_diagnosis_log(
    diagnosis: Memo<Option<Diagnosis>>,
    history: RwSignal<History>,
    log: RwSignal<DiagnosisLog>,
) {
    Effect::watch(
        move || diagnosis.get(),
        move |diagnosis, _, _| {
            let window_ms = history.with_untracked(History::window_ms);
            log.update(|log| log.record(now_ms(), *diagnosis, window_ms));
        },
        true,
    );
}

//! The widget's components, one per file. Each reads the state it shows
//! from context ([`WidgetState`](crate::app::state::WidgetState),
//! [`LiveView`](crate::app::view_model::LiveView),
//! [`Clock`](crate::app::use_clock::Clock)), provided once by the
//! [`Widget`](crate::app::widget::Widget).

pub mod advice;
pub mod alert_prompts;
pub mod connection;
pub mod encoder;
pub mod event_list;
pub mod history_chart;
pub mod messages;
pub mod metrics;
pub mod notices;
pub mod sparkline;
pub mod status_badge;
pub mod summary;
pub mod viewers;

//! [`Notices`]: parameters of the URL that were ignored or adjusted.

use leptos::prelude::*;

use crate::app::state::WidgetState;
use crate::core::params::Notice;

/// `[data-notices]`, with one `[data-notice="<param>"]` per parameter that
/// was ignored or adjusted; absent when there is none. The notices are read
/// once (they describe the URL the widget was started with), so the list
/// is a static one, with no keyed diffing to pay for.
#[component]
pub fn Notices() -> impl IntoView {
    let monitor = expect_context::<WidgetState>().monitor;
    let notices = monitor.with_untracked(|m| m.notices().to_vec());
    view! { <NoticeList notices /> }
}

/// `[data-notices]` for a list of notices (absent when it is empty): the
/// widget's, or the wall link's.
#[component]
pub fn NoticeList(notices: Vec<Notice>) -> impl IntoView {
    (!notices.is_empty()).then(|| {
        view! {
            <ul class="lsh-notices" data-notices>
                {notices
                    .into_iter()
                    .map(|notice| view! { <li data-notice=notice.param>{notice.message}</li> })
                    .collect_view()}
            </ul>
        }
    })
}

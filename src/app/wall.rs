//! [`Wall`]: many streams on one screen (`#wall&token=..&label=..`), one
//! compact tile per stream, worst first, with a summary line.
//!
//! **One owner per stream.** Each stream's state (a [`WidgetState`] of its
//! own) and its hooks (poller, viewer counts, persisted history) live
//! under a child [`Owner`] of the wall, created here and kept alive by the
//! wall: cleaning that owner up stops the stream's timers, requests and
//! shared-polling locks, and nothing else. Tiles are rendered by `<For>`
//! keyed by stream, so a re-sort moves a tile's DOM, it never rebuilds
//! it, and the tile's components read that stream's state through
//! context exactly as they do in a single monitor: the badge, the
//! connection line, the metrics, the viewer figures, the messages and the
//! sparkline are the monitor's own components.
//!
//! The stream's state lives beside the tile rather than inside it, so the
//! wall's order and summary can read every stream's status (memos over
//! each stream's [`LiveView`]), and shared polling keeps one poller per
//! stream per browser across tabs as it does for a single monitor.
//!
//! Rules that need no browser (reading the link, severity order with a
//! pinned tile, summary counts) are in [`crate::core::wall`].

use leptos::prelude::*;

use crate::app::components::connection::ConnectionLine;
use crate::app::components::messages::Messages;
use crate::app::components::metrics::Metrics;
use crate::app::components::sparkline::Sparkline;
use crate::app::components::status_badge::StatusBadge;
use crate::app::components::viewers::ViewerFigures;
use crate::app::state::WidgetState;
use crate::app::use_clock::{use_clock, Clock};
use crate::app::use_counts::use_counts;
use crate::app::use_persisted_history::use_persisted_history;
use crate::app::use_poller::use_poller;
use crate::app::view_model::LiveView;
use crate::core::alerts::AlertChannels;
use crate::core::params::{Config, Layout, Notice};
use crate::core::wall::{self, Summary, TileStatus, WallLink};

/// How often the tiles' "updated N s ago" and staleness refresh.
const CLOCK_TICK_MS: u32 = 1000;

/// One stream on the wall: its name, its state and the memos its tile
/// shows. Cheap to copy.
#[derive(Clone, Copy)]
struct Tile {
    /// Position in the given order: the `<For>` key.
    position: usize,
    /// The state the stream's hooks keep up to date.
    state: WidgetState,
    /// What the tile shows.
    live: LiveView,
}

/// Starts one stream under a child owner of the current one: its state,
/// its poller, its viewer counts and its persisted history. The returned
/// owner must be kept: dropping or cleaning it up stops the stream.
fn start_stream(config: Config, position: usize, clock: Clock) -> (Owner, Tile) {
    let owner = Owner::new();
    let tile = owner.with(|| {
        let state = WidgetState::new(config, Vec::new());
        let live = LiveView::new(state, clock);
        use_poller(state.monitor, state.history);
        use_counts(state.monitor, state.viewers);
        use_persisted_history(state.monitor, state.history);
        Tile {
            position,
            state,
            live,
        }
    });
    (owner, tile)
}

/// The wall for the streams of `link`, each polled with `config` (the wall
/// link's shared parameters) and its own token. `notices` are shown above
/// the tiles.
///
/// ```ignore
/// let (link, wall_notices) = core::wall::parse(fragment);
/// mount_to_body(move || view! { <Wall config link notices /> });
/// ```
#[component]
pub fn Wall(
    /// The parameters every stream shares (its `token` is not used).
    config: Config,
    /// The streams and the order of their tiles.
    link: WallLink,
    /// Notices about the wall link's parameters.
    notices: Vec<Notice>,
) -> impl IntoView {
    let clock = use_clock(CLOCK_TICK_MS);
    let theme = config.theme;
    let sort = link.sort;
    let labels: Vec<String> = link
        .streams
        .iter()
        .enumerate()
        .map(|(position, stream)| wall::tile_label(stream, position))
        .collect();
    let (owners, tiles): (Vec<Owner>, Vec<Tile>) = link
        .streams
        .into_iter()
        .enumerate()
        .map(|(position, stream)| {
            let config = Config {
                token: Some(stream.token),
                layout: Layout::Compact,
                // Tiles talk to no host page and raise no alerts of their own.
                origin: None,
                alerts: AlertChannels::default(),
                ..config.clone()
            };
            start_stream(config, position, clock)
        })
        .unzip();
    // The streams live as long as the wall.
    let owners = StoredValue::new(owners);
    on_cleanup(move || owners.update_value(|owners| owners.iter().for_each(Owner::cleanup)));
    let tiles = StoredValue::new(tiles);
    let labels = StoredValue::new(labels);

    let statuses = Memo::new(move |_| {
        tiles.with_value(|tiles| {
            tiles
                .iter()
                .map(|tile| {
                    tile.live.view.with(|v| TileStatus {
                        status: v.status,
                        state: v.state,
                        stale: v.stale,
                    })
                })
                .collect::<Vec<_>>()
        })
    });
    // The tile under the pointer or holding the focus keeps its place.
    let pinned = RwSignal::new(None::<usize>);
    let order = Memo::new(move |shown: Option<&Vec<usize>>| {
        let current = shown.map(Vec::as_slice).unwrap_or_default();
        statuses.with(|statuses| wall::order(statuses, sort, current, pinned.get()))
    });
    let summary = Memo::new(move |_| statuses.with(|s| Summary::of(s)));

    let notices = (!notices.is_empty()).then(|| {
        view! {
            <ul class="lsh-notices" data-notices>
                {notices
                    .into_iter()
                    .map(|notice| view! { <li data-notice=notice.param>{notice.message}</li> })
                    .collect_view()}
            </ul>
        }
    });

    view! {
        <main class="lsh lsh-wall" data-layout="wall" data-theme=theme.as_str()>
            <h1 class="lsh-wall-title">"Stream health"</h1>
            <p
                class="lsh-wall-summary"
                data-wall-summary
                role="status"
                data-count-poor=move || summary.get().poor
                data-count-unseen=move || summary.get().unseen
                data-count-good=move || summary.get().good
                data-count-unknown=move || summary.get().unknown
                data-count-excellent=move || summary.get().excellent
            >
                {move || summary.get().line()}
            </p>
            {notices}
            <div class="lsh-wall-tiles">
                <For
                    each=move || order.get()
                    key=|position| *position
                    children=move |position| {
                        let tile = tiles.with_value(|tiles| tiles[position]);
                        let label = labels.with_value(|labels| labels[position].clone());
                        view! {
                            <TileView tile clock label theme=theme.as_str() pinned />
                        }
                    }
                />
            </div>
        </main>
    }
}

/// One stream's tile. Its root carries the monitor's DOM contract
/// (`data-status`, `data-state`, `data-stale`, `[data-metric]` inside) and
/// `data-stream`, the tile's name.
#[component]
fn TileView(
    tile: Tile,
    clock: Clock,
    label: String,
    theme: &'static str,
    pinned: RwSignal<Option<usize>>,
) -> impl IntoView {
    let Tile {
        position,
        state,
        live,
    } = tile;
    provide_context(state);
    provide_context(clock);
    provide_context(live);
    let name = label.clone();
    let pin = move || pinned.set(Some(position));
    let unpin = move || {
        if pinned.get_untracked() == Some(position) {
            pinned.set(None);
        }
    };
    view! {
        <article
            class="lsh lsh-tile"
            tabindex="0"
            aria-label=label.clone()
            data-stream=label.clone()
            data-status=move || live.status.get().as_str()
            data-state=move || live.state().as_str()
            data-stale=move || if live.stale() { "true" } else { "false" }
            data-layout="compact"
            data-theme=theme
            on:pointerenter=move |_| pin()
            on:pointerleave=move |_| unpin()
            on:focusin=move |_| pin()
            on:focusout=move |_| unpin()
        >
            <h2 class="lsh-tile-name">{name}</h2>
            <header class="lsh-head">
                <StatusBadge />
                <ConnectionLine />
            </header>
            <Metrics />
            <ViewerFigures />
            <Messages />
            <Sparkline />
        </article>
    }
}

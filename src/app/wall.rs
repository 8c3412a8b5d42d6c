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
//! **Opening a stream.** Enter or a click on a tile shows that stream's
//! full monitor in place of the tiles, built from the same state: no
//! second poller, the history as it is, the layout switched to full for
//! as long as it is open (so the chart and summary compute only then).
//! The tiles stay mounted but hidden, so Escape (or the back button)
//! returns to the wall with the focus on the tile that was open. Arrow
//! keys, Home and End move between tiles in the grid as laid out.
//!
//! Rules that need no browser (reading the link, severity order with a
//! pinned tile, summary counts, arrow moves) are in [`crate::core::wall`].

use leptos::ev;
use leptos::html::{Article, Button};
use leptos::prelude::*;

use crate::app::components::advice::Advice;
use crate::app::components::connection::ConnectionLine;
use crate::app::components::history_chart::HistoryChart;
use crate::app::components::messages::Messages;
use crate::app::components::metrics::Metrics;
use crate::app::components::sparkline::Sparkline;
use crate::app::components::status_badge::StatusBadge;
use crate::app::components::summary::SummaryPanel;
use crate::app::components::viewers::ViewerFigures;
use crate::app::state::WidgetState;
use crate::app::use_alerts::use_alerts;
use crate::app::use_clock::{use_clock, Clock};
use crate::app::use_counts::use_counts;
use crate::app::use_persisted_history::use_persisted_history;
use crate::app::use_poller::use_poller;
use crate::app::view_model::LiveView;
use crate::core::alerts::AlertChannels;
use crate::core::params::{Config, Layout, Notice};
use crate::core::wall::{self, Move, Summary, TileStatus, WallLink};

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
    let count = tiles.with_value(Vec::len);
    let nav = Nav {
        order,
        pinned,
        open: RwSignal::new(None),
        roots: StoredValue::new((0..count).map(|_| NodeRef::new()).collect()),
    };

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
    let open_stream = move || {
        nav.open.get().map(|position| {
            let tile = tiles.with_value(|tiles| tiles[position]);
            let label = labels.with_value(|labels| labels[position].clone());
            view! { <OpenStream tile clock label theme=theme.as_str() nav /> }
        })
    };

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
            // Hidden, not removed, while a stream is open: the tiles keep
            // their place and the focus goes back to the one that was open.
            <div class="lsh-wall-tiles" hidden=move || nav.open.get().is_some()>
                <For
                    each=move || order.get()
                    key=|position| *position
                    children=move |position| {
                        let tile = tiles.with_value(|tiles| tiles[position]);
                        let label = labels.with_value(|labels| labels[position].clone());
                        view! { <TileView tile clock label theme=theme.as_str() nav /> }
                    }
                />
            </div>
            {open_stream}
        </main>
    }
}

/// What the tiles share for moving between them and opening one. Cheap to
/// copy.
#[derive(Clone, Copy)]
struct Nav {
    /// The tiles' order on screen, as positions in the given order.
    order: Memo<Vec<usize>>,
    /// The tile under the pointer or holding the focus.
    pinned: RwSignal<Option<usize>>,
    /// The stream whose full monitor is shown instead of the tiles.
    open: RwSignal<Option<usize>>,
    /// Each tile's root, by position in the given order.
    roots: StoredValue<Vec<NodeRef<Article>>>,
}

impl Nav {
    fn root(&self, position: usize) -> Option<web_sys::HtmlElement> {
        self.roots
            .with_value(|roots| roots.get(position).copied())
            .and_then(|root| root.get_untracked())
    }

    fn focus(&self, position: usize) {
        if let Some(root) = self.root(position) {
            let _ = root.focus();
        }
    }

    /// How many tiles the first row holds: the grid's column count as laid
    /// out now (CSS decides it from the width).
    fn columns(&self, order: &[usize]) -> usize {
        let tops: Vec<i32> = order
            .iter()
            .filter_map(|&position| self.root(position))
            .map(|root| root.offset_top())
            .collect();
        let first = tops.first().copied().unwrap_or_default();
        tops.iter().take_while(|&&top| top == first).count().max(1)
    }

    /// Moves the focus from the tile at `position` by `step`.
    fn step(&self, position: usize, step: Move) {
        let order = self.order.get_untracked();
        let Some(at) = order.iter().position(|&p| p == position) else {
            return;
        };
        let next = wall::next_index(at, step, self.columns(&order), order.len());
        if let Some(&target) = order.get(next) {
            self.focus(target);
        }
    }

    /// Back from the open stream to the wall, with the focus on its tile.
    fn close(&self) {
        let Some(position) = self.open.get_untracked() else {
            return;
        };
        self.open.set(None);
        // Once the tiles are shown again.
        let nav = *self;
        request_animation_frame(move || nav.focus(position));
    }
}

/// One stream's tile. Its root carries the monitor's DOM contract
/// (`data-status`, `data-state`, `data-stale`, `[data-metric]` inside) and
/// `data-stream`, the tile's name. Arrow keys (and Home/End) move to the
/// neighbouring tiles; Enter or a click opens the stream.
#[component]
fn TileView(
    tile: Tile,
    clock: Clock,
    label: String,
    theme: &'static str,
    nav: Nav,
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
    let root = nav
        .roots
        .with_value(|roots| roots.get(position).copied())
        .unwrap_or_default();
    let pin = move || nav.pinned.set(Some(position));
    let unpin = move || {
        if nav.pinned.get_untracked() == Some(position) {
            nav.pinned.set(None);
        }
    };
    let on_key = move |event: ev::KeyboardEvent| {
        let key = event.key();
        if key == "Enter" {
            event.prevent_default();
            nav.open.set(Some(position));
        } else if let Some(step) = Move::from_key(&key) {
            event.prevent_default();
            nav.step(position, step);
        }
    };
    view! {
        <article
            class="lsh lsh-tile"
            node_ref=root
            tabindex="0"
            aria-label=label.clone()
            data-stream=label
            data-status=move || live.status.get().as_str()
            data-state=move || live.state().as_str()
            data-stale=move || if live.stale() { "true" } else { "false" }
            data-layout="compact"
            data-theme=theme
            on:pointerenter=move |_| pin()
            on:pointerleave=move |_| unpin()
            on:focusin=move |_| pin()
            on:focusout=move |_| unpin()
            on:keydown=on_key
            on:click=move |_| nav.open.set(Some(position))
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

/// One stream's full monitor, opened from its tile: the same state (no
/// second poller, the history as it is), laid out like a monitor tab for
/// as long as it is open. Escape or the back button returns to the wall.
#[component]
fn OpenStream(
    tile: Tile,
    clock: Clock,
    label: String,
    theme: &'static str,
    nav: Nav,
) -> impl IntoView {
    let Tile { state, live, .. } = tile;
    provide_context(state);
    provide_context(clock);
    provide_context(live);
    let name = label.clone();
    let ui = state.ui;
    ui.update(|ui| ui.layout = Layout::Full);
    on_cleanup(move || {
        ui.try_update(|ui| ui.layout = Layout::Compact);
    });
    let escape = window_event_listener(ev::keydown, move |event| {
        if event.key() == "Escape" {
            nav.close();
        }
    });
    on_cleanup(move || escape.remove());
    // No alert channel: this gives the advice its (empty) prompts only.
    let alerts = use_alerts(AlertChannels::default(), state.history, live.status.into());
    let back = NodeRef::<Button>::new();
    Effect::new(move || {
        if let Some(back) = back.get() {
            let _ = back.focus();
        }
    });
    view! {
        <section
            class="lsh lsh-open"
            data-open=name.clone()
            data-stream=name
            data-status=move || live.status.get().as_str()
            data-state=move || live.state().as_str()
            data-stale=move || if live.stale() { "true" } else { "false" }
            data-layout="full"
            data-theme=theme
        >
            <button
                type="button"
                class="lsh-button"
                node_ref=back
                data-action="back-to-wall"
                on:click=move |_| nav.close()
            >
                "All streams"
            </button>
            <h2 class="lsh-tile-name">{label}</h2>
            <header class="lsh-head">
                <StatusBadge />
                <ConnectionLine />
            </header>
            <Metrics />
            <ViewerFigures />
            <Advice alerts />
            <Messages />
            <HistoryChart />
            <SummaryPanel />
        </section>
    }
}

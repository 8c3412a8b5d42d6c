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
//! **Replacing the streams.** With an `origin`, the host page may send
//! `lsh:streams` (see [`use_wall_messages`]): tiles are keyed by a stable
//! id, a stream that stays (same `sub`) keeps its tile and state and takes
//! the new token through its own poller, new ones start, and removed ones
//! have their owner cleaned up once their tile is gone.
//!
//! **One voice for the wall.** Tiles raise no alerts and their badges are
//! not live regions; the wall has one alert channel
//! ([`use_wall_alerts`]: sound, notification, title, naming the stream
//! that changed) and one polite live region (`[data-wall-announcer]`)
//! saying the same text, so a screen reader hears "Poor: Camera 2" once,
//! not sixteen badges. The summary line is not a live region either.
//!
//! **Spread requests.** Stream `i` of `n` sends its first request
//! `i * interval / n` later ([`wall::start_offset_ms`]) and keeps that
//! phase, so the wall's requests are spread over the interval rather than
//! fired together. A stream added later by `lsh:streams` takes its offset
//! from its place in the new list, counted from when it is added.
//!
//! Rules that need no browser (reading the link, severity order with a
//! pinned tile, summary counts, arrow moves) are in [`crate::core::wall`].

use std::time::Duration;

use leptos::ev;
use leptos::html::{Article, Button};
use leptos::prelude::*;

use crate::app::components::advice::Advice;
use crate::app::components::alert_prompts::AlertPrompts;
use crate::app::components::connection::ConnectionLine;
use crate::app::components::history_chart::HistoryChart;
use crate::app::components::messages::Messages;
use crate::app::components::metrics::Metrics;
use crate::app::components::notices::NoticeList;
use crate::app::components::sparkline::Sparkline;
use crate::app::components::status_badge::StatusBadge;
use crate::app::components::summary::SummaryPanel;
use crate::app::components::viewers::ViewerFigures;
use crate::app::state::WidgetState;
use crate::app::use_alerts::use_alerts;
use crate::app::use_clock::{use_clock, Clock};
use crate::app::use_counts::use_counts;
use crate::app::use_persisted_history::use_persisted_history;
use crate::app::use_poller::{use_poller_with_options, UsePollerOptions};
use crate::app::use_wall_alerts::{use_wall_alerts, WallAlertSource};
use crate::app::use_wall_messages::use_wall_messages;
use crate::app::view_model::LiveView;
use crate::core::alerts::AlertChannels;
use crate::core::params::{Config, Layout, Notice};
use crate::core::token::read_claims;
use crate::core::wall::{self, Move, Summary, TileStatus, WallLink, WallStream};

/// How often the tiles' "updated N s ago" and staleness refresh.
const CLOCK_TICK_MS: u32 = 1000;

/// One stream on the wall: its name, its state, the memos its tile shows
/// and how to give it a new token. Cheap to copy.
#[derive(Clone, Copy)]
struct Tile {
    /// Stable for the stream's life on the wall: the `<For>` key.
    id: usize,
    /// The tile's name (a refresh may rename it).
    label: RwSignal<String>,
    /// The state the stream's hooks keep up to date.
    state: WidgetState,
    /// What the tile shows.
    live: LiveView,
    /// Replaces the token (same stream: history kept). `None` for a
    /// stream whose state the caller keeps (see [`Wall`]'s `prepared`):
    /// its tokens come from the caller.
    set_token: Option<UnsyncCallback<Option<String>>>,
    /// The tile's root element, for moving the focus.
    root: NodeRef<Article>,
}

/// Starts one stream under a child owner of the current one: its state,
/// its poller (its first request `options.start_delay_ms` later), its
/// viewer counts and its persisted history. The returned owner must be
/// kept: dropping or cleaning it up stops the stream.
fn start_stream(
    config: Config,
    id: usize,
    label: String,
    clock: Clock,
    options: UsePollerOptions,
) -> (Owner, Tile) {
    let owner = Owner::new();
    let tile = owner.with(|| {
        let state = WidgetState::new(config, Vec::new());
        let live = LiveView::new(state, clock);
        let poller = use_poller_with_options(state.monitor, state.history, options);
        use_counts(state.monitor, state.viewers);
        use_persisted_history(state.monitor, state.history);
        Tile {
            id,
            label: RwSignal::new(label),
            state,
            live,
            set_token: Some(poller.set_token),
            root: NodeRef::new(),
        }
    });
    (owner, tile)
}

/// The streams on the wall and the owners that keep them running.
#[derive(Clone, Copy)]
struct Streams {
    /// The tiles, in the given order.
    tiles: RwSignal<Vec<Tile>>,
    /// Each stream's owner, by tile id.
    owners: StoredValue<Vec<(usize, Owner)>>,
    /// The wall's owner: streams added later start under it.
    wall: StoredValue<Owner>,
    /// The next tile id.
    next_id: StoredValue<usize>,
    /// What every stream shares.
    config: StoredValue<Config>,
    clock: Clock,
}

impl Streams {
    fn stream_config(&self, token: String) -> Config {
        Config {
            token: Some(token),
            layout: Layout::Compact,
            // Tiles talk to no host page and raise no alerts of their own.
            origin: None,
            alerts: AlertChannels::default(),
            ..self.config.get_value()
        }
    }

    /// Starts the stream at `position` of `count`: its first request is
    /// spread over the interval by its position.
    fn start(&self, stream: &WallStream, position: usize, count: usize) -> Tile {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let label = wall::tile_label(stream, position);
        let config = self.stream_config(stream.token.clone());
        let options = UsePollerOptions {
            start_delay_ms: wall::start_offset_ms(position, count, config.interval_ms),
        };
        let (owner, tile) = self
            .wall
            .with_value(|wall| wall.with(|| start_stream(config, id, label, self.clock, options)));
        self.owners.update_value(|owners| owners.push((id, owner)));
        tile
    }

    /// Shows `streams` now: a stream already on the wall (the same `sub`)
    /// keeps its tile, state and history and just takes the new token and
    /// label; new ones start; the others stop (their owner is cleaned up,
    /// which ends their timers, requests and locks).
    fn replace(&self, streams: &[WallStream]) {
        let current = self.tiles.get_untracked();
        let mut next: Vec<Tile> = Vec::with_capacity(streams.len());
        for (position, stream) in streams.iter().enumerate() {
            let sub = read_claims(&stream.token).ok().and_then(|c| c.stream_id);
            let kept = sub.as_ref().and_then(|sub| {
                current.iter().copied().find(|tile| {
                    !next.iter().any(|t| t.id == tile.id)
                        && tile
                            .state
                            .monitor
                            .with_untracked(|m| m.stream_id() == Some(sub.as_str()))
                })
            });
            match kept {
                Some(tile) => {
                    let same_token = tile
                        .state
                        .monitor
                        .with_untracked(|m| m.token() == Some(stream.token.as_str()));
                    if let Some(set_token) = tile.set_token.filter(|_| !same_token) {
                        set_token.run(Some(stream.token.clone()));
                    }
                    tile.label.set(wall::tile_label(stream, position));
                    next.push(tile);
                }
                None => next.push(self.start(stream, position, streams.len())),
            }
        }
        let gone: Vec<usize> = current
            .iter()
            .filter(|tile| !next.iter().any(|t| t.id == tile.id))
            .map(|tile| tile.id)
            .collect();
        self.tiles.set(next);
        let mut stopped = Vec::new();
        self.owners.update_value(|owners| {
            owners.retain(|(id, owner)| {
                let keep = !gone.contains(id);
                if !keep {
                    stopped.push(owner.clone());
                }
                keep
            });
        });
        // Once their tiles are gone: the tiles' views read the streams'
        // signals until the next render removes them.
        if !stopped.is_empty() {
            set_timeout(
                move || stopped.iter().for_each(Owner::cleanup),
                Duration::ZERO,
            );
        }
    }

    /// Shows a stream whose state the caller built and keeps: a tile
    /// only, under the wall's owner, with nothing started for it.
    fn show(&self, stream: &WallStream, state: WidgetState, position: usize) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let tile = Tile {
            id,
            label: RwSignal::new(wall::tile_label(stream, position)),
            state,
            live: LiveView::new(state, self.clock),
            set_token: None,
            root: NodeRef::new(),
        };
        self.tiles.update(|tiles| tiles.push(tile));
    }

    fn tile(&self, id: usize) -> Option<Tile> {
        self.tiles
            .with_untracked(|tiles| tiles.iter().copied().find(|t| t.id == id))
    }
}

/// The wall for the streams of `link`, each polled with `config` (the wall
/// link's shared parameters) and its own token. `notices` are shown above
/// the tiles. With an `origin`, the host page may replace the streams with
/// `lsh:streams`.
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
    /// Streams whose state the caller built and keeps feeding itself (the
    /// wall benchmark, tests/bench_update.rs), shown after `link`'s: the
    /// wall starts no poller, viewer counts or saved history for them.
    #[prop(optional)]
    prepared: Vec<(WallStream, WidgetState)>,
) -> impl IntoView {
    let clock = use_clock(CLOCK_TICK_MS);
    let theme = config.theme;
    let sort = link.sort;
    let origin = config.origin.clone();
    let alert_channels = config.alerts;
    let streams = Streams {
        tiles: RwSignal::new(Vec::new()),
        owners: StoredValue::new(Vec::new()),
        wall: StoredValue::new(Owner::current().unwrap_or_default()),
        next_id: StoredValue::new(0),
        config: StoredValue::new(config),
        clock,
    };
    streams.replace(&link.streams);
    for (position, (stream, state)) in prepared.iter().enumerate() {
        streams.show(stream, *state, link.streams.len() + position);
    }
    // The streams live as long as the wall.
    on_cleanup(move || {
        streams
            .owners
            .update_value(|owners| owners.drain(..).for_each(|(_, owner)| owner.cleanup()));
    });
    if let Some(origin) = origin {
        use_wall_messages(
            origin,
            UnsyncCallback::new(move |list: Vec<WallStream>| streams.replace(&list)),
        );
    }

    let alerts = use_wall_alerts(
        alert_channels,
        Signal::derive(move || {
            streams.tiles.with(|tiles| {
                tiles
                    .iter()
                    .map(|tile| WallAlertSource {
                        id: tile.id,
                        label: tile.label.into(),
                        history: tile.state.history,
                        status: tile.live.status.into(),
                    })
                    .collect()
            })
        }),
    );

    let statuses = Memo::new(move |_| {
        streams.tiles.with(|tiles| {
            tiles
                .iter()
                .map(|tile| {
                    let status = tile.live.view.with(|v| TileStatus {
                        status: v.status,
                        state: v.state,
                        stale: v.stale,
                    });
                    (tile.id, status)
                })
                .collect::<Vec<_>>()
        })
    });
    // The tile under the pointer or holding the focus keeps its place.
    let pinned = RwSignal::new(None::<usize>);
    let order = Memo::new(move |shown: Option<&Vec<usize>>| {
        statuses.with(|statuses| {
            let ids: Vec<usize> = statuses.iter().map(|(id, _)| *id).collect();
            let only: Vec<TileStatus> = statuses.iter().map(|(_, s)| *s).collect();
            let index = |id: &usize| ids.iter().position(|i| i == id);
            let current: Vec<usize> = shown
                .map(|shown| shown.iter().filter_map(index).collect())
                .unwrap_or_default();
            let pinned = pinned.get().as_ref().and_then(index);
            wall::order(&only, sort, &current, pinned)
                .into_iter()
                .map(|i| ids[i])
                .collect()
        })
    });
    let summary = Memo::new(move |_| {
        statuses.with(|s| Summary::of(&s.iter().map(|(_, s)| *s).collect::<Vec<_>>()))
    });
    let nav = Nav {
        order,
        pinned,
        open: RwSignal::new(None),
        streams,
    };

    let notices = view! { <NoticeList notices /> };
    // The open stream, while it is on the wall.
    let opened = Memo::new(move |_| {
        let id = nav.open.get()?;
        streams
            .tiles
            .with(|tiles| tiles.iter().any(|t| t.id == id))
            .then_some(id)
    });
    let open_stream = move || {
        opened
            .get()
            .and_then(|id| streams.tile(id))
            .map(|tile| view! { <OpenStream tile clock theme=theme.as_str() nav /> })
    };

    view! {
        <main class="lsh lsh-wall" data-layout="wall" data-theme=theme.as_str()>
            <h1 class="lsh-wall-title">"Stream health"</h1>
            <p
                class="lsh-wall-summary"
                data-wall-summary
                data-count-poor=move || summary.get().poor
                data-count-unseen=move || summary.get().unseen
                data-count-good=move || summary.get().good
                data-count-unknown=move || summary.get().unknown
                data-count-excellent=move || summary.get().excellent
            >
                {move || summary.get().line()}
            </p>
            <p class="lsh-visually-hidden" data-wall-announcer aria-live="polite">
                {move || alerts.announcement.get()}
            </p>
            <AlertPrompts alerts=alerts.prompts />
            {notices}
            // Hidden, not removed, while a stream is open: the tiles keep
            // their place and the focus goes back to the one that was open.
            <div class="lsh-wall-tiles" hidden=move || opened.with(Option::is_some)>
                <For
                    each=move || order.get()
                    key=|id| *id
                    children=move |id| {
                        streams
                            .tile(id)
                            .map(|tile| view! { <TileView tile clock theme=theme.as_str() nav /> })
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
    /// The tiles' order on screen, as tile ids.
    order: Memo<Vec<usize>>,
    /// The tile under the pointer or holding the focus.
    pinned: RwSignal<Option<usize>>,
    /// The stream whose full monitor is shown instead of the tiles.
    open: RwSignal<Option<usize>>,
    /// The streams.
    streams: Streams,
}

impl Nav {
    fn root(&self, id: usize) -> Option<web_sys::HtmlElement> {
        self.streams
            .tile(id)
            .and_then(|tile| tile.root.get_untracked())
    }

    fn focus(&self, id: usize) {
        if let Some(root) = self.root(id) {
            let _ = root.focus();
        }
    }

    /// How many tiles the first row holds: the grid's column count as laid
    /// out now (CSS decides it from the width).
    fn columns(&self, order: &[usize]) -> usize {
        let tops: Vec<i32> = order
            .iter()
            .filter_map(|&id| self.root(id))
            .map(|root| root.offset_top())
            .collect();
        let first = tops.first().copied().unwrap_or_default();
        tops.iter().take_while(|&&top| top == first).count().max(1)
    }

    /// Moves the focus from the tile `id` by `step`.
    fn step(&self, id: usize, step: Move) {
        let order = self.order.get_untracked();
        let Some(at) = order.iter().position(|&i| i == id) else {
            return;
        };
        let next = wall::next_index(at, step, self.columns(&order), order.len());
        if let Some(&target) = order.get(next) {
            self.focus(target);
        }
    }

    /// Back from the open stream to the wall, with the focus on its tile.
    fn close(&self) {
        let Some(id) = self.open.get_untracked() else {
            return;
        };
        self.open.set(None);
        // Once the tiles are shown again.
        let nav = *self;
        request_animation_frame(move || nav.focus(id));
    }
}

/// One stream's tile. Its root carries the monitor's DOM contract
/// (`data-status`, `data-state`, `data-stale`, `[data-metric]` inside) and
/// `data-stream`, the tile's name. Arrow keys (and Home/End) move to the
/// neighbouring tiles; Enter or a click opens the stream.
#[component]
fn TileView(tile: Tile, clock: Clock, theme: &'static str, nav: Nav) -> impl IntoView {
    let Tile {
        id: position,
        label,
        state,
        live,
        root,
        ..
    } = tile;
    provide_context(state);
    provide_context(clock);
    provide_context(live);
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
            aria-label=move || label.get()
            data-stream=move || label.get()
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
            <h2 class="lsh-tile-name">{move || label.get()}</h2>
            <header class="lsh-head">
                <StatusBadge live=false />
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
fn OpenStream(tile: Tile, clock: Clock, theme: &'static str, nav: Nav) -> impl IntoView {
    let Tile {
        label, state, live, ..
    } = tile;
    provide_context(state);
    provide_context(clock);
    provide_context(live);
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
            data-open=move || label.get()
            data-stream=move || label.get()
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
            <h2 class="lsh-tile-name">{move || label.get()}</h2>
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

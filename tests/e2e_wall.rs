//! End to end, the wall: the built widget (`dist/`) in headless Chromium
//! against the stand-in, one stream per scenario on one wall
//! (`#wall&token=..&label=..`), plus a stream whose token the stand-in
//! refuses. Black box: the wall link in, the DOM contract out (the wall
//! root's `data-layout="wall"`, each tile's `data-stream`, `data-status`,
//! `data-state`, `data-stale`, the summary's `data-count-*`).
//!
//! Needs chromedriver on PATH and the bundle in `dist/` (or `LSH_DIST`):
//! `cargo test --features e2e --test e2e_wall`.

#![cfg(feature = "e2e")]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::Locator;
use live_stream_health::core::params::percent_encode;
use live_stream_health::server::testserver;
use serde_json::Value;
use support::{Browser, Stack, TestResult};

type Error = Box<dyn std::error::Error>;

/// One tile as the page shows it.
#[derive(Debug, Clone, PartialEq)]
struct Tile {
    stream: String,
    status: String,
    state: String,
    stale: bool,
}

impl Tile {
    /// The documented severity order: poor, then unseen (stale, rejected,
    /// expired), good, unknown, excellent.
    fn rank(&self) -> u8 {
        if self.status == "poor" {
            0
        } else if self.stale || self.state == "token-rejected" || self.state == "token-expired" {
            1
        } else {
            match self.status.as_str() {
                "good" => 2,
                "unknown" => 3,
                _ => 4,
            }
        }
    }
}

/// Every tile of the wall, in page order, read in one go (a consistent
/// snapshot: the page does not change during one script).
async fn tiles(browser: &Browser) -> Result<Vec<Tile>, Error> {
    let seen = browser
        .client
        .execute(
            "return [...document.querySelectorAll('.lsh-tile[data-stream]')]\
               .map(t => [t.dataset.stream, t.dataset.status, t.dataset.state, t.dataset.stale]);",
            vec![],
        )
        .await?;
    let rows = seen.as_array().cloned().unwrap_or_default();
    Ok(rows
        .iter()
        .map(|row| {
            let field = |i: usize| row[i].as_str().unwrap_or_default().to_owned();
            Tile {
                stream: field(0),
                status: field(1),
                state: field(2),
                stale: field(3) == "true",
            }
        })
        .collect())
}

fn find<'a>(tiles: &'a [Tile], stream: &str) -> Option<&'a Tile> {
    tiles.iter().find(|t| t.stream == stream)
}

/// Waits until `check` holds on a snapshot of the tiles; every snapshot
/// on the way goes through `each` too.
async fn until_tiles(
    browser: &Browser,
    what: &str,
    within: Duration,
    each: impl Fn(&[Tile]) -> Result<(), String>,
    check: impl Fn(&[Tile]) -> bool,
) -> Result<Vec<Tile>, Error> {
    let deadline = Instant::now() + within;
    loop {
        let now = tiles(browser).await?;
        each(&now)?;
        if check(&now) {
            return Ok(now);
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: not within {within:?}; tiles {now:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The tiles are in severity order (ties keep the given order).
fn sorted_by_severity(tiles: &[Tile], given: &[&str]) -> Result<(), String> {
    let key = |t: &Tile| {
        let position = given.iter().position(|s| *s == t.stream).unwrap_or(99);
        (t.rank(), position)
    };
    if tiles.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        Ok(())
    } else {
        Err(format!("tiles out of severity order: {tiles:?}"))
    }
}

/// A token the stand-in refuses: a real token with one signature
/// character changed.
fn forged(token: &str) -> String {
    let Some((signed, signature)) = token.rsplit_once('.') else {
        return token.to_owned();
    };
    let mut signature: Vec<char> = signature.chars().collect();
    if let Some(c) = signature.get_mut(10) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    format!("{signed}.{}", signature.into_iter().collect::<String>())
}

/// `(label, scenario)`: one stream per status.
const STREAMS: [(&str, &str); 4] = [
    ("Main stage", "steady"),
    ("Jittery cam", "jittery"),
    ("Backstage", "recovering"),
    ("Lobby", "disconnect"),
];
const FORGED: &str = "Forged";

/// The wall link for the stack's streams, the forged one last.
fn wall_link(stack: &Stack, extra: &str) -> Result<String, Error> {
    let mut link = format!("{}#wall", stack.widget.base_url());
    for (label, scenario) in STREAMS {
        let token = stack.token(&stack.stream(scenario)?, Duration::from_secs(3600))?;
        link.push_str(&format!("&token={token}&label={}", percent_encode(label)));
    }
    let stream = stack.stream("steady")?;
    let token = forged(&stack.token(&stream, Duration::from_secs(3600))?);
    link.push_str(&format!("&token={token}&label={FORGED}"));
    link.push_str(&format!(
        "&endpoint={}&interval=1&viewers=off{extra}",
        percent_encode(&stack.standin().base_url())
    ));
    Ok(link)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_wall_shows_every_stream_in_its_colour_worst_first() -> TestResult {
    let stack = Stack::start("wall")?;
    let browser = Browser::start().await?;
    let result = async {
        browser.client.goto(&wall_link(&stack, "")?).await?;
        let given: Vec<&str> = STREAMS
            .iter()
            .map(|(label, _)| *label)
            .chain([FORGED])
            .collect();
        // Every snapshot on the way is in severity order, and the forged
        // token marks its own tile only.
        let each = |tiles: &[Tile]| -> Result<(), String> {
            sorted_by_severity(tiles, &given)?;
            match tiles
                .iter()
                .find(|t| t.state == "token-rejected" && t.stream != FORGED)
            {
                Some(t) => Err(format!("{} rejected with a valid token", t.stream)),
                None => Ok(()),
            }
        };
        let status_is = |stream: &'static str, status: &'static str| {
            move |tiles: &[Tile]| find(tiles, stream).is_some_and(|t| t.status == status)
        };
        let all = until_tiles(
            &browser,
            "five tiles, all live but the forged one",
            Duration::from_secs(10),
            each,
            |tiles| {
                tiles.len() == 5
                    && tiles.iter().all(|t| {
                        if t.stream == FORGED {
                            t.state == "token-rejected"
                        } else {
                            t.state == "live"
                        }
                    })
            },
        )
        .await?;
        assert_eq!(all.len(), 5);
        assert_eq!(
            browser.attr(".lsh-wall", "data-layout").await,
            Some("wall".into())
        );
        // recovering starts poor: its tile leads the wall.
        let now = until_tiles(
            &browser,
            "Backstage poor",
            Duration::from_secs(15),
            each,
            status_is("Backstage", "poor"),
        )
        .await?;
        assert_eq!(now[0].status, "poor", "poor first: {now:?}");
        let summary = browser
            .attr("[data-wall-summary]", "data-count-poor")
            .await
            .unwrap_or_default();
        assert!(summary.parse::<u32>().is_ok_and(|n| n >= 1), "{summary:?}");
        // Each stream is counted once: the counts add up to the tiles.
        let counts = browser
            .client
            .execute(
                "const s = document.querySelector('[data-wall-summary]').dataset;\
                 return [s.countPoor, s.countUnseen, s.countGood, s.countUnknown, s.countExcellent]\
                   .reduce((sum, n) => sum + Number(n), 0)\
                   - document.querySelectorAll('.lsh-tile[data-stream]').length;",
                vec![],
            )
            .await?;
        assert_eq!(
            counts,
            serde_json::json!(0),
            "the summary's counts do not add up to the tiles"
        );
        until_tiles(
            &browser,
            "Main stage excellent",
            Duration::from_secs(15),
            each,
            status_is("Main stage", "excellent"),
        )
        .await?;
        until_tiles(
            &browser,
            "Jittery cam good",
            Duration::from_secs(20),
            each,
            status_is("Jittery cam", "good"),
        )
        .await?;
        until_tiles(
            &browser,
            "Lobby unknown",
            Duration::from_secs(30),
            each,
            status_is("Lobby", "unknown"),
        )
        .await?;
        // Each tile carries the monitor's metrics.
        let metrics: Value = browser
            .client
            .execute(
                "return [...document.querySelectorAll('.lsh-tile[data-stream]')]\
                   .map(t => !!t.querySelector('[data-metric=\"deviation\"]'));",
                vec![],
            )
            .await?;
        assert_eq!(metrics, serde_json::json!([true, true, true, true, true]));
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_name_keeps_the_given_order() -> TestResult {
    let stack = Stack::start("wall-sort-name")?;
    let browser = Browser::start().await?;
    let result = async {
        browser
            .client
            .goto(&wall_link(&stack, "&sort=name")?)
            .await?;
        let given: Vec<String> = STREAMS
            .iter()
            .map(|(label, _)| (*label).to_owned())
            .chain([FORGED.to_owned()])
            .collect();
        let each = |tiles: &[Tile]| -> Result<(), String> {
            let names: Vec<&String> = tiles.iter().map(|t| &t.stream).collect();
            if tiles.is_empty() || names.iter().copied().eq(given.iter()) {
                Ok(())
            } else {
                Err(format!("sort=name moved tiles: {names:?}"))
            }
        };
        // Even with a poor stream and a rejected one, nothing moves.
        until_tiles(
            &browser,
            "Backstage poor, Forged rejected",
            Duration::from_secs(15),
            each,
            |tiles| {
                find(tiles, "Backstage").is_some_and(|t| t.status == "poor")
                    && find(tiles, FORGED).is_some_and(|t| t.state == "token-rejected")
            },
        )
        .await?;
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

/// `data-stream` of the focused element ("" when it is not a tile).
async fn focused(browser: &Browser) -> Result<String, Error> {
    let seen = browser
        .client
        .execute(
            "const e = document.activeElement; return (e && e.dataset.stream) || '';",
            vec![],
        )
        .await?;
    Ok(seen.as_str().unwrap_or_default().to_owned())
}

/// Presses `key` on the focused element.
async fn press(browser: &Browser, key: Key) -> TestResult {
    browser
        .client
        .active_element()
        .await?
        .send_keys(&key.to_string())
        .await?;
    Ok(())
}

/// Focuses the tile named `stream`.
async fn focus_tile(browser: &Browser, stream: &str) -> TestResult {
    browser
        .client
        .execute(
            "document.querySelector(`.lsh-tile[data-stream=\"${arguments[0]}\"]`).focus();",
            vec![serde_json::json!(stream)],
        )
        .await?;
    Ok(())
}

/// The grid's columns as laid out: tiles on the first row.
async fn columns(browser: &Browser) -> Result<usize, Error> {
    let seen = browser
        .client
        .execute(
            "const tops = [...document.querySelectorAll('.lsh-tile')].map(t => t.offsetTop);\
             return tops.filter(t => t === tops[0]).length;",
            vec![],
        )
        .await?;
    Ok(seen.as_u64().unwrap_or(1) as usize)
}

async fn number(browser: &Browser, selector: &str, attr: &str) -> u64 {
    browser
        .attr(selector, attr)
        .await
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrows_move_between_tiles_and_enter_opens_the_stream_with_its_history() -> TestResult {
    let stack = Stack::start("wall-keys")?;
    let browser = Browser::start().await?;
    let result = async {
        browser
            .client
            .goto(&wall_link(&stack, "&sort=name")?)
            .await?;
        let given: Vec<&str> = STREAMS
            .iter()
            .map(|(label, _)| *label)
            .chain([FORGED])
            .collect();
        until_tiles(
            &browser,
            "Backstage live with samples",
            Duration::from_secs(10),
            |_| Ok(()),
            |tiles| find(tiles, "Backstage").is_some_and(|t| t.state == "live"),
        )
        .await?;
        let columns = columns(&browser).await?;
        assert!((1..=5).contains(&columns), "{columns} columns");

        focus_tile(&browser, given[0]).await?;
        assert_eq!(focused(&browser).await?, given[0]);
        press(&browser, Key::Right).await?;
        assert_eq!(focused(&browser).await?, given[1]);
        press(&browser, Key::Left).await?;
        assert_eq!(focused(&browser).await?, given[0]);
        press(&browser, Key::Down).await?;
        let below = if columns < given.len() { columns } else { 0 };
        assert_eq!(focused(&browser).await?, given[below], "{columns} columns");
        press(&browser, Key::End).await?;
        assert_eq!(focused(&browser).await?, FORGED);
        press(&browser, Key::Home).await?;
        assert_eq!(focused(&browser).await?, given[0]);

        // Enter on Backstage opens its full monitor from the same history.
        focus_tile(&browser, "Backstage").await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let spark = ".lsh-tile[data-stream=\"Backstage\"] svg[data-chart=\"sparkline\"]";
        let before = number(&browser, spark, "data-samples").await;
        assert!(before > 0, "the tile has samples");
        press(&browser, Key::Enter).await?;
        let open = ".lsh-open[data-open=\"Backstage\"]";
        assert_eq!(
            browser.attr(open, "data-layout").await.as_deref(),
            Some("full")
        );
        let chart = format!("{open} svg[data-chart=\"history\"]");
        let opened = number(&browser, &chart, "data-samples").await;
        assert!(opened >= before, "history kept: {opened} < {before}");
        assert!(browser.attr(".lsh-wall-tiles", "hidden").await.is_some());
        // Escape returns, with the focus on the tile.
        press(&browser, Key::Escape).await?;
        let deadline = Instant::now() + Duration::from_secs(2);
        while focused(&browser).await? != "Backstage" && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(focused(&browser).await?, "Backstage");
        assert_eq!(browser.attr(".lsh-open", "data-open").await, None);
        assert_eq!(browser.attr(".lsh-wall-tiles", "hidden").await, None);

        // A click opens too; the back button returns.
        browser
            .client
            .find(Locator::Css(".lsh-tile[data-stream=\"Lobby\"]"))
            .await?
            .click()
            .await?;
        assert!(browser
            .attr(".lsh-open[data-open=\"Lobby\"]", "data-state")
            .await
            .is_some());
        browser
            .client
            .find(Locator::Css("[data-action=\"back-to-wall\"]"))
            .await?
            .click()
            .await?;
        let deadline = Instant::now() + Duration::from_secs(2);
        while focused(&browser).await? != "Lobby" && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(focused(&browser).await?, "Lobby");
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_focused_tile_keeps_its_place_while_the_others_re_sort() -> TestResult {
    let stack = Stack::start("wall-pinned")?;
    let browser = Browser::start().await?;
    let result = async {
        browser.client.goto(&wall_link(&stack, "")?).await?;
        until_tiles(
            &browser,
            "Main stage and Lobby excellent",
            Duration::from_secs(15),
            |_| Ok(()),
            |tiles| {
                ["Main stage", "Lobby"]
                    .iter()
                    .all(|s| find(tiles, s).is_some_and(|t| t.status == "excellent"))
            },
        )
        .await?;
        // Main stage and Lobby are both excellent, Main stage first; once
        // Lobby's encoder is gone it turns unknown (for a few seconds of
        // each cycle) and sorts ahead of every excellent stream: unpinned,
        // Main stage would move one place back.
        focus_tile(&browser, "Main stage").await?;
        let place = |tiles: &[Tile]| tiles.iter().position(|t| t.stream == "Main stage");
        let start = place(&tiles(&browser).await?);
        assert!(start.is_some(), "Main stage shown");
        until_tiles(
            &browser,
            "Lobby unknown",
            Duration::from_secs(30),
            |tiles| {
                if place(tiles) == start {
                    Ok(())
                } else {
                    Err(format!("the focused tile moved: {tiles:?}"))
                }
            },
            |tiles| find(tiles, "Lobby").is_some_and(|t| t.status == "unknown"),
        )
        .await?;
        // Focus elsewhere: the order is the severity order again.
        browser
            .client
            .execute("document.activeElement.blur();", vec![])
            .await?;
        let given: Vec<&str> = STREAMS
            .iter()
            .map(|(label, _)| *label)
            .chain([FORGED])
            .collect();
        until_tiles(
            &browser,
            "the severity order",
            Duration::from_secs(5),
            |_| Ok(()),
            |tiles| sorted_by_severity(tiles, &given).is_ok(),
        )
        .await?;
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

/// The scripted test server's request count for `run` (health only).
async fn requests(addr: SocketAddr, run: &str) -> Result<u64, Error> {
    let url = format!("http://{addr}/s/{run}/x/stats");
    let body = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let mut response = ureq::get(&url).call().map_err(|e| e.to_string())?;
        response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())
    })
    .await??;
    let stats: Value = serde_json::from_str(&body)?;
    Ok(stats["requests"].as_u64().unwrap_or(0))
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Sixteen streams on one wall, open in three tabs of one browser: each
/// stream is polled once per interval, whatever the number of tabs (one
/// poller per stream per browser). The interval (`LSH_WALL_INTERVAL_S`, 1
/// by default; 5 is the product's default) and the window
/// (`LSH_WALL_WINDOW_S`, 10 by default) can be changed for a benchmark run;
/// the figure is printed per minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_streams_in_three_tabs_poll_once_per_stream_and_interval() -> TestResult {
    let interval_s = env_number("LSH_WALL_INTERVAL_S", 1).max(1);
    let window_s = env_number("LSH_WALL_WINDOW_S", 10).max(interval_s);
    let stack = Stack::start("wall-rate")?;
    let server = testserver::spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let run = format!("wall-rate-{}", std::process::id());
    let endpoint = format!("{}/s/{run}/excellent", server.base_url());
    let mut link = format!("{}#wall", stack.widget.base_url());
    for stream in 0..16 {
        let token = stack.token(&format!("wall-stream-{stream}"), Duration::from_secs(3600))?;
        link.push_str(&format!("&token={token}"));
    }
    link.push_str(&format!(
        "&endpoint={}&interval={interval_s}&viewers=off",
        percent_encode(&endpoint)
    ));
    let browser = Browser::start().await?;
    let result = async {
        let mut tabs = vec![browser.client.window().await?];
        browser.client.goto(&link).await?;
        for _ in 1..3 {
            let tab = browser.client.new_window(true).await?.handle;
            browser.client.switch_to_window(tab.clone()).await?;
            browser.client.goto(&link).await?;
            tabs.push(tab);
        }
        for tab in &tabs {
            browser.client.switch_to_window(tab.clone()).await?;
            until_tiles(
                &browser,
                "sixteen live tiles",
                Duration::from_secs(15),
                |_| Ok(()),
                |tiles| tiles.len() == 16 && tiles.iter().all(|t| t.state == "live"),
            )
            .await?;
        }
        // Let the tabs settle into one leader per stream.
        tokio::time::sleep(Duration::from_secs(2 * interval_s)).await;
        let before = requests(server.addr(), &run).await?;
        tokio::time::sleep(Duration::from_secs(window_s)).await;
        let made = requests(server.addr(), &run).await? - before;
        let per_minute = made as f64 * 60.0 / window_s as f64;
        let expected = 16.0 * window_s as f64 / interval_s as f64;
        println!(
            "16 streams, 3 tabs, interval {interval_s} s: {made} requests in {window_s} s, \
             {per_minute:.1} per minute (one tab alone: {:.1})",
            expected * 60.0 / window_s as f64
        );
        // Timer and request slack: one request per stream per ten seconds.
        let slack = 16.0 * ((window_s as f64 / 10.0).ceil() + 1.0);
        assert!(
            (made as f64 - expected).abs() <= slack,
            "{made} requests in {window_s} s, one tab makes {expected}"
        );
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lsh_streams_replaces_the_set_and_a_new_token_keeps_the_history() -> TestResult {
    let stack = Stack::start("wall-streams")?;
    let browser = Browser::start().await?;
    let result = async {
        let base = stack.widget.base_url();
        let origin = base.trim_end_matches('/').to_owned();
        let main = stack.stream("steady")?;
        let mut link = format!("{base}#wall");
        for (stream, label) in [
            (main.clone(), "Main stage"),
            (stack.stream("jittery")?, "Jittery cam"),
            (stack.stream("recovering")?, "Backstage"),
        ] {
            let token = stack.token(&stream, Duration::from_secs(3600))?;
            link.push_str(&format!("&token={token}&label={}", percent_encode(label)));
        }
        link.push_str(&format!(
            "&endpoint={}&interval=1&viewers=off&origin={}",
            percent_encode(&stack.standin().base_url()),
            percent_encode(&origin)
        ));
        browser.client.goto(&link).await?;
        until_tiles(
            &browser,
            "three live tiles",
            Duration::from_secs(10),
            |_| Ok(()),
            |tiles| tiles.len() == 3 && tiles.iter().all(|t| t.state == "live"),
        )
        .await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let spark =
            |name: &str| format!(".lsh-tile[data-stream=\"{name}\"] svg[data-chart=\"sparkline\"]");
        let before = number(&browser, &spark("Main stage"), "data-samples").await;
        assert!(before >= 2, "{before} samples");

        // The host sends the set: the main stage with a fresh token and a
        // new name, and a stream that was not there.
        let fresh = stack.token(&main, Duration::from_secs(7200))?;
        let lobby = stack.token(&stack.stream("disconnect")?, Duration::from_secs(3600))?;
        let message = serde_json::json!({
            "type": "lsh:streams",
            "v": 1,
            "streams": [
                { "token": fresh, "label": "Main stage 2" },
                { "token": lobby, "label": "Lobby" },
            ],
        });
        browser
            .client
            .execute(
                "window.postMessage(arguments[0], arguments[1]);",
                vec![message.clone(), serde_json::json!(origin)],
            )
            .await?;
        let now = until_tiles(
            &browser,
            "the new set, live",
            Duration::from_secs(10),
            |_| Ok(()),
            |tiles| {
                let mut names: Vec<&str> = tiles.iter().map(|t| t.stream.as_str()).collect();
                names.sort_unstable();
                names == ["Lobby", "Main stage 2"] && tiles.iter().all(|t| t.state == "live")
            },
        )
        .await?;
        assert_eq!(now.len(), 2);
        let after = number(&browser, &spark("Main stage 2"), "data-samples").await;
        assert!(after >= before, "history kept: {after} after {before}");

        // An unusable set (a token twice) is refused whole: nothing changes.
        let unusable = serde_json::json!({
            "type": "lsh:streams",
            "streams": [
                { "token": lobby, "label": "Intruder" },
                { "token": lobby, "label": "Intruder twice" },
            ],
        });
        browser
            .client
            .execute(
                "window.postMessage(arguments[0], arguments[1]);",
                vec![unusable, serde_json::json!(origin)],
            )
            .await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut names: Vec<String> = tiles(&browser)
            .await?
            .into_iter()
            .map(|t| t.stream)
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["Lobby", "Main stage 2"]);
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

/// A wall link for `streams` (`(label, scenario)`), every token valid.
fn plain_wall_link(stack: &Stack, streams: &[(&str, &str)], extra: &str) -> Result<String, Error> {
    let mut link = format!("{}#wall", stack.widget.base_url());
    for (label, scenario) in streams {
        let token = stack.token(&stack.stream(scenario)?, Duration::from_secs(3600))?;
        link.push_str(&format!("&token={token}&label={}", percent_encode(label)));
    }
    link.push_str(&format!(
        "&endpoint={}&viewers=off{extra}",
        percent_encode(&stack.standin().base_url())
    ));
    Ok(link)
}

/// Each stream's health requests as the page made them: the start times
/// (ms on the page's clock) of the requests for each token, in order.
async fn health_requests(browser: &Browser) -> Result<Vec<Vec<f64>>, Error> {
    let seen = browser
        .client
        .execute(
            "const byToken = new Map();\
             for (const e of performance.getEntriesByType('resource')) {\
               const url = new URL(e.name);\
               if (!url.pathname.endsWith('/live-stream-health')) continue;\
               const token = url.searchParams.get('token');\
               if (!byToken.has(token)) byToken.set(token, []);\
               byToken.get(token).push(e.startTime);\
             }\
             return [...byToken.values()].map(times => times.sort((a, b) => a - b));",
            vec![],
        )
        .await?;
    Ok(seen
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|times| {
            times
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_f64)
                .collect()
        })
        .collect())
}

/// The spread of the `n`-th request of every stream: how far apart the
/// earliest and the latest are, and the smallest gap between two.
fn spread(requests: &[Vec<f64>], n: usize) -> (f64, f64) {
    let mut times: Vec<f64> = requests.iter().filter_map(|r| r.get(n).copied()).collect();
    times.sort_by(f64::total_cmp);
    let width =
        times.last().copied().unwrap_or_default() - times.first().copied().unwrap_or_default();
    let gap = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    (width, gap)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streams_requests_are_spread_over_the_interval() -> TestResult {
    let stack = Stack::start("wall-spread")?;
    let browser = Browser::start().await?;
    let result = async {
        let streams = [
            ("One", "steady"),
            ("Two", "steady"),
            ("Three", "jittery"),
            ("Four", "steady"),
        ];
        browser
            .client
            .goto(&plain_wall_link(&stack, &streams, "&interval=2")?)
            .await?;
        // Four polls of every stream.
        let deadline = Instant::now() + Duration::from_secs(20);
        let requests = loop {
            let requests = health_requests(&browser).await?;
            if requests.len() == 4 && requests.iter().all(|r| r.len() >= 4) {
                break requests;
            }
            if Instant::now() > deadline {
                return Err(format!("four polls of four streams: {requests:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        // Stream i of 4 starts i * 500 ms after the first: 1500 ms from
        // the first to the last, 500 ms apart (fired together, they were
        // within a few ms of each other).
        for poll in 0..4 {
            let (width, gap) = spread(&requests, poll);
            assert!(
                width >= 1200.0 && gap >= 300.0,
                "poll {poll} of the four streams not spread (width {width:.0} ms, \
                 closest {gap:.0} ms): {requests:?}"
            );
        }
        // Every stream keeps its cadence. From the second poll on: the
        // first stream's first request may be the one the page starts while
        // the module downloads, which leaves before the poller exists.
        for times in &requests {
            for pair in times[1..].windows(2) {
                let every = pair[1] - pair[0];
                assert!(
                    (1500.0..=2600.0).contains(&every),
                    "a stream's polls {every:.0} ms apart: {times:?}"
                );
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

/// The page's title and the wall's announcement.
async fn title_and_announcement(browser: &Browser) -> Result<(String, String), Error> {
    let seen = browser
        .client
        .execute(
            "const a = document.querySelector('[data-wall-announcer]');\
             return [document.title, a ? a.textContent : ''];",
            vec![],
        )
        .await?;
    let field = |i: usize| seen[i].as_str().unwrap_or_default().to_owned();
    Ok((field(0), field(1)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walls_one_alert_names_the_stream_that_changed() -> TestResult {
    // Slow enough that each flapping status lasts several polls (two
    // samples confirm a status), fast enough to change within seconds.
    let stack = Stack::start_with("wall-alerts", 5.0)?;
    let browser = Browser::start().await?;
    let result = async {
        let streams = [
            ("Main stage", "steady"),
            ("Camera 2", "flapping"),
            ("Lobby", "steady"),
            ("Backstage", "steady"),
        ];
        browser
            .client
            .goto(&plain_wall_link(
                &stack,
                &streams,
                "&interval=1&alerts=title",
            )?)
            .await?;
        until_tiles(
            &browser,
            "four live tiles",
            Duration::from_secs(10),
            |_| Ok(()),
            |tiles| tiles.len() == 4 && tiles.iter().all(|t| t.state == "live"),
        )
        .await?;
        // Camera 2 goes from excellent to poor (or back): the title and the
        // announcement name it, and no other stream.
        let deadline = Instant::now() + Duration::from_secs(45);
        let (title, announced) = loop {
            let (title, announced) = title_and_announcement(&browser).await?;
            if title.contains("Camera 2") {
                break (title, announced);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no alert named Camera 2: title {title:?}, announced {announced:?}"
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(
            announced.ends_with(": Camera 2") && title.starts_with(&announced),
            "title {title:?}, announced {announced:?}"
        );
        for (other, _) in streams.iter().filter(|(label, _)| *label != "Camera 2") {
            assert!(!title.contains(other), "{title:?} names {other}");
        }
        // One live region for the whole wall: the tiles' badges are quiet.
        let live: Value = browser
            .client
            .execute(
                "return [document.querySelectorAll('[aria-live]').length,\
                         document.querySelectorAll('[data-wall-announcer][aria-live=polite]').length,\
                         document.querySelectorAll('.lsh-tile [role=status], .lsh-tile [aria-live]').length];",
                vec![],
            )
            .await?;
        assert_eq!(
            live,
            serde_json::json!([1, 1, 0]),
            "[aria-live] regions, the wall's announcer, live regions in tiles"
        );
        Ok::<(), Error>(())
    }
    .await;
    browser.close().await;
    result
}

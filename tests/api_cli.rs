//! The command line as a user meets it: `--help` for every command, bad
//! values refused with exit code 2 and a message naming the flag (before
//! anything starts), and the test server only in a build with `testkit`.
#![cfg(feature = "server")]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_live-stream-health");

/// Runs the tool; one that is still running after 10 s (a server that
/// started instead of refusing its arguments) is stopped, and its exit
/// status is then not 2.
fn run(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait_with_output().expect("output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_has_help() {
    let commands: &[(&str, &[&str])] = &[
        (
            "serve",
            &[
                "--listen",
                "--data-dir",
                "--time-scale",
                "--simulate",
                "--rtmp-listen",
            ],
        ),
        (
            "token",
            &[
                "--key",
                "--key-id",
                "--stream",
                "--expires",
                "--base-url",
                "--endpoint",
            ],
        ),
        (
            "demo-backend",
            &[
                "--listen",
                "--data-dir",
                "--widget-base",
                "--time-scale",
                "--scenarios",
                "--expires",
                "--serve-dir",
                "--widget-listen",
                "--rtmp-listen",
            ],
        ),
    ];
    for (command, flags) in commands {
        for help in [vec![*command, "--help"], vec!["help", *command]] {
            let output = run(&help);
            let stdout = text(&output.stdout);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{help:?}: {}",
                text(&output.stderr)
            );
            assert!(
                stdout.contains(&format!("Usage: live-stream-health {command}")),
                "{help:?}: {stdout}"
            );
            for flag in *flags {
                assert!(stdout.contains(flag), "{help:?} lacks {flag}: {stdout}");
            }
        }
    }
    let output = run(&["--help"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0));
    for command in ["serve", "token", "demo-backend"] {
        assert!(stdout.contains(command), "{stdout}");
    }
    assert!(stdout.contains("script:"), "the scenario help: {stdout}");
}

#[test]
fn misuse_exits_2_with_a_message_naming_the_flag() {
    let dir = std::env::temp_dir().join(format!("lsh-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data_dir = dir.to_string_lossy().into_owned();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["serve", "--listen", "localhost"], "--listen"),
        (vec!["serve", "--time-scale", "0"], "--time-scale"),
        (vec!["serve", "--time-scale", "fast"], "--time-scale"),
        (vec!["serve", "--time-scale", "20000"], "--time-scale"),
        (vec!["serve", "--rtmp-listen", "maybe"], "--rtmp-listen"),
        (vec!["serve", "--simulate", "steady,bogus"], "--simulate"),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:1",
                "--listen",
                "127.0.0.1:2",
            ],
            "--listen",
        ),
        (vec!["serve", "--bogus"], "--bogus"),
        (vec!["demo-backend", "--scenarios", "nope"], "--scenarios"),
        (vec!["demo-backend", "--expires", "5x"], "--expires"),
        (
            vec!["demo-backend", "--widget-listen", "127.0.0.1:9"],
            "--serve-dir",
        ),
        (
            vec!["demo-backend", "--serve-dir", "d", "--widget-listen", "x"],
            "--widget-listen",
        ),
        (
            vec![
                "token",
                "--key",
                "k",
                "--key-id",
                "i",
                "--stream",
                "s",
                "--expires",
                "0s",
            ],
            "--expires",
        ),
        (vec!["token"], "--key"),
        (vec!["launch"], "launch"),
    ];
    for (mut args, flag) in cases {
        if args[0] != "token" && args[0] != "launch" {
            args.extend(["--data-dir", &data_dir]);
        }
        let output = run(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            output.stdout.is_empty(),
            "{args:?}: {}",
            text(&output.stdout)
        );
        assert!(
            !PathBuf::from(&dir).exists(),
            "{args:?}: refused, yet it created the data directory"
        );
    }
    // No command at all: the usage, and exit 2.
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("Usage: live-stream-health"));
}

#[cfg(not(feature = "testkit"))]
#[test]
fn the_shipped_tool_has_no_test_server() {
    let output = run(&["test-server", "--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("unrecognized subcommand 'test-server'"),
        "{}",
        text(&output.stderr)
    );
    assert!(!text(&run(&["--help"]).stdout).contains("test-server"));
}

#[cfg(feature = "testkit")]
#[test]
fn a_testkit_build_has_the_test_server() {
    let output = run(&["test-server", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("--listen"));
    let output = run(&["test-server", "--listen", "nowhere"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--listen"));
}

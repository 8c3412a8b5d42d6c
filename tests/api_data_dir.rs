//! The data directory as processes see it: one stand-in per directory (a
//! second one is refused with exit code 2 and a clear message, and a
//! `kill -9` leaves no stale lock behind), and every file in it private to
//! its owner. Runs the real tool as child processes.
#![cfg(feature = "server")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_live-stream-health");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lsh-datadir-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn serve(dir: &Path) -> Child {
    Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--rtmp-listen", "off"])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool starts")
}

/// The stand-in's address and the lines it printed up to the RTMP line.
fn wait_listening(child: &mut Child) -> (SocketAddr, Vec<String>) {
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let mut addr = None;
    while let Some(Ok(line)) = lines.next() {
        if let Some(url) = line.strip_prefix("stand-in listening on http://") {
            addr = url.trim_end_matches('/').parse().ok();
        }
        let done = line.starts_with("RTMP ingest");
        seen.push(line);
        if done {
            break;
        }
    }
    (addr.expect("a listening line"), seen)
}

fn health(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200 ")
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn one_standin_per_data_directory_and_kill_9_leaves_no_stale_lock() {
    let dir = temp_dir("lock");
    let mut first = serve(&dir);
    let (addr, _) = wait_listening(&mut first);
    assert!(health(addr));

    let mut second = serve(&dir);
    let status = wait_exit(&mut second, Duration::from_secs(15));
    // Still running means not refused: stop it before reading what it said.
    let _ = second.kill();
    let mut stderr = String::new();
    if let Some(mut err) = second.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(2),
        "a second stand-in on the same directory: {status:?}, {stderr}"
    );
    assert!(
        stderr.contains("in use by another stand-in") && stderr.contains("--data-dir"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(health(addr), "the first one is untouched");

    // SIGKILL: no cleanup runs, and the OS releases the lock all the same.
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    let mut third = serve(&dir);
    let (addr, lines) = wait_listening(&mut third);
    assert!(health(addr));
    assert!(
        lines.iter().any(|l| l.starts_with("access token: see")),
        "the same state, not a new bootstrap: {lines:?}"
    );
    let _ = third.kill();
    let _ = third.wait();
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("modes").join("nested").join("data");
    let mut child = serve(&dir);
    let (addr, _) = wait_listening(&mut child);
    assert!(health(addr));
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).expect("listing") {
        let path = entry.expect("entry").path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    for name in ["state.json", "bootstrap.json", "standin.lock"] {
        assert!(dir.join(name).exists(), "{name}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(temp_dir("modes"));
}

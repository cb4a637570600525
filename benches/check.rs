//! Whole-tree checks on a real code base nobody here wrote (the Django source release,
//! fetched by `benches/setup.sh`): `stackaudit check` against `ruff check` with the
//! comparable families (ASYNC, S, BLE) and Semgrep with a hand-written equivalent of
//! our four headline rules (`benches/semgrep/stackaudit-equivalent.yml`), in the same
//! run: best wall time, Python files per second, peak resident memory, and ratios.
//!
//! `benches/setup.sh && cargo bench --bench check`

#![allow(clippy::disallowed_methods)] // Starts the servers and tools being compared.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{django_tree, installed_tool, version_of};

struct Run {
    wall: Duration,
    peak_rss_mib: f64,
}

/// Run `command` to completion with its output discarded: wall time and the peak RSS
/// of it and the children it waited for (from `wait4`, which also reaps it).
#[allow(clippy::zombie_processes)]
fn measure(mut command: Command) -> Run {
    let started = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
    let mut status = 0;
    // SAFETY: `rusage` is plain data that `wait4` fills; the pid is our own child, which
    // nothing else waits for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed for {command:?}");
    let exit = libc::WEXITSTATUS(status);
    // 0: clean, 1: findings; anything else is a failure of the tool.
    assert!(
        libc::WIFEXITED(status) && exit <= 1,
        "{command:?} failed with status {status}"
    );
    Run {
        wall,
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

fn best_of(runs: usize, make: impl Fn() -> Command) -> Run {
    (0..runs)
        .map(|_| measure(make()))
        .min_by_key(|run| run.wall)
        .expect("at least one run")
}

/// The best run of each command over `rounds` rounds that run each once, in turn: on a
/// machine whose speed drifts from minute to minute, both see the same minutes.
fn best_of_alternating(rounds: usize, makes: &[&dyn Fn() -> Command]) -> Vec<Run> {
    let mut best: Vec<Option<Run>> = makes.iter().map(|_| None).collect();
    for _ in 0..rounds {
        for (make, best) in makes.iter().zip(&mut best) {
            let run = measure(make());
            if best.as_ref().is_none_or(|known| run.wall < known.wall) {
                *best = Some(run);
            }
        }
    }
    best.into_iter()
        .map(|run| run.expect("at least one round"))
        .collect()
}

/// `(Python files, bytes of all files)` under `dir`.
fn tree_size(dir: &Path) -> (usize, u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    entries.flatten().fold((0, 0), |(files, bytes), entry| {
        let path = entry.path();
        let (more_files, more_bytes) = if path.is_dir() {
            tree_size(&path)
        } else {
            let is_python = path.extension().is_some_and(|ext| ext == "py");
            (
                usize::from(is_python),
                entry.metadata().map_or(0, |meta| meta.len()),
            )
        };
        (files + more_files, bytes + more_bytes)
    })
}

/// The Ruff families that match stackaudit's Python rules (the issue-13 comparison).
const RUFF_FAMILIES: &str = "ASYNC,S,BLE,E722,PGH003,PLC0415,PLW0603";

fn main() {
    let Some(tree) = django_tree() else {
        println!("no Django tree: run benches/setup.sh first (comparison skipped)");
        return;
    };
    let (files, bytes) = tree_size(&tree);
    println!(
        "== check over {} ({files} Python files, {:.1} MB in all)",
        tree.display(),
        bytes as f64 / 1e6
    );
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_stackaudit"));
    let mut results: Vec<(String, Run)> = Vec::new();

    let stackaudit = |cache: bool| {
        let mut command = Command::new(&ours);
        command
            .current_dir(&tree)
            .args(["check", "."])
            .args(["--output-format", "json"]);
        if !cache {
            command.arg("--no-cache");
        }
        command
    };
    let ruff = installed_tool("ruff");
    let cache_dir = tempfile::tempdir().expect("temp dir");
    let ruff_check = |cache: bool| {
        let mut command = Command::new(ruff.as_ref().expect("ruff is installed"));
        command.args(["check", "--isolated", "--select", RUFF_FAMILIES]);
        if cache {
            command.arg("--cache-dir").arg(cache_dir.path());
        } else {
            command.arg("--no-cache");
        }
        command.args(["--exit-zero", "--quiet"]).arg(&tree);
        command
    };
    let ruff_version = ruff.as_ref().map(|ruff| version_of(ruff));
    if ruff.is_none() {
        println!("ruff: not installed (run benches/setup.sh); skipped");
    }
    // Cold, then warm (each tool's cache filled first); runs of the two alternate.
    for cache in [false, true] {
        let (ours_name, theirs_name) = if cache {
            (
                "stackaudit check, warm (nothing changed)".to_string(),
                "check, warm (nothing changed)".to_string(),
            )
        } else {
            (
                "stackaudit check --no-cache".to_string(),
                format!("check --no-cache --select {RUFF_FAMILIES}"),
            )
        };
        if cache {
            let _ = stackaudit(true).output();
            if ruff.is_some() {
                let _ = ruff_check(true).output();
            }
        }
        let ours_command = || stackaudit(cache);
        let theirs_command = || ruff_check(cache);
        let rounds = if cache { 5 } else { 10 };
        let mut runs = match ruff_version {
            Some(_) => best_of_alternating(rounds, &[&ours_command, &theirs_command]),
            None => vec![best_of(rounds, ours_command)],
        }
        .into_iter();
        results.push((ours_name, runs.next().expect("our run")));
        if let (Some(version), Some(run)) = (&ruff_version, runs.next()) {
            results.push((format!("{version} {theirs_name}"), run));
        }
    }

    if let Some(semgrep) = installed_tool("semgrep") {
        // Semgrep skips `tests/` folders by default; an empty ignore file at the root
        // makes it read the same files as the others.
        let _ = std::fs::write(tree.join(".semgrepignore"), "");
        let rules =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/semgrep/stackaudit-equivalent.yml");
        let run = best_of(2, || {
            let mut command = Command::new(&semgrep);
            command
                .current_dir(&tree)
                .arg("scan")
                .arg("--config")
                .arg(&rules)
                .args([
                    "--metrics=off",
                    "--disable-version-check",
                    "--quiet",
                    "--json",
                ])
                .arg(".");
            command
        });
        results.push((
            format!("semgrep {} (4 equivalent rules)", version_of(&semgrep)),
            run,
        ));
    } else {
        println!("semgrep: not installed (run benches/setup.sh); skipped");
    }

    for (name, run) in &results {
        println!(
            "{name:<52} {:>9.3?}  {:>8.0} files/s  peak RSS {:>6.1} MiB",
            run.wall,
            files as f64 / run.wall.as_secs_f64(),
            run.peak_rss_mib
        );
    }
    let wall = |prefix: &str| {
        results
            .iter()
            .find(|(name, _)| name.starts_with(prefix))
            .map(|(_, run)| run.wall.as_secs_f64())
    };
    let pairs = [
        (
            "cold",
            "stackaudit check --no-cache",
            "ruff 0",
            "check --no-cache",
        ),
        ("warm", "stackaudit check, warm", "ruff 0", "check, warm"),
    ];
    for (kind, ours, tool, theirs) in pairs {
        let theirs = results
            .iter()
            .find(|(name, _)| name.starts_with(tool) && name.contains(theirs))
            .map(|(_, run)| run.wall.as_secs_f64());
        if let (Some(ours), Some(theirs)) = (wall(ours), theirs) {
            println!("{kind}: stackaudit wall / ruff wall: {:.2}", ours / theirs);
        }
    }
    if let (Some(ours), Some(semgrep)) = (wall("stackaudit check --no-cache"), wall("semgrep")) {
        println!(
            "cold: semgrep wall / stackaudit wall: {:.2}",
            semgrep / ours
        );
    }
}

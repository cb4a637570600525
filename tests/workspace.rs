//! Facts across files: a client, session or dependency made in one module is known in
//! the modules that import it, in `check` as in the server. The fixture workspaces live
//! in `tests/fixtures/workspaces/`.

#![allow(clippy::disallowed_methods)] // Starts the built binary, as a user does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/workspaces")
        .join(name)
}

fn stackaudit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackaudit"))
        .args(args)
        .current_dir(dir)
        .env_remove("STACKAUDIT_LOG")
        .output()
        .expect("the binary runs")
}

/// Each finding of a JSON report as `file:row:column-row:column rule message`.
fn findings_of(output: &Output) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    json.as_array()
        .into_iter()
        .flatten()
        .map(|finding| {
            format!(
                "{}:{}:{}-{}:{} {} {}",
                finding["filename"].as_str().unwrap_or(""),
                finding["location"]["row"],
                finding["location"]["column"],
                finding["end_location"]["row"],
                finding["end_location"]["column"],
                finding["code"].as_str().unwrap_or(""),
                finding["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// What `check` finds in the `clients` workspace: every import form, a getter, a
/// dependency and a class attribute; no finding for the asyncio client, a module that
/// does not exist, a parameter that shadows an imported client, or the second
/// project's own `app.cache` (a dict, not the backend's client).
const CLIENTS_FINDINGS: &[&str] = &[
    "backend/app/services/routes.py:11:12-11:27 blocking-io-in-async `r.get` blocks the event loop inside `async def visits`",
    "backend/app/services/sessions.py:7:5-7:50 redis-key-without-ttl `redis_client.set` creates key `f\"session:{user_id}\"` with no expiry; it stays in Redis until deleted",
    "backend/app/services/sessions.py:11:5-11:66 redis-key-without-ttl `deps.cache_client.hset` creates key `f\"profile:{user_id}\"` with no expiry; it stays in Redis until deleted",
    "backend/app/services/sessions.py:15:5-15:40 redis-key-without-ttl `store.shared.incr` creates key `f\"visits:{page}\"` with no expiry; it stays in Redis until deleted",
    "backend/app/services/store.py:12:9-12:47 redis-key-without-ttl `self.client.set` creates key `f\"token:{token}\"` with no expiry; it stays in Redis until deleted",
    "backend/app/services/store.py:16:5-16:38 redis-key-without-ttl `get_redis().sadd` creates key `\"tokens\"` with no expiry; it stays in Redis until deleted",
];

#[test]
fn check_knows_clients_made_in_other_modules() {
    let root = workspace("clients");
    let output = stackaudit(
        &root,
        &["check", "--no-cache", "--output-format", "json", "."],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(findings_of(&output), CLIENTS_FINDINGS);
}

/// A cached finding that rests on another module's facts goes when those facts
/// change, though its own file did not.
#[test]
fn cached_findings_follow_the_facts_of_other_modules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("pyproject.toml", "[project]\nname = \"p\"\n");
    write("app/__init__.py", "");
    write(
        "app/clients.py",
        "import redis\n\nclient = redis.Redis(socket_timeout=1, socket_connect_timeout=1)\n",
    );
    write(
        "app/use.py",
        "from app.clients import client\n\n\ndef save(key, value):\n    client.set(key, value)\n",
    );
    let run = || {
        findings_of(&stackaudit(
            dir.path(),
            &["check", "--output-format", "json"],
        ))
    };
    let first = run();
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].starts_with("app/use.py:5:5-5:27 redis-key-without-ttl"));
    // The client becomes an asyncio client elsewhere: still a Redis client.
    write("app/clients.py", "import redis\n\nclient = {}\n");
    assert_eq!(run(), Vec::<String>::new());
    write(
        "app/clients.py",
        "import redis\n\nclient = redis.Redis(socket_timeout=1, socket_connect_timeout=1)\n",
    );
    assert_eq!(run(), first);
}

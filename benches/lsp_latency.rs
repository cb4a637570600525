//! End to end over the protocol, as an editor sees it: the time from sending a
//! `didChange` to receiving the `publishDiagnostics` of that version, for
//! `stackaudit server` and, in the same run with the same client, file and edits,
//! `ruff server` (selecting the comparable families ASYNC, S, BLE, E722, PGH003, PLC0415 and PLW0603). Then the memory
//! of the server with 500 open documents, and a small document edited while a 10 MB
//! one is opened and audited.
//!
//! `benches/setup.sh && cargo bench --bench lsp_latency` (without Ruff installed by the
//! setup script the Ruff part is skipped and says so).

#![allow(clippy::disallowed_methods)] // Starts the servers and tools being compared.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use common::{
    EditPlace, Spread, SqlEditPlace, compose, dockerfile, installed_tool, python_module, spread,
    sql_schema, version_of,
};
use serde_json::{Value, json};

const EDITS: usize = 500;
const TIMEOUT: Duration = Duration::from_secs(120);

/// A minimal LSP client over a child process's stdio.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<(Instant, Value)>,
    next_id: i64,
}

impl Client {
    fn spawn(program: &Path, args: &[&str], cwd: &Path) -> Client {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length:") {
                        length = value.trim().parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let arrived = Instant::now();
                let message: Value = serde_json::from_slice(&body).expect("JSON from the server");
                if sender.send((arrived, message)).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 0,
        }
    }

    fn send(&mut self, message: Value) -> Instant {
        let body = message.to_string();
        let sent = Instant::now();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("server stdin");
        self.stdin.flush().expect("server stdin");
        sent
    }

    fn notify(&mut self, method: &str, params: Value) -> Instant {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    /// Wait for a message; answer requests from the server (configuration,
    /// registrations) with what a plain client would.
    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> (Instant, Value) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (arrived, message) = match self.incoming.recv_timeout(left) {
                Ok(received) => received,
                Err(RecvTimeoutError::Timeout) => panic!("no answer within {TIMEOUT:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("the server exited"),
            };
            if message.get("method").is_some() && message.get("id").is_some() {
                let result = match message["method"].as_str() {
                    Some("workspace/configuration") => json!([null]),
                    _ => Value::Null,
                };
                self.send(json!({"jsonrpc": "2.0", "id": message["id"], "result": result}));
                continue;
            }
            if wanted(&message) {
                return (arrived, message);
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|message| message["id"] == id).1
    }

    fn initialize(&mut self, root: &Path) -> Instant {
        let root_uri = uri_of(root);
        self.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
                "capabilities": {
                    "general": {"positionEncodings": ["utf-16"]},
                    "textDocument": {"publishDiagnostics": {"versionSupport": true}},
                    "window": {"workDoneProgress": true},
                },
            }),
        );
        self.notify("initialized", json!({}))
    }

    /// When the server's first scan of the workspace ended (its `$/progress` end).
    fn indexed(&mut self) -> Instant {
        self.wait_for(|message| {
            message["method"] == "$/progress" && message["params"]["value"]["kind"] == "end"
        })
        .0
    }

    fn open(&mut self, uri: &str, language: &str, text: &str) -> Instant {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        )
    }

    /// Wait for the diagnostics of `uri` at `version` (or, from a server that does
    /// not send versions, the next ones for `uri`); the arrival time and their count.
    fn diagnostics(&mut self, uri: &str, version: i64) -> (Instant, usize) {
        let (arrived, message) = self.wait_for(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
                && (message["params"]["version"].is_null()
                    || message["params"]["version"] == version)
        });
        let count = message["params"]["diagnostics"]
            .as_array()
            .map_or(0, Vec::len);
        (arrived, count)
    }

    /// Peak and current resident memory of the server, in MiB.
    /// Wait until each of `uris` has had its diagnostics published (in any order).
    fn diagnostics_of_every<'u>(&mut self, uris: impl Iterator<Item = &'u str>) {
        let mut waiting: std::collections::HashSet<&str> = uris.collect();
        while !waiting.is_empty() {
            let (_, message) =
                self.wait_for(|message| message["method"] == "textDocument/publishDiagnostics");
            if let Some(uri) = message["params"]["uri"].as_str() {
                waiting.remove(uri);
            }
        }
    }

    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
                .map_or(f64::NAN, |kib| kib / 1024.0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }

    fn shut_down(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Type a character at `(line, column)`, then delete it, `EDITS` times; each edit
/// waits for its diagnostics.
fn keystrokes(
    client: &mut Client,
    uri: &str,
    (line, column): (usize, usize),
) -> (Vec<Duration>, usize) {
    let (_, findings) = client.diagnostics(uri, 1);
    let mut latencies = Vec::with_capacity(EDITS);
    for version in 2..(2 + EDITS as i64) {
        let sent = client.notify(
            "textDocument/didChange",
            keystroke(uri, version, line, column),
        );
        let (arrived, _) = client.diagnostics(uri, version);
        latencies.push(arrived - sent);
    }
    (latencies, findings)
}

/// The `didChange` params of one keystroke at `line`:`column` of `uri`: even versions
/// type an `x`, odd ones delete it again, so the text stays realistic.
fn keystroke(uri: &str, version: i64, line: usize, column: usize) -> Value {
    let (end, insert) = if version % 2 == 0 {
        (column, "x")
    } else {
        (column + 1, "")
    };
    json!({
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": {"start": {"line": line, "character": column}, "end": {"line": line, "character": end}}, "text": insert}],
    })
}

fn print_spread(name: &str, spread: &Spread) {
    println!(
        "{name:<44} p50 {:>9.3?}  p99 {:>9.3?}  max {:>9.3?}  ({} edits)",
        spread.p50, spread.p99, spread.max, spread.runs
    );
}

fn workspace(ruff_config: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    if ruff_config {
        std::fs::write(
            dir.path().join("ruff.toml"),
            "[lint]\nselect = [\"ASYNC\", \"S\", \"BLE\", \"E722\", \"PGH003\", \"PLC0415\", \"PLW0603\"]\n",
        )
        .expect("ruff.toml");
    }
    dir
}

/// The server under test: this build's, or `STACKAUDIT_BIN` (to compare two builds
/// in alternation on a noisy machine).
fn stackaudit() -> PathBuf {
    std::env::var_os("STACKAUDIT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_stackaudit")))
}

/// Start `program server` in `workspace`, open `text` as `uri`, type `EDITS` keystrokes:
/// their latencies and the number of findings on open.
fn typing_latency(
    program: &Path,
    workspace: &Path,
    (uri, language): (&str, &str),
    text: &str,
    at: (usize, usize),
) -> (Spread, usize) {
    let mut client = Client::spawn(program, &["server"], workspace);
    client.initialize(workspace);
    client.open(uri, language, text);
    let (latencies, findings) = keystrokes(&mut client, uri, at);
    client.shut_down();
    (spread(latencies), findings)
}

fn keystroke_comparison(kind: &str, text: &str, place: EditPlace) {
    println!(
        "== keystroke to diagnostics: {} lines, {} bytes of Python ({kind}), {}, {EDITS} edits one at a time",
        text.lines().count(),
        text.len(),
        place.name()
    );
    let dir = workspace(true);
    let file = dir.path().join("handlers.py");
    std::fs::write(&file, text).expect("write");
    let uri = uri_of(&file);

    let at = place.position(text);
    let (ours, findings) = typing_latency(&stackaudit(), dir.path(), (&uri, "python"), text, at);
    print_spread(&format!("stackaudit server ({findings} findings)"), &ours);

    let Some(ruff) = installed_tool("ruff") else {
        println!("ruff server: not installed (run benches/setup.sh); comparison skipped");
        return;
    };
    let (theirs, findings) = typing_latency(&ruff, dir.path(), (&uri, "python"), text, at);
    print_spread(
        &format!("{} server ({findings} findings)", version_of(&ruff)),
        &theirs,
    );
    println!(
        "ratio stackaudit / ruff: p50 {:.2}, p99 {:.2}",
        ours.p50.as_secs_f64() / theirs.p50.as_secs_f64(),
        ours.p99.as_secs_f64() / theirs.p99.as_secs_f64()
    );
}

/// Keystrokes in a 3,000-line SQL script, against the keystroke budget (no peer
/// serves PostgreSQL files over LSP the same way; squawk's is compared on `check`).
fn sql_keystrokes(text: &str, place: SqlEditPlace) {
    println!(
        "== keystroke to diagnostics: {} lines, {} bytes of SQL (schema and seed script), {}, {EDITS} edits one at a time",
        text.lines().count(),
        text.len(),
        place.name()
    );
    let dir = workspace(false);
    let file = dir.path().join("schema.sql");
    std::fs::write(&file, text).expect("write");
    let uri = uri_of(&file);
    let (ours, findings) = typing_latency(
        &stackaudit(),
        dir.path(),
        (&uri, "sql"),
        text,
        place.position(text),
    );
    print_spread(&format!("stackaudit server ({findings} findings)"), &ours);
}

/// Open 500 documents (Python modules, Dockerfiles, compose files), wait for every
/// document's diagnostics, then read the server's memory.
fn memory_with_open_documents() {
    println!(
        "== memory with 500 open documents (300 Python modules of ~200 lines, 100 Dockerfiles, 100 compose files)"
    );
    let dir = workspace(true);
    let mut documents = Vec::new();
    for index in 0..500 {
        let (name, language, text) = match index % 5 {
            0 => (
                format!("Dockerfile.{index}"),
                "dockerfile",
                dockerfile(index),
            ),
            1 => (
                format!("compose{index}/docker-compose.yml"),
                "yaml",
                compose(index),
            ),
            _ => (
                format!("app/module_{index}.py"),
                "python",
                python_module(200),
            ),
        };
        documents.push((uri_of(&dir.path().join(name)), language, text));
    }
    let mut server = Client::spawn(&stackaudit(), &["server"], dir.path());
    server.initialize(dir.path());
    let (_, baseline) = server.memory();
    for (uri, language, text) in &documents {
        server.open(uri, language, text);
    }
    server.diagnostics_of_every(documents.iter().map(|(uri, _, _)| uri.as_str()));
    let (peak, now) = server.memory();
    println!(
        "stackaudit server: {now:.1} MiB resident with 500 documents open (peak {peak:.1} MiB; {baseline:.1} MiB before opening)"
    );
    server.shut_down();
}

/// The budget's memory row: 500 open Python documents of 300 lines each, in this
/// server and in `ruff server`, with the same client; resident memory once every
/// document has its diagnostics.
fn memory_with_python_documents() {
    println!("== memory with 500 open Python documents of 300 lines each, against ruff server");
    let dir = workspace(true);
    let documents: Vec<(String, String)> = (0..500)
        .map(|index| {
            let uri = uri_of(&dir.path().join(format!("app/module_{index}.py")));
            let text = python_module(300).replace("handler_", &format!("handler_{index}_"));
            (uri, text)
        })
        .collect();
    let mut servers = vec![("stackaudit server".to_string(), stackaudit())];
    if let Some(ruff) = installed_tool("ruff") {
        servers.push((format!("{} server", version_of(&ruff)), ruff));
    }
    for (name, program) in servers {
        let mut server = Client::spawn(&program, &["server"], dir.path());
        server.initialize(dir.path());
        let (_, baseline) = server.memory();
        for (uri, text) in &documents {
            server.open(uri, "python", text);
        }
        server.diagnostics_of_every(documents.iter().map(|(uri, _)| uri.as_str()));
        let (peak, now) = server.memory();
        println!(
            "{name}: {now:.1} MiB resident with 500 Python documents open (peak {peak:.1} MiB; {baseline:.1} MiB before opening)"
        );
        server.shut_down();
    }
}

/// Edit a small document, one edit at a time, from just after a 10 MB Python module is
/// opened until that module's diagnostics arrive.
fn small_document_beside_a_large_one() {
    let big = python_module(400_000);
    let big_mib = big.len() as f64 / (1024.0 * 1024.0);
    println!(
        "== a small document edited while a {big_mib:.1} MiB Python module is opened and audited"
    );
    let dir = workspace(false);
    let big_uri = uri_of(&dir.path().join("generated.py"));
    let small_uri = uri_of(&dir.path().join("small.py"));
    let small = "import time\n\n\nasync def handler():\n    payload = 1\n    time.sleep(1)\n";
    let mut server = Client::spawn(&stackaudit(), &["server"], dir.path());
    server.initialize(dir.path());
    server.open(&small_uri, "python", small);
    server.diagnostics(&small_uri, 1);

    let opened = server.open(&big_uri, "python", &big);
    let mut latencies = Vec::new();
    let mut big_arrived = None;
    let mut version = 1;
    while big_arrived.is_none() {
        version += 1;
        let sent = server.notify(
            "textDocument/didChange",
            keystroke(&small_uri, version, 4, 4),
        );
        let big_uri = big_uri.as_str();
        let small_uri = small_uri.as_str();
        let (arrived, message) = server.wait_for(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && (message["params"]["uri"] == big_uri
                    || (message["params"]["uri"] == small_uri
                        && message["params"]["version"] == version))
        });
        if message["params"]["uri"] == big_uri {
            let count = message["params"]["diagnostics"]
                .as_array()
                .map_or(0, Vec::len);
            big_arrived = Some((arrived - opened, count));
            // The small edit's own diagnostics are still on their way.
            let (arrived, _) = server.diagnostics(small_uri, version);
            latencies.push(arrived - sent);
        } else {
            latencies.push(arrived - sent);
        }
    }
    let (big_time, big_findings) = big_arrived.expect("loop ends when it arrives");
    println!("large document: open to diagnostics {big_time:.3?} ({big_findings} findings)");
    print_spread("small document meanwhile", &spread(latencies));
    server.shut_down();
}

fn main() {
    let only = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let wants = |name: &str| only.as_deref().is_none_or(|only| name.contains(only));
    if wants("keystroke") {
        let service = python_module(5_000);
        let fastapi = common::fastapi_module(5_000);
        for place in EditPlace::ALL {
            keystroke_comparison("service module, every handler flawed", &service, place);
            keystroke_comparison("FastAPI module, 300+ routes", &fastapi, place);
        }
    }
    if wants("alembic") {
        // A usual migration, and a large initial one (autogenerate of a whole schema).
        for lines in [200, 1_000] {
            let migration = common::alembic_migration(lines);
            let kind = format!("Alembic migration, one {lines}-line upgrade()");
            for place in EditPlace::ALL {
                keystroke_comparison(&kind, &migration, place);
            }
        }
    }
    if wants("sql") {
        let schema = sql_schema(3_000);
        for place in SqlEditPlace::ALL {
            sql_keystrokes(&schema, place);
        }
    }
    if wants("memory") {
        memory_with_open_documents();
        memory_with_python_documents();
    }
    if wants("large") {
        small_document_beside_a_large_one();
    }
    if wants("index") {
        index_of_django();
        republish_of_importers();
    }
}

/// The server's first scan of Django (every module's facts and imports), then 50 of its
/// modules opened: the time from `initialized` to the end of the scan's progress, and
/// the memory after.
fn index_of_django() {
    let Some(tree) = common::django_tree() else {
        println!("no Django tree: run benches/setup.sh first (index skipped)");
        return;
    };
    println!("== the workspace index of Django ({})", tree.display());
    for round in 0..3 {
        let mut server = Client::spawn(&stackaudit(), &["server"], &tree);
        let initialized = server.initialize(&tree);
        let indexed = server.indexed();
        let (peak, now) = server.memory();
        let modules: Vec<PathBuf> = walk_python(&tree.join("django/db/models"))
            .into_iter()
            .take(50)
            .collect();
        for module in &modules {
            let text = std::fs::read_to_string(module).expect("readable");
            server.open(&uri_of(module), "python", &text);
        }
        let uris: Vec<String> = modules.iter().map(|module| uri_of(module)).collect();
        server.diagnostics_of_every(uris.iter().map(String::as_str));
        let (open_peak, open_now) = server.memory();
        println!(
            "round {round}: indexed in {:.0?}; {now:.1} MiB resident (peak {peak:.1}); with 50 modules open {open_now:.1} MiB (peak {open_peak:.1})",
            indexed - initialized
        );
        server.shut_down();
    }
}

fn walk_python(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            found.extend(walk_python(&path));
        } else if path.extension().is_some_and(|extension| extension == "py") {
            found.push(path);
        }
    }
    found
}

/// An edit that changes what a module exports (a sync Redis client becomes an asyncio
/// one, unsaved) until the open module that imports it is published again.
fn republish_of_importers() {
    println!("== an edit of a module's exported facts until its importer is republished");
    let dir = workspace(false);
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"bench\"\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    std::fs::write(dir.path().join("app/__init__.py"), "").expect("write");
    let clients = dir.path().join("app/clients.py");
    let sync_client = "import redis\nimport redis.asyncio\n\n\ndef get_redis() -> redis.Redis:\n    return make()\n";
    std::fs::write(&clients, sync_client).expect("write");
    let user = dir.path().join("app/routes.py");
    let user_text = "from fastapi import Depends\n\nfrom app.clients import get_redis\n\n\nasync def visits(r=Depends(get_redis)):\n    return r.get(\"visits\")\n";
    std::fs::write(&user, user_text).expect("write");
    let mut server = Client::spawn(&stackaudit(), &["server"], dir.path());
    server.initialize(dir.path());
    server.indexed();
    let (clients_uri, user_uri) = (uri_of(&clients), uri_of(&user));
    server.open(&user_uri, "python", user_text);
    server.diagnostics(&user_uri, 1);
    server.open(&clients_uri, "python", sync_client);
    server.diagnostics(&clients_uri, 1);
    let mut latencies = Vec::new();
    for round in 0..40 {
        // `redis.Redis` <-> `redis.asyncio.Redis` in the getter's annotation.
        let (to, end) = if round % 2 == 0 {
            ("redis.asyncio.Redis", 30)
        } else {
            ("redis.Redis", 38)
        };
        let from = 19;
        let sent = server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": clients_uri, "version": round + 2},
                "contentChanges": [{"range": {"start": {"line": 4, "character": from}, "end": {"line": 4, "character": end}}, "text": to}],
            }),
        );
        let user_uri = user_uri.as_str();
        let (arrived, _) = server.wait_for(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == user_uri
        });
        latencies.push(arrived - sent);
    }
    server.shut_down();
    let Spread {
        p50,
        p99,
        max,
        runs,
        ..
    } = spread(latencies);
    println!("stackaudit server: p50 {p50:.1?}  p99 {p99:.1?}  max {max:.1?}  ({runs} edits)");
}

//! ## What it does
//! Finds blocking calls made directly inside an `async def` (not inside a nested `def`
//! or `lambda`): `time.sleep`, `requests.*`, `urllib.request.urlopen`, module-level
//! `httpx.get/post/...` and `httpx.Client`, `open()`, `Path.read_*`/`write_*`,
//! `subprocess.run/call/check_call/check_output/Popen`, `os.system`,
//! `psycopg2.connect`, `sqlite3.connect`, and calls on synchronous clients: a Redis
//! client or pipeline, an HTTP session (`requests.Session()`, `httpx.Client()`), and a
//! SQLAlchemy `Session` (`db: Session = Depends(get_db)`, `SessionLocal()`, a session
//! from a `sessionmaker`) running queries (`execute`, `query`, `get`, `commit`, ...).
//! Names are resolved through imports (`from time import sleep`, `import requests as rq`),
//! and clients through the module's semantic model (names, `self.x`, annotations).
//!
//! Calls handed to `asyncio.to_thread`, `loop.run_in_executor` or `run_in_threadpool`,
//! and awaited async equivalents, are fine.
//!
//! ## Why is this bad?
//! An `async def` runs on the event loop's only thread. A blocking call there stops
//! every other request the process is serving until it returns: one slow HTTP call or
//! a `time.sleep(1)` in a FastAPI handler adds its full duration to the latency of all
//! concurrent requests, and under load the server stops answering health checks.
//!
//! ## Example
//! ```python
//! import time
//! import requests
//!
//! async def refresh(user_id: int):
//!     time.sleep(0.5)
//!     return requests.get(f"https://api.example.com/users/{user_id}", timeout=5).json()
//! ```
//!
//! ## Use instead
//! ```python
//! import asyncio
//! import time
//! import requests
//!
//! async def refresh(user_id: int):
//!     await asyncio.sleep(0.5)
//!     response = await asyncio.to_thread(requests.get, f"https://api.example.com/users/{user_id}", timeout=5)
//!     return response.json()
//! ```
//! Better still, use an async client (`httpx.AsyncClient`, `redis.asyncio`, `aiofiles`).
//!
//! ## Fix safety
//! `time.sleep(x)` becomes `await asyncio.sleep(x)` (adding `import asyncio` when
//! missing): safe when the call is a statement of its own, unsafe inside a larger
//! expression. Other calls become `await asyncio.to_thread(f, *args, **kwargs)`, which
//! is unsafe: the work moves to a thread, so code that relies on running on the event
//! loop's thread (thread-locals, non-thread-safe objects) may behave differently.
//! `open()` in a `with` statement, client constructors and queries on a synchronous
//! database session get no fix (a session is not safe to share with a worker thread,
//! and a query chain blocks where it is evaluated, not where it starts).

use crate::rules::projections::Projections;
use std::collections::HashMap;

use tree_sitter::Node;

use super::{ModuleFacts, ensure_module_import, is_async_function, is_standalone_statement};
use crate::language::Language;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, named_children,
    node_text, prefilter,
};
use crate::semantic::python::imports::qualified_name;
use crate::semantic::python::{BindingKind, Scopes, SemanticModel};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "blocking-io-in-async",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::Sometimes(FixSafety::SafeOrUnsafe),
    summary: "A blocking call (sleep, HTTP, file, subprocess, sync DB/Redis) inside `async def`",
    triggers: &["async"],
    text_test: Some(may_block_in_async),
    check: Check::Tree(check),
    reads: Projections::IMPORTS
        .and(Projections::CLIENTS)
        .and(Projections::HEADER),
};

/// Fully qualified callables that block.
const BLOCKING_CALLS: &[&str] = &[
    "time.sleep",
    "urllib.request.urlopen",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "os.system",
    "os.popen",
    "psycopg2.connect",
    "sqlite3.connect",
    "httpx.Client",
];

/// Words a file must contain for any call above (or a sync Redis client, or a `Path`
/// method below) to appear in it: their modules or last names, which an import or the
/// call itself spells out.
const BLOCKING_WORDS: &[&str] = &[
    "sleep",
    "open", // also urlopen, popen
    "subprocess",
    "system",
    "connect",
    "httpx",
    "requests",
    "redis",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "session", // sessionmaker, Session, requests.Session
    "client",  // httpx.Client
];

/// Whether the text can hold a finding: a coroutine and something that blocks.
fn may_block_in_async(text: &str) -> bool {
    static WORDS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(BLOCKING_WORDS)
            .unwrap_or_else(|error| panic!("blocking words build a matcher: {error}"))
    });
    prefilter::mentions_async_def(text) && WORDS.is_match(text)
}

const HTTP_FUNCTIONS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "request", "stream",
];

const PATH_IO_METHODS: &[&str] = &["read_text", "read_bytes", "write_text", "write_bytes"];

/// Methods of a SQLAlchemy `Session` that talk to the database (or start a query chain
/// that will, for `query`).
const SESSION_IO_METHODS: &[&str] = &[
    "execute", "scalar", "scalars", "query", "get", "commit", "rollback", "flush", "refresh",
    "merge",
];

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    // Per async function: the scopes its calls resolve names in, and its name.
    let mut functions: HashMap<usize, (Scopes, &str)> = HashMap::new();
    for site in &facts.calls {
        // Only calls made directly in an `async def` (not in a nested def, lambda or class).
        let Some(function) = site.scope.filter(|scope| is_async_function(*scope)) else {
            continue;
        };
        // Awaited calls are async; a function handed to `asyncio.to_thread(f, ...)` is not
        // called here at all. An argument like `to_thread(requests.get(url))` still runs
        // eagerly on the loop, so it is reported.
        if site.parent.python_kind() == Kind::Await {
            continue;
        }
        let (scopes, function_name) = functions.entry(function.id()).or_insert_with(|| {
            let mut chain = facts.ancestry.ancestors(function);
            chain.push(function);
            let name = function
                .field(Field::Name)
                .map_or("", |name| context.text(name));
            (Scopes::of(&chain), name)
        });
        let Some(blocking) = classify(context, facts, scopes, site.call, site.parent) else {
            continue;
        };
        findings.push(report(
            context,
            facts,
            blocking,
            site.call,
            site.parent,
            function_name,
        ));
    }
}

/// What is blocking about a call, for the message; `None` when it does not block.
enum Blocking {
    Sleep,
    Offloadable(String),
    /// Blocks, but moving it to a thread as-is would be wrong (a client or a `with open`).
    NoFix(String),
    /// A query on a synchronous database session.
    SyncSession(String),
}

fn classify(
    context: &Context,
    facts: &ModuleFacts,
    scopes: &Scopes,
    call: Node,
    parent: Node,
) -> Option<Blocking> {
    let source = context.source;
    let imports = &facts.semantic.imports;
    let function = call.field(Field::Function)?;
    if let Some(name) = qualified_name(function, source, imports) {
        if name == "time.sleep" {
            return Some(Blocking::Sleep);
        }
        if name == "httpx.Client" {
            return Some(Blocking::NoFix(name));
        }
        let is_http = name.split_once('.').is_some_and(|(module, function)| {
            matches!(module, "requests" | "httpx") && HTTP_FUNCTIONS.contains(&function)
        });
        if BLOCKING_CALLS.contains(&name.as_str()) || is_http {
            return Some(Blocking::Offloadable(name));
        }
        if name == "open" {
            if matches!(parent.python_kind(), Kind::WithItem | Kind::AsPattern) {
                return Some(Blocking::NoFix(name));
            }
            return Some(Blocking::Offloadable(name));
        }
    }
    if function.python_kind() != Kind::Attribute {
        return None;
    }
    let method = function
        .field(Field::Attribute)
        .map(|m| node_text(m, source))?;
    if PATH_IO_METHODS.contains(&method) {
        return Some(Blocking::Offloadable(format!("Path.{method}")));
    }
    let receiver = function.field(Field::Object)?;
    if !SemanticModel::may_hold_kind(receiver, source) {
        return None;
    }
    let label = || format!("{}.{method}", node_text(receiver, source));
    match facts.semantic.kind_of(receiver, scopes, source)? {
        BindingKind::RedisClient {
            asynchronous: false,
        } if !matches!(method, "pipeline" | "lock" | "pubsub") => {
            Some(Blocking::Offloadable(label()))
        }
        BindingKind::RedisPipeline {
            asynchronous: false,
        } if method == "execute" => Some(Blocking::Offloadable(label())),
        BindingKind::HttpClient {
            asynchronous: false,
            ..
        } if HTTP_FUNCTIONS.contains(&method) => Some(Blocking::Offloadable(label())),
        BindingKind::Session {
            asynchronous: false,
        } if SESSION_IO_METHODS.contains(&method) => Some(Blocking::SyncSession(label())),
        _ => None,
    }
}

fn report(
    context: &Context,
    facts: &ModuleFacts,
    blocking: Blocking,
    call: Node,
    parent: Node,
    function_name: &str,
) -> Finding {
    let source = context.source;
    let (asyncio, import_edit) = ensure_module_import(
        context.top_level(),
        source,
        &facts.semantic.imports,
        "asyncio",
    );
    let function = call.field(Field::Function);
    let callee = function.map_or("", |function| node_text(function, source));
    // Fixes edit only around the arguments, never copy them: they may hold comments,
    // and nested blocking calls would each copy all those inside them.
    let arguments = call
        .field(Field::Arguments)
        .filter(|arguments| arguments.python_kind() == Kind::ArgumentList);
    let with_import =
        |edit: Edit| -> Vec<Edit> { std::iter::once(edit).chain(import_edit.clone()).collect() };
    let is_session_query = matches!(blocking, Blocking::SyncSession(_));
    let (label, fix) = match blocking {
        Blocking::Sleep => {
            let fix = function.filter(|_| arguments.is_some()).map(|function| {
                let edit = Edit::replace(function.byte_range(), format!("await {asyncio}.sleep"));
                let title = format!("Replace with `await {asyncio}.sleep(...)`");
                // Only a call that is a statement of its own can be; asking only then
                // keeps calls nested thousands deep from each climbing the tree.
                let standalone = parent.python_kind() == Kind::ExpressionStatement && {
                    let ancestors = facts.ancestry.ancestors(call);
                    is_standalone_statement(call, &ancestors, source).is_some()
                };
                if standalone {
                    Fix::safe(title, with_import(edit))
                } else {
                    Fix::unsafe_(title, with_import(edit))
                }
            });
            ("time.sleep".to_string(), fix)
        }
        Blocking::Offloadable(label) => {
            let fix = arguments.map(|arguments| {
                // `callee(args)` -> `await asyncio.to_thread(callee, args)`.
                let open_paren = arguments.start_byte() + 1;
                let has_arguments = named_children(arguments)
                    .iter()
                    .any(|argument| argument.python_kind() != Kind::Comment);
                let separator = match source.as_bytes().get(open_paren) {
                    _ if !has_arguments => "",
                    Some(b' ' | b'\t' | b'\r' | b'\n') => ",",
                    _ => ", ",
                };
                let edit = Edit::replace(
                    call.start_byte()..open_paren,
                    format!("await {asyncio}.to_thread({callee}{separator}"),
                );
                Fix::unsafe_(
                    format!("Run `{callee}` in a worker thread with `{asyncio}.to_thread`"),
                    with_import(edit),
                )
            });
            (label, fix)
        }
        Blocking::NoFix(label) => (label, None),
        Blocking::SyncSession(label) => (label, None),
    };
    let hint = match label.as_str() {
        "httpx.Client" => " (use `httpx.AsyncClient`)",
        "open" => " (use `aiofiles` or `asyncio.to_thread`)",
        _ if is_session_query => {
            " (a synchronous `Session`: use an `AsyncSession`, or a plain `def`, which FastAPI runs in a thread pool)"
        }
        _ => "",
    };
    let mut finding = RULE.finding(
        call.byte_range(),
        format!("`{label}` blocks the event loop inside `async def {function_name}`{hint}"),
    );
    finding.fix = fix;
    finding
}

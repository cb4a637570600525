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

use ruff_python_ast::{Expr, ExprCall, Stmt};

use super::checker::{Checker, Hooks, Parent, ScopeKind};
use super::header::ensure_module_import;
use super::helpers::standalone_statement;
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, prefilter,
};
use crate::rules::{Libraries, WorkspaceTrigger};
use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::BoundKinds;
use crate::semantic::python::imports::qualified_name_of;

pub const RULE: Rule = Rule {
    id: "blocking-io-in-async",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::SafeOrUnsafe),
    summary: "A blocking call (sleep, HTTP, file, subprocess, sync DB/Redis) inside `async def`",
    triggers: &["async"],
    text_test: Some(may_block_in_async),
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::ALL,
        text: prefilter::mentions_async_def,
    }),
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
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

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    // Only calls made directly in an `async def` (not in a nested def, lambda or class).
    let ScopeKind::Function(function) = checker.scope().kind else {
        return;
    };
    // Awaited calls are async; a function handed to `asyncio.to_thread(f, ...)` is not
    // called here at all. An argument like `to_thread(requests.get(url))` still runs
    // eagerly on the loop, so it is reported.
    if !function.is_async || matches!(checker.parent(), Some(Parent::Expression(Expr::Await(_)))) {
        return;
    }
    let Some(blocking) = classify(checker, call) else {
        return;
    };
    findings.push(report(checker, blocking, call, function.name.as_str()));
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

fn classify(checker: &Checker, call: &ExprCall) -> Option<Blocking> {
    if let Some(name) = qualified_name_of(&call.func, checker.imports()) {
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
            let in_with = matches!(
                checker.parent(),
                Some(Parent::Statement(Stmt::With(with)))
                    if with.items.iter().any(|item| matches!(&item.context_expr, Expr::Call(opened) if std::ptr::eq(opened, call)))
            );
            return Some(if in_with {
                Blocking::NoFix(name)
            } else {
                Blocking::Offloadable(name)
            });
        }
    }
    let Expr::Attribute(function) = &*call.func else {
        return None;
    };
    let method = function.attr.as_str();
    if PATH_IO_METHODS.contains(&method) {
        return Some(Blocking::Offloadable(format!("Path.{method}")));
    }
    let receiver = &*function.value;
    if !BoundKinds::may_hold_kind(receiver) {
        return None;
    }
    let label = || format!("{}.{method}", checker.text(receiver));
    match checker.kind_of(receiver)? {
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

fn report(checker: &Checker, blocking: Blocking, call: &ExprCall, function_name: &str) -> Finding {
    let source = checker.source;
    let (asyncio, import_edit) = ensure_module_import(checker, "asyncio");
    let callee = checker.text(&*call.func);
    // Fixes edit only around the arguments, never copy them: they may hold comments,
    // and nested blocking calls would each copy all those inside them. A call whose
    // argument is a bare generator (`f(x for x in y)`) has no list to edit.
    let arguments = &call.arguments;
    let has_list =
        !matches!(&*arguments.args, [Expr::Generator(generator)] if !generator.parenthesized);
    let with_import =
        |edit: Edit| -> Vec<Edit> { std::iter::once(edit).chain(import_edit.clone()).collect() };
    let is_session_query = matches!(blocking, Blocking::SyncSession(_));
    let (label, fix) = match blocking {
        Blocking::Sleep => {
            let fix = has_list.then(|| {
                let edit =
                    Edit::replace(checker.range(&*call.func), format!("await {asyncio}.sleep"));
                let title = format!("Replace with `await {asyncio}.sleep(...)`");
                if standalone_statement(checker, call).is_some() {
                    Fix::safe(title, with_import(edit))
                } else {
                    Fix::unsafe_(title, with_import(edit))
                }
            });
            ("time.sleep".to_string(), fix)
        }
        Blocking::Offloadable(label) => {
            let fix = has_list.then(|| {
                // `callee(args)` -> `await asyncio.to_thread(callee, args)`.
                let open_paren = checker.range(arguments).start + 1;
                let has_arguments = arguments.iter_source_order().next().is_some();
                let separator = match source.as_bytes().get(open_paren) {
                    _ if !has_arguments => "",
                    Some(b' ' | b'\t' | b'\r' | b'\n') => ",",
                    _ => ", ",
                };
                let edit = Edit::replace(
                    checker.range(call).start..open_paren,
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
        checker.range(call),
        format!("`{label}` blocks the event loop inside `async def {function_name}`{hint}"),
    );
    finding.fix = fix;
    finding
}

//! ## What it does
//! Finds blocking calls made directly inside an `async def` (not inside a nested `def`
//! or `lambda`): `time.sleep`, `requests.*`, `urllib.request.urlopen`, module-level
//! `httpx.get/post/...` and `httpx.Client`, `open()`, `Path.read_*`/`write_*`, the
//! file methods of values known to be paths (`open`, `unlink`, `rename`, `mkdir`, ...
//! on `Path(...)`, `MEDIA / name`, a parameter annotated `Path`), `shutil`'s file
//! operations (`copy*`, `move`, `rmtree`, archives),
//! `subprocess.run/call/check_call/check_output/Popen`, `os.system`,
//! `psycopg2.connect`, `sqlite3.connect`, password hashing that is slow on purpose
//! (`bcrypt.hashpw`/`checkpw`, passlib's `CryptContext(...).hash/verify` and
//! `passlib.hash.*`, argon2-cffi's `PasswordHasher().hash/verify`), and calls on
//! synchronous clients: a Redis
//! client or pipeline, an HTTP session (`requests.Session()`, `httpx.Client()`), and a
//! SQLAlchemy `Session` (`db: Session = Depends(get_db)`, `SessionLocal()`, a session
//! from a `sessionmaker`) running queries (`execute`, `query`, `get`, `commit`, ...).
//! Names are resolved through imports (`from time import sleep`, `import requests as rq`),
//! and clients through the module's semantic model (names, `self.x`, annotations).
//!
//! Calls handed to `asyncio.to_thread`, `loop.run_in_executor` or `run_in_threadpool`,
//! and awaited async equivalents, are fine.
//!
//! Commands (`cli.py`, `manage.py`, `scripts/`, a module with a `__main__` block) are not
//! checked: their event loop serves nobody else while a call blocks it.
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

use std::collections::HashSet;
use std::rc::Rc;

use super::checker::{Checker, Hooks, Parent, ScopeKind, module_bodies, module_imports};
use super::header::ensure_module_import;
use super::helpers::{AnyNode, any_node, standalone_statement};
use crate::language::Language;
use crate::rules::Context;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, prefilter,
};
use crate::rules::{Libraries, WorkspaceTrigger};
use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::BoundKinds;
use crate::semantic::python::imports::{Imports, qualified_name_of};

pub const RULE: Rule = Rule {
    id: "blocking-io-in-async",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::SafeOrUnsafe),
    summary: "A blocking call (sleep, HTTP, file, subprocess, sync DB/Redis) inside `async def`",
    triggers: &["async"],
    python_triggers: None,
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
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copyfileobj",
    "shutil.copytree",
    "shutil.move",
    "shutil.rmtree",
    "shutil.make_archive",
    "shutil.unpack_archive",
    // Password hashing burns CPU on purpose (tens to hundreds of milliseconds).
    "bcrypt.hashpw",
    "bcrypt.checkpw",
    "bcrypt.kdf",
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
    "shutil",
    "pathlib", // a path's methods: only `pathlib.Path` makes one (`is_path`)
    "crypt",   // bcrypt, passlib's CryptContext
    "passlib", // passlib.hash's handlers
    "argon2",  // argon2-cffi's PasswordHasher
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

/// Methods of a `pathlib.Path` that touch the file system, judged on values known to be
/// paths (`open`, `unlink` and `rename` name other things on other objects).
const PATH_FILE_METHODS: &[&str] = &[
    "open", "unlink", "rename", "replace", "touch", "mkdir", "rmdir",
];

/// Calls that make a path.
const PATH_CONSTRUCTORS: &[&str] = &["pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath"];

/// Methods of a path that return a path.
const PATH_RETURNING_METHODS: &[&str] = &[
    "resolve",
    "absolute",
    "expanduser",
    "joinpath",
    "with_name",
    "with_stem",
    "with_suffix",
];

/// Methods of a password hasher (passlib's `CryptContext`, argon2-cffi's
/// `PasswordHasher`) that hash: slow on purpose.
const HASHER_METHODS: &[&str] = &["hash", "verify", "verify_and_update", "encrypt"];

/// Methods of a SQLAlchemy `Session` that talk to the database (or start a query chain
/// that will, for `query`).
const SESSION_IO_METHODS: &[&str] = &[
    "execute", "exec", "scalar", "scalars", "query", "get", "commit", "rollback", "flush",
    "refresh", "merge",
];

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    // Only calls made directly in an `async def` (not in a nested def, lambda or class).
    let ScopeKind::Function(function) = checker.scope().kind else {
        return;
    };
    // A command's event loop serves nobody else while it waits.
    if checker.in_command_module() {
        return;
    }
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
        // passlib's handlers as module attributes (`passlib.hash.bcrypt.hash(...)`).
        let is_passlib_handler = name.starts_with("passlib.hash.")
            && name
                .rsplit('.')
                .next()
                .is_some_and(|method| HASHER_METHODS.contains(&method));
        if BLOCKING_CALLS.contains(&name.as_str()) || is_http || is_passlib_handler {
            return Some(Blocking::Offloadable(name));
        }
        if name == "open" {
            return Some(if opened_by_with(checker, call) {
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
    if PATH_FILE_METHODS.contains(&method) && is_path(checker, receiver, PATH_STEPS) {
        let label = format!("Path.{method}");
        return Some(if method == "open" && opened_by_with(checker, call) {
            Blocking::NoFix(label)
        } else {
            Blocking::Offloadable(label)
        });
    }
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
        BindingKind::PasswordHasher if HASHER_METHODS.contains(&method) => {
            Some(Blocking::Offloadable(label()))
        }
        _ => None,
    }
}

/// `with open(...) as f:`: the call is a `with` item (moving it to a thread as-is would
/// hand the file to another thread).
fn opened_by_with(checker: &Checker, call: &ExprCall) -> bool {
    matches!(
        checker.parent(),
        Some(Parent::Statement(Stmt::With(with)))
            if with.items.iter().any(|item| matches!(&item.context_expr, Expr::Call(opened) if std::ptr::eq(opened, call)))
    )
}

/// How many names `is_path` follows to their assignments in a function (`p = base /
/// "x"`, `base = Path(...)`), so that `p = p / "x"` ends.
const PATH_STEPS: u8 = 4;

/// Whether `value` is a `pathlib.Path`, as far as the function shows: `Path(...)`, a
/// path `/` anything, its `.parent` or a method that returns a path, a parameter
/// annotated `Path`, a name the function assigns one of these, or a module-level name
/// bound to one (`module_paths`).
fn is_path(checker: &Checker, value: &Expr, steps: u8) -> bool {
    let imports = checker.imports();
    path_shaped(imports, value, &|name| {
        if steps == 0 {
            return false;
        }
        let assigns_path = |statement: &Stmt| {
            matches!(statement, Stmt::Assign(assignment)
                if matches!(assignment.targets.as_slice(),
                    [Expr::Name(target)] if target.id.as_str() == name)
                    && is_path(checker, &assignment.value, steps - 1))
        };
        let in_function = checker.enclosing_function().is_some_and(|function| {
            let annotated = function.parameters.iter().any(|parameter| {
                parameter.name().as_str() == name
                    && parameter
                        .annotation()
                        .is_some_and(|annotation| is_path_type(imports, annotation))
            });
            annotated
                || any_node(
                    &function.body,
                    |node| matches!(node, AnyNode::Statement(statement) if assigns_path(statement)),
                )
        });
        in_function || module_paths(checker.context()).contains(name)
    })
}

/// `Path`, `pathlib.Path`, ... as imported.
fn is_path_type(imports: &Imports, expression: &Expr) -> bool {
    qualified_name_of(expression, imports)
        .is_some_and(|name| PATH_CONSTRUCTORS.contains(&name.as_str()))
}

/// Whether `value` makes a path from its shape, where `name_is_path` says which names
/// hold one.
fn path_shaped(imports: &Imports, value: &Expr, name_is_path: &dyn Fn(&str) -> bool) -> bool {
    match value {
        Expr::Call(call) => {
            is_path_type(imports, &call.func)
                || matches!(&*call.func, Expr::Attribute(method)
                    if PATH_RETURNING_METHODS.contains(&method.attr.as_str())
                        && path_shaped(imports, &method.value, name_is_path))
        }
        Expr::BinOp(operation) => {
            operation.op == ruff_python_ast::Operator::Div
                && path_shaped(imports, &operation.left, name_is_path)
        }
        Expr::Attribute(attribute) => {
            attribute.attr.as_str() == "parent"
                && path_shaped(imports, &attribute.value, name_is_path)
        }
        Expr::Name(name) => name_is_path(name.id.as_str()),
        _ => false,
    }
}

/// The names bound at module level to paths (`UPLOADS = Path(__file__).parent /
/// "uploads"`, and names built from those above them), worked out once per audit. The
/// editor's `CLIENTS` projection holds them, so a finding on `UPLOADS.open()` follows
/// an edit of the constant.
pub fn module_paths(context: &Context) -> Rc<HashSet<String>> {
    struct ModulePaths(Rc<HashSet<String>>);
    context
        .memo(|| {
            let imports = module_imports(context);
            let mut paths = HashSet::new();
            for (_, body) in module_bodies(context) {
                for statement in body {
                    let Stmt::Assign(assignment) = statement else {
                        continue;
                    };
                    let [Expr::Name(target)] = assignment.targets.as_slice() else {
                        continue;
                    };
                    let is_path =
                        path_shaped(imports, &assignment.value, &|name| paths.contains(name));
                    if is_path {
                        paths.insert(target.id.to_string());
                    } else {
                        // Bound again to something else: no longer a path.
                        paths.remove(target.id.as_str());
                    }
                }
            }
            ModulePaths(Rc::new(paths))
        })
        .0
        .clone()
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

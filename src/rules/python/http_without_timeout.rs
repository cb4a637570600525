//! ## What it does
//! Finds HTTP calls that can wait forever or on an unstated default: `requests.get/post/
//! put/patch/delete/head/options/request(...)` and the same methods on a
//! `requests.Session()`, `httpx.get/post/.../stream(...)` and `httpx.Client(...)`/
//! `httpx.AsyncClient(...)`, called without `timeout=` or with `timeout=None`. Names are
//! resolved through imports (`import requests as rq`, `from httpx import AsyncClient`).
//!
//! ## Why is this bad?
//! `requests` has no default timeout: when the other side accepts the connection and
//! then stops answering, the call blocks forever, holding a worker thread (or, in a
//! FastAPI handler, the request) until the process is restarted. A handful of such
//! calls against a slow partner API exhausts the worker pool and takes the service
//! down. httpx does default to 5 seconds, but leaves it implicit: state the budget you
//! mean so a reader (and the next refactor) can see it: reported as `info`.
//! `timeout=None` disables the timeout in both (a warning). httpx clients that serve
//! requests in the process (`AsyncClient(app=app)`, `transport=ASGITransport(...)`,
//! `WSGITransport`, `MockTransport`, as tests do) are not reported; other transports
//! go to the network and are.
//!
//! ## Example
//! ```python
//! import requests
//!
//! def fetch_rates():
//!     return requests.get("https://rates.example.com/latest").json()
//! ```
//!
//! ## Use instead
//! ```python
//! import requests
//!
//! def fetch_rates():
//!     return requests.get("https://rates.example.com/latest", timeout=10).json()
//! ```
//!
//! ## Fix safety
//! Unsafe: the fix adds `timeout=<http.default-timeout-seconds>` (default 10), or puts it
//! in place of `None`, so a call that used to wait now raises a timeout error after that
//! many seconds. Calls that pass `**kwargs` (which may carry a timeout) are not reported.
//!
//! ## Known problems
//! A session is recognised where the module shows what it is: created in the same
//! function, the class (`self.session = requests.Session()`) or the module, under a plain
//! name or `with requests.Session() as s`, or a parameter annotated `requests.Session`.
//! Sessions made in another module are not followed yet, and neither are adapters or
//! subclasses that set a default timeout.

use ruff_python_ast::{Expr, ExprCall};

use super::checker::{Checker, Hooks};
use super::helpers::{add_keyword_arguments, has_dictionary_splat};
use crate::language::Language;
use crate::rules::prefilter;
use crate::rules::projections::Projections;
use crate::rules::{Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity};
use crate::rules::{Libraries, WorkspaceTrigger};
use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::BoundKinds;
use crate::semantic::python::imports::qualified_name_of;
use crate::semantic::python::kinds::HttpLibrary;

pub const RULE: Rule = Rule {
    id: "http-without-timeout",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "A `requests`/`httpx` call or client with no `timeout=` (or `timeout=None`)",
    triggers: &["requests", "httpx"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::HTTP,
        text: |text| prefilter::mentions_any_method_call(text, &HTTP_CALLS),
    }),
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

static HTTP_CALLS: std::sync::LazyLock<prefilter::MethodNames> =
    std::sync::LazyLock::new(|| prefilter::MethodNames::new(HTTP_METHODS));

const HTTP_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "request", "stream",
];

/// What a call is, as far as timeouts go.
enum HttpCall {
    /// `requests` with no default: waits forever without a timeout.
    Requests(String),
    /// `httpx` (module function or client): 5 s unless stated otherwise.
    Httpx(String),
}

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    let Some(kind) = classify(checker, call) else {
        return;
    };
    let arguments = &call.arguments;
    if has_dictionary_splat(arguments) {
        return;
    }
    // `AsyncClient(app=app)`, `Client(transport=ASGITransport(app))`: requests served in
    // the process (tests), no network to wait on.
    let in_process_transport = arguments
        .find_keyword("transport")
        .is_some_and(|transport| {
            let text = checker.text(&transport.value);
            ["ASGITransport", "WSGITransport", "MockTransport"]
                .iter()
                .any(|name| text.contains(name))
        });
    if matches!(kind, HttpCall::Httpx(_))
        && (arguments.find_keyword("app").is_some() || in_process_transport)
    {
        return;
    }
    let timeout = arguments
        .find_keyword("timeout")
        .map(|keyword| &keyword.value);
    let explicit_none = timeout.is_some_and(Expr::is_none_literal_expr);
    if timeout.is_some() && !explicit_none {
        return;
    }
    let seconds = checker.settings.http_default_timeout_seconds;
    let message = match (&kind, explicit_none) {
        (HttpCall::Requests(name) | HttpCall::Httpx(name), true) => {
            format!("`{name}` with `timeout=None` waits forever if the server stops answering")
        }
        (HttpCall::Requests(name), false) => {
            format!("`{name}` has no `timeout=`: it waits forever if the server stops answering")
        }
        (HttpCall::Httpx(name), false) => format!(
            "`{name}` has no `timeout=`: it relies on httpx's implicit 5 s default; state the timeout"
        ),
    };
    let edit = match timeout {
        Some(none) => Some(Edit::replace(checker.range(none), seconds.to_string())),
        None => add_keyword_arguments(checker, arguments, &[format!("timeout={seconds}")]),
    };
    let mut finding = RULE.finding(checker.range(&*call.func), message);
    // httpx does time out (after 5 s): only the budget is unstated.
    if matches!(kind, HttpCall::Httpx(_)) && !explicit_none {
        finding.severity = crate::rules::Severity::Info;
    }
    finding.fix =
        edit.map(|edit| Fix::unsafe_(format!("Set `timeout={seconds}` (seconds)"), vec![edit]));
    findings.push(finding);
}

fn classify(checker: &Checker, call: &ExprCall) -> Option<HttpCall> {
    let imports = checker.imports();
    if let Some(name) = qualified_name_of(&call.func, imports) {
        let (module, member) = name.split_once('.')?;
        return match (module, member) {
            ("requests", method) if HTTP_METHODS.contains(&method) && method != "stream" => {
                Some(HttpCall::Requests(name))
            }
            ("httpx", "Client" | "AsyncClient") => Some(HttpCall::Httpx(name)),
            ("httpx", method) if HTTP_METHODS.contains(&method) => Some(HttpCall::Httpx(name)),
            _ => None,
        };
    }
    // `session.get(...)` on a `requests.Session()`: only in modules that import requests
    // (`.get(` is everywhere).
    let Expr::Attribute(function) = &*call.func else {
        return None;
    };
    if !imports.imports_module("requests") {
        return None;
    }
    let method = function.attr.as_str();
    if !HTTP_METHODS.contains(&method) || method == "stream" {
        return None;
    }
    let receiver = &*function.value;
    if !BoundKinds::may_hold_kind(receiver) {
        return None;
    }
    let BindingKind::HttpClient {
        library: HttpLibrary::Requests,
        ..
    } = checker.kind_of(receiver)?
    else {
        return None;
    };
    Some(HttpCall::Requests(format!(
        "{}.{method}",
        checker.text(receiver)
    )))
}

//! ## What it does
//! Finds Redis pub/sub consumers with no handling of connection errors: a loop over
//! `pubsub.listen()` (or `async for` over it), or a loop that calls
//! `pubsub.get_message()`, where `pubsub` comes from `<client>.pubsub()` (directly, or
//! bound to a name in the same function or at module level), and nothing around the
//! loop, or around the call inside it, catches `ConnectionError`, `TimeoutError`,
//! `RedisError` (or a broader `Exception`).
//!
//! Functions decorated with a retry helper (`@retry`, `@backoff.on_exception`,
//! tenacity) are fine.
//!
//! ## Why is this bad?
//! A pub/sub connection is a long-lived socket. When Redis restarts, fails over, or a
//! proxy drops an idle connection, `listen()` raises `ConnectionError`; without a
//! handler the consumer thread or task dies, usually silently, and the service stops
//! reacting to events (cache invalidations, notifications) while every health check
//! stays green. Messages published while nobody listens are gone.
//!
//! ## Example
//! ```python
//! def consume(r):
//!     pubsub = r.pubsub()
//!     pubsub.subscribe("orders")
//!     for message in pubsub.listen():
//!         handle(message)
//! ```
//!
//! ## Use instead
//! ```python
//! def consume(r):
//!     while True:
//!         try:
//!             pubsub = r.pubsub()
//!             pubsub.subscribe("orders")
//!             for message in pubsub.listen():
//!                 handle(message)
//!         except redis.ConnectionError:
//!             logger.warning("pub/sub connection lost; resubscribing")
//!             time.sleep(1)
//! ```
//!
//! ## Fix safety
//! No fix: how to reconnect (back-off, resubscribing, catching up on missed events)
//! depends on the consumer.
//!
//! ## Known problems
//! A pub/sub object stored on `self` or passed in as a parameter is only recognised
//! when its loop calls `.pubsub()` itself; handling done by a caller is not seen.

use ruff_python_ast::{Expr, ExprCall, Stmt};

use super::checker::{Checker, Hooks, Parent};
use super::helpers::{assignments_to, is_iterated, method_name};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Libraries, Rule, Severity, WorkspaceTrigger};
use crate::semantic::python::BindingKind;

pub const RULE: Rule = Rule {
    id: "pubsub-without-reconnect",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "A Redis pub/sub `listen()`/`get_message()` loop that no connection-error handler covers",
    triggers: &["pubsub"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::REDIS,
        text: |text| {
            crate::rules::prefilter::mentions_method_call(text, "listen")
                || crate::rules::prefilter::mentions_method_call(text, "get_message")
        },
    }),
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

/// Exception names that cover a dropped connection.
const CONNECTION_ERRORS: &[&str] = &[
    "ConnectionError",
    "TimeoutError",
    "RedisError",
    "Exception",
    "BaseException",
    "OSError",
];

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    let Some(method) =
        method_name(call).filter(|method| matches!(*method, "listen" | "get_message"))
    else {
        return;
    };
    let Expr::Attribute(function) = &*call.func else {
        return;
    };
    if !is_pubsub(checker, &function.value) {
        return;
    }
    // The statements around the call inside its function, innermost first.
    let in_function: Vec<&Stmt> = checker
        .ancestors()
        .iter()
        .rev()
        .filter_map(|parent| match parent {
            Parent::Statement(statement) => Some(*statement),
            _ => None,
        })
        .take_while(|statement| !statement.is_function_def_stmt())
        .collect();
    // `listen()` is the loop's iterable; `get_message()` sits inside a loop.
    let in_loop = match method {
        "listen" => is_iterated(checker, call),
        _ => in_function
            .iter()
            .any(|statement| matches!(statement, Stmt::While(_) | Stmt::For(_))),
    };
    if !in_loop || handled(checker, &in_function) || retried(checker) {
        return;
    }
    findings.push(RULE.finding(
        checker.range(call),
        format!(
            "`{}` loop has no handling of connection errors: when Redis restarts or the connection drops, the subscriber dies and events are lost",
            checker.text(call).lines().next().unwrap_or("")
        ),
    ));
}

/// `r.pubsub()` itself, a name bound to one in the function or the module, or anything
/// that holds a pub/sub object of a Redis client as far as the module and the
/// workspace tell (`from app.events import subscriber`, a getter's result).
fn is_pubsub(checker: &Checker, receiver: &Expr) -> bool {
    let makes_pubsub = |expression: &Expr| matches!(expression, Expr::Call(call) if method_name(call) == Some("pubsub"));
    let by_shape = match receiver {
        Expr::Call(_) => makes_pubsub(receiver),
        Expr::Name(name) => assignments_to(checker, &name.id, true)
            .into_iter()
            .any(|assigned| makes_pubsub(assigned.value)),
        _ => false,
    };
    by_shape || checker.kind_of(receiver) == Some(BindingKind::RedisPubSub)
}

/// A `try` around the call (inside its function) with a handler for connection errors.
fn handled(checker: &Checker, in_function: &[&Stmt]) -> bool {
    in_function.iter().any(|statement| {
        let Stmt::Try(try_statement) = statement else {
            return false;
        };
        try_statement.handlers.iter().any(|handler| {
            let text = checker.text(handler);
            let header = text.split(':').next().unwrap_or("");
            header.trim() == "except"
                || CONNECTION_ERRORS.iter().any(|error| header.contains(error))
        })
    })
}

/// A function or class around the call is wrapped in a retry decorator.
fn retried(checker: &Checker) -> bool {
    checker.ancestors().iter().any(|parent| {
        let decorators = match parent {
            Parent::Statement(Stmt::FunctionDef(function)) => &function.decorator_list,
            Parent::Statement(Stmt::ClassDef(class)) => &class.decorator_list,
            _ => return false,
        };
        decorators.iter().any(|decorator| {
            let text = checker.text(decorator);
            text.contains("retry") || text.contains("backoff")
        })
    })
}

//! ## What it does
//! Finds handlers of Redis errors (`except redis.RedisError:`,
//! `redis.exceptions.ConnectionError`, `TimeoutError`, ..., also from `redis.asyncio`,
//! names imported from `redis.exceptions`, and those a module of the workspace exports
//! again: `from app.cache import CacheError`) that neither log the error, re-raise it,
//! use the bound exception, nor return an error (a `return` whose value mentions an
//! error, an `HTTPException`, or a 5xx status).
//!
//! `WatchError` (an optimistic `WATCH` transaction that lost a race, retried by design)
//! and handlers in tests are not reported.
//!
//! ## Why is this bad?
//! Falling back when the cache is down is often right; doing it silently is not. With
//! Redis unreachable every request quietly takes the slow path (or loses its session,
//! its rate limit, its lock), the database takes the whole load, and nothing in the logs
//! says why latency tripled. The first person to notice is the one paging through
//! dashboards during the outage.
//!
//! ## Example
//! ```python
//! def cached_profile(user_id):
//!     try:
//!         return cache.get(f"profile:{user_id}")
//!     except redis.RedisError:
//!         return None
//! ```
//!
//! ## Use instead
//! ```python
//! def cached_profile(user_id):
//!     try:
//!         return cache.get(f"profile:{user_id}")
//!     except redis.RedisError:
//!         logger.exception("Redis error in cached_profile")
//!         return None
//! ```
//!
//! ## Fix safety
//! Safe: the fix logs the exception (with its traceback) as the handler's first line and
//! keeps the fallback; a lone `pass` or `...` is replaced. It uses the module's logger
//! when there is one, else `logging.exception(...)`, adding `import logging` when needed.
//!
//! ## Known problems
//! "Returns an error" is read from the text of the returned value; a fallback that
//! reports through a helper of your own is reported. Broad handlers
//! (`except Exception:`) around Redis calls are `swallowed-exception`'s to report.

use ruff_python_ast::{ExceptHandlerExceptHandler, Expr, Stmt};

use super::checker::{Checker, Hooks};
use super::exceptions::{caught_types, handles_error, header_range, log_exception_fix};
use super::helpers::{AnyNode, any_node, called_name};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Finding, FixAvailability, FixSafety, Libraries, Rule, Severity, WorkspaceTrigger,
};
use crate::semantic::python::imports::qualified_name_of;

pub const RULE: Rule = Rule {
    id: "redis-silent-failure",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Safe),
    summary: "A handler of Redis errors that neither logs, re-raises nor returns an error",
    triggers: &["redis"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::REDIS,
        text: |text| crate::rules::prefilter::contains(text, "except"),
    }),
    check: Check::Ast(Hooks {
        except_handler: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS
        .and(Projections::CLIENTS)
        .and(Projections::HEADER),
};

fn check(
    checker: &Checker,
    clause: &ExceptHandlerExceptHandler,
    _star: bool,
    findings: &mut Vec<Finding>,
) {
    // Tests provoke and handle Redis errors on purpose.
    if checker.in_test_file() {
        return;
    }
    let Some(redis_error) = caught_types(clause).into_iter().find_map(|caught| {
        // Also an error of redis-py that a module of the workspace exports again
        // (`from app.cache import CacheError`), named as this module writes it.
        let origin = checker.qualified_name_from(caught, Libraries::REDIS)?;
        (Libraries::of_module(&origin) == Libraries::REDIS)
            .then(|| qualified_name_of(caught, checker.imports()))
            .flatten()
    }) else {
        return;
    };
    // `WatchError` says an optimistic transaction lost a race: retrying it is the
    // protocol, not a failure to report.
    if redis_error.rsplit('.').next() == Some("WatchError") {
        return;
    }
    if handles_error(clause) || returns_error(checker, clause) {
        return;
    }
    let mut finding = RULE.finding(
        header_range(checker, clause),
        format!(
            "`{redis_error}` is handled silently: nothing logs it, re-raises it or returns an error, so a Redis outage goes unnoticed"
        ),
    );
    finding.fix = log_exception_fix(checker, clause, "Redis error");
    findings.push(finding);
}

/// A `return` (or an `HTTPException` raised through a call) whose value says the request
/// failed: it mentions an error, or a 5xx status code.
fn returns_error(checker: &Checker, clause: &ExceptHandlerExceptHandler) -> bool {
    any_node(&clause.body, |node| match node {
        AnyNode::Statement(statement @ Stmt::Return(_)) => {
            let value = checker.text(statement).to_ascii_lowercase();
            value.contains("error")
                || value.contains("exception")
                || value.contains("unavailable")
                || ["=500", "=502", "=503", "=504", "(500", "(503"]
                    .iter()
                    .any(|status| value.replace(' ', "").contains(status))
        }
        AnyNode::Expression(Expr::Call(call)) => called_name(call) == Some("abort"),
        _ => false,
    })
}

//! ## What it does
//! Finds handlers of Redis errors (`except redis.RedisError:`,
//! `redis.exceptions.ConnectionError`, `TimeoutError`, ..., also from `redis.asyncio`
//! and names imported from `redis.exceptions`) that neither log the error, re-raise it,
//! use the bound exception, nor return an error (a `return` whose value mentions an
//! error, an `HTTPException`, or a 5xx status).
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

use super::exceptions::{Handler, called_name, log_exception_fix};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Context, Finding, FixAvailability, FixSafety, Rule, Severity, any_in_tree, node_text,
};
use crate::semantic::python::imports::qualified_name;
use crate::syntax::python_fields::{Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "redis-silent-failure",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::Sometimes(FixSafety::Safe),
    summary: "A handler of Redis errors that neither logs, re-raises nor returns an error",
    triggers: &["redis"],
    text_test: None,
    check: Check::Tree(check),
    reads: Projections::IMPORTS
        .and(Projections::CLIENTS)
        .and(Projections::HEADER),
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for &clause in &facts.handlers {
        let Some(handler) = Handler::of(clause) else {
            continue;
        };
        let Some(redis_error) = handler.caught_types().into_iter().find_map(|caught| {
            qualified_name(caught, source, &facts.semantic.imports)
                .filter(|name| name.starts_with("redis.") || name.starts_with("aioredis."))
        }) else {
            continue;
        };
        if handler.handles_error(source) || returns_error(&handler, source) {
            continue;
        }
        let mut finding = RULE.finding(
            handler.header_range(),
            format!(
                "`{redis_error}` is handled silently: nothing logs it, re-raises it or returns an error, so a Redis outage goes unnoticed"
            ),
        );
        finding.fix = log_exception_fix(&handler, facts, source, "Redis error");
        findings.push(finding);
    }
}

/// A `return` (or an `HTTPException` raised through a call) whose value says the request
/// failed: it mentions an error, or a 5xx status code.
fn returns_error(handler: &Handler, source: &str) -> bool {
    any_in_tree(handler.body, |node| match node.python_kind() {
        Kind::ReturnStatement => {
            let value = node_text(node, source).to_ascii_lowercase();
            value.contains("error")
                || value.contains("exception")
                || value.contains("unavailable")
                || ["=500", "=502", "=503", "=504", "(500", "(503"]
                    .iter()
                    .any(|status| value.replace(' ', "").contains(status))
        }
        Kind::Call => called_name(node, source).is_some_and(|name| name == "abort"),
        _ => false,
    })
}

//! ## What it does
//! Finds `KEYS` commands: `keys(...)` called on a Redis client (`redis.Redis`,
//! `redis.asyncio`, `from_url`, a client parameter or attribute), or on a pipeline of one.
//!
//! ## Why is this bad?
//! `KEYS pattern` walks every key in the database in one go, and Redis runs one command
//! at a time: on a production instance with millions of keys it blocks every other
//! client for hundreds of milliseconds or more, so every request that touches the cache
//! stalls, and it builds the whole reply in memory. Redis's own documentation says not to
//! use it in production code. `SCAN` returns the same keys in small batches between
//! other clients' commands.
//!
//! ## Example
//! ```python
//! def clear_sessions(user_id):
//!     for key in cache.keys(f"session:{user_id}:*"):
//!         cache.delete(key)
//! ```
//!
//! ## Use instead
//! ```python
//! def clear_sessions(user_id):
//!     for key in cache.scan_iter(match=f"session:{user_id}:*"):
//!         cache.delete(key)
//! ```
//!
//! ## Fix safety
//! Unsafe: `scan_iter(match=...)` yields keys lazily and, unlike `KEYS`, may yield a key
//! twice or miss keys created or deleted while it runs. Where the call is what a `for`
//! loop or comprehension iterates over, it becomes `scan_iter(match=...)`; elsewhere
//! `list(...)` keeps the list the code expected; an awaited call on an async client
//! becomes `[key async for key in client.scan_iter(match=...)]`. Calls on a pipeline get
//! no fix (pipelines have no `scan_iter`).

use ruff_python_ast::{Expr, ExprCall};

use super::checker::{Checker, Hooks, Parent};
use super::helpers::{is_iterated, method_name};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, shorten,
};
use crate::rules::{Libraries, WorkspaceTrigger};
use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::BoundKinds;

pub const RULE: Rule = Rule {
    id: "redis-keys-command",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "`KEYS` on a Redis client, which blocks Redis while it walks every key",
    triggers: &["keys"],
    python_triggers: None,
    text_test: Some(mentions_redis),
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::REDIS,
        text: |text| crate::rules::prefilter::mentions_method_call(text, "keys"),
    }),
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

fn mentions_redis(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"redis").is_some()
        || memchr::memmem::find(text.as_bytes(), b"Redis").is_some()
}

fn check(checker: &Checker, call: &ExprCall, findings: &mut Vec<Finding>) {
    if method_name(call) != Some("keys") {
        return;
    }
    let Expr::Attribute(method) = &*call.func else {
        return;
    };
    let receiver = &*method.value;
    if !BoundKinds::may_hold_kind(receiver) {
        return;
    }
    let (pipeline, asynchronous) = match checker.kind_of(receiver) {
        Some(BindingKind::RedisClient { asynchronous }) => (false, asynchronous),
        Some(BindingKind::RedisPipeline { asynchronous }) => (true, asynchronous),
        _ => return,
    };
    let arguments = &call.arguments;
    let positional = arguments.args.first();
    let keyword = arguments.find_keyword("pattern");
    let pattern = positional.or(keyword.map(|keyword| &keyword.value));
    let pattern_text = pattern.map_or("", |pattern| checker.text(pattern));
    let mut finding = RULE.finding(
        checker.range(call),
        format!(
            "`{}.keys({})` runs KEYS, which blocks Redis while it walks every key; use `scan_iter`",
            checker.text(receiver),
            shorten(pattern_text, 40)
        ),
    );
    // Pipelines have no `scan_iter`; an async client's must be awaited or iterated with
    // `async for`, which only the awaited form can become in place.
    let awaited = matches!(checker.parent(), Some(Parent::Expression(Expr::Await(_))));
    if !pipeline && (!asynchronous || awaited) {
        let mut edits = vec![Edit::replace(checker.range(&method.attr), "scan_iter")];
        match (positional, keyword) {
            (Some(pattern), _) => edits.push(Edit::insert(checker.range(pattern).start, "match=")),
            (None, Some(keyword)) => {
                if let Some(name) = &keyword.arg {
                    edits.push(Edit::replace(checker.range(name), "match"));
                }
            }
            (None, None) => {}
        }
        edits.extend(surroundings(checker, call));
        finding.fix = Some(Fix::unsafe_(
            "Iterate with `scan_iter(match=...)` instead",
            edits,
        ));
    }
    findings.push(finding);
}

/// What the call needs around it once it returns an iterator: nothing where it is
/// iterated (`for key in ...`, a comprehension), a comprehension where it is awaited,
/// else `list(...)`.
fn surroundings(checker: &Checker, call: &ExprCall) -> Vec<Edit> {
    if is_iterated(checker, call) {
        return Vec::new();
    }
    let range = checker.range(call);
    match checker.parent() {
        Some(Parent::Expression(Expr::Await(awaited))) => vec![
            Edit::replace(
                checker.range(awaited).start..range.start,
                "[key async for key in ",
            ),
            Edit::insert(range.end, "]"),
        ],
        _ => vec![
            Edit::insert(range.start, "list("),
            Edit::insert(range.end, ")"),
        ],
    }
}

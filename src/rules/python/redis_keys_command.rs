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

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::{keyword_argument, positional_arguments};
use crate::language::Language;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, node_text,
    shorten,
};
use crate::semantic::python::{BindingKind, Scopes, SemanticModel};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "redis-keys-command",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "`KEYS` on a Redis client, which blocks Redis while it walks every key",
    triggers: &["keys"],
    text_test: Some(mentions_redis),
    check: Check::Tree(check),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

fn mentions_redis(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"redis").is_some()
        || memchr::memmem::find(text.as_bytes(), b"Redis").is_some()
}

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        if site.method(source) != Some("keys") {
            continue;
        }
        let Some(receiver) = site
            .receiver()
            .filter(|&receiver| SemanticModel::may_hold_kind(receiver, source))
        else {
            continue;
        };
        let ancestors = facts.ancestry.ancestors(site.call);
        let scopes = Scopes::of(&ancestors);
        let (pipeline, asynchronous) = match facts.semantic.kind_of(receiver, &scopes, source) {
            Some(BindingKind::RedisClient { asynchronous }) => (false, asynchronous),
            Some(BindingKind::RedisPipeline { asynchronous }) => (true, asynchronous),
            _ => continue,
        };
        let pattern = positional_arguments(site.call)
            .first()
            .copied()
            .or_else(|| keyword_argument(site.call, "pattern", source));
        let pattern_text = pattern.map_or("", |pattern| node_text(pattern, source));
        let receiver_text = node_text(receiver, source);
        let mut finding = RULE.finding(
            site.call.byte_range(),
            format!(
                "`{receiver_text}.keys({})` runs KEYS, which blocks Redis while it walks every key; use `scan_iter`",
                shorten(pattern_text, 40)
            ),
        );
        // Pipelines have no `scan_iter`; an async client's must be awaited or iterated
        // with `async for`, which only the awaited form can become in place.
        if !pipeline && (!asynchronous || site.parent.python_kind() == Kind::Await) {
            finding.fix = scan_instead(site.call, site.parent, pattern)
                .map(|edits| Fix::unsafe_("Iterate with `scan_iter(match=...)` instead", edits));
        }
        findings.push(finding);
    }
}

/// Edits that turn `client.keys(p)` into a `scan_iter(match=p)` form that fits where the
/// call stands.
fn scan_instead(call: Node, parent: Node, pattern: Option<Node>) -> Option<Vec<Edit>> {
    let method = call.field(Field::Function)?.field(Field::Attribute)?;
    let mut edits = vec![Edit::replace(method.byte_range(), "scan_iter")];
    if let Some(pattern) = pattern {
        match pattern
            .parent()
            .filter(|p| p.python_kind() == Kind::KeywordArgument)
        {
            Some(keyword) => edits.push(Edit::replace(
                keyword.field(Field::Name)?.byte_range(),
                "match",
            )),
            None => edits.push(Edit::insert(pattern.start_byte(), "match=")),
        }
    }
    let iterated = matches!(parent.python_kind(), Kind::ForStatement | Kind::ForInClause)
        && parent
            .field(Field::Right)
            .is_some_and(|right| right.id() == call.id());
    if iterated {
        return Some(edits);
    }
    if parent.python_kind() == Kind::Await {
        let awaited = parent;
        edits.push(Edit::replace(
            awaited.start_byte()..call.start_byte(),
            "[key async for key in ",
        ));
        edits.push(Edit::insert(call.end_byte(), "]"));
        return Some(edits);
    }
    edits.push(Edit::insert(call.start_byte(), "list("));
    edits.push(Edit::insert(call.end_byte(), ")"));
    Some(edits)
}

//! ## What it does
//! Finds redis-py writes that create a key with no expiry: `set`, `setnx`, `mset`,
//! `hset`, `hmset`, `lpush`, `rpush`, `sadd`, `zadd`, `incr`, `incrby`,
//! `incrbyfloat`, `append`, `xadd` and `pfadd` on a receiver known to be a Redis
//! client (`redis.Redis(...)`, `StrictRedis`, `from_url`, `redis.asyncio`), a pipeline
//! of one, or a parameter annotated as one.
//!
//! A write is fine when it sets `ex`/`px`/`exat`/`pxat`/`keepttl`, or when the same key
//! expression gets `expire`/`pexpire`/`expireat`/`pexpireat` later in the same function
//! or pipeline. `setex`/`psetex` always set an expiry.
//!
//! ## Why is this bad?
//! A cache key without a TTL lives until someone deletes it. Keys built from user ids,
//! sessions or request data pile up until Redis hits `maxmemory`; then it either evicts
//! keys you needed or, with the default `noeviction` policy, rejects every write and
//! takes the features that depend on it down with it.
//!
//! ## Example
//! ```python
//! cache = redis.Redis.from_url(REDIS_URL)
//!
//! def remember(user_id: int, profile: bytes):
//!     cache.set(f"profile:{user_id}", profile)
//!     cache.incr(f"visits:{user_id}")
//! ```
//!
//! ## Use instead
//! ```python
//! cache = redis.Redis.from_url(REDIS_URL)
//!
//! def remember(user_id: int, profile: bytes):
//!     cache.set(f"profile:{user_id}", profile, ex=3600)
//!     cache.incr(f"visits:{user_id}")
//!     cache.expire(f"visits:{user_id}", 3600)
//! ```
//!
//! ## Fix safety
//! Unsafe: after the fix the key disappears after `redis.default_ttl_seconds` (default
//! 3600), which is the point, but code that expected it to persist will now miss it.
//! `set` gets `ex=<ttl>`; other writes get `<client>.expire(<key>, <ttl>)` on the next
//! line (awaited when the write is awaited). Writes whose key or receiver is not a
//! plain expression, or that sit inside a larger expression, get no fix.

use ruff_python_ast::{Expr, ExprCall};

use super::checker::{Checker, Hooks};
use super::helpers::{calls_in_scope, has_dictionary_splat, standalone_statement};
use super::same_expression;
use crate::language::Language;
use crate::rules::prefilter;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, indentation_at,
    line_end, newline_of, shorten,
};
use crate::rules::{Libraries, WorkspaceTrigger};
use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::BoundKinds;

pub const RULE: Rule = Rule {
    id: "redis-key-without-ttl",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "A Redis write that creates a key with no expiry",
    triggers: &["redis"],
    text_test: None,
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::REDIS,
        text: |text| prefilter::mentions_any_method_call(text, &WRITE_CALLS),
    }),
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

/// redis-py commands that create a key.
const WRITE_METHODS: &[&str] = &[
    "set",
    "setnx",
    "mset",
    "hset",
    "hmset",
    "lpush",
    "rpush",
    "sadd",
    "zadd",
    "incr",
    "incrby",
    "incrbyfloat",
    "append",
    "xadd",
    "pfadd",
];
static WRITE_CALLS: std::sync::LazyLock<prefilter::MethodNames> =
    std::sync::LazyLock::new(|| prefilter::MethodNames::new(WRITE_METHODS));

const EXPIRY_KEYWORDS: &[&str] = &["ex", "px", "exat", "pxat", "keepttl"];
const EXPIRE_METHODS: &[&str] = &["expire", "pexpire", "expireat", "pexpireat"];

fn check<'c>(checker: &Checker<'c, '_>, write: &'c ExprCall, findings: &mut Vec<Finding>) {
    let Expr::Attribute(function) = &*write.func else {
        return;
    };
    let method = function.attr.as_str();
    let receiver = &*function.value;
    if !WRITE_METHODS.contains(&method) || !BoundKinds::may_hold_kind(receiver) {
        return;
    }
    if !checker
        .kind_of(receiver)
        .is_some_and(BindingKind::is_redis_client)
    {
        return;
    }
    if has_dictionary_splat(&write.arguments) || sets_expiry(write, method) {
        return;
    }
    let unexpired: Vec<&Expr> = written_keys(write, method)
        .into_iter()
        .filter(|key| !expired_later(checker, write, key))
        .collect();
    let Some(first) = unexpired.first() else {
        return;
    };
    let receiver_text = checker.text(receiver);
    let mut finding = RULE.finding(
        checker.range(write),
        format!(
            "`{receiver_text}.{method}` creates key `{}` with no expiry; it stays in Redis until deleted",
            shorten(checker.text(*first), 40)
        ),
    );
    let ttl = checker.settings.redis_default_ttl_seconds;
    finding.fix = if method == "set" {
        write.arguments.iter_source_order().last().map(|last| {
            Fix::unsafe_(
                format!("Add `ex={ttl}` (expire after {ttl} s)"),
                vec![Edit::insert(
                    checker.range(&last).end,
                    format!(", ex={ttl}"),
                )],
            )
        })
    } else {
        expire_after(checker, write, receiver, &unexpired, ttl).map(|edit| {
            Fix::unsafe_(
                format!("Call `{receiver_text}.expire(..., {ttl})` after the write"),
                vec![edit],
            )
        })
    };
    findings.push(finding);
}

/// `ex=`/`px=`/... given (and not `None`/`False`), or `set(name, value, ex)` positionally.
fn sets_expiry(write: &ExprCall, method: &str) -> bool {
    let is_unset = |value: &Expr| {
        value.is_none_literal_expr()
            || matches!(value, Expr::BooleanLiteral(literal) if !literal.value)
    };
    let by_keyword = EXPIRY_KEYWORDS.iter().any(|keyword| {
        write
            .arguments
            .find_keyword(keyword)
            .is_some_and(|value| !is_unset(&value.value))
    });
    let by_position = method == "set"
        && write
            .arguments
            .args
            .get(2)
            .is_some_and(|ex| !ex.is_none_literal_expr());
    by_keyword || by_position
}

/// The key expressions a write creates (the keys of a dict literal for `mset`).
fn written_keys<'c>(write: &'c ExprCall, method: &str) -> Vec<&'c Expr> {
    let arguments = &write.arguments;
    let first = arguments.args.first();
    let keyword = |name: &str| arguments.find_keyword(name).map(|keyword| &keyword.value);
    if method != "mset" {
        return first.or_else(|| keyword("name")).into_iter().collect();
    }
    let Some(mapping) = first.or_else(|| keyword("mapping")) else {
        return Vec::new();
    };
    let Expr::Dict(dictionary) = mapping else {
        // Keys unknown: report the mapping itself, with no fix.
        return vec![mapping];
    };
    dictionary
        .items
        .iter()
        .filter_map(|item| item.key.as_ref())
        .collect()
}

/// Whether `expire(key, ...)` follows the write in the same scope (its function, else
/// the module).
fn expired_later(checker: &Checker, write: &ExprCall, key: &Expr) -> bool {
    let write_start = checker.range(write).start;
    let key_text = checker.text(key);
    let bodies = match checker.enclosing_function() {
        Some(function) => vec![(checker.base(), &function.body[..])],
        None => checker.module_bodies(),
    };
    bodies.into_iter().any(|(base, body)| {
        calls_in_scope(body).into_iter().any(|call| {
            let Expr::Attribute(function) = &*call.func else {
                return false;
            };
            // Compare the method name's position: in `pipe.incr(k).expire(k, 60)` the
            // expire call starts where the write does, but its name comes after.
            if checker.range_at(base, &function.attr).start <= write_start
                || !EXPIRE_METHODS.contains(&function.attr.as_str())
            {
                return false;
            }
            let expired_key = call.arguments.args.first().or_else(|| {
                call.arguments
                    .find_keyword("name")
                    .map(|keyword| &keyword.value)
            });
            expired_key.is_some_and(|expired_key| {
                let text = checker.source.get(checker.range_at(base, expired_key));
                text.is_some_and(|text| same_expression(text, key_text))
            })
        })
    })
}

/// `receiver.expire(key, ttl)` on the lines after a write that is a statement of its own.
fn expire_after(
    checker: &Checker,
    write: &ExprCall,
    receiver: &Expr,
    keys: &[&Expr],
    ttl: u64,
) -> Option<Edit> {
    if !matches!(receiver, Expr::Name(_) | Expr::Attribute(_))
        || keys.iter().any(|key| key.is_dict_expr())
    {
        return None;
    }
    let (statement, awaited) = standalone_statement(checker, write)?;
    let source = checker.source;
    let statement = checker.range(statement);
    let indentation = indentation_at(source, statement.start);
    let newline = newline_of(source);
    let await_prefix = if awaited { "await " } else { "" };
    let receiver = checker.text(receiver);
    let lines: String = keys
        .iter()
        .map(|key| {
            format!(
                "{newline}{indentation}{await_prefix}{receiver}.expire({}, {ttl})",
                checker.text(*key)
            )
        })
        .collect();
    Some(Edit::insert(line_end(source, statement.end), lines))
}

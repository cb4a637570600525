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

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::{
    ModuleFacts, enclosing_scope, has_dictionary_splat, is_awaited, is_standalone_statement,
    keyword_argument, positional_arguments, same_expression,
};
use crate::language::Language;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, indentation_at,
    line_end, named_children, newline_of, node_text, shorten,
};
use crate::semantic::python::{BindingKind, Scopes, SemanticModel};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "redis-key-without-ttl",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::Sometimes(FixSafety::Unsafe),
    summary: "A Redis write that creates a key with no expiry",
    triggers: &["redis"],
    text_test: None,
    check: Check::Tree(check),
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
const EXPIRY_KEYWORDS: &[&str] = &["ex", "px", "exat", "pxat", "keepttl"];
const EXPIRE_METHODS: &[&str] = &["expire", "pexpire", "expireat", "pexpireat"];

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    for site in &facts.calls {
        let Some(method) = site
            .method(context.source)
            .filter(|method| WRITE_METHODS.contains(method))
        else {
            continue;
        };
        let Some(receiver) = site
            .receiver()
            .filter(|&receiver| SemanticModel::may_hold_kind(receiver, context.source))
        else {
            continue;
        };
        let ancestors = facts.ancestry.ancestors(site.call);
        let scopes = Scopes::of(&ancestors);
        let kind = facts.semantic.kind_of(receiver, &scopes, context.source);
        if !kind.is_some_and(BindingKind::is_redis_client) {
            continue;
        }
        if let Some(finding) = check_write(context, &ancestors, site.call, receiver, method) {
            findings.push(finding);
        }
    }
}

fn check_write(
    context: &Context,
    ancestors: &[Node],
    write: Node,
    receiver: Node,
    method: &str,
) -> Option<Finding> {
    let source = context.source;
    if has_dictionary_splat(write) || sets_expiry(write, method, source) {
        return None;
    }
    let keys = written_keys(write, method, source);
    if keys.is_empty() {
        return None;
    }
    let unexpired: Vec<Node> = keys
        .into_iter()
        .filter(|&key| !expired_later(context.python_facts(), ancestors, write, key, source))
        .collect();
    let first = unexpired.first()?;
    let receiver_text = node_text(receiver, source);
    let mut finding = RULE.finding(
        write.byte_range(),
        format!(
            "`{receiver_text}.{method}` creates key `{}` with no expiry; it stays in Redis until deleted",
            shorten(node_text(*first, source), 40)
        ),
    );
    let ttl = context.settings.redis_default_ttl_seconds;
    finding.fix = if method == "set" {
        add_ex_keyword(write, ttl)
            .map(|edit| Fix::unsafe_(format!("Add `ex={ttl}` (expire after {ttl} s)"), vec![edit]))
    } else {
        expire_after(ancestors, write, receiver, &unexpired, ttl, source).map(|edit| {
            Fix::unsafe_(
                format!("Call `{receiver_text}.expire(..., {ttl})` after the write"),
                vec![edit],
            )
        })
    };
    Some(finding)
}

/// `ex=`/`px=`/... given (and not `None`/`False`), or `set(name, value, ex)` positionally.
fn sets_expiry(write: Node, method: &str, source: &str) -> bool {
    let by_keyword = EXPIRY_KEYWORDS.iter().any(|keyword| {
        keyword_argument(write, keyword, source)
            .is_some_and(|value| !matches!(node_text(value, source), "None" | "False"))
    });
    let by_position = method == "set"
        && positional_arguments(write)
            .get(2)
            .is_some_and(|ex| node_text(*ex, source) != "None");
    by_keyword || by_position
}

/// The key expressions a write creates (the keys of a dict literal for `mset`).
fn written_keys<'t>(write: Node<'t>, method: &str, source: &str) -> Vec<Node<'t>> {
    let first = positional_arguments(write).into_iter().next();
    if method != "mset" {
        let key = first.or_else(|| keyword_argument(write, "name", source));
        return key.into_iter().collect();
    }
    let Some(mapping) = first.or_else(|| keyword_argument(write, "mapping", source)) else {
        return Vec::new();
    };
    if mapping.python_kind() != Kind::Dictionary {
        // Keys unknown: report the mapping itself, with no fix.
        return vec![mapping];
    }
    named_children(mapping)
        .into_iter()
        .filter(|pair| pair.python_kind() == Kind::Pair)
        .filter_map(|pair| pair.field(Field::Key))
        .collect()
}

/// Whether `expire(key, ...)` (or a sibling) follows the write in the same scope.
fn expired_later(
    facts: &ModuleFacts,
    ancestors: &[Node],
    write: Node,
    key: Node,
    source: &str,
) -> bool {
    let Some(scope) = enclosing_scope(ancestors) else {
        return false;
    };
    let key_text = node_text(key, source);
    let mut expired = false;
    facts.walk_scope_in(scope, write.start_byte()..usize::MAX, |node| {
        if expired || node.python_kind() != Kind::Call {
            return;
        }
        let Some(function) = node
            .field(Field::Function)
            .filter(|f| f.python_kind() == Kind::Attribute)
        else {
            return;
        };
        let Some(method) = function.field(Field::Attribute) else {
            return;
        };
        // Compare the method name's position: in `pipe.incr(k).expire(k, 60)` the
        // expire call starts where the write does, but its name comes after.
        if method.start_byte() <= write.start_byte()
            || !EXPIRE_METHODS.contains(&node_text(method, source))
        {
            return;
        }
        let expired_key = positional_arguments(node)
            .into_iter()
            .next()
            .or_else(|| keyword_argument(node, "name", source));
        expired = expired_key
            .is_some_and(|expired_key| same_expression(node_text(expired_key, source), key_text));
    });
    expired
}

fn add_ex_keyword(write: Node, ttl: u64) -> Option<Edit> {
    let arguments = write.field(Field::Arguments)?;
    let last = arguments
        .named_child(u32::try_from(arguments.named_child_count().checked_sub(1)?).ok()?)?;
    Some(Edit::insert(last.end_byte(), format!(", ex={ttl}")))
}

fn expire_after(
    ancestors: &[Node],
    write: Node,
    receiver: Node,
    keys: &[Node],
    ttl: u64,
    source: &str,
) -> Option<Edit> {
    if !matches!(receiver.python_kind(), Kind::Identifier | Kind::Attribute)
        || keys.iter().any(|key| key.python_kind() == Kind::Dictionary)
    {
        return None;
    }
    let statement = is_standalone_statement(write, ancestors, source)?;
    let indentation = indentation_at(source, statement.start_byte());
    let newline = newline_of(source);
    let await_prefix = if is_awaited(ancestors) { "await " } else { "" };
    let receiver = node_text(receiver, source);
    let lines: String = keys
        .iter()
        .map(|key| {
            format!(
                "{newline}{indentation}{await_prefix}{receiver}.expire({}, {ttl})",
                node_text(*key, source)
            )
        })
        .collect();
    Some(Edit::insert(line_end(source, statement.end_byte()), lines))
}

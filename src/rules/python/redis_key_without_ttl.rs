//! ## What it does
//! Finds redis-py writes that may create a key with no expiry, on a receiver known to be
//! a Redis client (`redis.Redis(...)`, `StrictRedis`, `from_url`, `redis.asyncio`), a
//! pipeline of one, or a parameter annotated as one. The commands are those Redis's own
//! command table says may make a key: `set`, `setnx`, `getset`, `mset`, `msetnx`,
//! `append`, `setrange`, `setbit`, `bitfield`, `bitop`, `incr`, `incrby`,
//! `incrbyfloat`, `decr`, `decrby`, `hset`, `hmset`, `hsetnx`, `hincrby`,
//! `hincrbyfloat`, `lpush`, `rpush`, `lmove`, `blmove`, `rpoplpush`, `brpoplpush`,
//! `sadd`, `zadd`, `zincrby`, `geoadd`, `pfadd`, `pfmerge`, `xadd` and the `*store`
//! commands (`sunionstore`, `zrangestore`, `geosearchstore`, ...), each judged on the
//! key it makes (the destination of `lmove` and `bitop`). `lpushx` and `rpushx` only
//! write to a list that exists, and are not flagged.
//!
//! A write is fine when it sets `ex`/`px`/`exat`/`pxat`/`keepttl`, or when the same key
//! expression gets `expire`/`pexpire`/`expireat`/`pexpireat` later in the same function
//! or pipeline. `setex`/`psetex` always set an expiry.
//!
//! Keys with a fixed name (`"app:status"`, `LAST_ACTIVE_KEY`, `self.KEY_NAME`) are one
//! key each, kept on purpose, and are not reported; nor are a task queue's keys (their
//! text or value says `queue`, `dramatiq`, `celery`, `rq:`, `kombu`: workers drain
//! them), nor writes in tests.
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
use super::helpers::{calls_in_scope, has_dictionary_splat, last_assignment, standalone_statement};
use super::provenance::is_constant_name;
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
    python_triggers: None,
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

/// Where a command takes the key it may create.
#[derive(Clone, Copy)]
enum CreatedKey {
    /// The positional argument at this index, or the keyword of that name.
    Argument(usize, &'static str),
    /// The keys of the mapping (`mset`, `msetnx`).
    MappingKeys,
}

use CreatedKey::{Argument, MappingKeys};

/// The commands that may create a key, with redis-py's place for it. Taken from Redis's
/// command table (`src/commands/*.json` of redis/redis at 4f8cdc2, Redis 8.0): the
/// commands flagged `WRITE` and `DENYOOM` (they may grow memory) with a key spec
/// flagged `INSERT` or `UPDATE` found by position (that spec's key is the one made).
/// Left out of that list: those that only change an existing key (`LPUSHX`/`RPUSHX`,
/// "only when the list exists"; `LINSERT`, `LSET`, the `HEXPIRE` family), those that
/// set an expiry themselves (`SETEX`, `PSETEX`, `RESTORE` with its TTL), the internal
/// `PFDEBUG`, `XSETID` and `RESTORE-ASKING`, and `COPY`/`RENAME`, whose new key comes
/// from a key that exists with its own expiry.
const KEY_WRITES: &[(&str, CreatedKey)] = &[
    ("append", Argument(0, "key")),
    ("bitfield", Argument(0, "key")),
    ("bitop", Argument(1, "dest")),
    ("blmove", Argument(1, "second_list")),
    ("brpoplpush", Argument(1, "dst")),
    ("decr", Argument(0, "name")),
    ("decrby", Argument(0, "name")),
    ("geoadd", Argument(0, "name")),
    ("geosearchstore", Argument(0, "dest")),
    ("getset", Argument(0, "name")),
    ("hincrby", Argument(0, "name")),
    ("hincrbyfloat", Argument(0, "name")),
    ("hmset", Argument(0, "name")),
    ("hset", Argument(0, "name")),
    ("hsetnx", Argument(0, "name")),
    ("incr", Argument(0, "name")),
    ("incrby", Argument(0, "name")),
    ("incrbyfloat", Argument(0, "name")),
    ("lmove", Argument(1, "second_list")),
    ("lpush", Argument(0, "name")),
    ("mset", MappingKeys),
    ("msetnx", MappingKeys),
    ("pfadd", Argument(0, "name")),
    ("pfmerge", Argument(0, "dest")),
    ("rpoplpush", Argument(1, "dst")),
    ("rpush", Argument(0, "name")),
    ("sadd", Argument(0, "name")),
    ("sdiffstore", Argument(0, "dest")),
    ("set", Argument(0, "name")),
    ("setbit", Argument(0, "name")),
    ("setnx", Argument(0, "name")),
    ("setrange", Argument(0, "name")),
    ("sinterstore", Argument(0, "dest")),
    ("sunionstore", Argument(0, "dest")),
    ("xadd", Argument(0, "name")),
    ("zadd", Argument(0, "name")),
    ("zdiffstore", Argument(0, "dest")),
    ("zincrby", Argument(0, "name")),
    ("zinterstore", Argument(0, "dest")),
    ("zrangestore", Argument(0, "dest")),
    ("zunionstore", Argument(0, "dest")),
];

fn created_key(method: &str) -> Option<CreatedKey> {
    KEY_WRITES
        .iter()
        .find(|(name, _)| *name == method)
        .map(|(_, key)| *key)
}

static WRITE_CALLS: std::sync::LazyLock<prefilter::MethodNames> = std::sync::LazyLock::new(|| {
    let names: Vec<&str> = KEY_WRITES.iter().map(|(name, _)| *name).collect();
    prefilter::MethodNames::new(&names)
});

const EXPIRY_KEYWORDS: &[&str] = &["ex", "px", "exat", "pxat", "keepttl"];
const EXPIRE_METHODS: &[&str] = &["expire", "pexpire", "expireat", "pexpireat"];

/// A key with a fixed name (`"app:status"`, `LAST_ACTIVE_KEY`, `self.KEY_NAME`): one
/// key, kept on purpose, that cannot pile up. Keys made from values (`f"session:{id}"`)
/// can.
fn is_fixed_key(key: &Expr) -> bool {
    match key {
        Expr::StringLiteral(_) | Expr::BytesLiteral(_) => true,
        Expr::Name(name) => is_constant_name(name.id.as_str()),
        Expr::Attribute(attribute) => is_constant_name(attribute.attr.as_str()),
        _ => false,
    }
}

/// Words of a task queue's keys (`dramatiq:default`, `celery`, `rq:queue:high`,
/// `queue_key`): the broker's workers drain them, and an expiry would drop jobs.
const BROKER_WORDS: &[&str] = &["queue", "dramatiq", "celery", "rq:", "kombu"];

/// A key of a task queue, by its text or, for a name, by the value it was given in the
/// function (`queue_key = f"dramatiq:{name}"`).
fn is_broker_key(checker: &Checker, key: &Expr) -> bool {
    let names_broker = |text: &str| {
        let lower = text.to_ascii_lowercase();
        BROKER_WORDS.iter().any(|word| lower.contains(word))
    };
    if names_broker(checker.text(key)) {
        return true;
    }
    let Expr::Name(name) = key else {
        return false;
    };
    last_assignment(checker, &name.id, checker.range(key).start, false).is_some_and(|assigned| {
        names_broker(
            checker
                .source
                .get(checker.range_at(assigned.base, assigned.value))
                .unwrap_or(""),
        )
    })
}

fn check<'c>(checker: &Checker<'c, '_>, write: &'c ExprCall, findings: &mut Vec<Finding>) {
    let Expr::Attribute(function) = &*write.func else {
        return;
    };
    let method = function.attr.as_str();
    let receiver = &*function.value;
    let Some(created) = created_key(method) else {
        return;
    };
    if !BoundKinds::may_hold_kind(receiver) {
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
    // Tests' keys go with their Redis.
    if checker.in_test_file() {
        return;
    }
    let unexpired: Vec<&Expr> = written_keys(write, created)
        .into_iter()
        .filter(|key| {
            !is_fixed_key(key)
                && !is_broker_key(checker, key)
                && !expired_later(checker, write, key)
        })
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
fn written_keys(write: &ExprCall, created: CreatedKey) -> Vec<&Expr> {
    let arguments = &write.arguments;
    let keyword = |name: &str| arguments.find_keyword(name).map(|keyword| &keyword.value);
    let (index, name) = match created {
        Argument(index, name) => (index, name),
        MappingKeys => (0, "mapping"),
    };
    // A `*args` before the key's place hides where it is.
    if arguments.args[..index.min(arguments.args.len())]
        .iter()
        .any(Expr::is_starred_expr)
    {
        return Vec::new();
    }
    let Some(key) = arguments.args.get(index).or_else(|| keyword(name)) else {
        return Vec::new();
    };
    if key.is_starred_expr() {
        return Vec::new();
    }
    if let Argument(..) = created {
        return vec![key];
    }
    let Expr::Dict(dictionary) = key else {
        // Keys unknown: report the mapping itself, with no fix.
        return vec![key];
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

//! ## What it does
//! Finds read-modify-write sequences on one Redis key without atomicity: in one
//! function, `get(key)` and later `set(key, ...)` on a Redis client (or `hget(key,
//! field)` and later `hset(key, field, ...)`), with the same key expression.
//!
//! Functions that make the sequence atomic are fine: a `watch(...)`, a
//! `transaction(...)`, a Lua script (`eval`, `evalsha`, `register_script`), a `lock(...)`,
//! an atomic increment of the same key (`incr`, `incrby`, `hincrby`, ...), or a write
//! with `nx=True`.
//!
//! ## Why is this bad?
//! Between the read and the write, another request (or another worker) can read the same
//! old value. Both then write their own result, and one update is lost: a stock count
//! that goes negative, a rate limit that lets twice the traffic through, a balance that
//! forgets a payment. It never shows in tests and always shows under load.
//!
//! ## Example
//! ```python
//! def reserve(item_id, quantity):
//!     stock = int(r.get(f"stock:{item_id}"))
//!     r.set(f"stock:{item_id}", stock - quantity)
//! ```
//!
//! ## Use instead
//! ```python
//! def reserve(item_id, quantity):
//!     r.decrby(f"stock:{item_id}", quantity)
//! ```
//! or `WATCH`/`MULTI` through `r.transaction(...)`, or a Lua script for logic that one
//! command cannot express.
//!
//! ## Fix safety
//! No fix: the atomic form depends on what the code computes.
//!
//! ## Known problems
//! Keys are compared by their text: the same key built two different ways is not
//! matched, and the same text meaning different keys (a loop variable that changed) is.

use ruff_python_ast::{Expr, ExprCall, StmtFunctionDef};

use super::checker::{Checker, Hooks};
use super::helpers::{calls_in_scope, is_true, method_name};
use super::same_expression;
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity};
use crate::rules::{Libraries, WorkspaceTrigger};
use crate::semantic::python::BindingKind;
use crate::semantic::python::bound_kinds::BoundKinds;

pub const RULE: Rule = Rule {
    id: "redis-race-condition",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "A Redis `get` then `set` (or `hget`/`hset`) of one key with nothing making it atomic",
    triggers: &["redis"],
    python_triggers: None,
    text_test: None,
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::REDIS,
        text: |text| {
            crate::rules::prefilter::mentions_method_call(text, "set")
                || crate::rules::prefilter::mentions_method_call(text, "hset")
        },
    }),
    check: Check::Ast(Hooks {
        function: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

/// Calls that show the function takes care of atomicity as a whole.
const ATOMIC_SECTIONS: &[&str] = &[
    "watch",
    "transaction",
    "eval",
    "evalsha",
    "register_script",
    "lock",
];
/// Atomic updates: on the same key, the read-then-write is not the update.
const ATOMIC_UPDATES: &[&str] = &[
    "incr",
    "incrby",
    "incrbyfloat",
    "decr",
    "decrby",
    "hincrby",
    "hincrbyfloat",
    "getset",
    "getdel",
];

/// One Redis command of interest in a function.
struct Command<'t> {
    call: &'t ExprCall,
    method: &'t str,
    key: &'t str,
    field: Option<&'t str>,
}

/// Judged per function (its own scope's calls, in source order).
fn check<'c>(
    checker: &Checker<'c, '_>,
    function: &'c StmtFunctionDef,
    findings: &mut Vec<Finding>,
) {
    let mut commands = Vec::new();
    for call in calls_in_scope(&function.body) {
        let Some(method) = method_name(call) else {
            continue;
        };
        let interesting = matches!(method, "get" | "set" | "hget" | "hset")
            || ATOMIC_SECTIONS.contains(&method)
            || ATOMIC_UPDATES.contains(&method);
        if !interesting || !is_redis_call(checker, call) {
            continue;
        }
        let arguments = &call.arguments.args;
        commands.push(Command {
            call,
            method,
            key: arguments.first().map_or("", |key| checker.text(key)),
            field: arguments.get(1).map(|field| checker.text(field)),
        });
    }
    if commands
        .iter()
        .any(|command| ATOMIC_SECTIONS.contains(&command.method))
    {
        return;
    }
    for (index, write) in commands.iter().enumerate() {
        let read_method = match write.method {
            "set" => "get",
            "hset" => "hget",
            _ => continue,
        };
        if write
            .call
            .arguments
            .find_keyword("nx")
            .is_some_and(|nx| is_true(&nx.value))
        {
            continue;
        }
        let same = |command: &Command| {
            same_expression(command.key, write.key)
                && (read_method == "get"
                    || command
                        .field
                        .zip(write.field)
                        .is_some_and(|(a, b)| same_expression(a, b)))
        };
        let Some(read) = commands[..index]
            .iter()
            .find(|command| command.method == read_method && same(command))
        else {
            continue;
        };
        if commands.iter().any(|command| {
            ATOMIC_UPDATES.contains(&command.method) && same_expression(command.key, write.key)
        }) {
            continue;
        }
        findings.push(RULE.finding(
            checker.range(write.call),
            format!(
                "`{}` writes back what `{}` read before it: a concurrent request can write in between, and one update is lost",
                shorten_call(checker, write.call),
                shorten_call(checker, read.call),
            ),
        ));
    }
}

/// A call on a Redis client or pipeline (as the function's own scope sees names).
fn is_redis_call(checker: &Checker, call: &ExprCall) -> bool {
    let Expr::Attribute(function) = &*call.func else {
        return false;
    };
    BoundKinds::may_hold_kind(&function.value)
        && checker
            .kind_of(&function.value)
            .is_some_and(BindingKind::is_redis_client)
}

/// `r.get(f"stock:{item_id}")` shortened for a message.
fn shorten_call(checker: &Checker, call: &ExprCall) -> String {
    let arguments = &call.arguments.args;
    let key = arguments.first().map_or(String::new(), |key| {
        crate::rules::shorten(checker.text(key), 40)
    });
    let more = if arguments.len() > 1 { ", …" } else { "" };
    format!("{}({key}{more})", checker.text(&*call.func))
}

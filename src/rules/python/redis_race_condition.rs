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

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::{ModuleFacts, keyword_argument, positional_arguments, same_expression};
use crate::language::Language;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity, node_text};
use crate::semantic::python::{BindingKind, Scopes, SemanticModel};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "redis-race-condition",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::None,
    summary: "A Redis `get` then `set` (or `hget`/`hset`) of one key with nothing making it atomic",
    triggers: &["redis"],
    text_test: None,
    check: Check::Tree(check),
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
    call: Node<'t>,
    method: &'t str,
    key: &'t str,
    field: Option<&'t str>,
}

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    // Commands per function, in source order (calls are in source order; a nested
    // function's calls may come between two of its parent's).
    let mut functions: Vec<(usize, Vec<Command>)> = Vec::new();
    let mut index_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for site in &facts.calls {
        let Some(function) = site
            .scope
            .filter(|scope| scope.python_kind() == Kind::FunctionDefinition)
        else {
            continue;
        };
        let Some(method) = site.method(source) else {
            continue;
        };
        let interesting = matches!(method, "get" | "set" | "hget" | "hset")
            || ATOMIC_SECTIONS.contains(&method)
            || ATOMIC_UPDATES.contains(&method);
        if !interesting || !is_redis_call(site.call, site.receiver(), facts, source) {
            continue;
        }
        let arguments = positional_arguments(site.call);
        let key = arguments.first().map_or("", |key| node_text(*key, source));
        let field = arguments.get(1).map(|field| node_text(*field, source));
        let command = Command {
            call: site.call,
            method,
            key,
            field,
        };
        let index = *index_of.entry(function.id()).or_insert_with(|| {
            functions.push((function.id(), Vec::new()));
            functions.len() - 1
        });
        functions[index].1.push(command);
    }
    for (_, commands) in &functions {
        if commands
            .iter()
            .any(|command| ATOMIC_SECTIONS.contains(&command.method))
        {
            continue;
        }
        for (index, write) in commands.iter().enumerate() {
            let read_method = match write.method {
                "set" => "get",
                "hset" => "hget",
                _ => continue,
            };
            if keyword_argument(write.call, "nx", source)
                .is_some_and(|nx| node_text(nx, source) == "True")
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
                write.call.byte_range(),
                format!(
                    "`{}` writes back what `{}` read before it: a concurrent request can write in between, and one update is lost",
                    shorten_call(write.call, source),
                    shorten_call(read.call, source),
                ),
            ));
        }
    }
}

fn is_redis_call(call: Node, receiver: Option<Node>, facts: &ModuleFacts, source: &str) -> bool {
    let Some(receiver) =
        receiver.filter(|receiver| SemanticModel::may_hold_kind(*receiver, source))
    else {
        return false;
    };
    let ancestors = facts.ancestry.ancestors(call);
    let scopes = Scopes::of(&ancestors);
    facts
        .semantic
        .kind_of(receiver, &scopes, source)
        .is_some_and(BindingKind::is_redis_client)
}

/// `r.get(f"stock:{item_id}")` shortened for a message.
fn shorten_call(call: Node, source: &str) -> String {
    let function = call
        .field(Field::Function)
        .map_or("", |function| node_text(function, source));
    let arguments = positional_arguments(call);
    let key = arguments.first().map_or(String::new(), |key| {
        crate::rules::shorten(node_text(*key, source), 40)
    });
    let more = if arguments.len() > 1 { ", …" } else { "" };
    format!("{function}({key}{more})")
}

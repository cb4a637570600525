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

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::{ModuleFacts, enclosing_scope};
use crate::language::Language;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity, node_text};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "pubsub-without-reconnect",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::None,
    summary: "A Redis pub/sub `listen()`/`get_message()` loop that no connection-error handler covers",
    triggers: &["pubsub"],
    text_test: None,
    check: Check::Tree(check),
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

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        let Some(method) = site
            .method(source)
            .filter(|method| matches!(*method, "listen" | "get_message"))
        else {
            continue;
        };
        let Some(receiver) = site.receiver() else {
            continue;
        };
        let ancestors = facts.ancestry.ancestors(site.call);
        if !is_pubsub(receiver, &ancestors, source, facts) {
            continue;
        }
        // `listen()` is the loop's iterable; `get_message()` sits inside a loop.
        let in_loop = match method {
            "listen" => matches!(
                site.parent.python_kind(),
                Kind::ForStatement | Kind::ForInClause
            ),
            _ => ancestors
                .iter()
                .rev()
                .take_while(|node| node.python_kind() != Kind::FunctionDefinition)
                .any(|node| {
                    matches!(
                        node.python_kind(),
                        Kind::WhileStatement | Kind::ForStatement
                    )
                }),
        };
        if !in_loop || handled(&ancestors, source) || retried(&ancestors, source) {
            continue;
        }
        findings.push(RULE.finding(
            site.call.byte_range(),
            format!(
                "`{}` loop has no handling of connection errors: when Redis restarts or the connection drops, the subscriber dies and events are lost",
                node_text(site.call, source).lines().next().unwrap_or("")
            ),
        ));
    }
}

/// `r.pubsub()` itself, or a name bound to one in the function or the module.
fn is_pubsub(receiver: Node, ancestors: &[Node], source: &str, facts: &ModuleFacts) -> bool {
    let makes_pubsub = |call: Node| {
        call.field(Field::Function)
            .filter(|function| function.python_kind() == Kind::Attribute)
            .and_then(|function| function.field(Field::Attribute))
            .is_some_and(|method| node_text(method, source) == "pubsub")
    };
    match receiver.python_kind() {
        Kind::Call => makes_pubsub(receiver),
        Kind::Identifier => {
            let name = node_text(receiver, source);
            let scopes = [enclosing_scope(ancestors), ancestors.first().copied()];
            scopes.into_iter().flatten().any(|scope| {
                facts
                    .semantic
                    .bindings
                    .calls_bound(scope, name)
                    .any(makes_pubsub)
            })
        }
        _ => false,
    }
}

/// A `try` around the call (inside its function) with a handler for connection errors.
fn handled(ancestors: &[Node], source: &str) -> bool {
    ancestors
        .iter()
        .rev()
        .take_while(|node| node.python_kind() != Kind::FunctionDefinition)
        .filter(|node| node.python_kind() == Kind::TryStatement)
        .any(|try_statement| {
            let mut cursor = try_statement.walk();
            try_statement.children(&mut cursor).any(|clause| {
                clause.python_kind() == Kind::ExceptClause && {
                    let header = node_text(clause, source).split(':').next().unwrap_or("");
                    header.trim() == "except"
                        || CONNECTION_ERRORS.iter().any(|error| header.contains(error))
                }
            })
        })
}

/// The function is wrapped in a retry decorator.
fn retried(ancestors: &[Node], source: &str) -> bool {
    ancestors
        .iter()
        .filter(|node| node.python_kind() == Kind::DecoratedDefinition)
        .any(|decorated| {
            let mut cursor = decorated.walk();
            decorated.children(&mut cursor).any(|child| {
                child.python_kind() == Kind::Decorator && {
                    let text = node_text(child, source);
                    text.contains("retry") || text.contains("backoff")
                }
            })
        })
}

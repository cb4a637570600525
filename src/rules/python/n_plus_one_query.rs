//! ## What it does
//! Finds a database query run inside a loop over the results of another query: the loop
//! iterates a query (`session.query(...).all()`, `session.execute(...).scalars()`,
//! `session.scalars(...)`, `Model.query.filter_by(...).all()`, `cursor.fetchall()`,
//! asyncpg's `fetch(...)`, awaited or not, or a name assigned one of those earlier in the
//! function), and its body runs another (`session.execute/query/get/scalar(s)/...`,
//! `Model.query...`, `cursor.execute`, `conn.fetch*`).
//!
//! Query receivers are recognised by name: `session`, `db`, `cursor`, `conn`,
//! `connection` (and names containing them), or `Model.query`.
//!
//! ## Why is this bad?
//! One query per row: a page of 50 orders makes 51 round trips, each paying network
//! latency and a connection checkout. It is fast with test data and slow exactly when
//! the data grows, and the database load grows with it.
//!
//! ## Example
//! ```python
//! orders = session.scalars(select(Order).where(Order.user_id == user_id)).all()
//! for order in orders:
//!     items = session.scalars(select(Item).where(Item.order_id == order.id)).all()
//! ```
//!
//! ## Use instead
//! ```python
//! orders = session.scalars(
//!     select(Order).where(Order.user_id == user_id).options(selectinload(Order.items))
//! ).all()
//! for order in orders:
//!     items = order.items
//! ```
//! or `joinedload(...)` for to-one relations, or one query with
//! `Item.order_id.in_([order.id for order in orders])`.
//!
//! ## Fix safety
//! No fix: the right loading strategy depends on the relation and the data.
//!
//! ## Known problems
//! Queries hidden behind lazy-loaded relationship attributes (`order.items` without
//! eager loading) or helper functions are not seen; receivers with other names are not
//! recognised as database handles.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::{ModuleFacts, enclosing_scope};
use crate::language::Language;
use crate::rules::{
    Check, Context, Finding, FixAvailability, Rule, Severity, any_in_tree, node_text,
};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "n-plus-one-query",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::None,
    summary: "A database query inside a loop over another query's results (N+1 queries)",
    triggers: &["for "],
    text_test: Some(mentions_queries),
    check: Check::Tree(check),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

/// Methods that run a query (on a session, connection, cursor or `Model.query`).
const QUERY_METHODS: &[&str] = &[
    "execute",
    "query",
    "get",
    "scalar",
    "scalars",
    "scalar_one",
    "scalar_one_or_none",
    "fetch",
    "fetchrow",
    "fetchval",
    "fetchall",
    "fetchone",
    "all",
    "first",
    "one",
    "one_or_none",
    "filter_by",
    "filter",
    "count",
];

/// Words a database handle's name contains.
const HANDLE_WORDS: &[&str] = &["session", "db", "cursor", "cur", "conn", "connection"];

/// Whether the text has two query calls (the loop's and the one inside it): names a
/// database handle (`session.`, `db.`, `cursor.`, ...) or `.query`, each followed by a dot
/// or a call.
fn mentions_queries(text: &str) -> bool {
    let mut queries = 0;
    let mut start = None;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let in_identifier = c.is_ascii_alphanumeric() || c == '_';
        match (start, in_identifier) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                start = None;
                let identifier = &text[from..at];
                let after = crate::rules::prefilter::after_gap(text, at);
                let is_handle = names_handle(identifier) && after.starts_with('.');
                let is_query_attribute =
                    identifier == "query" && (after.starts_with('.') || after.starts_with('('));
                if is_handle || is_query_attribute {
                    queries += 1;
                    if queries >= 2 {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    let source = context.source;
    for site in &facts.calls {
        // One finding per chain: `session.scalars(...).all()` is one query.
        let outer_query = (site.parent.python_kind() == Kind::Attribute)
            .then(|| site.parent.parent())
            .flatten()
            .is_some_and(|outer| outer.python_kind() == Kind::Call && is_query(outer, source));
        if outer_query || !is_query(site.call, source) {
            continue;
        }
        let ancestors = facts.ancestry.ancestors(site.call);
        // The innermost `for` whose body (not its iterable) holds the call, within the
        // function.
        let Some(loop_) = ancestors
            .iter()
            .rev()
            .take_while(|node| {
                !matches!(
                    node.python_kind(),
                    Kind::FunctionDefinition | Kind::Lambda | Kind::ClassDefinition
                )
            })
            .find(|node| {
                node.python_kind() == Kind::ForStatement
                    && node.field(Field::Body).is_some_and(|body| {
                        body.start_byte() <= site.call.start_byte()
                            && site.call.end_byte() <= body.end_byte()
                    })
            })
        else {
            continue;
        };
        let Some(iterable) = loop_.field(Field::Right) else {
            continue;
        };
        if !iterates_query_results(facts, iterable, &ancestors, source) {
            continue;
        }
        let loop_variable = loop_
            .field(Field::Left)
            .map_or("", |left| node_text(left, source));
        findings.push(RULE.finding(
            site.call.byte_range(),
            format!(
                "query inside a loop over another query's results (`for {loop_variable} in ...`): one query per row (N+1); load them together with `selectinload`/`joinedload` or one `IN` query"
            ),
        ));
    }
}

/// A call that runs a query: a query method on a database handle or on `Model.query`.
fn is_query(call: Node, source: &str) -> bool {
    let Some(function) = call
        .field(Field::Function)
        .filter(|f| f.python_kind() == Kind::Attribute)
    else {
        return false;
    };
    let (Some(receiver), Some(method)) = (
        function.field(Field::Object),
        function.field(Field::Attribute),
    ) else {
        return false;
    };
    if !QUERY_METHODS.contains(&node_text(method, source)) {
        return false;
    }
    is_database_handle(receiver, source)
}

/// `session`, `self.db`, `cursor`, `Model.query`, or a chain starting from one
/// (`session.query(X).filter(...)`).
fn is_database_handle(receiver: Node, source: &str) -> bool {
    let mut current = receiver;
    loop {
        match current.python_kind() {
            Kind::Identifier => return names_handle(node_text(current, source)),
            Kind::Attribute => {
                let attribute = current
                    .field(Field::Attribute)
                    .map_or("", |a| node_text(a, source));
                if attribute == "query" || names_handle(attribute) {
                    return true;
                }
                let Some(object) = current.field(Field::Object) else {
                    return false;
                };
                current = object;
            }
            Kind::Call => {
                let Some(function) = current.field(Field::Function) else {
                    return false;
                };
                current = function;
            }
            Kind::Await | Kind::ParenthesizedExpression => {
                let Some(inner) = current.named_child(0) else {
                    return false;
                };
                current = inner;
            }
            _ => return false,
        }
    }
}

fn names_handle(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.split('_').any(|word| HANDLE_WORDS.contains(&word))
        || lower.contains("session")
        || lower.contains("cursor")
}

/// The loop's iterable is a query's result, directly or through a name assigned one
/// earlier in the same function.
fn iterates_query_results(
    facts: &ModuleFacts,
    iterable: Node,
    ancestors: &[Node],
    source: &str,
) -> bool {
    if contains_query(iterable, source) {
        return true;
    }
    if iterable.python_kind() != Kind::Identifier {
        return false;
    }
    let name = node_text(iterable, source);
    let Some(scope) = enclosing_scope(ancestors) else {
        return false;
    };
    let mut from_query = false;
    facts.walk_scope(scope, |node| {
        if node.python_kind() != Kind::Assignment || node.start_byte() >= iterable.start_byte() {
            return;
        }
        let assigns = node.field(Field::Left).is_some_and(|left| {
            left.python_kind() == Kind::Identifier && node_text(left, source) == name
        });
        if assigns {
            from_query = node
                .field(Field::Right)
                .is_some_and(|value| contains_query(value, source));
        }
    });
    from_query
}

fn contains_query(expression: Node, source: &str) -> bool {
    any_in_tree(expression, |node| {
        node.python_kind() == Kind::Call && is_query(node, source)
    })
}

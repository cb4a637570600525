//! ## What it does
//! Finds a database query run inside a loop over the results of another query: the loop
//! iterates a query (`session.query(...).all()`, `session.execute(...).scalars()`,
//! `session.scalars(...)`, `Model.query.filter_by(...).all()`, `cursor.fetchall()`,
//! asyncpg's `fetch(...)`, awaited or not, or a name assigned one of those earlier in the
//! function), and its body runs another (`session.execute/query/get/scalar(s)/...`,
//! `Model.query...`, `cursor.execute`, `conn.fetch*`).
//!
//! Query receivers are recognised by what they hold: a SQLAlchemy/SQLModel session
//! however it is named (made here or in another module of the workspace, a parameter
//! annotated `Session`/`AsyncSession`, a FastAPI dependency that yields one); and by
//! name: `session`, `db`, `cursor`, `conn`, `connection` (and names containing them),
//! or `Model.query`.
//!
//! Alembic migrations (modules that take `op` from `alembic`) and commands (`cli.py`,
//! `manage.py`, `scripts/`, a `__main__` block) are not checked: a backfill that runs
//! once, row by row, is a choice, not a regression. Nor are tests.
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
//! eager loading) or helper functions are not seen. A cursor or driver connection with
//! another name is not recognised as a database handle (only sessions are known by
//! what they hold).

use ruff_python_ast::{Expr, ExprCall, Stmt};

use super::checker::{self, Checker, Hooks, Parent, TextTest};
use super::helpers::{AnyNode, any_node_in, assignments_to};
use crate::language::Language;
use crate::rules::prefilter::{MethodNames, mentions_method_calls};
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, Rule, Severity};
use crate::rules::{Libraries, WorkspaceTrigger};
use crate::semantic::python::kinds::BindingKind;

pub const RULE: Rule = Rule {
    id: "n-plus-one-query",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::None,
    summary: "A database query inside a loop over another query's results (N+1 queries)",
    triggers: &["for "],
    python_triggers: None,
    text_test: Some(mentions_queries),
    // Sessions made in another module, under any name.
    workspace_trigger: Some(WorkspaceTrigger {
        libraries: Libraries::DATABASE,
        text: mentions_query_calls,
    }),
    check: Check::Ast(Hooks {
        call: Some(check),
        // The loop, its query and the query inside it are in one function; receivers
        // are known by what they hold only where the module reaches a database library.
        item_test: Some(|module| {
            Some(if checker::may_reach(module, Libraries::DATABASE) {
                mentions_query_calls as TextTest
            } else {
                mentions_queries
            })
        }),
        ..Hooks::NONE
    }),
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

static QUERY_CALLS: std::sync::LazyLock<MethodNames> =
    std::sync::LazyLock::new(|| MethodNames::new(QUERY_METHODS));

/// Whether the text may have two query calls (the loop's and the one inside it): two
/// calls of query methods (`.execute(`, `.all(`, ...), and two names of a database
/// handle or `query` that a receiver's chain can hold: before a `.` (`session.`,
/// `self.db.`), a call (`get_session()`) or a closing parenthesis (`(await conn)`).
fn mentions_queries(text: &str) -> bool {
    mentions_query_calls(text) && mentions_handles(text)
}

/// Whether the text may have a loop and two query calls, whatever their receivers.
fn mentions_query_calls(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"for ").is_some()
        && mentions_method_calls(text, &QUERY_CALLS, 2)
}

/// The words a handle's name (`names_handle`) or `query` holds, in lower case (those
/// inside another, `cur` in `cursor`, stand for it), each with its search.
static HANDLE_WORD_FINDERS: std::sync::LazyLock<Vec<memchr::memmem::Finder<'static>>> =
    std::sync::LazyLock::new(|| {
        ["session", "db", "cur", "conn", "query"]
            .iter()
            .map(|word| memchr::memmem::Finder::new(word.as_bytes()).into_owned())
            .collect()
    });

fn mentions_handles(text: &str) -> bool {
    let bytes = text.as_bytes();
    // ASCII case ignored: the words are searched in a lower-cased copy, with the
    // vectorized search (an automaton that ignores case walks every byte).
    let lowered = bytes.to_ascii_lowercase();
    let is_name_byte = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'_';
    // The names counted, by where each ends (one name may hold several words).
    let mut counted_ends: Vec<usize> = Vec::new();
    // From each handle word, out to the name around it, then to what follows it.
    for finder in HANDLE_WORD_FINDERS.iter() {
        for found in finder.find_iter(&lowered) {
            let start = bytes[..found]
                .iter()
                .rposition(|byte| !is_name_byte(byte))
                .map_or(0, |last_other| last_other + 1);
            let found_end = found + finder.needle().len();
            let end = bytes[found_end..]
                .iter()
                .position(|byte| !is_name_byte(byte))
                .map_or(bytes.len(), |offset| found_end + offset);
            if counted_ends.contains(&end) {
                continue;
            }
            // ASCII bytes around the word: character boundaries.
            let name = &text[start..end];
            let before_chain =
                crate::rules::prefilter::after_gap(text, end).starts_with(['.', '(', ')']);
            if before_chain && (names_handle(name) || name == "query") {
                counted_ends.push(end);
                if counted_ends.len() >= 2 {
                    return true;
                }
            }
        }
    }
    false
}

fn check<'c>(checker: &Checker<'c, '_>, call: &'c ExprCall, findings: &mut Vec<Finding>) {
    // A migration's or a script's backfill runs once, row by row by design; a test's
    // loop reads a handful of rows.
    if checker.in_migration() || checker.in_test_file() || checker.in_command_module() {
        return;
    }
    let ancestors = checker.ancestors();
    // One finding per chain: `session.scalars(...).all()` is one query.
    let outer_query = matches!(
        ancestors,
        [.., Parent::Expression(Expr::Call(outer)), Parent::Expression(Expr::Attribute(_))]
            if is_query(checker, outer)
    );
    if outer_query || !is_query(checker, call) {
        return;
    }
    let call_start = checker.range(call).start;
    // The innermost `for` whose body (not its iterable) holds the call, within the
    // function.
    let loop_ = ancestors
        .iter()
        .rev()
        .take_while(|parent| {
            !matches!(
                parent,
                Parent::Statement(Stmt::FunctionDef(_) | Stmt::ClassDef(_))
                    | Parent::Expression(Expr::Lambda(_))
            )
        })
        .find_map(|parent| match parent {
            Parent::Statement(Stmt::For(for_statement))
                if in_body(checker, &for_statement.body, call_start) =>
            {
                Some(for_statement)
            }
            _ => None,
        });
    let Some(loop_) = loop_ else {
        return;
    };
    if !iterates_query_results(checker, &loop_.iter) {
        return;
    }
    findings.push(RULE.finding(
        checker.range(call),
        format!(
            "query inside a loop over another query's results (`for {} in ...`): one query per row (N+1); load them together with `selectinload`/`joinedload` or one `IN` query",
            checker.text(&*loop_.target)
        ),
    ));
}

/// Whether byte `at` lies in `body` (a loop's body, not its `else`).
fn in_body(checker: &Checker, body: &[Stmt], at: usize) -> bool {
    match (body.first(), body.last()) {
        (Some(first), Some(last)) => {
            checker.range(first).start <= at && at < checker.range(last).end
        }
        _ => false,
    }
}

/// A call that runs a query: a query method on a database handle or on `Model.query`.
fn is_query(checker: &Checker, call: &ExprCall) -> bool {
    let Expr::Attribute(function) = &*call.func else {
        return false;
    };
    QUERY_METHODS.contains(&function.attr.as_str())
        && (is_database_handle(&function.value)
            || (checker.reaches(Libraries::DATABASE) && holds_a_session(checker, &function.value)))
}

/// Whether the receiver, or what its chain starts from (`s.query(X).filter(...)`),
/// holds a session, as the model (and the workspace) tell it.
fn holds_a_session(checker: &Checker, receiver: &Expr) -> bool {
    chain_of(receiver).any(|link| {
        matches!(link, Expr::Name(_) | Expr::Attribute(_) | Expr::Call(_))
            && matches!(checker.kind_of(link), Some(BindingKind::Session { .. }))
    })
}

/// `session`, `self.db`, `cursor`, `Model.query`, or a chain starting from one
/// (`session.query(X).filter(...)`).
fn is_database_handle(receiver: &Expr) -> bool {
    chain_of(receiver).any(|link| match link {
        Expr::Name(name) => names_handle(&name.id),
        Expr::Attribute(attribute) => {
            attribute.attr.as_str() == "query" || names_handle(&attribute.attr)
        }
        _ => false,
    })
}

/// The receiver and what it is made from, outwards to the name it starts from
/// (`s.query(X).filter` → that, `s.query(X)`, `s.query`, `s`), through awaits.
fn chain_of(receiver: &Expr) -> impl Iterator<Item = &Expr> {
    std::iter::successors(Some(receiver), |link| match link {
        Expr::Attribute(attribute) => Some(&*attribute.value),
        Expr::Call(call) => Some(&*call.func),
        Expr::Await(awaited) => Some(&*awaited.value),
        _ => None,
    })
}

fn names_handle(name: &str) -> bool {
    let contains = |word: &str| {
        name.as_bytes()
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
    };
    name.split('_').any(|part| {
        HANDLE_WORDS
            .iter()
            .any(|word| part.eq_ignore_ascii_case(word))
    }) || contains("session")
        || contains("cursor")
}

/// The loop's iterable is a query's result, directly or through a name assigned one
/// earlier in the same function (the last such assignment decides).
fn iterates_query_results(checker: &Checker, iterable: &Expr) -> bool {
    if contains_query(checker, iterable) {
        return true;
    }
    let Expr::Name(name) = iterable else {
        return false;
    };
    let before = checker.range(iterable).start;
    assignments_to(checker, &name.id, false)
        .into_iter()
        .filter(|assigned| assigned.at < before)
        .max_by_key(|assigned| assigned.at)
        .is_some_and(|assigned| contains_query(checker, assigned.value))
}

fn contains_query(checker: &Checker, expression: &Expr) -> bool {
    any_node_in(
        expression,
        |node| matches!(node, AnyNode::Expression(Expr::Call(call)) if is_query(checker, call)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text test admits every receiver shape the rule recognises (it once missed a
    /// handle returned by a call and one awaited in parentheses), and turns away text
    /// with one query call or no handle.
    #[test]
    fn text_test_admits_every_receiver_shape() {
        for text in [
            "for r in session.execute(q):\n    session.execute(q2)",
            "for r in get_session().execute(q):\n    get_session().execute(q2)",
            "for r in await (await conn).fetch(q):\n    await (await conn).fetch(q2)",
            "for u in User.query.all():\n    User.query.get(u.id)",
            "for r in self.db.execute(q):\n    self.db . get (r)",
        ] {
            assert!(mentions_queries(text), "{text}");
        }
        for text in [
            "for r in rows:\n    session.execute(q)",
            "for k in cache.get('k'):\n    cache.get(k)",
        ] {
            assert!(!mentions_queries(text), "{text}");
        }
    }
}

//! ## What it does
//! Finds a SQLAlchemy `Session`/`AsyncSession` or DB-API connection `.commit()` that can
//! fail without the transaction being rolled back:
//!
//! - inside a `try` whose `except` handlers catch the database error but never call
//!   `.rollback()` on the same session (logging, returning or raising an
//!   `HTTPException` is not a rollback);
//! - outside any `try`, on a session or connection the function created itself
//!   (`SessionLocal()`, `Session(engine)`, `engine.connect()`, `psycopg2.connect()`)
//!   without a `with` block that closes it.
//!
//! Commits inside `with session.begin():` or `with engine.begin() as conn:` are fine:
//! those blocks roll back on error themselves. So are commits on a session or
//! connection that a `with ... as db:` block closes, also inside a `try` (closing rolls
//! back), and `try` blocks whose handler or `finally` rolls back, in any order,
//! re-raising or not. A session created inside the `try` is judged as if the `try` were
//! not there: its handlers may run before the name is bound.
//!
//! ## Why is this bad?
//! When `commit()` fails (a constraint violation, a dropped connection, a serialization
//! failure), the transaction stays open in a failed state. The next statement on that
//! session raises `PendingRollbackError`, or with a pooled DB-API connection the next
//! request that borrows it inherits a broken transaction and its locks. One failed
//! request turns into a stream of unrelated errors until the process restarts.
//!
//! ## Example
//! ```python
//! def create_user(db: Session, user: UserIn):
//!     try:
//!         db.add(User(**user.dict()))
//!         db.commit()
//!     except IntegrityError:
//!         raise HTTPException(409, "user exists")
//! ```
//!
//! ## Use instead
//! ```python
//! def create_user(db: Session, user: UserIn):
//!     try:
//!         db.add(User(**user.dict()))
//!         db.commit()
//!     except IntegrityError:
//!         db.rollback()
//!         raise HTTPException(409, "user exists")
//! ```
//!
//! ## Fix safety
//! Safe. The fix adds `db.rollback()` (awaited when the commit is awaited) as the first
//! statement of the handler that lacks it, or wraps a bare commit in
//! `try: ... except Exception: db.rollback(); raise`. Both run only after the commit
//! has already failed, and the wrapper re-raises the original exception. The rollback
//! only goes where the session's name is bound on every path to it. If the
//! connection is gone, `rollback()` itself may raise; Python then chains the original
//! error as its `__context__`.

use crate::rules::projections::Projections;
use tree_sitter::Node;

use super::{
    ModuleFacts, contains_method_call, enclosing_scope, indent_unit, is_awaited,
    is_binding_occurrence, is_standalone_statement, same_expression,
};
use crate::language::Language;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, indentation_at,
    line_end, named_children, newline_of, node_text, prefilter, walk_tree,
};
use crate::semantic::python::imports::{Imports, dotted_name};
use crate::syntax::python_fields::{Field, Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "missing-rollback",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    fix: FixAvailability::Sometimes(FixSafety::Safe),
    summary: "A database commit that can fail with no rollback on failure",
    triggers: &["commit"],
    text_test: Some(|text| prefilter::mentions_method_call(text, "commit")),
    check: Check::Tree(check),
    reads: Projections::IMPORTS.and(Projections::CLIENTS),
};

/// Exception types that a failed commit can raise (matched on the last name segment).
const DATABASE_ERRORS: &[&str] = &[
    "Exception",
    "BaseException",
    "SQLAlchemyError",
    "DBAPIError",
    "DatabaseError",
    "IntegrityError",
    "OperationalError",
    "ProgrammingError",
    "DataError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "StatementError",
    "InvalidRequestError",
    "PendingRollbackError",
    "Error",
];

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    for site in &facts.calls {
        if site.method(context.source) != Some("commit") {
            continue;
        }
        // A session or DB-API commit takes no arguments; git-style `commit("message")` does.
        let has_arguments = site
            .call
            .field(Field::Arguments)
            .is_none_or(|arguments| arguments.named_child_count() > 0);
        // A session is a name, attribute or item (`db`, `self.session`, `pool[0]`); the
        // result of a call (`get_db().commit()`, `db.commit().commit()`) is a session
        // nobody can roll back, and a chain of them would cost a walk per link.
        let Some(receiver) = site
            .receiver()
            .filter(|&receiver| !has_arguments && is_reference(receiver))
        else {
            continue;
        };
        if let Some(finding) = check_commit(context, facts, site.call, receiver) {
            findings.push(finding);
        }
    }
}

/// A name, or attributes and items of one.
fn is_reference(node: Node) -> bool {
    let mut current = Some(node);
    while let Some(node) = current {
        current = match node.python_kind() {
            Kind::Identifier => return true,
            Kind::Attribute => node.field(Field::Object),
            Kind::Subscript => node.field(Field::Value),
            _ => return false,
        };
    }
    false
}

fn check_commit(
    context: &Context,
    facts: &ModuleFacts,
    commit: Node,
    receiver: Node,
) -> Option<Finding> {
    let source = context.source;
    let imports = &facts.semantic.imports;
    let receiver_text = node_text(receiver, source);
    let ancestors = facts.ancestry.ancestors(commit);
    let awaited = is_awaited(&ancestors);
    let mut closed_by_finally = false;
    let scope = enclosing_scope(&ancestors)?;
    let receiver_root = root_name(receiver, source)?;
    // From the innermost ancestor outwards, with the child we came from.
    for index in (0..ancestors.len()).rev() {
        let ancestor = ancestors[index];
        let child = ancestors.get(index + 1).copied().unwrap_or(commit);
        match ancestor.python_kind() {
            Kind::FunctionDefinition | Kind::Lambda | Kind::ClassDefinition => break,
            Kind::WithStatement => {
                let items = with_items(ancestor);
                if items
                    .iter()
                    .any(|&item| opens_transaction_block(item, source))
                {
                    return None;
                }
                // The block closes the session or connection on the way out, and closing
                // rolls back; a handler outside it may also run before it was bound.
                if items
                    .iter()
                    .any(|&item| binds_name(item, source, receiver_text))
                {
                    return None;
                }
            }
            Kind::TryStatement if is_body_of(ancestor, child) => {
                if clause_calls(
                    ancestor,
                    Kind::FinallyClause,
                    source,
                    receiver_text,
                    "rollback",
                ) {
                    return None;
                }
                closed_by_finally |= clause_calls(
                    ancestor,
                    Kind::FinallyClause,
                    source,
                    receiver_text,
                    "close",
                );
                let handlers = catching_handlers(ancestor, source, imports);
                if !handlers.is_empty() {
                    // Bound only inside this `try`: its handlers may run before it is,
                    // so they are no place for a rollback. Judge the commit as if the
                    // `try` were not there (the wrapper fix rolls back where it is bound).
                    let bound_inside = bound_within(
                        facts,
                        scope,
                        receiver_root,
                        child.start_byte()..commit.start_byte(),
                        source,
                    );
                    if bound_inside
                        && !bound_within(
                            facts,
                            scope,
                            receiver_root,
                            0..ancestor.start_byte(),
                            source,
                        )
                    {
                        break;
                    }
                    let lacking = handlers.into_iter().find(|&handler| {
                        !contains_method_call(handler, source, receiver_text, "rollback")
                    })?;
                    return Some(handler_finding(
                        context,
                        commit,
                        receiver_text,
                        awaited,
                        lacking,
                    ));
                }
            }
            _ => {}
        }
    }
    if closed_by_finally || !created_in_scope(facts, commit, &ancestors, receiver_text, source) {
        return None;
    }
    let await_prefix = if awaited { "await " } else { "" };
    let mut finding = RULE.finding(
        commit.byte_range(),
        format!(
            "`{receiver_text}.commit()` can fail and leave the transaction open: `{receiver_text}` is created here \
             without a `with` block and nothing rolls it back"
        ),
    );
    finding.fix = wrap_in_try(source, commit, &ancestors, receiver_text, await_prefix).map(|edit| {
        Fix::safe(format!("Wrap the commit in `try`/`except` that calls `{await_prefix}{receiver_text}.rollback()` and re-raises"), vec![edit])
    });
    Some(finding)
}

fn handler_finding(
    context: &Context,
    commit: Node,
    receiver: &str,
    awaited: bool,
    handler: Node,
) -> Finding {
    let source = context.source;
    let await_prefix = if awaited { "await " } else { "" };
    let mut finding = RULE.finding(
        commit.byte_range(),
        format!(
            "`{receiver}.commit()` can fail, and the `{}` handler catches the error without rolling back `{receiver}`",
            handler_header(source, handler)
        ),
    );
    let rollback = format!("{await_prefix}{receiver}.rollback()");
    finding.fix = insert_first_in_handler(source, handler, &rollback).map(|edit| {
        Fix::safe(
            format!("Add `{rollback}` to the `except` handler"),
            vec![edit],
        )
    });
    finding
}

/// `except IntegrityError as error`: how the message names a handler (not by its line,
/// which would change whenever lines above it do, and so would the message).
fn handler_header(source: &str, handler: Node) -> String {
    let mut cursor = handler.walk();
    let colon = handler
        .children(&mut cursor)
        .find(|child| child.python_kind() == Kind::Colon)
        .map_or(handler.end_byte(), |colon| colon.start_byte());
    let header = source.get(handler.start_byte()..colon).unwrap_or("except");
    header.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Insert `statement` before the first statement of an `except` block.
fn insert_first_in_handler(source: &str, handler: Node, statement: &str) -> Option<Edit> {
    let mut cursor = handler.walk();
    let block = handler
        .named_children(&mut cursor)
        .find(|child| child.python_kind() == Kind::Block)?;
    let first = block.named_child(0)?;
    if first.start_position().row == handler.start_position().row {
        // `except Exception: pass` keeps its one-line form.
        return Some(Edit::insert(first.start_byte(), format!("{statement}; ")));
    }
    let indentation = indentation_at(source, first.start_byte());
    Some(Edit::insert(
        first.start_byte(),
        format!("{statement}{}{indentation}", newline_of(source)),
    ))
}

/// Replace the commit's statement with a `try` that rolls back and re-raises.
fn wrap_in_try(
    source: &str,
    commit: Node,
    ancestors: &[Node],
    receiver: &str,
    await_prefix: &str,
) -> Option<Edit> {
    let statement = is_standalone_statement(commit, ancestors, source)?;
    if statement.start_position().row != statement.end_position().row {
        return None;
    }
    let indentation = indentation_at(source, statement.start_byte());
    let unit = indent_unit(source, statement.start_byte());
    let newline = newline_of(source);
    let end = line_end(source, statement.end_byte());
    let statement_and_comment = source.get(statement.start_byte()..end)?;
    let replacement = format!(
        "try:{newline}{indentation}{unit}{statement_and_comment}{newline}{indentation}except Exception:{newline}\
         {indentation}{unit}{await_prefix}{receiver}.rollback(){newline}{indentation}{unit}raise"
    );
    Some(Edit::replace(statement.start_byte()..end, replacement))
}

/// The name a reference starts with: `db` of `db`, `self` of `self.session`.
fn root_name<'s>(reference: Node, source: &'s str) -> Option<&'s str> {
    let mut current = reference;
    loop {
        current = match current.python_kind() {
            Kind::Identifier => return Some(node_text(current, source)),
            Kind::Attribute => current.field(Field::Object)?,
            Kind::Subscript => current.field(Field::Value)?,
            _ => return None,
        };
    }
}

/// Whether `scope` (nested scopes aside) binds `name` at a byte in `range`: an
/// assignment or `with`/`for`/walrus target, a parameter, or an import.
fn bound_within(
    facts: &ModuleFacts,
    scope: Node,
    name: &str,
    range: std::ops::Range<usize>,
    source: &str,
) -> bool {
    let mut bound = false;
    facts.walk_scope_in(scope, range.clone(), |node| {
        bound = bound
            || (node.python_kind() == Kind::Identifier
                && range.contains(&node.start_byte())
                && node_text(node, source) == name
                && is_binding_occurrence(node));
    });
    bound
}

fn is_body_of(try_statement: Node, child: Node) -> bool {
    try_statement
        .field(Field::Body)
        .is_some_and(|body| body.id() == child.id())
}

fn with_items(with_statement: Node) -> Vec<Node> {
    named_children(with_statement)
        .into_iter()
        .filter(|child| child.python_kind() == Kind::WithClause)
        .flat_map(named_children)
        .filter(|item| item.python_kind() == Kind::WithItem)
        .collect()
}

/// `X.begin()` / `X.begin_nested()` (alone or `as conn`): the block commits or rolls back.
fn opens_transaction_block(item: Node, source: &str) -> bool {
    let Some(value) = item.field(Field::Value) else {
        return false;
    };
    let call = if value.python_kind() == Kind::AsPattern {
        value.named_child(0)
    } else {
        Some(value)
    };
    let Some(call) = call.filter(|call| call.python_kind() == Kind::Call) else {
        return false;
    };
    let Some(function) = call
        .field(Field::Function)
        .filter(|f| f.python_kind() == Kind::Attribute)
    else {
        return false;
    };
    function
        .field(Field::Attribute)
        .is_some_and(|name| matches!(node_text(name, source), "begin" | "begin_nested"))
}

/// `with ... as <name>`: the session is closed (and rolled back) when the block exits.
fn binds_name(item: Node, source: &str, name: &str) -> bool {
    let Some(value) = item
        .field(Field::Value)
        .filter(|value| value.python_kind() == Kind::AsPattern)
    else {
        return false;
    };
    value
        .field(Field::Alias)
        .is_some_and(|alias| same_expression(node_text(alias, source), name))
}

fn clause_calls(
    try_statement: Node,
    clause_kind: Kind,
    source: &str,
    receiver: &str,
    method: &str,
) -> bool {
    named_children(try_statement)
        .into_iter()
        .filter(|clause| clause.python_kind() == clause_kind)
        .any(|clause| contains_method_call(clause, source, receiver, method))
}

/// The `except` clauses that would catch a failed commit.
fn catching_handlers<'t>(
    try_statement: Node<'t>,
    source: &str,
    imports: &Imports,
) -> Vec<Node<'t>> {
    let mut cursor = try_statement.walk();
    let handlers: Vec<Node> = try_statement
        .named_children(&mut cursor)
        .filter(|clause| clause.python_kind() == Kind::ExceptClause)
        .filter(|clause| catches_database_error(*clause, source, imports))
        .collect();
    handlers
}

fn catches_database_error(handler: Node, source: &str, imports: &Imports) -> bool {
    let Some(value) = handler.field(Field::Value) else {
        return true;
    }; // bare `except:`
    let types = if value.python_kind() == Kind::AsPattern {
        value.named_child(0)
    } else {
        Some(value)
    };
    let Some(types) = types else { return true };
    let mut catches = false;
    walk_tree(types, |node| {
        if !matches!(node.python_kind(), Kind::Identifier | Kind::Attribute)
            || node
                .parent()
                .is_some_and(|parent| parent.python_kind() == Kind::Attribute)
        {
            return;
        }
        let Some(name) = dotted_name(node, source) else {
            return;
        };
        let head = name.split('.').next().unwrap_or(&name);
        let resolved = imports
            .resolve(head)
            .map_or(name.clone(), |module| name.replacen(head, module, 1));
        let last = resolved.rsplit('.').next().unwrap_or(&resolved);
        catches |= DATABASE_ERRORS.contains(&last);
    });
    catches
}

/// Whether `receiver` is bound, earlier in the same function (or module), to a new
/// session or connection: `SessionLocal()`, `Session(engine)`, `engine.connect()`, ...
fn created_in_scope(
    facts: &ModuleFacts,
    commit: Node,
    ancestors: &[Node],
    receiver: &str,
    source: &str,
) -> bool {
    let Some(scope) = enclosing_scope(ancestors) else {
        return false;
    };
    let mut created = false;
    facts.walk_scope(scope, |node| {
        if created
            || node.python_kind() != Kind::Assignment
            || node.start_byte() >= commit.start_byte()
        {
            return;
        }
        let (Some(target), Some(value)) = (node.field(Field::Left), node.field(Field::Right))
        else {
            return;
        };
        created = same_expression(node_text(target, source), receiver)
            && is_session_or_connection_factory(value, source);
    });
    created
}

fn is_session_or_connection_factory(value: Node, source: &str) -> bool {
    let value = if value.python_kind() == Kind::Await {
        value.named_child(0)
    } else {
        Some(value)
    };
    let Some(call) = value.filter(|value| value.python_kind() == Kind::Call) else {
        return false;
    };
    let Some(function) = call.field(Field::Function) else {
        return false;
    };
    let name = match function.python_kind() {
        Kind::Identifier => node_text(function, source),
        Kind::Attribute => function
            .field(Field::Attribute)
            .map_or("", |name| node_text(name, source)),
        // `sessionmaker(bind=engine)()`
        Kind::Call => return node_text(function, source).contains("sessionmaker"),
        _ => return false,
    };
    matches!(name, "connect" | "raw_connection") || name.to_ascii_lowercase().contains("session")
}

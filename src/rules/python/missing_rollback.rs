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
//! A handler that ends the process (`sys.exit(1)`, `exit()`, `raise SystemExit`,
//! Click's `ctx.exit()`/`ctx.fail()`/`raise click.Abort`) ends the transaction with it,
//! and a bare commit in an Alembic migration (a module that takes `op` from `alembic`)
//! or a command (`cli.py`, `manage.py`, `scripts/`, a module with a `__main__` block) is
//! fine too: when it fails, the run stops and its connection with it.
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

use ruff_python_ast::{
    ExceptHandler, ExceptHandlerExceptHandler, Expr, ExprCall, ExprContext, Stmt, StmtTry, WithItem,
};

use super::checker::{Checker, Hooks, Parent};
use super::exceptions::{caught_types, header_range};
use super::helpers::{AnyNode, any_node, method_name, standalone_statement, walk_scope};
use super::{indent_unit, same_expression};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, indentation_at,
    line_end, line_start, newline_of, prefilter,
};
use crate::semantic::python::BindingKind;
use crate::semantic::python::imports::{dotted_name_of, qualified_name_of};

pub const RULE: Rule = Rule {
    id: "missing-rollback",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Safe),
    summary: "A database commit that can fail with no rollback on failure",
    triggers: &["commit"],
    python_triggers: None,
    text_test: Some(|text| prefilter::mentions_method_call(text, "commit")),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        call: Some(check),
        ..Hooks::NONE
    }),
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

fn check<'c>(checker: &Checker<'c, '_>, commit: &'c ExprCall, findings: &mut Vec<Finding>) {
    // A session or DB-API commit takes no arguments; git-style `commit("message")` does.
    if method_name(commit) != Some("commit") || !commit.arguments.is_empty() {
        return;
    }
    // A session is a name, attribute or item (`db`, `self.session`, `pool[0]`); the
    // result of a call (`get_db().commit()`) is a session nobody can roll back.
    let Expr::Attribute(callee) = &*commit.func else {
        return;
    };
    let receiver = &*callee.value;
    let Some(receiver_root) = root_name(receiver) else {
        return;
    };
    if let Some(finding) = check_commit(checker, commit, receiver, receiver_root) {
        findings.push(finding);
    }
}

fn check_commit<'c>(
    checker: &Checker<'c, '_>,
    commit: &'c ExprCall,
    receiver: &Expr,
    receiver_root: &str,
) -> Option<Finding> {
    let receiver_text = checker.text(receiver);
    let awaited = matches!(checker.parent(), Some(Parent::Expression(Expr::Await(_))));
    let commit_start = checker.range(commit).start;
    let ancestors = checker.ancestors();
    let mut closed_by_finally = false;
    // From the innermost ancestor outwards, with the child we came from.
    for index in (0..ancestors.len()).rev() {
        match ancestors[index] {
            Parent::Statement(Stmt::FunctionDef(_) | Stmt::ClassDef(_))
            | Parent::Expression(Expr::Lambda(_)) => break,
            Parent::Statement(Stmt::With(with)) => {
                if with.items.iter().any(opens_transaction_block) {
                    return None;
                }
                // The block closes the session or connection on the way out, and closing
                // rolls back; a handler outside it may also run before it was bound.
                if with
                    .items
                    .iter()
                    .any(|item| binds_name(checker, item, receiver_text))
                {
                    return None;
                }
            }
            Parent::Statement(Stmt::Try(try_statement)) => {
                let Some(Parent::Statement(child)) = ancestors.get(index + 1) else {
                    continue;
                };
                if !try_statement
                    .body
                    .iter()
                    .any(|statement| std::ptr::eq(statement, *child))
                {
                    continue;
                }
                if calls_method(checker, &try_statement.finalbody, receiver_text, "rollback") {
                    return None;
                }
                closed_by_finally |=
                    calls_method(checker, &try_statement.finalbody, receiver_text, "close");
                let handlers = catching_handlers(checker, try_statement);
                if handlers.is_empty() {
                    continue;
                }
                // Bound only inside this `try`: its handlers may run before it is, so
                // they are no place for a rollback. Judge the commit as if the `try`
                // were not there (the wrapper fix rolls back where it is bound).
                let try_start = checker.range(try_statement).start;
                let body_start = try_statement
                    .body
                    .first()
                    .map_or(commit_start, |first| checker.range(first).start);
                if bound_within(checker, receiver_root, body_start..commit_start)
                    && !bound_within(checker, receiver_root, 0..try_start)
                {
                    break;
                }
                // A handler that ends the process ends the transaction with it.
                let lacking = handlers.into_iter().find(|handler| {
                    !calls_method(checker, &handler.body, receiver_text, "rollback")
                        && !exits_the_process(checker, &handler.body)
                })?;
                return Some(handler_finding(
                    checker,
                    commit,
                    receiver_text,
                    awaited,
                    lacking,
                ));
            }
            _ => {}
        }
    }
    if closed_by_finally || !created_in_scope(checker, commit_start, receiver_text) {
        return None;
    }
    // A migration or a command that fails stops the run, and its connection with it.
    if checker.in_migration() || checker.in_command_module() {
        return None;
    }
    let await_prefix = if awaited { "await " } else { "" };
    let mut finding = RULE.finding(
        checker.range(commit),
        format!(
            "`{receiver_text}.commit()` can fail and leave the transaction open: `{receiver_text}` is created here \
             without a `with` block and nothing rolls it back"
        ),
    );
    finding.fix = wrap_in_try(checker, commit, receiver_text, await_prefix).map(|edit| {
        Fix::safe(format!("Wrap the commit in `try`/`except` that calls `{await_prefix}{receiver_text}.rollback()` and re-raises"), vec![edit])
    });
    Some(finding)
}

/// Whether `body` ends the process: `exit()`, `sys.exit()`, `os._exit()`, `raise
/// SystemExit`, or Click's `ctx.exit()`/`ctx.fail()`/`raise click.Abort`.
fn exits_the_process(checker: &Checker, body: &[Stmt]) -> bool {
    any_node(body, |node| match node {
        AnyNode::Expression(Expr::Call(call)) => {
            let name = dotted_name_of(&call.func).unwrap_or_default();
            let qualified = qualified_name_of(&call.func, checker.imports()).unwrap_or_default();
            matches!(name.as_str(), "exit" | "quit")
                || matches!(qualified.as_str(), "sys.exit" | "os._exit")
                || (name.ends_with(".exit") || name.ends_with(".fail")) && name.starts_with("ctx")
        }
        AnyNode::Statement(Stmt::Raise(raise)) => raise.exc.as_deref().is_some_and(|exception| {
            let callee = match exception {
                Expr::Call(call) => &*call.func,
                other => other,
            };
            let name = dotted_name_of(callee).unwrap_or_default();
            name == "SystemExit" || name.ends_with("Abort") || name == "KeyboardInterrupt"
        }),
        _ => false,
    })
}

fn handler_finding(
    checker: &Checker,
    commit: &ExprCall,
    receiver: &str,
    awaited: bool,
    handler: &ExceptHandlerExceptHandler,
) -> Finding {
    let await_prefix = if awaited { "await " } else { "" };
    // `except IntegrityError as error`: how the message names a handler (not by its
    // line, which would change whenever lines above it do, and so would the message).
    let header = checker
        .source
        .get(header_range(checker, handler))
        .unwrap_or("except");
    let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut finding = RULE.finding(
        checker.range(commit),
        format!(
            "`{receiver}.commit()` can fail, and the `{header}` handler catches the error without rolling back `{receiver}`"
        ),
    );
    let rollback = format!("{await_prefix}{receiver}.rollback()");
    finding.fix = insert_first_in_handler(checker, handler, &rollback).map(|edit| {
        Fix::safe(
            format!("Add `{rollback}` to the `except` handler"),
            vec![edit],
        )
    });
    finding
}

/// Insert `statement` before the first statement of an `except` block.
fn insert_first_in_handler(
    checker: &Checker,
    handler: &ExceptHandlerExceptHandler,
    statement: &str,
) -> Option<Edit> {
    let source = checker.source;
    let first = checker.range(handler.body.first()?).start;
    let handler_start = checker.range(handler).start;
    if line_start(source, first) <= handler_start {
        // `except Exception: pass` keeps its one-line form.
        return Some(Edit::insert(first, format!("{statement}; ")));
    }
    let indentation = indentation_at(source, first);
    Some(Edit::insert(
        first,
        format!("{statement}{}{indentation}", newline_of(source)),
    ))
}

/// Replace the commit's statement with a `try` that rolls back and re-raises.
fn wrap_in_try(
    checker: &Checker,
    commit: &ExprCall,
    receiver: &str,
    await_prefix: &str,
) -> Option<Edit> {
    let source = checker.source;
    let (statement, _) = standalone_statement(checker, commit)?;
    let range = checker.range(statement);
    if source.get(range.clone())?.contains('\n') {
        return None;
    }
    let indentation = indentation_at(source, range.start);
    let unit = indent_unit(source, range.start);
    let newline = newline_of(source);
    let end = line_end(source, range.end);
    let statement_and_comment = source.get(range.start..end)?;
    let replacement = format!(
        "try:{newline}{indentation}{unit}{statement_and_comment}{newline}{indentation}except Exception:{newline}\
         {indentation}{unit}{await_prefix}{receiver}.rollback(){newline}{indentation}{unit}raise"
    );
    Some(Edit::replace(range.start..end, replacement))
}

/// The name a reference starts with: `db` of `db`, `self` of `self.session`; `None`
/// when it is no name, attribute or item of one.
fn root_name(reference: &Expr) -> Option<&str> {
    let mut current = reference;
    loop {
        current = match current {
            Expr::Name(name) => return Some(name.id.as_str()),
            Expr::Attribute(attribute) => &attribute.value,
            Expr::Subscript(subscript) => &subscript.value,
            _ => return None,
        };
    }
}

/// The statements of the scope of the node being judged, with where their items start:
/// its innermost function's body, or every item's statements at module level.
fn scope_bodies<'c>(checker: &Checker<'c, '_>) -> Vec<(usize, &'c [Stmt])> {
    match checker.enclosing_function() {
        Some(function) => vec![(checker.base(), &function.body[..])],
        None => checker.module_bodies(),
    }
}

/// Whether the scope of the node being judged (nested scopes aside) binds `name` at a
/// byte in `range`: an assignment or `with`/`for`/walrus target, a parameter, an import
/// or a `global` statement.
fn bound_within(checker: &Checker, name: &str, range: std::ops::Range<usize>) -> bool {
    if let Some(function) = checker.enclosing_function() {
        let parameter_bound = function.parameters.iter().any(|parameter| {
            parameter.name().as_str() == name
                && range.contains(&checker.range(parameter.name()).start)
        });
        if parameter_bound {
            return true;
        }
    }
    let mut bound = false;
    for (base, body) in scope_bodies(checker) {
        walk_scope(body, |node| {
            if bound {
                return;
            }
            let at =
                |node: &dyn ruff_text_size::Ranged| checker.range_at(base, &node.range()).start;
            bound = match node {
                AnyNode::Expression(Expr::Name(target)) => {
                    target.ctx == ExprContext::Store
                        && target.id.as_str() == name
                        && range.contains(&at(target))
                }
                AnyNode::Statement(Stmt::Import(import)) => import.names.iter().any(|alias| {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    local.as_str().split('.').next() == Some(name) && range.contains(&at(alias))
                }),
                AnyNode::Statement(Stmt::ImportFrom(import)) => import.names.iter().any(|alias| {
                    alias.asname.as_ref().unwrap_or(&alias.name).as_str() == name
                        && range.contains(&at(alias))
                }),
                AnyNode::Statement(Stmt::Global(global)) => {
                    range.contains(&at(global))
                        && global.names.iter().any(|global| global.as_str() == name)
                }
                _ => false,
            };
        });
    }
    bound
}

/// `X.begin()` / `X.begin_nested()` (alone or `as conn`): the block commits or rolls back.
fn opens_transaction_block(item: &WithItem) -> bool {
    let mut value = &item.context_expr;
    while let Expr::Await(awaited) = value {
        value = &awaited.value;
    }
    matches!(value, Expr::Call(call) if matches!(method_name(call), Some("begin" | "begin_nested")))
}

/// `with ... as <name>`: the session is closed (and rolled back) when the block exits.
fn binds_name(checker: &Checker, item: &WithItem, name: &str) -> bool {
    item.optional_vars
        .as_deref()
        .is_some_and(|alias| same_expression(checker.text(alias), name))
}

/// Whether `body` (nested scopes too) calls `<receiver>.<method>()`.
fn calls_method(checker: &Checker, body: &[Stmt], receiver: &str, method: &str) -> bool {
    any_node(body, |node| match node {
        AnyNode::Expression(Expr::Call(call)) => {
            method_name(call) == Some(method)
                && matches!(&*call.func, Expr::Attribute(callee)
                    if same_expression(checker.text(&*callee.value), receiver))
        }
        _ => false,
    })
}

/// The `except` clauses that would catch a failed commit.
fn catching_handlers<'c>(
    checker: &Checker,
    try_statement: &'c StmtTry,
) -> Vec<&'c ExceptHandlerExceptHandler> {
    try_statement
        .handlers
        .iter()
        .map(|ExceptHandler::ExceptHandler(clause)| clause)
        .filter(|clause| catches_database_error(checker, clause))
        .collect()
}

fn catches_database_error(checker: &Checker, handler: &ExceptHandlerExceptHandler) -> bool {
    if handler.type_.is_none() {
        return true; // bare `except:`
    }
    let imports = checker.imports();
    caught_types(handler).into_iter().any(|caught| {
        let Some(name) = dotted_name_of(caught) else {
            return false;
        };
        let head = name.split('.').next().unwrap_or(&name);
        let resolved = imports
            .resolve(head)
            .map_or(name.clone(), |module| name.replacen(head, module, 1));
        let last = resolved.rsplit('.').next().unwrap_or(&resolved);
        DATABASE_ERRORS.contains(&last)
    })
}

/// Whether `receiver` is bound, earlier in the same function (or module), to a new
/// session or connection: `SessionLocal()`, `Session(engine)`, `engine.connect()`, ...
fn created_in_scope(checker: &Checker, before: usize, receiver: &str) -> bool {
    let mut created = false;
    for (base, body) in scope_bodies(checker) {
        walk_scope(body, |node| {
            if created {
                return;
            }
            let AnyNode::Statement(statement) = node else {
                return;
            };
            let (targets, value): (&[Expr], &Expr) = match statement {
                Stmt::Assign(assignment) => (&assignment.targets, &assignment.value),
                Stmt::AnnAssign(assignment) => match &assignment.value {
                    Some(value) => (std::slice::from_ref(&*assignment.target), value),
                    None => return,
                },
                _ => return,
            };
            created = checker.range_at(base, statement).start < before
                && targets.iter().any(|target| {
                    same_expression(
                        checker
                            .source
                            .get(checker.range_at(base, target))
                            .unwrap_or(""),
                        receiver,
                    )
                })
                && (is_session_or_connection_factory(value)
                    || matches!(checker.kind_of(value), Some(BindingKind::Session { .. })));
        });
    }
    created
}

fn is_session_or_connection_factory(value: &Expr) -> bool {
    let mut value = value;
    while let Expr::Await(awaited) = value {
        value = &awaited.value;
    }
    let Expr::Call(call) = value else {
        return false;
    };
    let name = match &*call.func {
        Expr::Name(name) => name.id.as_str(),
        Expr::Attribute(attribute) => attribute.attr.as_str(),
        // `sessionmaker(bind=engine)()`
        Expr::Call(maker) => {
            return dotted_name_of(&maker.func).is_some_and(|name| name.contains("sessionmaker"));
        }
        _ => return false,
    };
    matches!(name, "connect" | "raw_connection") || name.to_ascii_lowercase().contains("session")
}

//! ## What it does
//! Finds broad exception handlers (`except:`, `except Exception:`,
//! `except BaseException:`, or a tuple naming one of them) that drop the error: their
//! body is only `pass`, `continue` or `...`, or it neither re-raises, nor logs (a
//! `logger.exception/error/warning/...` call, `logging.*`, Sentry's `capture_exception`,
//! `traceback.print_exc`, `warnings.warn`), nor uses the bound exception, nor exits.
//!
//! Handlers for specific exceptions (`except KeyError: pass`) are control flow, not
//! swallowing, and are not reported. Nor is a handler that records the failure in a
//! flag, a count or a list (`failed = True`, `errors += 1`, `failures.append(item)`)
//! that the code reads after it: the failure then decides what happens next; nor one
//! that tells the user (`print(...)`, `click.echo(...)`, `console.print(...)`,
//! `sys.stderr.write(...)`). A handler that only ignores the error is a warning; one
//! that falls back to a value (`data = []`, `return None`), often deliberate, is
//! reported as `info`.
//!
//! ## Why is this bad?
//! An error caught by a broad handler and dropped leaves no trace: the request "works"
//! with missing data, the job reports success, and the first sign of the bug is a
//! customer's complaint days later, with no log line or traceback to start from.
//!
//! ## Example
//! ```python
//! def sync_inventory(item):
//!     try:
//!         warehouse.push(item)
//!     except Exception:
//!         pass
//! ```
//!
//! ## Use instead
//! ```python
//! def sync_inventory(item):
//!     try:
//!         warehouse.push(item)
//!     except Exception:
//!         logger.exception("Ignored error in sync_inventory")
//! ```
//!
//! ## Fix safety
//! Safe: the fix logs the exception with its traceback and keeps what the handler did.
//! A lone `pass` or `...` is replaced by the log call; other bodies get it as their
//! first line. It uses the module's logger (`logger = logging.getLogger(...)`,
//! structlog, or loguru's `logger`) when there is one, else `logging.exception(...)`,
//! adding `import logging` when needed.
//!
//! ## Known problems
//! Reporting through a helper of your own (`report_failure()`) is not recognised; name
//! the helper in a log call or re-raise.

use ruff_python_ast::{ExceptHandlerExceptHandler, Expr, Stmt};

use super::checker::{Checker, Hooks, TextTest};
use super::exceptions::{handles_error, header_range, is_broad, log_exception_fix, only_ignores};
use super::helpers::{AnyNode, any_node};
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Finding, FixAvailability, FixSafety, Rule, Severity};

pub const RULE: Rule = Rule {
    id: "swallowed-exception",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Sometimes(FixSafety::Safe),
    summary: "A broad `except` that drops the error without logging or re-raising it",
    triggers: &["except"],
    python_triggers: None,
    text_test: Some(may_catch_broadly),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        except_handler: Some(check),
        // Unless the module imports from `builtins`, where `Exception` may come under
        // another name.
        item_test: Some(|module| {
            (!module.source.contains("builtins")).then_some(may_catch_broadly as TextTest)
        }),
        ..Hooks::NONE
    }),
    reads: Projections::IMPORTS
        .and(Projections::CLIENTS)
        .and(Projections::HEADER),
};

/// A bare `except:`, or a name ending in `Exception` (`Exception`, `BaseException`, as
/// written or imported) for a handler to catch.
fn may_catch_broadly(text: &str) -> bool {
    super::exceptions::mentions_bare_except(text)
        || crate::rules::prefilter::contains(text, "Exception")
}

fn check(
    checker: &Checker,
    clause: &ExceptHandlerExceptHandler,
    star: bool,
    findings: &mut Vec<Finding>,
) {
    if !is_broad(checker, clause, star) {
        return;
    }
    let header_range = header_range(checker, clause);
    let header = checker.source.get(header_range.clone()).unwrap_or("except");
    let (message, severity) = if only_ignores(clause) {
        (
            format!("`{header}:` ignores every error: the body drops it without a trace"),
            RULE.default_severity,
        )
    } else if !handles_error(clause)
        && !records_failure(checker, clause)
        && !prints_a_message(clause)
    {
        // A fallback (`value = default`, `return []`) is often deliberate: worth a
        // look, not a warning.
        (
            format!("`{header}:` drops the error: nothing logs it, re-raises it or uses it"),
            Severity::Info,
        )
    } else {
        return;
    };
    let mut finding = RULE.finding(header_range, message);
    finding.severity = severity;
    finding.fix = log_exception_fix(checker, clause, "Ignored error");
    findings.push(finding);
}

/// Whether the handler tells the user, in a command-line program's way: `print(...)`,
/// `click.echo(...)`, `console.print(...)`, `sys.stderr.write(...)`.
fn prints_a_message(clause: &ExceptHandlerExceptHandler) -> bool {
    any_node(&clause.body, |node| match node {
        AnyNode::Expression(Expr::Call(call)) => match &*call.func {
            Expr::Name(name) => name.id.as_str() == "print",
            Expr::Attribute(method) => {
                matches!(method.attr.as_str(), "echo" | "secho" | "print" | "write")
                    && crate::semantic::python::imports::dotted_name_of(&method.value).is_some_and(
                        |owner| {
                            matches!(owner.as_str(), "click" | "typer" | "console" | "sys.stderr")
                        },
                    )
            }
            _ => false,
        },
        _ => false,
    })
}

/// Whether the handler records the failure in a name that the code reads after it: a
/// flag set (`failed = True`), a count (`errors += 1`) or a list added to
/// (`failures.append(item)`), then asserted, returned or tested. The error is turned
/// into state that decides what happens next, not dropped. A plain value
/// (`data = None`) is not a record of the failure.
fn records_failure(checker: &Checker, clause: &ExceptHandlerExceptHandler) -> bool {
    let records: Vec<&str> = clause
        .body
        .iter()
        .filter_map(|statement| match statement {
            Stmt::Assign(assignment) if assignment.value.is_boolean_literal_expr() => {
                match assignment.targets.as_slice() {
                    [Expr::Name(name)] => Some(name.id.as_str()),
                    _ => None,
                }
            }
            Stmt::AnnAssign(assignment)
                if assignment
                    .value
                    .as_deref()
                    .is_some_and(Expr::is_boolean_literal_expr) =>
            {
                assignment
                    .target
                    .as_name_expr()
                    .map(|name| name.id.as_str())
            }
            Stmt::AugAssign(assignment) => assignment
                .target
                .as_name_expr()
                .map(|name| name.id.as_str()),
            Stmt::Expr(expression) => {
                let call = expression.value.as_call_expr()?;
                let method = call.func.as_attribute_expr()?;
                let collection = method.value.as_name_expr()?;
                matches!(method.attr.as_str(), "append" | "add" | "extend")
                    .then_some(collection.id.as_str())
            }
            _ => None,
        })
        .collect();
    if records.is_empty() {
        return false;
    }
    let handler_end = checker.range(clause).end;
    let bodies = match checker.enclosing_function() {
        Some(function) => vec![(checker.base(), &function.body[..])],
        None => checker.module_bodies(),
    };
    bodies.into_iter().any(|(base, body)| {
        any_node(body, |node| {
            matches!(node, AnyNode::Expression(Expr::Name(name))
                if name.ctx.is_load()
                    && records.contains(&name.id.as_str())
                    && checker.range_at(base, name).start >= handler_end)
        })
    })
}

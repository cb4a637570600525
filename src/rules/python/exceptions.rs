//! What an `except` clause catches and what its body does with the error: shared by the
//! rules about swallowed, broad and silent handlers. Reads Ruff's tree only.

use ruff_python_ast::{ExceptHandlerExceptHandler, Expr, Stmt};

use super::checker::{Checker, item_summaries, module_imports};
use super::header::ensure_module_import;
use super::helpers::{AnyNode, any_node, called_name};
use crate::rules::{Context, Edit, Fix, indentation_at, line_start, newline_of};
use crate::semantic::python::imports::{qualified_name_of, qualified_name_of_dotted};

/// Calls that report an error somewhere a person will see it: logging methods
/// (`logger.exception`, `logging.error`, `log.warning`, ...), Sentry's capture
/// functions, `traceback.print_exc` and `warnings.warn`.
const REPORTING_CALLS: &[&str] = &[
    "exception",
    "error",
    "warning",
    "warn",
    "critical",
    "fatal",
    "log",
    "info",
    "debug",
    "capture_exception",
    "capture_message",
    "print_exc",
    "print_exception",
];

/// Calls that end the process or the request, so nothing is swallowed.
const TERMINATING_CALLS: &[&str] = &["exit", "_exit", "abort"];

/// The calls that make a module's logger.
pub const LOGGER_FACTORIES: &[&str] = &[
    "logging.getLogger",
    "structlog.get_logger",
    "structlog.getLogger",
];

/// The exception types a clause names, flattened out of a tuple.
pub fn caught_types(clause: &ExceptHandlerExceptHandler) -> Vec<&Expr> {
    match clause.type_.as_deref() {
        Some(Expr::Tuple(tuple)) => tuple.elts.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

/// `except:` and nothing else (no type; not broken code with junk before the colon,
/// which the prefilter relies on; never `except*`, which needs a type).
pub fn is_bare(checker: &Checker, clause: &ExceptHandlerExceptHandler, star: bool) -> bool {
    let keyword_end = checker.range(clause).start + "except".len();
    clause.type_.is_none()
        && !star
        && checker
            .source
            .get(keyword_end..)
            .is_some_and(|rest| crate::rules::prefilter::after_gap(rest, 0).starts_with(':'))
}

/// Bare, or naming `Exception`/`BaseException`: catches errors the code did not plan for.
pub fn is_broad(checker: &Checker, clause: &ExceptHandlerExceptHandler, star: bool) -> bool {
    is_bare(checker, clause, star)
        || caught_types(clause).into_iter().any(|caught| {
            qualified_name_of(caught, checker.imports()).is_some_and(|name| {
                matches!(
                    name.as_str(),
                    "Exception" | "BaseException" | "builtins.Exception" | "builtins.BaseException"
                )
            })
        })
}

/// A statement that only says "ignore it": `pass`, `continue` or `...`.
fn is_placeholder(statement: &Stmt) -> bool {
    match statement {
        Stmt::Pass(_) | Stmt::Continue(_) => true,
        Stmt::Expr(expression) => expression.value.is_ellipsis_literal_expr(),
        _ => false,
    }
}

/// The body only says "ignore it": `pass`, `continue`, `...` (and nothing else).
pub fn only_ignores(clause: &ExceptHandlerExceptHandler) -> bool {
    clause.body.iter().all(is_placeholder)
}

/// The body raises, reports the error (a logging call, Sentry, a traceback), uses the
/// bound exception, or ends the process.
pub fn handles_error(clause: &ExceptHandlerExceptHandler) -> bool {
    let bound = clause.name.as_ref().map(|name| name.as_str());
    any_node(&clause.body, |node| match node {
        AnyNode::Statement(statement) => matches!(statement, Stmt::Raise(_)),
        AnyNode::Expression(Expr::Name(name)) => bound == Some(name.id.as_str()),
        AnyNode::Expression(Expr::Call(call)) => called_name(call).is_some_and(|name| {
            REPORTING_CALLS.contains(&name) || TERMINATING_CALLS.contains(&name)
        }),
        AnyNode::Expression(_) => false,
    })
}

/// A module-level name bound to `logging.getLogger(...)` (or structlog's `get_logger`),
/// or loguru's `logger` imported by name: the latest one. Worked out once per audit,
/// shared by the editor's projections and every fix that logs.
pub fn module_logger(context: &Context) -> Option<String> {
    struct ModuleLogger(Option<String>);
    context
        .memo(|| ModuleLogger(find_module_logger(context)))
        .0
        .clone()
}

fn find_module_logger(context: &Context) -> Option<String> {
    let imports = module_imports(context);
    if imports.resolve("logger") == Some("loguru.logger") {
        return Some("logger".to_string());
    }
    let summaries: Vec<_> = item_summaries(context).collect();
    summaries.into_iter().rev().find_map(|(_, summary)| {
        summary
            .assigned_calls
            .iter()
            .rev()
            .find_map(|(target, callee)| {
                let factory = qualified_name_of_dotted(callee, imports)?;
                LOGGER_FACTORIES
                    .contains(&factory.as_str())
                    .then(|| target.clone())
            })
    })
}

/// A call that logs the current exception with its traceback, for a fix, and the edit
/// that imports `logging` when the module has no logger of its own.
fn log_exception_call(checker: &Checker, message: &str) -> (String, Option<Edit>) {
    let escaped = message.replace('\\', "\\\\").replace('"', "\\\"");
    if let Some(logger) = module_logger(checker.context()) {
        return (format!("{logger}.exception(\"{escaped}\")"), None);
    }
    let (logging, import) = ensure_module_import(checker, "logging");
    (format!("{logging}.exception(\"{escaped}\")"), import)
}

/// The edit that makes `log_call` the handler's first statement (in place of a lone
/// `pass` or `...`).
fn log_first(
    checker: &Checker,
    clause: &ExceptHandlerExceptHandler,
    log_call: &str,
) -> Option<Edit> {
    let source = checker.source;
    let first = clause.body.first()?;
    let first_range = checker.range(first);
    if clause.body.len() == 1 && !matches!(first, Stmt::Continue(_)) && is_placeholder(first) {
        return Some(Edit::replace(first_range, log_call));
    }
    let same_line_as_header =
        line_start(source, first_range.start) == line_start(source, checker.range(clause).start);
    if same_line_as_header {
        return Some(Edit::insert(first_range.start, format!("{log_call}; ")));
    }
    let indentation = indentation_at(source, first_range.start);
    let before = source.get(line_start(source, first_range.start)..first_range.start)?;
    if !before.trim().is_empty() {
        return None; // something else shares the line: leave it to the user
    }
    Some(Edit::insert(
        first_range.start,
        format!("{log_call}{}{indentation}", newline_of(source)),
    ))
}

/// Whether the text may have a bare `except:` (any spacing before the colon).
pub fn mentions_bare_except(text: &str) -> bool {
    crate::rules::prefilter::places_of(text, "except")
        .any(|at| crate::rules::prefilter::after_gap(text, at + "except".len()).starts_with(':'))
}

/// The safe fix that logs the caught exception first thing in the handler:
/// `<logger>.exception("<what> in <function>")`, importing `logging` when the module has
/// no logger of its own.
pub fn log_exception_fix(
    checker: &Checker,
    clause: &ExceptHandlerExceptHandler,
    what: &str,
) -> Option<Fix> {
    let place = checker
        .enclosing_function()
        .map(|function| format!(" in {}", function.name))
        .unwrap_or_default();
    let (log_call, import) = log_exception_call(checker, &format!("{what}{place}"));
    let edit = log_first(checker, clause, &log_call)?;
    let logger = log_call.split('(').next().unwrap_or("logging.exception");
    Some(Fix::safe(
        format!("Log the error with `{logger}`"),
        import.into_iter().chain([edit]).collect(),
    ))
}

/// The `except ...` header of a clause of Ruff's tree, where findings point: from the
/// keyword to the end of what it names (a closing parenthesis too, which Ruff's range of
/// a parenthesized name leaves out), or the keyword alone.
pub fn header_range(
    checker: &Checker,
    clause: &ExceptHandlerExceptHandler,
) -> std::ops::Range<usize> {
    let start = checker.range(clause).start;
    let named = clause
        .name
        .as_ref()
        .map(|name| checker.range(name).end)
        .or_else(|| {
            clause
                .type_
                .as_deref()
                .map(|caught| checker.range(caught).end)
        });
    let Some(mut end) = named else {
        return start..start + "except".len();
    };
    while let Some(rest) = checker.source.get(end..) {
        let after = rest.trim_start();
        if !after.starts_with(')') {
            break;
        }
        end += rest.len() - after.len() + 1;
    }
    let body = clause
        .body
        .first()
        .map_or(end, |first| checker.range(first).start);
    start..end.min(body).max(start)
}

//! ## What it does
//! Finds broad exception handlers (`except:`, `except Exception:`,
//! `except BaseException:`, or a tuple naming one of them) that drop the error: their
//! body is only `pass`, `continue` or `...`, or it neither re-raises, nor logs (a
//! `logger.exception/error/warning/...` call, `logging.*`, Sentry's `capture_exception`,
//! `traceback.print_exc`, `warnings.warn`), nor uses the bound exception, nor exits.
//!
//! Handlers for specific exceptions (`except KeyError: pass`) are control flow, not
//! swallowing, and are not reported.
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
//! the helper in a log call or re-raise. A `print()` is not counted as logging.

use ruff_python_ast::ExceptHandlerExceptHandler;

use super::checker::{Checker, Hooks, TextTest};
use super::exceptions::{handles_error, header_range, is_broad, log_exception_fix, only_ignores};
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
    let message = if only_ignores(clause) {
        format!("`{header}:` ignores every error: the body drops it without a trace")
    } else if !handles_error(clause) {
        format!("`{header}:` drops the error: nothing logs it, re-raises it or uses it")
    } else {
        return;
    };
    let mut finding = RULE.finding(header_range, message);
    finding.fix = log_exception_fix(checker, clause, "Ignored error");
    findings.push(finding);
}

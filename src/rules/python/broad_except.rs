//! ## What it does
//! Finds bare `except:` clauses. A bare `except:` whose body ends by re-raising with a
//! bare `raise` (clean up, then let the error go on) is fine.
//!
//! ## Why is this bad?
//! `except:` catches everything derived from `BaseException`, not only errors:
//! `KeyboardInterrupt` (Ctrl-C), `SystemExit` (`sys.exit()`, a worker being shut down),
//! `GeneratorExit` and asyncio's `CancelledError`. A server whose handler swallows
//! those cannot be stopped cleanly, cancelled requests keep running, and real bugs
//! (`NameError`, `TypeError`) are hidden along with the failure the author expected.
//!
//! ## Example
//! ```python
//! try:
//!     payload = json.loads(body)
//! except:
//!     payload = {}
//! ```
//!
//! ## Use instead
//! ```python
//! try:
//!     payload = json.loads(body)
//! except json.JSONDecodeError:
//!     payload = {}
//! ```
//!
//! ## Fix safety
//! Unsafe: the fix writes `except Exception:`, so `KeyboardInterrupt`, `SystemExit` and
//! cancellation now pass through the handler, which is the point but changes what the
//! program does when they happen. Narrow it further to the errors you expect.

use ruff_python_ast::{ExceptHandlerExceptHandler, Stmt};

use super::checker::{Checker, Hooks};
use super::exceptions::header_range;
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity};

pub const RULE: Rule = Rule {
    id: "broad-except",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    security: false,
    fix: FixAvailability::Always(FixSafety::Unsafe),
    summary: "A bare `except:` that also catches `KeyboardInterrupt`, `SystemExit` and cancellation",
    triggers: &["except"],
    python_triggers: None,
    text_test: Some(super::exceptions::mentions_bare_except),
    workspace_trigger: None,
    check: Check::Ast(Hooks {
        except_handler: Some(check),
        ..Hooks::NONE
    }),
    reads: Projections::NONE,
};

fn check(
    checker: &Checker,
    clause: &ExceptHandlerExceptHandler,
    star: bool,
    findings: &mut Vec<Finding>,
) {
    // `except*` needs a type; only a plain `except` can be bare. Broken code with junk
    // between `except` and the colon is not bare either (the prefilter relies on it).
    let keyword_end = checker.range(clause).start + "except".len();
    let bare = clause.type_.is_none()
        && !star
        && checker
            .source
            .get(keyword_end..)
            .is_some_and(|rest| crate::rules::prefilter::after_gap(rest, 0).starts_with(':'));
    if !bare || reraises(clause) {
        return;
    }
    let mut finding = RULE.finding(
        header_range(checker, clause),
        "bare `except:` also catches `KeyboardInterrupt`, `SystemExit` and cancellation, and hides bugs",
    );
    finding.fix = Some(Fix::unsafe_(
        "Catch `Exception` instead",
        vec![Edit::insert(keyword_end, " Exception")],
    ));
    findings.push(finding);
}

/// The body ends with a bare `raise`: the handler only cleans up.
fn reraises(clause: &ExceptHandlerExceptHandler) -> bool {
    clause.body.last().is_some_and(
        |last| matches!(last, Stmt::Raise(raise) if raise.exc.is_none() && raise.cause.is_none()),
    )
}

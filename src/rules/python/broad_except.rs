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

use super::exceptions::Handler;
use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{
    Check, Context, Edit, Finding, Fix, FixAvailability, FixSafety, Rule, Severity, node_text,
};
use crate::syntax::python_fields::{Kind, PythonNode};

pub const RULE: Rule = Rule {
    id: "broad-except",
    languages: &[Language::Python],
    default_severity: Severity::Warning,
    fix: FixAvailability::Always(FixSafety::Unsafe),
    summary: "A bare `except:` that also catches `KeyboardInterrupt`, `SystemExit` and cancellation",
    triggers: &["except"],
    text_test: Some(super::exceptions::mentions_bare_except),
    check: Check::Tree(check),
    reads: Projections::IMPORTS,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    let facts = context.python_facts();
    for &clause in &facts.handlers {
        let Some(handler) = Handler::of(clause) else {
            continue;
        };
        if !handler.is_bare(context.source) || reraises(&handler, context.source) {
            continue;
        }
        // `except*` needs a type; only a plain `except` keyword can be bare.
        let Some(keyword) = clause
            .child(0)
            .filter(|keyword| keyword.python_kind() == Kind::ExceptKeyword)
        else {
            continue;
        };
        let mut finding = RULE.finding(
            handler.header_range(),
            "bare `except:` also catches `KeyboardInterrupt`, `SystemExit` and cancellation, and hides bugs",
        );
        finding.fix = Some(Fix::unsafe_(
            "Catch `Exception` instead",
            vec![Edit::insert(keyword.end_byte(), " Exception")],
        ));
        findings.push(finding);
    }
}

/// The body ends with a bare `raise`: the handler only cleans up.
fn reraises(handler: &Handler, source: &str) -> bool {
    handler.statements().last().is_some_and(|last| {
        last.python_kind() == Kind::RaiseStatement && node_text(*last, source).trim() == "raise"
    })
}

//! ## What it does
//! Finds breaks in the chain of Alembic revisions, across every migration of the
//! workspace:
//! - a `down_revision` naming a revision that no migration is;
//! - a revision id that two migrations of the same Alembic environment share
//!   (reported on each `revision = ...`);
//! - a fork: two revisions that follow the same parent (or two bases, `down_revision =
//!   None`, in one environment), with no merge revision after both branches and no
//!   `branch_labels` on either, reported on the `down_revision` of each.
//!
//! Each folder holding a `versions/` folder is an environment of its own (a second
//! database, an example project); a parent is looked for in all of them.
//!
//! ## Why is this bad?
//! `alembic upgrade head` refuses a chain with two heads ("Multiple head revisions are
//! present"), stops at a parent it cannot find, and cannot tell two revisions with one
//! id apart. The break usually comes from two branches that each added a migration and
//! were merged in git: it shows at deploy time, not in review.
//!
//! ## Example
//! ```python
//! # versions/3b1c_add_orders.py
//! revision = "3b1c"
//! down_revision = "1a2b"
//!
//! # versions/4d2e_add_invoices.py
//! revision = "4d2e"
//! down_revision = "1a2b"
//! ```
//!
//! ## Use instead
//! Join the branches with a merge revision (`alembic merge -m "merge" 3b1c 4d2e`):
//! ```python
//! revision = "5e3f"
//! down_revision = ("3b1c", "4d2e")
//! ```
//! or rebase one migration onto the other (`down_revision = "3b1c"`), or name
//! deliberate branches with `branch_labels`.
//!
//! ## Fix safety
//! There is no fix: whether to merge or to rebase is the author's choice.

use std::ops::Range;

use crate::language::Language;
use crate::rules::projections::Projections;
use crate::rules::{Check, Context, Finding, FixAvailability, Rule, Severity};
use crate::schema::from_alembic::revision_of;
use crate::schema::revisions::ChainProblem;

pub const RULE: Rule = Rule {
    id: "alembic-broken-chain",
    languages: &[Language::Python],
    default_severity: Severity::Error,
    security: false,
    fix: FixAvailability::None,
    summary: "Alembic revisions whose parent is missing, whose id is used twice, or that fork with no merge",
    triggers: &["down_revision"],
    python_triggers: None,
    text_test: Some(super::may_be_migration),
    workspace_trigger: None,
    check: Check::Tree(check),
    reads: Projections::NONE,
};

fn check(context: &Context, findings: &mut Vec<Finding>) {
    if !super::is_migration(context) {
        return;
    }
    let Some(revision) = revision_of(context.source, context.syntax) else {
        return;
    };
    let Some(problems) = context.revision_chain(&revision) else {
        return;
    };
    // A `down_revision` always stands at the top of the module; without one, the
    // revision's line.
    let down: Range<usize> = if revision.down_range.is_empty() {
        revision.range.clone()
    } else {
        revision.down_range.clone()
    };
    let id = &revision.revision;
    for problem in problems {
        let (range, message) = match problem {
            ChainProblem::MissingParent(parent) => (
                down.clone(),
                format!(
                    "`down_revision` names `{parent}`, which no migration of the workspace is: `alembic upgrade` stops here"
                ),
            ),
            ChainProblem::Duplicate(other) => (
                revision.range.clone(),
                format!(
                    "Revision id `{id}` is also the id of `{}`: Alembic cannot tell the two apart",
                    other.file_name().map_or_else(
                        || other.display().to_string(),
                        |name| name.to_string_lossy().into_owned()
                    )
                ),
            ),
            ChainProblem::Fork { parent, others } => {
                let others = others
                    .iter()
                    .map(|other| format!("`{other}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let follows = match parent {
                    Some(parent) => format!("follow `{parent}`"),
                    None => "start the chain (`down_revision = None`)".to_string(),
                };
                (
                    down.clone(),
                    format!(
                        "Revision `{id}` and {others} both {follows} and no merge revision joins them: `alembic upgrade head` fails on multiple heads (run `alembic merge`, or set `branch_labels`)"
                    ),
                )
            }
        };
        findings.push(RULE.finding(range, message));
    }
}

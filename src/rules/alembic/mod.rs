//! Rules for Alembic migrations (Python modules that name their revision:
//! `is_migration`), and what they share.

pub mod alembic_broken_chain;
pub mod migration_model_drift;
pub mod missing_downgrade;

use crate::language::Language;
use crate::rules::Context;
use crate::schema::from_alembic::{self, UpgradeStep};
use crate::schema::{Operation, RowChange};
use crate::syntax::Syntax;

/// Whether the audited module is an Alembic migration, worked out once per audit: it
/// names its revision at module level. (A module in a `versions/` folder that does not
/// is read as none by the index either: there is nothing of it to judge. Its text
/// alone tells, so no keystroke asks the disk for an `env.py`.)
pub fn is_migration(context: &Context) -> bool {
    struct IsMigration(bool);
    context
        .memo(|| IsMigration(from_alembic::may_be_migration(context.source.as_bytes())))
        .0
}

/// The text test of the Alembic rules: the module may be a migration (a module in a
/// `versions/` folder names its revision too, or there is nothing to judge).
pub fn may_be_migration(text: &str) -> bool {
    crate::schema::from_alembic::may_be_migration(text.as_bytes())
}

/// The operation calls of the migration's `upgrade()`, read once per audit (none when
/// the module is no migration).
/// An incremental audit that skips `upgrade()` (its text is unchanged: the editor keeps
/// its findings) gets none, so the rules that judge it do no work there.
pub fn upgrade_steps(context: &Context) -> std::rc::Rc<UpgradeSteps> {
    context.memo(|| {
        UpgradeSteps(if is_migration(context) && !upgrade_is_skipped(context) {
            from_alembic::upgrade_steps(context.source, context.syntax).unwrap_or_default()
        } else {
            Vec::new()
        })
    })
}

/// Whether the audit skips the module's `def upgrade` (`Coverage::skipped`).
fn upgrade_is_skipped(context: &Context) -> bool {
    let skipped = &context.coverage.skipped;
    !skipped.is_empty()
        && context.syntax.items().iter().any(|item| {
            context
                .source
                .get(item.range.clone())
                .is_some_and(|text| text.starts_with("def upgrade"))
                && skipped
                    .iter()
                    .any(|range| item.range.contains(&range.start))
        })
}

/// `upgrade_steps`' answer.
pub struct UpgradeSteps(pub Vec<UpgradeStep>);

impl UpgradeSteps {
    /// What each statement of the SQL that `op.execute` runs does to rows, with the
    /// string it is written in and the tables the steps before created.
    pub fn executed_row_changes(
        &self,
    ) -> impl Iterator<Item = (&std::ops::Range<usize>, RowChange, CreatedBefore<'_>)> {
        self.with_created_before().flat_map(|(step, created)| {
            step.sql.iter().flat_map(move |(literal, sql)| {
                row_changes(sql)
                    .into_iter()
                    .map(move |change| (literal, change, created))
            })
        })
    }

    /// Each step with the tables the steps before it created.
    pub fn with_created_before(&self) -> impl Iterator<Item = (&UpgradeStep, CreatedBefore<'_>)> {
        self.0.iter().enumerate().map(|(at, step)| {
            (
                step,
                CreatedBefore {
                    before: &self.0[..at],
                },
            )
        })
    }
}

/// The steps of `upgrade()` before one.
#[derive(Clone, Copy)]
pub struct CreatedBefore<'s> {
    before: &'s [UpgradeStep],
}

impl CreatedBefore<'_> {
    /// Whether a step before created `table` (nothing runs on it yet: the migration
    /// may change it as it likes).
    pub fn contains(&self, table: &str) -> bool {
        self.operations().any(
            |operation| matches!(operation, Operation::CreateTable { table: created, .. } if created == table),
        )
    }

    /// Whether every column of `columns` was added to `table` by a step before (an
    /// update of them is a backfill).
    pub fn added_columns(&self, table: &str, columns: &[String]) -> bool {
        !columns.is_empty()
            && columns.iter().all(|column| {
                self.operations().any(|operation| match operation {
                    Operation::AddColumn {
                        table: added_to,
                        column: added,
                    } => added_to == table && added.name == *column,
                    _ => false,
                })
            })
    }

    fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.before.iter().flat_map(|step| &step.operations)
    }
}

/// What each statement of the SQL an `op.execute` runs does to rows, in order.
fn row_changes(sql: &str) -> Vec<RowChange> {
    let Some(syntax) = Syntax::parse(Language::Sql, sql) else {
        return Vec::new();
    };
    syntax
        .items()
        .iter()
        .flat_map(|item| {
            item.sql(sql)
                .statements
                .iter()
                .map(|statement| statement.schema.rows.clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Keep one of findings with the same place and message: an `op.execute` string is
/// one place, and may hold several statements that say the same of one table.
pub fn once_per_place(findings: &mut Vec<crate::rules::Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|finding| seen.insert((finding.range.clone(), finding.message.clone())));
}
